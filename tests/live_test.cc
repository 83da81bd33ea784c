// KvAssets::live: the folder served from disk, against an embedded build of the same folder
// and while files change under it.

#include "kv_assets/live.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "generator/emit.h"
#include "generator/hash.h"
#include "live_site_assets.h"  // testdata/site embedded: COMPRESS gzip brotli, level fast
#include "tests/test_util.h"

namespace kv_assets::live {
namespace {

using ::kv_assets::test_util::TempDir;

const std::string kSite = std::string(KV_ASSETS_TESTDATA_DIR) + "/site";

std::unique_ptr<LiveServer> OpenOrDie(const std::string& folder, LiveOptions options = {}) {
  absl::StatusOr<std::unique_ptr<LiveServer>> live = LiveServer::Open(folder, std::move(options));
  EXPECT_TRUE(live.ok()) << live.status();
  return live.ok() ? *std::move(live) : nullptr;
}

struct Answer {
  int status = 0;
  std::map<std::string, std::string> fields;
  std::string body;

  std::string Field(const std::string& name) const {
    const auto it = fields.find(name);
    return it == fields.end() ? "" : it->second;
  }
};

Answer Simplify(const Response& r) {
  Answer a{r.status, {}, r.BodyString()};
  for (const HeaderField& f : r.headers()) a.fields[std::string(f.name)] = std::string(f.value);
  return a;
}

Answer Get(const LiveServer& live, std::string_view target, Request r = {}) {
  if (r.method.empty()) r.method = "GET";
  r.target = target;
  return Simplify(live.Handle(r).response);
}

// "\"<base64url of the XXH3-128 of body>\"": the ETag an identity body must carry.
std::string EtagOf(std::string_view body) {
  return absl::StrCat("\"", gen::DigestToBase64Url(gen::HashBytes(body)), "\"");
}

// docs/http.md, "Live mode": for every asset of testdata/site and every request of the table,
// the live server answers what an embedded build of the folder answers, Cache-Control aside.
TEST(Live, AnswersAsTheEmbeddedBuildOfTheSameFolder) {
  const std::unique_ptr<LiveServer> live = OpenOrDie(kSite, {.prefix = "/static/"});
  const Server embedded(live_site_assets::kManifest);
  std::vector<std::string> targets = {"/static/",
                                      "/static/missing.css",
                                      "/static/.env",
                                      "/static/a/../LICENSE",
                                      "/static/%2e%2e/LICENSE",
                                      "/static/css%2fa.css",
                                      "/static/a%00b",
                                      "/other/LICENSE",
                                      "/static/css/",
                                      "/static/img"};
  for (const Asset& a : live_site_assets::kManifest.assets) {
    targets.push_back(std::string(a.url()));
    targets.push_back(absl::StrCat("/static/", gen::UrlEncodePath(a.path())));
  }
  const std::vector<Request> requests = {
      {.method = "GET"},
      {.method = "HEAD"},
      {.method = "POST"},
      {.method = "GET", .accept_encoding = "gzip, deflate, br"},
      {.method = "GET", .accept_encoding = "gzip"},
      {.method = "GET", .accept_encoding = "identity;q=0"},
      {.method = "GET", .range = "bytes=0-4"},
      {.method = "GET", .range = "bytes=2-3,5-6"},
      {.method = "GET", .if_modified_since = "Sun, 06 Nov 2033 08:49:37 GMT"},
  };
  std::map<int, int> statuses;  // of the embedded answers compared
  for (const std::string& target : targets) {
    for (Request r : requests) {
      r.target = target;
      Answer want = Simplify(embedded.Handle(r));
      Answer got = Simplify(live->Handle(r).response);
      ++statuses[want.status];
      want.fields.erase("Cache-Control");
      got.fields.erase("Cache-Control");
      EXPECT_EQ(got.status, want.status) << r.method << " " << target;
      EXPECT_EQ(got.fields, want.fields) << r.method << " " << target;
      EXPECT_EQ(got.body, want.body) << r.method << " " << target;
      // And a revalidation with the ETag the embedded build gave.
      if (want.fields.contains("ETag")) {
        r.if_none_match = want.fields["ETag"];
        r.range.reset();
        const int status = embedded.Handle(r).status;
        ++statuses[status];
        EXPECT_EQ(live->Handle(r).response.status, status) << target;
      }
    }
  }
  // The table reached every kind of answer.
  for (const int status : {200, 206, 304, 400, 404, 405, 406}) {
    EXPECT_GT(statuses[status], 0) << status;
  }
}

class LiveFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("site/css/a.css", "body { color: red; }\n");
    t_.Write("site/js/app.js", "console.log(1);\n");
    live_ = OpenOrDie(t_.path() + "/site", {.prefix = "/s/"});
    ASSERT_NE(live_, nullptr);
  }
  std::string Url(std::string_view path) {
    absl::StatusOr<std::string> url = live_->Tag(path);
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? *url : "";
  }
  TempDir t_;
  std::unique_ptr<LiveServer> live_;
};

