// Precompression: every variant decodes to the original, the skip rules, the cache (hits,
// damaged entries, pruning) and determinism across thread counts.
#include "generator/compress.h"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "generator/compress_cache.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::ReadAll;
using ::kv_assets::test_util::TempDir;

// A stylesheet of `rules` rules: text that every coding shrinks by far more than 10 %.
std::string Css(int rules) {
  std::string out;
  for (int i = 0; i < rules; ++i) {
    absl::StrAppend(&out, ".item-", i, " { margin: ", i % 7, "px; color: #", 100 + i % 13, "; }\n");
  }
  return out;
}

// Bytes no coding can shrink (xorshift: the same on every run).
std::string Noise(std::size_t size) {
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out.push_back(static_cast<char>(x >> 56));
  }
  return out;
}

// A binary table with structure, as in a TrueType font or a WebAssembly module.
std::string Table(int entries) {
  std::string out;
  for (int i = 0; i < entries; ++i) {
    for (int v : {i & 0xFF, (i >> 8) & 0xFF, 0, 1, i % 3, 0, 0, 0x7F}) {
      out.push_back(static_cast<char>(v));
    }
  }
  return out;
}

PreparedFile File(const std::string& path, std::string content) {
  PreparedFile f;
  f.source.path = path;
  f.source.abs_path = "/site/" + path;
  f.source.size = content.size();
  f.digest = HashBytes(content);
  f.content = std::move(content);
  return f;
}

std::string Gunzip(std::string_view in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "<inflateInit2 failed>";
  std::string out;
  char buffer[1 << 14];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - zs.avail_out);
  }
  const bool whole = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  return whole ? out : "<inflate failed>";
}

std::string Unbrotli(std::string_view in, std::size_t original_size) {
  std::string out(original_size, '\0');
  std::size_t size = out.size();
  if (BrotliDecoderDecompress(in.size(), reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                              reinterpret_cast<std::uint8_t*>(out.data())) !=
      BROTLI_DECODER_RESULT_SUCCESS) {
    return "<BrotliDecoderDecompress failed>";
  }
  out.resize(size);
  return out;
}

std::string Unzstd(std::string_view in, std::size_t original_size) {
  std::string out(original_size, '\0');
  const std::size_t size = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(size)) return "<ZSTD_decompress failed>";
  out.resize(size);
  return out;
}

std::string Decode(const EncodedVariant& v, std::size_t original_size) {
  switch (v.coding) {
    case Coding::kGzip:
      return Gunzip(v.bytes);
    case Coding::kBrotli:
      return Unbrotli(v.bytes, original_size);
    case Coding::kZstd:
      return Unzstd(v.bytes, original_size);
  }
  return "<unknown coding>";
}

const std::vector<Coding> kAllCodings = {Coding::kGzip, Coding::kBrotli, Coding::kZstd};

