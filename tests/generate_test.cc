// Generate() and Prepare(), called in-process as kv-assets generate calls them.

#include "generator/generate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::ReadAll;
using ::kv_assets::test_util::SetMtime;
using ::kv_assets::test_util::TempDir;

std::string Css(int rules) {
  std::string out;
  for (int i = 0; i < rules; ++i) absl::StrAppend(&out, ".r", i, " { margin: ", i % 7, "px; }\n");
  return out;
}

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("site/css/a.css", Css(300));
    t_.Write("site/img/b.png", "not compressible");
    t_.Write("site/js/c.js", Css(100));
  }

  GenerateConfig Config(const std::string& out, std::ostream* log = nullptr) const {
    GenerateConfig c;
    c.folder = t_.path() + "/site";
    c.emit.out_dir = out;
    c.emit.name = "a";
    c.compress.cache_dir = t_.path() + "/cache";
    c.log = log;
    return c;
  }

  std::set<std::string> CacheNames() const {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(t_.path() + "/cache")) {
      out.insert(e.path().filename().string());
    }
    return out;
  }

  TempDir t_;
};

TEST_F(GenerateTest, WritesTheOutputsAndOneSummaryLine) {
  std::ostringstream log;
  absl::StatusOr<GenerateReport> r = Generate(Config(t_.path() + "/out", &log));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(std::filesystem::exists(t_.path() + "/out/a.h"));
  EXPECT_TRUE(std::filesystem::exists(t_.path() + "/out/a.cc"));
  EXPECT_EQ(r->files, 3u);
  EXPECT_EQ(r->bytes, Css(300).size() + Css(100).size() + 16);
  EXPECT_EQ(r->variants, 4u);  // a.css and c.js, gzip and br each
  EXPECT_LT(r->smallest_bytes, r->bytes / 4);
  EXPECT_EQ(r->stats.computed, 4u);
  EXPECT_EQ(r->stats.from_cache, 0u);
  EXPECT_TRUE(std::regex_match(
      log.str(), std::regex(R"(kv-assets: a: 3 files, \d+\.\d kB; 4 variants, \d\d % saved; )"
                            R"(0 cached; \d+\.\d s\n)")))
      << log.str();
}

TEST_F(GenerateTest, AFreshBuildFolderReadsEverythingFromTheSharedCache) {
  ASSERT_TRUE(Generate(Config(t_.path() + "/out1")).ok());
  std::ostringstream log;
  absl::StatusOr<GenerateReport> r = Generate(Config(t_.path() + "/out2", &log));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.computed, 0u);
  EXPECT_EQ(r->stats.from_cache, 4u);
  EXPECT_NE(log.str().find("; 4 cached; "), std::string::npos) << log.str();
  EXPECT_EQ(ReadAll(t_.path() + "/out1/a.h"), ReadAll(t_.path() + "/out2/a.h"));
  EXPECT_FALSE(std::filesystem::exists(t_.path() + "/out2/a.compress-cache"));
}

TEST_F(GenerateTest, WithoutASharedCacheKeepsAPrivateOneInTheOutputFolder) {
  GenerateConfig c = Config(t_.path() + "/out");
  c.compress.cache_dir = "";
  ASSERT_TRUE(Generate(c).ok());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(t_.path() + "/out/a.compress-cache"),
                          std::filesystem::directory_iterator()),
            4);
  absl::StatusOr<GenerateReport> again = Generate(c);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stats.from_cache, 4u);
  // Switching the shared cache on removes the private one.
  ASSERT_TRUE(Generate(Config(t_.path() + "/out")).ok());
  EXPECT_FALSE(std::filesystem::exists(t_.path() + "/out/a.compress-cache"));
}

TEST_F(GenerateTest, TrimsTheSharedCacheLeastRecentlyUsedFirst) {
  // Five old entries of another project, 10 kB each.
  std::filesystem::create_directories(t_.path() + "/cache");
  std::set<std::string> old;
  for (int i = 0; i < 5; ++i) {
    const std::string name = absl::StrCat(absl::Hex(i, absl::kZeroPad16),
                                          absl::Hex(i, absl::kZeroPad16), "-br-0000000000000000");
    WriteCacheEntry(t_.path() + "/cache", name, true, std::string(10000, 'x'));
    SetMtime(t_.path() + "/cache/" + name, 1600000000 - i);  // the first name the newest
    old.insert(name);
  }
  GenerateConfig c = Config(t_.path() + "/out");
  c.cache_max_bytes = 20000;
  ASSERT_TRUE(Generate(c).ok());
  const std::set<std::string> left = CacheNames();
  std::size_t old_left = 0, new_left = 0;
  for (const std::string& name : left) (old.contains(name) ? old_left : new_left) += 1;
  EXPECT_EQ(new_left, 4u);  // this run's entries are the most recently used
  // Down to 16 kB: this run's few kB and the most recently used old entry.
  EXPECT_EQ(old_left, 1u);
  EXPECT_TRUE(left.contains(*old.begin()));
}