TEST_F(LiveFolder, UntaggedNamesAreNoCacheAndRevalidateTo304) {
  const Answer a = Get(*live_, "/s/css/a.css");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "body { color: red; }\n");
  EXPECT_EQ(a.Field("Cache-Control"), "no-cache");
  EXPECT_EQ(a.Field("ETag"), EtagOf(a.body));
  const Answer again = Get(*live_, "/s/css/a.css", {.if_none_match = a.Field("ETag")});
  EXPECT_EQ(again.status, 304);
}

TEST_F(LiveFolder, TheCurrentTagIsImmutable) {
  const std::string url = Url("css/a.css");
  EXPECT_TRUE(url.starts_with("/s/css/a.")) << url;
  const Answer a = Get(*live_, url);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.Field("Cache-Control"), "public, max-age=31536000, immutable");
}

TEST_F(LiveFolder, AStaleTagGetsTheCurrentBytesWithNoCache) {
  const std::string old_url = Url("css/a.css");
  t_.Write("site/css/a.css", "body { color: blue; }\n");
  const Answer a = Get(*live_, old_url);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "body { color: blue; }\n");
  EXPECT_EQ(a.Field("Cache-Control"), "no-cache");
  EXPECT_NE(Url("css/a.css"), old_url);
  // A tag-shaped name of no file at all is still a 404.
  EXPECT_EQ(Get(*live_, "/s/css/b.AAAAAAAAAA.css").status, 404);
}

TEST_F(LiveFolder, ASameSizeEditInTheSameSecondIsSeen) {
  const Answer first = Get(*live_, "/s/js/app.js");
  const std::string path = t_.path() + "/site/js/app.js";
  struct stat before {};
  ::stat(path.c_str(), &before);
  t_.Write("site/js/app.js", "console.log(2);\n");  // same size
  // Even with the very same mtime (a coarse clock, or a tool that restores it).
  const struct timespec times[2] = {before.st_mtim, before.st_mtim};
  ::utimensat(AT_FDCWD, path.c_str(), times, 0);
  const Answer second = Get(*live_, "/s/js/app.js");
  EXPECT_EQ(second.body, "console.log(2);\n");
  EXPECT_NE(second.Field("ETag"), first.Field("ETag"));
  EXPECT_EQ(second.Field("ETag"), EtagOf(second.body));
}

TEST_F(LiveFolder, AtomicRenameOverAFileIsSeen) {
  Get(*live_, "/s/css/a.css");
  t_.Write("site/css/a.css.new", "p { margin: 0; }\n");
  std::filesystem::rename(t_.path() + "/site/css/a.css.new", t_.path() + "/site/css/a.css");
  EXPECT_EQ(Get(*live_, "/s/css/a.css").body, "p { margin: 0; }\n");
}

TEST_F(LiveFolder, NewFilesAppearDeletedAndRenamedOnesGoAndLeaveTheCache) {
  t_.Write("site/new.css", "a{}");
  EXPECT_EQ(Get(*live_, "/s/new.css").status, 200);
  Get(*live_, "/s/css/a.css");
  EXPECT_EQ(live_->cached_files(), 2u);
  std::filesystem::remove(t_.path() + "/site/new.css");
  EXPECT_EQ(Get(*live_, "/s/new.css").status, 404);
  std::filesystem::rename(t_.path() + "/site/css/a.css", t_.path() + "/site/css/b.css");
  EXPECT_EQ(Get(*live_, "/s/css/a.css").status, 404);
  EXPECT_EQ(Get(*live_, "/s/css/b.css").status, 200);
  EXPECT_EQ(live_->cached_files(), 1u);
  EXPECT_FALSE(live_->Tag("new.css").ok());
}