CompressResult CompressOrDie(std::vector<PreparedFile> files,
                             const CompressOptions& options = {.codings = kAllCodings}) {
  absl::StatusOr<CompressResult> result = Compress(std::move(files), options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : CompressResult{};
}

std::vector<std::vector<EncodedVariant>> VariantsOf(const CompressResult& r) {
  std::vector<std::vector<EncodedVariant>> out;
  for (const PreparedFile& f : r.files) out.push_back(f.variants);
  return out;
}

std::set<std::string> FilesIn(const std::string& dir) {
  std::set<std::string> names;
  if (!std::filesystem::exists(dir)) return names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

TEST(Compress, EveryVariantDecodesToTheOriginal) {
  const CompressResult r =
      CompressOrDie({File("css/site.css", Css(300)), File("fonts/a.ttf", Table(2000)),
                     File("app.wasm", Table(1500) + Css(50))});
  ASSERT_EQ(r.files.size(), 3u);
  for (const PreparedFile& f : r.files) {
    ASSERT_EQ(f.variants.size(), 3u) << f.source.path;
    std::set<Coding> codings;
    for (const EncodedVariant& v : f.variants) {
      codings.insert(v.coding);
      EXPECT_TRUE(WorthKeeping(f.content.size(), v.bytes.size())) << f.source.path;
      EXPECT_EQ(Decode(v, f.content.size()), f.content)
          << f.source.path << " " << CodingName(v.coding);
    }
    EXPECT_EQ(codings.size(), 3u) << f.source.path;
  }
}

TEST(Compress, VariantsAreSortedSmallestFirst) {
  const CompressResult r = CompressOrDie({File("a.js", Css(400))});
  const std::vector<EncodedVariant>& v = r.files[0].variants;
  ASSERT_EQ(v.size(), 3u);
  EXPECT_LE(v[0].bytes.size(), v[1].bytes.size());
  EXPECT_LE(v[1].bytes.size(), v[2].bytes.size());
}

TEST(Compress, GzipHeaderHasNoNameNoTimeAndNoOperatingSystem) {
  const CompressResult r = CompressOrDie({File("a.css", Css(100))}, {.codings = {Coding::kGzip}});
  ASSERT_EQ(r.files[0].variants.size(), 1u);
  const std::string& gz = r.files[0].variants[0].bytes;
  ASSERT_GE(gz.size(), 10u);
  EXPECT_EQ(gz.substr(0, 4), std::string("\x1f\x8b\x08\x00", 4));  // deflate, no flags
  EXPECT_EQ(gz.substr(4, 4), std::string(4, '\0'));                // modification time 0
  EXPECT_EQ(static_cast<unsigned char>(gz[9]), 255u);              // operating system unknown
}

TEST(Compress, EachTypeGetsItsBrotliMode) {
  // The same bytes under a text, a font and a generic name: brotli's model differs, so the
  // encodings are cached (and may differ) separately; each decodes all the same.
  const std::string content = Table(800) + Css(40);
  const CompressResult r =
      CompressOrDie({File("a.txt", content), File("a.otf", content), File("a.ico", content)},
                    {.codings = {Coding::kBrotli}});
  EXPECT_EQ(r.stats.computed, 3u);
  for (const PreparedFile& f : r.files) {
    ASSERT_EQ(f.variants.size(), 1u);
    EXPECT_EQ(Decode(f.variants[0], content.size()), content);
  }
}

TEST(Compress, OnlyCompressibleTypesAreCompressed) {
  const std::string text = Css(100);
  std::vector<PreparedFile> files;
  for (const char* path :
       {"p.png", "p.jpg", "p.gif", "p.webp", "p.avif", "f.woff", "f.woff2", "v.mp4", "v.webm",
        "a.mp3", "a.zip", "a.gz", "a.br", "a.zst", "d.pdf", "LICENSE", "a.unknownext"}) {
    files.push_back(File(path, text));
  }
  const CompressResult r = CompressOrDie(std::move(files));
  for (const PreparedFile& f : r.files) EXPECT_TRUE(f.variants.empty()) << f.source.path;
  EXPECT_EQ(r.stats.computed, 0u);
}

TEST(Compress, KeepRuleNeedsTenPercentAndThirtyTwoBytes) {
  EXPECT_TRUE(WorthKeeping(320, 288));    // saves 32 bytes, 10 %
  EXPECT_FALSE(WorthKeeping(320, 289));   // 31 bytes
  EXPECT_FALSE(WorthKeeping(1000, 968));  // 32 bytes, but 3.2 %
  EXPECT_TRUE(WorthKeeping(1000, 900));   // 100 bytes, 10 %
  EXPECT_FALSE(WorthKeeping(1000, 901));  // 9.9 %
  EXPECT_FALSE(WorthKeeping(100, 100));
  EXPECT_FALSE(WorthKeeping(10, 20));
}

TEST(Compress, VariantsThatSaveTooLittleAreDropped) {
  const CompressResult r = CompressOrDie({
      File("noise.css", Noise(4000)),          // incompressible text type
      File("tiny.css", "a{color:red}a{}"),     // can never save 32 bytes: not even tried
      File("small.js", std::string(40, 'x')),  // saves 10 % but not 32 bytes with gzip
  });
  EXPECT_TRUE(r.files[0].variants.empty());
  EXPECT_TRUE(r.files[1].variants.empty());
  for (const EncodedVariant& v : r.files[2].variants) {
    EXPECT_GE(40 - v.bytes.size(), kMinSavingBytes) << CodingName(v.coding);
  }
  EXPECT_EQ(r.stats.computed, 6u);  // noise.css and small.js, 3 codings each
}

TEST(Compress, OnlyTheRequestedCodings) {
  CompressResult r = CompressOrDie({File("a.css", Css(100))}, {.codings = {Coding::kZstd}});
  ASSERT_EQ(r.files[0].variants.size(), 1u);
  EXPECT_EQ(r.files[0].variants[0].coding, Coding::kZstd);
  r = CompressOrDie({File("a.css", Css(100))}, {.codings = {}});
  EXPECT_TRUE(r.files[0].variants.empty());
}

TEST(Compress, IdenticalContentsAreCompressedOnce) {
  const CompressResult r = CompressOrDie({File("a.css", Css(100)), File("b/a.css", Css(100))});
  EXPECT_EQ(r.stats.computed, 3u);
  EXPECT_EQ(r.files[0].variants, r.files[1].variants);
  EXPECT_EQ(r.files[1].variants.size(), 3u);
}

TEST(Compress, ResultDoesNotDependOnTheNumberOfThreads) {
  std::vector<PreparedFile> files;
  for (int i = 0; i < 24; ++i) {
    files.push_back(File(absl::StrCat("f", i, ".css"), Css(20 + i * 15)));
    files.push_back(File(absl::StrCat("f", i, ".png"), Css(30)));
  }
  files.push_back(File("noise.js", Noise(3000)));
  const auto one = VariantsOf(CompressOrDie(files, {.codings = kAllCodings, .threads = 1}));
  EXPECT_EQ(VariantsOf(CompressOrDie(files, {.codings = kAllCodings, .threads = 2})), one);
  EXPECT_EQ(VariantsOf(CompressOrDie(files, {.codings = kAllCodings, .threads = 7})), one);
  EXPECT_EQ(VariantsOf(CompressOrDie(files, {.codings = kAllCodings, .threads = 0})), one);
}

TEST(CompressCache, SecondRunCompressesNothing) {
  TempDir t;
  const CompressOptions options{.codings = kAllCodings, .cache_dir = t.path() + "/cache"};
  const std::vector<PreparedFile> files = {File("a.css", Css(200)), File("noise.js", Noise(3000)),
                                           File("b.svg", Css(50))};
  const CompressResult first = CompressOrDie(files, options);
  EXPECT_EQ(first.stats.computed, 9u);
  EXPECT_EQ(first.stats.from_cache, 0u);
  EXPECT_EQ(first.cache_entries.size(), 9u);
  EXPECT_EQ(FilesIn(options.cache_dir).size(), 9u);
  // "Not worth keeping" (noise.js) is cached too.
  const CompressResult second = CompressOrDie(files, options);
  EXPECT_EQ(second.stats.computed, 0u);
  EXPECT_EQ(second.stats.from_cache, 9u);
  EXPECT_EQ(VariantsOf(second), VariantsOf(first));
  EXPECT_EQ(second.cache_entries, first.cache_entries);
}

TEST(CompressCache, ChangedFileIsCompressedAgainAndOnlyIt) {
  TempDir t;
  const CompressOptions options{.codings = kAllCodings, .cache_dir = t.path() + "/cache"};
  CompressOrDie({File("a.css", Css(200)), File("b.css", Css(100))}, options);
  const CompressResult r =
      CompressOrDie({File("a.css", Css(201)), File("b.css", Css(100))}, options);
  EXPECT_EQ(r.stats.computed, 3u);
  EXPECT_EQ(r.stats.from_cache, 3u);
}

TEST(CompressCache, PlantedEntryIsUsedInsteadOfCompressing) {
  TempDir t;
  const CompressOptions options{.codings = {Coding::kBrotli}, .cache_dir = t.path() + "/cache"};
  const PreparedFile file = File("a.css", Css(200));
  const std::string name =
      internal::CacheEntryName(file.digest, Coding::kBrotli, Compressibility::kText);
  std::filesystem::create_directories(options.cache_dir);
  std::ofstream(options.cache_dir + "/" + name, std::ios::binary)
      << internal::CacheEntryBytes(name, true, "planted");
  const CompressResult r = CompressOrDie({file}, options);
  EXPECT_EQ(r.stats.from_cache, 1u);
  ASSERT_EQ(r.files[0].variants.size(), 1u);
  EXPECT_EQ(r.files[0].variants[0].bytes, "planted");
}

TEST(CompressCache, DamagedEntriesAreComputedAgainNeverTrusted) {
  TempDir t;
  const CompressOptions options{.codings = kAllCodings, .cache_dir = t.path() + "/cache"};
  const std::vector<PreparedFile> files = {File("a.css", Css(200)), File("b.js", Css(120))};
  const CompressResult good = CompressOrDie(files, options);
  ASSERT_EQ(good.cache_entries.size(), 6u);
  const auto path = [&](int i) { return options.cache_dir + "/" + good.cache_entries[i]; };
  std::filesystem::resize_file(path(0), std::filesystem::file_size(path(0)) - 1);  // truncated
  std::string flipped = ReadAll(path(1));
  flipped[flipped.size() / 2] ^= 1;  // one bit of the payload
  std::ofstream(path(1), std::ios::binary) << flipped;
  std::ofstream(path(2), std::ios::binary) << "";                 // empty
  std::ofstream(path(3), std::ios::binary) << "KVAC not really";  // short
  std::filesystem::copy_file(path(5), path(4),  // a valid entry under another name
                             std::filesystem::copy_options::overwrite_existing);
  const CompressResult again = CompressOrDie(files, options);
  EXPECT_EQ(again.stats.cache_rejected, 5u);
  EXPECT_EQ(again.stats.computed, 5u);
  EXPECT_EQ(again.stats.from_cache, 1u);
  EXPECT_EQ(VariantsOf(again), VariantsOf(good));
  // And they were written again.
  const CompressResult third = CompressOrDie(files, options);
  EXPECT_EQ(third.stats.from_cache, 6u);
  EXPECT_EQ(third.stats.cache_rejected, 0u);
}

TEST(CompressCache, UnusableCacheFolderOnlyMakesItSlower) {
  TempDir t;
  const std::string blocker = t.Write("file");
  const CompressResult r = CompressOrDie({File("a.css", Css(200))},
                                         {.codings = kAllCodings, .cache_dir = blocker + "/cache"});
  EXPECT_EQ(r.files[0].variants.size(), 3u);
  EXPECT_TRUE(r.cache_entries.empty());
}

TEST(CompressCache, EntryNamesChangeWithTheSettings) {
  const Digest d = HashBytes("x");
  const std::string text_br = internal::CacheEntryName(d, Coding::kBrotli, Compressibility::kText);
  EXPECT_NE(text_br, internal::CacheEntryName(d, Coding::kBrotli, Compressibility::kFont));
  EXPECT_NE(text_br, internal::CacheEntryName(d, Coding::kZstd, Compressibility::kText));
  EXPECT_NE(text_br,
            internal::CacheEntryName(HashBytes("y"), Coding::kBrotli, Compressibility::kText));
  // gzip and zstd have no mode: the kind does not matter.
  EXPECT_EQ(internal::CacheEntryName(d, Coding::kGzip, Compressibility::kText),
            internal::CacheEntryName(d, Coding::kGzip, Compressibility::kFont));
}

TEST(CompressCache, EntryNamesChangeWithTheLevel) {
  const Digest d = HashBytes("x");
  for (const Coding coding : kAllCodings) {
    EXPECT_NE(internal::CacheEntryName(d, coding, Compressibility::kText, CompressLevel::kMax),
              internal::CacheEntryName(d, coding, Compressibility::kText, CompressLevel::kFast));
  }
}

TEST(Compress, DefaultCodingsAreGzipAndBrotli) {
  const CompressResult r = CompressOrDie({File("a.css", Css(300))}, CompressOptions{});
  std::set<Coding> codings;
  for (const EncodedVariant& v : r.files[0].variants) codings.insert(v.coding);
  EXPECT_EQ(codings, (std::set<Coding>{Coding::kGzip, Coding::kBrotli}));
}

TEST(Compress, FastLevelDecodesToTheOriginalAndSaysSo) {
  const std::string css = Css(400);
  const CompressResult fast =
      CompressOrDie({File("a.css", css)}, {.codings = kAllCodings, .level = CompressLevel::kFast});
  const CompressResult max = CompressOrDie({File("a.css", css)});
  ASSERT_EQ(fast.files[0].variants.size(), 3u);
  for (const EncodedVariant& v : fast.files[0].variants) {
    EXPECT_EQ(v.level, CompressLevel::kFast);
    EXPECT_EQ(Decode(v, css.size()), css) << CodingName(v.coding);
  }
  for (const EncodedVariant& v : max.files[0].variants) EXPECT_EQ(v.level, CompressLevel::kMax);
  // The levels differ in bytes: brotli 5 and 11 never agree on a body this size.
  const auto brotli = [](const CompressResult& r) {
    for (const EncodedVariant& v : r.files[0].variants) {
      if (v.coding == Coding::kBrotli) return v.bytes;
    }
    return std::string();
  };
  EXPECT_NE(brotli(fast), brotli(max));
}

TEST(Compress, ProgressCountsEveryDistinctFileAndByteOnce) {
  CompressProgress progress;
  const std::vector<PreparedFile> files = {File("a.css", Css(200)), File("b/a.css", Css(200)),
                                           File("c.js", Css(90)), File("d.png", Css(90))};
  const CompressResult r =
      CompressOrDie(files, {.codings = kAllCodings, .threads = 2, .progress = &progress});
  EXPECT_EQ(progress.files_total.load(), 2u);  // a.css once, c.js; d.png does not compress
  EXPECT_EQ(progress.files_done.load(), 2u);
  EXPECT_EQ(progress.bytes_total.load(), Css(200).size() + Css(90).size());
  EXPECT_EQ(progress.bytes_done.load(), progress.bytes_total.load());
  EXPECT_EQ(progress.cached.load(), 0u);
  EXPECT_EQ(r.stats.computed, 6u);
}

TEST(ParseCodings, AcceptsNoneOrAListOfTokens) {
  EXPECT_EQ(*ParseCodings("none"), std::vector<Coding>{});
  EXPECT_EQ(*ParseCodings("zstd,gzip,br"),
            (std::vector<Coding>{Coding::kGzip, Coding::kBrotli, Coding::kZstd}));
  EXPECT_EQ(*ParseCodings("br,br"), std::vector<Coding>{Coding::kBrotli});
  for (const char* bad : {"", "brotli", "gzip,", "none,gzip", "GZIP", "gzip br"}) {
    EXPECT_FALSE(ParseCodings(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace kv_assets::gen
