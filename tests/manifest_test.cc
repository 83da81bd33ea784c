// The generated manifest for tests/testdata/site, as a user's program sees it.
#include "kv_assets/manifest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "kv_assets/tag.h"
#include "site_assets.h"

namespace {

std::string ReadTestFile(const std::string& rel) {
  std::ifstream in(std::string(KV_ASSETS_TESTDATA_DIR) + "/site/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compile-time lookups: these lines are the test.
constexpr std::string_view kCssUrl = site_assets::Tag("css/a.css");
static_assert(kCssUrl.starts_with("/static/css/a."));
static_assert(kCssUrl.ends_with(".css"));
static_assert(site_assets::kManifest.IndexOf("no/such/file") == kv_assets::Manifest::kNotFound);
static_assert(site_assets::kManifest.IndexOfTagged(site_assets::Tag("LICENSE").substr(8)) ==
              site_assets::kManifest.IndexOf("LICENSE"));

TEST(Manifest, HoldsEveryServedFileSortedAndSkipsDotfiles) {
  std::vector<std::string> paths;
  for (const kv_assets::Asset& a : site_assets::kManifest.assets) paths.emplace_back(a.path());
  const std::vector<std::string> expected = {
      ".well-known/security.txt",
      "100%.txt",
      "LICENSE",
      "app.properties",
      "config.production.js",
      "css/a.css",
      "empty.txt",
      "img/logo.svg",
      "img/noise.bin",
      "index.html",
      "js/app.min.js",
      "sub/a#b.css",
      "sub/a?b.txt",
      "sub/dup1.txt",
      "sub/dup2.txt",
      "sub/it's & more.txt",
      "sub/q\"uote\\back.txt",
      "with space.txt",
      "\xE6\x97\xA5\xE6\x9C\xAC.txt",
  };
  EXPECT_EQ(paths, expected);
}

TEST(Manifest, BodiesAreTheFilesBytes) {
  for (const kv_assets::Asset& a : site_assets::kManifest.assets) {
    EXPECT_EQ(site_assets::kManifest.Body(a), ReadTestFile(std::string(a.path()))) << a.path();
    EXPECT_EQ(a.size, site_assets::kManifest.Body(a).size()) << a.path();
  }
}

TEST(Manifest, TaggedNamesAndEtagsHaveTheDocumentedShape) {
  const std::regex etag(R"re("[A-Za-z0-9_-]{22}")re");
  for (const kv_assets::Asset& a : site_assets::kManifest.assets) {
    EXPECT_TRUE(std::regex_match(std::string(a.etag()), etag)) << a.etag();
    const std::string tag(a.etag().substr(1, 10));
    EXPECT_NE(a.tagged_path().find("." + tag), std::string_view::npos) << a.tagged_path();
    // The URL is the tagged path, percent-encoded where a URL or an HTML attribute needs it.
    std::string decoded;
    for (std::size_t i = 0; i < a.url().size(); ++i) {
      if (a.url()[i] == '%') {
        decoded.push_back(
            static_cast<char>(std::stoi(std::string(a.url().substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        decoded.push_back(a.url()[i]);
      }
    }
    EXPECT_EQ(decoded, std::string("/static/") + std::string(a.tagged_path()));
    EXPECT_EQ(a.url().find_first_of(" \"'<>&?#\\"), std::string_view::npos) << a.url();
    for (const char c : a.url()) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << a.url();
  }
  EXPECT_EQ(site_assets::kManifest.Find("js/app.min.js")->tagged_path(),
            "js/app." +
                std::string(site_assets::kManifest.Find("js/app.min.js")->etag().substr(1, 10)) +
                ".min.js");
  const kv_assets::Asset* license = site_assets::kManifest.Find("LICENSE");
  EXPECT_EQ(license->tagged_path(), "LICENSE." + std::string(license->etag().substr(1, 10)));
}

TEST(Manifest, UrlsAreEncodedOnlyWhereNeeded) {
  EXPECT_TRUE(site_assets::Tag("100%.txt").starts_with("/static/100%25."));
  EXPECT_TRUE(site_assets::Tag("sub/a?b.txt").starts_with("/static/sub/a%3Fb."));
  EXPECT_TRUE(site_assets::Tag("sub/a#b.css").starts_with("/static/sub/a%23b."));
  EXPECT_TRUE(
      site_assets::Tag("sub/it's & more.txt").starts_with("/static/sub/it%27s%20%26%20more."));
  EXPECT_TRUE(site_assets::Tag("with space.txt").starts_with("/static/with%20space."));
  EXPECT_TRUE(
      site_assets::Tag("\xE6\x97\xA5\xE6\x9C\xAC.txt").starts_with("/static/%E6%97%A5%E6%9C%AC."));
  EXPECT_TRUE(site_assets::Tag("css/a.css").starts_with("/static/css/a."));
}

TEST(Manifest, IdenticalContentIsStoredOnce) {
  const kv_assets::Asset* a = site_assets::kManifest.Find("sub/dup1.txt");
  const kv_assets::Asset* b = site_assets::kManifest.Find("sub/dup2.txt");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->offset, b->offset);
  EXPECT_EQ(a->etag(), b->etag());
  EXPECT_NE(a->tagged_path(), b->tagged_path());
}

TEST(Manifest, ContentTypesComeFromTheExtension) {
  const auto type = [](std::string_view p) {
    return site_assets::kManifest.Find(p)->content_type();
  };
  EXPECT_EQ(type("css/a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(type("js/app.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(type("img/logo.svg"), "image/svg+xml");
  EXPECT_EQ(type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(type("LICENSE"), "application/octet-stream");
  EXPECT_EQ(type("img/noise.bin"), "application/octet-stream");
}

TEST(Manifest, RuntimeTagReturnsUrlOrNotFound) {
  EXPECT_EQ(kv_assets::Tag(site_assets::kManifest, "css/a.css").value(), kCssUrl);
  const absl::StatusOr<std::string_view> missing =
      kv_assets::Tag(site_assets::kManifest, "css/nope.css");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "no asset \"css/nope.css\" in the manifest served under /static/");
}

TEST(Manifest, ByTaggedIsSortedAndCoversEveryAsset) {
  const auto& m = site_assets::kManifest;
  ASSERT_EQ(m.by_tagged.size(), m.assets.size());
  for (std::size_t i = 1; i < m.by_tagged.size(); ++i) {
    EXPECT_LT(m.assets[m.by_tagged[i - 1]].tagged_path(), m.assets[m.by_tagged[i]].tagged_path());
  }
  for (const kv_assets::Asset& a : m.assets) EXPECT_EQ(m.FindTagged(a.tagged_path()), &a);
}

}  // namespace

namespace {

// The generated import map: every script, untagged URL to tagged URL, and their integrity.
TEST(Manifest, ImportMapListsModulesWithIntegrity) {
  const std::string_view map = site_assets::kImportMap;
  for (std::string_view path : {"config.production.js", "js/app.min.js"}) {
    const kv_assets::Asset* a = site_assets::kManifest.Find(path);
    ASSERT_NE(a, nullptr);
    const std::string untagged = "/static/" + std::string(path);
    EXPECT_NE(map.find("\"" + untagged + "\": \"" + std::string(a->url()) + "\""),
              std::string_view::npos)
        << map;
    EXPECT_NE(
        map.find("\"" + std::string(a->url()) + "\": \"" + std::string(a->integrity()) + "\""),
        std::string_view::npos)
        << map;
  }
  EXPECT_TRUE(map.starts_with("{\n  \"imports\": {\n")) << map;
  EXPECT_EQ(map.find("css"), std::string_view::npos) << map;  // stylesheets are no modules
}

// Every asset carries the SRI value of its identity bytes.
TEST(Manifest, EveryAssetHasItsIntegrity) {
  for (const kv_assets::Asset& a : site_assets::kManifest.assets) {
    EXPECT_TRUE(a.integrity().starts_with("sha384-")) << a.path();
    EXPECT_EQ(a.integrity().size(), 7u + 64u) << a.path();  // 48 bytes in base64
  }
}

}  // namespace