TEST_F(GenerateTest, PrintsProgressWhileCompressingTakesLong) {
  t_.Write("site/big.css", Css(40000));
  std::ostringstream log;
  GenerateConfig c = Config(t_.path() + "/out", &log);
  c.progress_interval = std::chrono::milliseconds(1);
  ASSERT_TRUE(Generate(c).ok());
  EXPECT_TRUE(std::regex_search(
      log.str(), std::regex(R"(kv-assets: a: compressing \d/3 files, \d+/\d+ MB, \d+ s\n)")))
      << log.str();
  EXPECT_NE(log.str().find("kv-assets: a: 4 files,"), std::string::npos) << log.str();
}

TEST_F(GenerateTest, FastLevelKeepsTagsAndIdentityEtagsButNotVariantEtags) {
  GenerateConfig max = Config(t_.path() + "/out1");
  GenerateConfig fast = Config(t_.path() + "/out2");
  fast.compress.level = CompressLevel::kFast;
  absl::StatusOr<Prepared> a = Prepare(max);
  absl::StatusOr<Prepared> b = Prepare(fast);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->files.size(), b->files.size());
  for (std::size_t i = 0; i < a->files.size(); ++i) {
    EXPECT_EQ(a->files[i].tagged_path, b->files[i].tagged_path);
    EXPECT_EQ(a->files[i].etag, b->files[i].etag);
  }
  ASSERT_TRUE(Generate(fast).ok());
  EXPECT_NE(ReadAll(t_.path() + "/out2/a.h").find("-br-fast\\\""), std::string::npos);
}

TEST_F(GenerateTest, AFailedRunWritesNothingAndSaysWhy) {
  ASSERT_TRUE(Generate(Config(t_.path() + "/out")).ok());
  const std::string header = ReadAll(t_.path() + "/out/a.h");
  t_.Write("site/bad\x01name.css", "x");
  absl::StatusOr<GenerateReport> r = Generate(Config(t_.path() + "/out"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("name.css"), std::string::npos) << r.status();
  EXPECT_EQ(ReadAll(t_.path() + "/out/a.h"), header);
}

// A stylesheet's reference to a missing file: a warning in the report (the CLI prints it);
// with STRICT the run fails and the previous outputs stay.
TEST_F(GenerateTest, MissingReferencesWarnOrWithStrictFailTheRun) {
  const std::string out = t_.path() + "/out";
  ASSERT_TRUE(Generate(Config(out)).ok());
  const std::string header = ReadAll(out + "/a.h");
  t_.Write("site/css/a.css", ".a{background:url(../img/missing.png)}");
  absl::StatusOr<GenerateReport> warned = Generate(Config(t_.path() + "/out2"));
  ASSERT_TRUE(warned.ok()) << warned.status();
  ASSERT_EQ(warned->warnings.size(), 1u);
  EXPECT_EQ(warned->warnings[0], t_.path() +
                                     "/site/css/a.css:1: warning: ../img/missing.png: "
                                     "no file img/missing.png in the asset folder; left "
                                     "as written");
  GenerateConfig strict = Config(out);
  strict.link.strict = true;
  absl::StatusOr<GenerateReport> failed = Generate(strict);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("css/a.css:1: warning: ../img/missing.png"),
            std::string::npos)
      << failed.status();
  EXPECT_EQ(ReadAll(out + "/a.h"), header);
}

// Tags that follow references reach the header: the stylesheet names the image's tagged name.
TEST_F(GenerateTest, ReferencesAreRewrittenInTheOutput) {
  t_.Write("site/css/a.css", ".a{background:url(../img/b.png)}");
  const std::string out = t_.path() + "/out";
  ASSERT_TRUE(Generate(Config(out)).ok());
  const std::string source = ReadAll(out + "/a.h");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(source, m, std::regex(R"(img/b\.[A-Za-z0-9_-]{10}\.png)")));
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    if (e.path().extension() == ".bin") {
      found = ReadAll(e.path().string()).find("url(../" + m.str() + ")") != std::string::npos;
    }
  }
  EXPECT_TRUE(found) << m.str();
}

// The check behind "a tagged name never stands for two byte strings": the manifest a previous run
// wrote that names other bytes under a tag this run produces stops the run, naming both.
TEST_F(GenerateTest, ATaggedNameNeverNamesTwoByteStrings) {
  const std::string out = t_.path() + "/out";
  ASSERT_TRUE(Generate(Config(out)).ok());
  std::string manifest = ReadAll(out + "/a.manifest.json");
  const std::string header = ReadAll(out + "/a.h");
  absl::StatusOr<Prepared> prepared = [&] {
    GenerateConfig c = Config(out);
    return Prepare(c);
  }();
  ASSERT_TRUE(prepared.ok());
  const std::string etag = prepared->files[0].etag;  // css/a.css
  const std::size_t at = manifest.find(etag.substr(1, etag.size() - 2));
  ASSERT_NE(at, std::string::npos);
  manifest[at] = manifest[at] == 'A' ? 'B' : 'A';  // as if an older run had other bytes
  std::ofstream(out + "/a.manifest.json", std::ios::binary | std::ios::trunc) << manifest;
  absl::StatusOr<GenerateReport> r = Generate(Config(out));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("its tagged name " + prepared->files[0].tagged_path +
                                      " named other bytes"),
            std::string::npos)
      << r.status();
  EXPECT_EQ(ReadAll(out + "/a.h"), header);  // nothing written
  EXPECT_EQ(ReadAll(out + "/a.manifest.json"), manifest);
}

}  // namespace
}  // namespace kv_assets::gen
