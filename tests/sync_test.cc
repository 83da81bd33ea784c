// kv-assets sync and prune against each store: only missing bodies are written, a killed
// upload loses nothing and leaves the previous release current, and prune keeps every key
// of the current and previous releases.
#include "generator/sync.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "generator/hash.h"
#include "generator/link.h"
#include "generator/manifest_json.h"
#include "generator/scan.h"
#include "tests/store_test_util.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::CountingStore;
using ::kv_assets::test_util::TempDir;

// What sync needs for one state of an asset folder.
struct Build {
  std::vector<PreparedFile> files;
  ManifestData manifest;
  std::vector<StoredBody> bodies;
  std::string id;
};

Build Make(const std::string& folder) {
  Build b;
  absl::StatusOr<ScanResult> scan = Scan(folder, {});
  EXPECT_TRUE(scan.ok()) << scan.status();
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(std::move(scan->files));
  EXPECT_TRUE(hashed.ok()) << hashed.status();
  b.files = *std::move(hashed);
  EXPECT_TRUE(Link(b.files, {.prefix = "/static/"}).ok());
  EmitOptions options;
  options.prefix = "/static/";
  options.store_namespace = "app";
  b.manifest = BuildManifest(b.files, options);
  b.bodies = BodiesToStore(b.files, options);
  b.id = ManifestId(ManifestToJson(b.manifest));
  return b;
}

class SyncTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string why = env_.Open(GetParam());
    if (!why.empty()) GTEST_SKIP() << why;
    Write("css/a.css", "a{}");
    Write("js/b.js", "b()");
    Write("img/c.svg", "<svg/>");
  }
  void TearDown() override { env_.ExpectNoViolations(); }

  void Write(const std::string& rel, const std::string& content) {
    env_.tmp.Write("site/" + rel, content);
  }
  Build MakeBuild() { return Make(env_.tmp.path() + "/site"); }

  absl::StatusOr<SyncReport> DoSync(KeyValueStore& store, const Build& b, bool dry_run = false) {
    SyncOptions o;
    o.ns = "app";
    o.dry_run = dry_run;
    o.out = &log_;
    o.batch_bodies = 2;  // several batches even for a small folder
    return Sync(store, b.manifest, b.bodies, o);
  }

  std::set<std::string> Keys() {
    absl::StatusOr<std::vector<std::string>> keys = env_.store->List("app/");
    EXPECT_TRUE(keys.ok()) << keys.status();
    return {keys->begin(), keys->end()};
  }

  // Every key of every recorded release is in the store, and holds the manifest's size.
  void ExpectEveryReleaseComplete() {
    absl::StatusOr<std::vector<Release>> releases = ReadReleases(*env_.store, "app");
    ASSERT_TRUE(releases.ok()) << releases.status();
    for (const Release& r : *releases) {
      absl::StatusOr<ManifestData> m = ReadManifest(*env_.store, "app", r.manifest_id);
      ASSERT_TRUE(m.ok()) << m.status();
      for (const ManifestAsset& a : m->assets) {
        absl::StatusOr<StoreValue> v = env_.store->Get(a.key);
        ASSERT_TRUE(v.ok()) << r.manifest_id << " names " << a.key << ": " << v.status();
        EXPECT_EQ(v->bytes().size(), a.size) << a.key;
      }
    }
  }

  test_util::StoreEnv env_;
  std::ostringstream log_;
};

