#include "generator/hash.h"

#include <gtest/gtest.h>

#include <regex>

#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

TEST(Hash, TaggedPathInsertsBeforeTheFirstDotOfTheName) {
  EXPECT_EQ(TaggedPath("css/style.css", "EI7Zfw9kFp"), "css/style.EI7Zfw9kFp.css");
  EXPECT_EQ(TaggedPath("a/b.min.js", "T"), "a/b.T.min.js");
  EXPECT_EQ(TaggedPath("LICENSE", "T"), "LICENSE.T");
  EXPECT_EQ(TaggedPath("v1.2/readme", "T"), "v1.2/readme.T");  // dots in folders don't count
  EXPECT_EQ(TaggedPath(".well-known/security.txt", "T"), ".well-known/security.T.txt");
  EXPECT_EQ(TaggedPath("a/.x", "T"), "a/.x.T");
  EXPECT_EQ(TaggedPath("a/..x.y", "T"), "a/..x.T.y");
  EXPECT_EQ(TaggedPath("with space.txt", "T"), "with space.T.txt");
}

TEST(Hash, DigestSpellingIsBase64UrlOfAll128Bits) {
  EXPECT_EQ(DigestToBase64Url({0, 0}), std::string(22, 'A'));
  EXPECT_EQ(DigestToBase64Url({~0ULL, ~0ULL}), std::string(21, '_') + "w");
  EXPECT_EQ(DigestToBase64Url({1ULL << 63, 0}), "g" + std::string(21, 'A'));
  EXPECT_EQ(DigestToBase64Url({0, 1}), std::string(21, 'A') + "Q");
}

TEST(Hash, KnownXxh3Values) {
  // XXH3-128 of "" as published by xxHash (XXH3_128bits test vector).
  const Digest empty = HashBytes("");
  EXPECT_EQ(empty.high, 0x99aa06d3014798d8ULL);
  EXPECT_EQ(empty.low, 0x6001c324468d497fULL);
  EXPECT_NE(HashBytes("a"), HashBytes("b"));
}

TEST(Hash, HashFilesReadsEachFileAndNamesItsVersion) {
  test_util::TempDir dir;
  const std::string a = dir.Write("css/a.min.css", "body{}");
  std::vector<SourceFile> files = {{"css/a.min.css", a, 1, 6}};
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(files);
  ASSERT_TRUE(hashed.ok()) << hashed.status();
  const PreparedFile& h = hashed->front();
  EXPECT_EQ(h.content, "body{}");
  EXPECT_TRUE(std::regex_match(h.tag, std::regex("[A-Za-z0-9_-]{10}"))) << h.tag;
  EXPECT_TRUE(std::regex_match(h.etag, std::regex("\"[A-Za-z0-9_-]{22}\""))) << h.etag;
  EXPECT_EQ(h.etag.substr(1, 10), h.tag);
  EXPECT_EQ(h.tagged_path, "css/a." + h.tag + ".min.css");
}

TEST(Hash, HashFilesFailsWhenAFileChangedSinceTheScan) {
  test_util::TempDir dir;
  const std::string a = dir.Write("a.txt", "longer than before");
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles({{"a.txt", a, 1, 3}});
  ASSERT_FALSE(hashed.ok());
  EXPECT_NE(hashed.status().message().find(a), absl::string_view::npos);
  EXPECT_NE(hashed.status().message().find("size changed from 3 to 18"), absl::string_view::npos);
}

TEST(Hash, HashFilesNamesAMissingFile) {
  absl::StatusOr<std::vector<PreparedFile>> hashed =
      HashFiles({{"gone", "/nonexistent/gone", 1, 1}});
  ASSERT_FALSE(hashed.ok());
  EXPECT_EQ(hashed.status().message(), "/nonexistent/gone: cannot open: No such file or directory");
}

}  // namespace
}  // namespace kv_assets::gen