TEST_F(LiveFolder, DotfilesIgnoredFilesAndFoldersAre404) {
  t_.Write("site/.env", "SECRET=1");
  t_.Write("site/.well-known/security.txt", "Contact: x");
  t_.Write("site/.gitignore", "*.map\ndrafts/\n");
  t_.Write("site/js/app.js.map", "{}");
  t_.Write("site/drafts/x.css", "x");
  live_ = OpenOrDie(t_.path() + "/site", {.prefix = "/s/", .excludes = {"*.psd"}});
  t_.Write("site/img/a.psd", "psd");
  EXPECT_EQ(Get(*live_, "/s/.env").status, 404);
  EXPECT_EQ(Get(*live_, "/s/.gitignore").status, 404);
  EXPECT_EQ(Get(*live_, "/s/.well-known/security.txt").status, 200);
  EXPECT_EQ(Get(*live_, "/s/js/app.js.map").status, 404);
  EXPECT_EQ(Get(*live_, "/s/drafts/x.css").status, 404);
  EXPECT_EQ(Get(*live_, "/s/img/a.psd").status, 404);
  EXPECT_EQ(Get(*live_, "/s/js").status, 404);
  EXPECT_EQ(Get(*live_, "/s/js/").status, 404);
}

TEST_F(LiveFolder, AnEditedIgnoreFileTakesEffect) {
  EXPECT_EQ(Get(*live_, "/s/js/app.js").status, 200);
  t_.Write("site/js/.ignore", "app.js\n");
  // Rule files are checked at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Get(*live_, "/s/js/app.js").status, 404);
  std::filesystem::remove(t_.path() + "/site/js/.ignore");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Get(*live_, "/s/js/app.js").status, 200);
}

TEST_F(LiveFolder, NoPathOutsideTheFolderIsOpened) {
  t_.Write("secret.txt", "outside");
  for (const char* target : {"/s/../secret.txt", "/s/%2e%2e/secret.txt", "/s/..%2fsecret.txt",
                             "/s/css/..%2f..%2fsecret.txt", "/s/%2Fetc/passwd", "/s/a%00.css",
                             "/s/..\\secret.txt", "/s//etc/passwd"}) {
    const Answer a = Get(*live_, target);
    EXPECT_TRUE(a.status == 400 || a.status == 404) << target << ": " << a.status;
    EXPECT_EQ(a.body.find("outside"), std::string::npos) << target;
  }
}

TEST_F(LiveFolder, AFileThatCannotBeReadIsA500WithoutDetails) {
  std::filesystem::create_symlink("loop.css", t_.path() + "/site/loop.css");
  std::string logged;
  live_ = OpenOrDie(t_.path() + "/site",
                    {.prefix = "/s/", .log = [&](std::string_view m) { logged = m; }});
  const Answer a = Get(*live_, "/s/loop.css");
  EXPECT_EQ(a.status, 500);
  EXPECT_EQ(a.Field("Cache-Control"), "no-store");
  EXPECT_EQ(a.body.find("loop"), std::string::npos) << a.body;
  EXPECT_NE(logged.find("/site/loop.css"), std::string::npos) << logged;
}

// A body is never served with another version's ETag, even while the file is rewritten in
// place as fast as it can be.
TEST_F(LiveFolder, ReadersRacingAWriterSeeBodiesMatchingTheirEtags) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      const std::string body(1000 + (i % 7) * 300, static_cast<char>('a' + i % 26));
      if (FILE* f = std::fopen((t_.path() + "/site/js/app.js").c_str(), "r+")) {
        std::fwrite(body.data(), 1, body.size(), f);
        std::fclose(f);
      }
    }
  });
  int answered = 0;
  for (int i = 0; i < 2000; ++i) {
    const Answer a = Get(*live_, "/s/js/app.js", {.accept_encoding = "identity"});
    if (a.status != 200) continue;  // 500: changed while being read three times
    ++answered;
    ASSERT_EQ(a.Field("ETag"), EtagOf(a.body)) << i;
  }
  stop = true;
  writer.join();
  EXPECT_GT(answered, 0);
}

TEST_F(LiveFolder, TagNamesMissingFilesAndTheFolder) {
  const absl::StatusOr<std::string> missing = live_->Tag("css/nope.css");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("css/nope.css"), std::string::npos);
  EXPECT_NE(missing.status().message().find(live_->folder()), std::string::npos);
}

TEST(Live, OpenRefusesWhatItCannotServe) {
  EXPECT_EQ(LiveServer::Open("/no/such/folder").status().message(),
            "/no/such/folder: not a folder");
  TempDir t;
  EXPECT_EQ(LiveServer::Open(t.path(), {.prefix = "static/"}).status().message(),
            "prefix static/: must start and end with '/'");
}

}  // namespace
}  // namespace kv_assets::live