TEST_P(SyncTest, UploadsOnlyTheBodiesTheStoreLacks) {
  CountingStore counting(*env_.store);
  const Build v1 = MakeBuild();
  absl::StatusOr<SyncReport> r = DoSync(counting, v1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->uploaded, 3u);
  EXPECT_EQ(counting.writes, 3u + 2u);  // three bodies, the manifest, the list of releases
  EXPECT_EQ(counting.lists.load(), 1);
  EXPECT_NE(log_.str().find("3 of 3 bodies missing"), std::string::npos) << log_.str();

  // Again: nothing to write at all.
  r = DoSync(counting, v1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->uploaded, 0u);
  EXPECT_FALSE(r->release_recorded);
  EXPECT_EQ(counting.writes, 5u);

  // One file changed: its body, a manifest and the list.
  Write("js/b.js", "b(2)");
  const Build v2 = MakeBuild();
  r = DoSync(counting, v2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->uploaded, 1u);
  EXPECT_EQ(counting.writes, 5u + 3u);
  absl::StatusOr<std::vector<Release>> releases = ReadReleases(*env_.store, "app");
  ASSERT_EQ(releases->size(), 2u);
  EXPECT_EQ(releases->at(0).manifest_id, v1.id);
  EXPECT_EQ(releases->at(1).manifest_id, v2.id);
  ExpectEveryReleaseComplete();

  // The stored manifest reads back as the one synced.
  absl::StatusOr<ManifestData> stored = ReadManifest(*env_.store, "app", v2.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(ManifestToJson(*stored), ManifestToJson(v2.manifest));
}

// Pages check Subresource Integrity, so sync refuses to upload bytes the manifest's integrity
// does not name, before it writes anything.
TEST_P(SyncTest, UploadsOnlyBytesWithTheManifestsIntegrity) {
  Build b = MakeBuild();
  ASSERT_FALSE(b.manifest.assets[0].integrity.empty());
  const std::string other = "other bytes";
  for (StoredBody& body : b.bodies) {
    if (body.key == b.manifest.assets[0].key) body.bytes = other;
  }
  CountingStore counting(*env_.store);
  absl::StatusOr<SyncReport> r = DoSync(counting, b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(b.manifest.assets[0].key + ": the bytes to upload have "
                                                                 "integrity sha384-"),
            std::string::npos)
      << r.status();
  EXPECT_EQ(counting.writes, 0u);
}

TEST_P(SyncTest, DryRunWritesNothing) {
  CountingStore counting(*env_.store);
  absl::StatusOr<SyncReport> r = DoSync(counting, MakeBuild(), /*dry_run=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->uploaded, 3u);
  EXPECT_EQ(counting.writes, 0u);
  EXPECT_NE(log_.str().find("would upload app/css/a."), std::string::npos) << log_.str();
  EXPECT_NE(log_.str().find("would record release"), std::string::npos) << log_.str();
  EXPECT_TRUE(Keys().empty());
}

TEST_P(SyncTest, KilledUploadLosesNothingAndTheRerunCompletes) {
  const Build v1 = MakeBuild();
  ASSERT_TRUE(DoSync(*env_.store, v1).ok());
  Write("css/a.css", "a{color:red}");
  Write("js/b.js", "b(2)");
  Write("img/d.svg", "<svg id=d/>");
  Write("img/e.svg", "<svg id=e/>");
  const Build v2 = MakeBuild();  // 4 new bodies
  const std::set<std::string> v1_keys = Keys();
  // Killed after each possible number of writes: bodies (0-4), the manifest (5), the list.
  for (long k = 0; k <= 5; ++k) {
    SCOPED_TRACE("killed after " + std::to_string(k) + " writes");
    CountingStore failing(*env_.store);
    failing.fail_after_writes = k;
    EXPECT_FALSE(DoSync(failing, v2).ok());
    // The store still serves v1 entirely, and v2 is not recorded.
    absl::StatusOr<std::vector<Release>> releases = ReadReleases(*env_.store, "app");
    ASSERT_TRUE(releases.ok());
    ASSERT_EQ(releases->size(), 1u);
    EXPECT_EQ(releases->back().manifest_id, v1.id);
    ExpectEveryReleaseComplete();
    EXPECT_EQ(Keys().size(), v1_keys.size() + static_cast<std::size_t>(k));
    // Back to v1 alone for the next kill; the last one's writes stay for the rerun.
    if (k == 5) break;
    std::vector<std::string> added;
    for (const std::string& key : Keys()) {
      if (!v1_keys.contains(key)) added.push_back(key);
    }
    ASSERT_TRUE(env_.store->Delete(added).ok());
  }
  CountingStore rerun(*env_.store);
  absl::StatusOr<SyncReport> r = DoSync(rerun, v2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->uploaded, 0u);   // the killed run had written every body and the manifest
  EXPECT_EQ(rerun.writes, 1u);  // the list of releases
  absl::StatusOr<std::vector<Release>> releases = ReadReleases(*env_.store, "app");
  ASSERT_EQ(releases->size(), 2u);
  EXPECT_EQ(releases->back().manifest_id, v2.id);
  ExpectEveryReleaseComplete();
}

TEST_P(SyncTest, KilledFirstUploadThenRerunUploadsTheRest) {
  const Build v1 = MakeBuild();
  CountingStore failing(*env_.store);
  failing.fail_after_writes = 1;
  ASSERT_FALSE(DoSync(failing, v1).ok());
  EXPECT_TRUE(ReadReleases(*env_.store, "app")->empty());
  CountingStore rerun(*env_.store);
  absl::StatusOr<SyncReport> r = DoSync(rerun, v1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->uploaded, 2u);
  EXPECT_EQ(rerun.writes, 2u + 2u);
  ExpectEveryReleaseComplete();
}

TEST_P(SyncTest, PruneKeepsTheCurrentAndPreviousReleases) {
  const Build v1 = MakeBuild();
  ASSERT_TRUE(DoSync(*env_.store, v1).ok());
  Write("css/a.css", "a{v:2}");
  const Build v2 = MakeBuild();
  ASSERT_TRUE(DoSync(*env_.store, v2).ok());
  Write("js/b.js", "b(3)");
  const Build v3 = MakeBuild();
  ASSERT_TRUE(DoSync(*env_.store, v3).ok());
  // A stray key of the namespace that no manifest names, and a key of another namespace.
  const KeyValue stray{"app/stray.txt", "x"}, other{"other/x", "y"};
  ASSERT_TRUE(env_.store->Put({&stray, 1}).ok());
  ASSERT_TRUE(env_.store->Put({&other, 1}).ok());

  std::set<std::string> needed = {ReleasesKey("app"), ManifestKey("app", v2.id),
                                  ManifestKey("app", v3.id)};
  for (const Build* b : {&v2, &v3}) {
    for (const std::string& k : KeysOf(b->manifest)) needed.insert(k);
  }
  const std::set<std::string> before = Keys();

  // A dry run lists and deletes nothing.
  PruneOptions o{.ns = "app", .keep = 1, .dry_run = true, .out = &log_};
  CountingStore counting(*env_.store);
  absl::StatusOr<PruneReport> p = Prune(counting, o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(counting.deletes, 0u);
  EXPECT_EQ(Keys(), before);
  EXPECT_NE(log_.str().find("would delete app/stray.txt"), std::string::npos) << log_.str();

  o.dry_run = false;
  p = Prune(counting, o);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->kept_manifests, (std::vector<std::string>{v2.id, v3.id}));
  EXPECT_EQ(Keys(), needed);
  // v1's own body of css/a.css and its manifest went; the other namespace stayed.
  EXPECT_EQ(p->deleted.size(), before.size() - needed.size());
  EXPECT_TRUE(env_.store->Get("other/x").ok());
  ExpectEveryReleaseComplete();
  EXPECT_EQ(ReadReleases(*env_.store, "app")->size(), 2u);

  // --keep 0: the current release alone, and never a key of it.
  o.keep = 0;
  ASSERT_TRUE(Prune(*env_.store, o).ok());
  std::set<std::string> current = {ReleasesKey("app"), ManifestKey("app", v3.id)};
  for (const std::string& k : KeysOf(v3.manifest)) current.insert(k);
  EXPECT_EQ(Keys(), current);
  ExpectEveryReleaseComplete();
}

TEST_P(SyncTest, PruneWithoutAListOfReleasesDeletesNothing) {
  const KeyValue stray{"app/stray.txt", "x"};
  ASSERT_TRUE(env_.store->Put({&stray, 1}).ok());
  absl::StatusOr<PruneReport> p = Prune(*env_.store, {.ns = "app"});
  EXPECT_TRUE(absl::IsFailedPrecondition(p.status())) << p.status();
  EXPECT_EQ(Keys().size(), 1u);
}

TEST_P(SyncTest, PruneStopsWhenAKeptManifestCannotBeRead) {
  const Build v1 = MakeBuild();
  ASSERT_TRUE(DoSync(*env_.store, v1).ok());
  const std::vector<std::string> gone = {ManifestKey("app", v1.id)};
  ASSERT_TRUE(env_.store->Delete(gone).ok());
  const std::set<std::string> before = Keys();
  absl::StatusOr<PruneReport> p = Prune(*env_.store, {.ns = "app"});
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(Keys(), before);
}

TEST_P(SyncTest, ARollbackBecomesCurrentAgain) {
  const Build v1 = MakeBuild();
  ASSERT_TRUE(DoSync(*env_.store, v1).ok());
  Write("css/a.css", "a{v:2}");
  const Build v2 = MakeBuild();
  ASSERT_TRUE(DoSync(*env_.store, v2).ok());
  absl::StatusOr<SyncReport> r = DoSync(*env_.store, v1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->uploaded, 0u);
  absl::StatusOr<std::vector<Release>> releases = ReadReleases(*env_.store, "app");
  ASSERT_EQ(releases->size(), 2u);
  EXPECT_EQ(releases->at(0).manifest_id, v2.id);
  EXPECT_EQ(releases->at(1).manifest_id, v1.id);
}

INSTANTIATE_TEST_SUITE_P(Stores, SyncTest, ::testing::Values("dir", "redis", "cloudflare"),
                         [](const auto& info) { return std::string(info.param); });

TEST(ManifestJson, RoundTripsAndNamesKeys) {
  TempDir t;
  t.Write("site/a b/c.min.js", "x");
  t.Write("site/LICENSE", "l");
  const Build b = Make(t.path() + "/site");
  const std::string json = ManifestToJson(b.manifest);
  absl::StatusOr<ManifestData> back = ManifestFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(ManifestToJson(*back), json);
  ASSERT_EQ(back->assets.size(), 2u);
  EXPECT_EQ(back->assets[1].key, "app/" + back->assets[1].tagged_path);
  EXPECT_TRUE(back->assets[1].key.starts_with("app/a b/c.")) << back->assets[1].key;
  EXPECT_EQ(b.id.size(), 22u);
  EXPECT_FALSE(ManifestFromJson("{\"format\":\"other\"}").ok());
  EXPECT_FALSE(ManifestFromJson(R"({"format":"kv-assets-manifest/1","assets":[{"path":1}]})").ok());
  // A variant's key carries a hash of its own bytes, so new bytes never reuse a key.
  EXPECT_NE(VariantKey("app/a.T.css", Coding::kBrotli, "x"),
            VariantKey("app/a.T.css", Coding::kBrotli, "y"));
  EXPECT_TRUE(VariantKey("app/a.T.css", Coding::kBrotli, "x").ends_with(".br"));
}

}  // namespace
}  // namespace kv_assets::gen
