// The shared compression cache: where it lives, what reading and trimming do to it.

#include "generator/compress_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::SetMtime;
using ::kv_assets::test_util::TempDir;

// A valid entry name for the number `i`.
std::string Name(int i, std::string_view coding = "br") {
  return absl::StrCat(absl::Hex(i, absl::kZeroPad16), absl::Hex(i, absl::kZeroPad16), "-",
                      absl::string_view(coding.data(), coding.size()), "-",
                      absl::Hex(7, absl::kZeroPad16));
}

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

std::int64_t MtimeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mtim.tv_sec;
}

TEST(CompressCache, SharedCacheDirFollowsKvAssetsCacheDirThenXdgThenHome) {
  EXPECT_EQ(SharedCacheDir({"/c", "/x", "/h"}), "/c");
  EXPECT_EQ(SharedCacheDir({"", "/x", "/h"}), "");  // set but empty: no shared cache
  EXPECT_EQ(SharedCacheDir({nullptr, "/x", "/h"}), "/x/kv-assets");
  EXPECT_EQ(SharedCacheDir({nullptr, nullptr, "/h"}), "/h/.cache/kv-assets");
  EXPECT_EQ(SharedCacheDir({nullptr, "", "/h"}), "/h/.cache/kv-assets");
  // Relative values are ignored (the XDG specification's rule).
  EXPECT_EQ(SharedCacheDir({nullptr, "rel", "/h"}), "/h/.cache/kv-assets");
  EXPECT_EQ(SharedCacheDir({"rel/../c", "/x", "/h"}),
            (std::filesystem::current_path() / "c").string());
  EXPECT_EQ(SharedCacheDir({nullptr, nullptr, nullptr}), "");
}

TEST(CompressCache, ParseByteSizeTakesBytesOrPowersOf1024) {
  EXPECT_EQ(*ParseByteSize("1073741824"), 1073741824u);
  EXPECT_EQ(*ParseByteSize("100k"), 102400u);
  EXPECT_EQ(*ParseByteSize("512M"), 512u << 20);
  EXPECT_EQ(*ParseByteSize("2G"), 2ull << 30);
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  for (const char* bad : {"", "G", "-1", "1.5G", "1T", "1 G", "99999999999999999999"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseByteSize("1T").status().message(),
            "1T: expected a size in bytes, such as 1073741824, 512M or 2G");
}

TEST(CompressCache, EntryNamesAreRecognisedAndNothingElse) {
  EXPECT_TRUE(internal::IsCacheEntryName(Name(1)));
  EXPECT_TRUE(internal::IsCacheEntryName(Name(1, "zstd")));
  EXPECT_FALSE(internal::IsCacheEntryName(Name(1) + ".tmp42"));
  EXPECT_FALSE(internal::IsCacheEntryName("notes.txt"));
  EXPECT_FALSE(internal::IsCacheEntryName(Name(1, "")));
  EXPECT_FALSE(internal::IsCacheEntryName(Name(1, "B-R")));
}

TEST(CompressCache, WrittenEntryReadsBackAndNotKeptIsRemembered) {
  TempDir t;
  WriteCacheEntry(t.path(), Name(1), true, "variant bytes");
  WriteCacheEntry(t.path(), Name(2), false, "");
  const CacheEntry kept = ReadCacheEntry(t.path(), Name(1));
  EXPECT_EQ(kept.state, CacheState::kHit);
  EXPECT_TRUE(kept.kept);
  EXPECT_EQ(kept.payload, "variant bytes");
  const CacheEntry dropped = ReadCacheEntry(t.path(), Name(2));
  EXPECT_EQ(dropped.state, CacheState::kHit);
  EXPECT_FALSE(dropped.kept);
  EXPECT_EQ(ReadCacheEntry(t.path(), Name(3)).state, CacheState::kMissing);
}

TEST(CompressCache, DamagedEntryIsReportedNotTrusted) {
  TempDir t;
  WriteCacheEntry(t.path(), Name(1), true, "variant bytes");
  const std::string path = t.path() + "/" + Name(1);
  std::string bytes = test_util::ReadAll(path);
  bytes.back() ^= 1;
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(ReadCacheEntry(t.path(), Name(1)).state, CacheState::kDamaged);
}

TEST(CompressCache, ReadingAnEntryMarksItRecentlyUsed) {
  TempDir t;
  WriteCacheEntry(t.path(), Name(1), true, "x");
  SetMtime(t.path() + "/" + Name(1), 1000000000);
  ASSERT_EQ(ReadCacheEntry(t.path(), Name(1)).state, CacheState::kHit);
  EXPECT_GT(MtimeOf(t.path() + "/" + Name(1)), 1700000000);
}

TEST(CompressCache, TrimRemovesLeastRecentlyUsedFirstDownToEightyPercent) {
  TempDir t;
  const std::string payload(1000, 'p');
  for (int i = 0; i < 10; ++i) {
    WriteCacheEntry(t.path(), Name(i), true, payload);
    // Entry 9 the least recently used: use, not name, decides.
    SetMtime(t.path() + "/" + Name(i), 1600000000 + (9 - i));
  }
  const std::uint64_t entry = std::filesystem::file_size(t.path() + "/" + Name(0));
  // Under the cap: nothing happens.
  TrimResult r = TrimCompressCache(t.path(), 10 * entry);
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(r.bytes_before, 10 * entry);
  // Over it: down to 80 % of 9 entries' worth, so the 3 least recently used go.
  r = TrimCompressCache(t.path(), 9 * entry);
  EXPECT_EQ(r.removed, 3u);
  EXPECT_EQ(r.bytes_after, 7 * entry);
  std::set<std::string> expected;
  for (int i = 0; i < 7; ++i) expected.insert(Name(i));
  EXPECT_EQ(Names(t.path()), expected);
}

TEST(CompressCache, TrimLeavesEverythingButEntriesAndStaleTemporariesAlone) {
  TempDir t;
  WriteCacheEntry(t.path(), Name(1), true, std::string(5000, 'p'));
  t.Write("notes.txt", std::string(5000, 'n'));
  t.Write("sub/" + Name(2), "in a sub-folder");
  t.Write(Name(3) + ".tmp123", "a build writing now");
  t.Write(Name(4) + ".tmp456", "left by a killed build");
  SetMtime(t.path() + "/" + Name(4) + ".tmp456", 1600000000);
  const TrimResult r = TrimCompressCache(t.path(), 0);
  EXPECT_EQ(r.removed, 2u);  // the entry and the stale temporary
  EXPECT_EQ(Names(t.path()), (std::set<std::string>{"notes.txt", "sub", Name(3) + ".tmp123"}));
}

TEST(CompressCache, PruneRemovesWhatThisRunDidNotUse) {
  TempDir t;
  const std::string dir = t.Mkdir("cache");
  for (int i = 0; i < 3; ++i) WriteCacheEntry(dir, Name(i), true, "x");
  t.Write("cache/" + Name(5) + ".tmp1234", "left by a crashed run");
  EXPECT_EQ(PruneCompressCache(dir, {Name(1)}), 3u);
  EXPECT_EQ(Names(dir), std::set<std::string>{Name(1)});
  // Nothing used: the folder goes too.
  EXPECT_EQ(PruneCompressCache(dir, {}), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace kv_assets::gen
