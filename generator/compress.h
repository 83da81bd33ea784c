// generator/compress.h — step 5 of 6: precompressed variants of the files worth compressing.
//
// Each file whose type compresses (CompressibilityFor(), content_type.h) is encoded with
// every requested coding, at the requested level: kMax (gzip 9, brotli 11, zstd 19) for
// release builds, kFast (gzip 6, brotli 5, zstd 3) while developing. A variant is kept only
// when it is clearly smaller (WorthKeeping()). Files are compressed on a pool of threads, the
// most expensive jobs first; the result depends on the input alone, never on the number of
// threads or their timing.
//
// Results are cached (compress_cache.h): one entry per (content hash, coding, settings),
// "not worth keeping" included, so a build compresses only contents no earlier build on the
// machine has compressed with the same settings. The cache never changes a result; a cache
// that cannot be read or written only makes the run slower.
//
// Example:
//   CompressOptions options{.cache_dir = SharedCacheDir(env)};
//   KV_ASSETS_ASSIGN_OR_RETURN(CompressResult c, Compress(std::move(hashed), options));
//   KV_ASSETS_ASSIGN_OR_RETURN(GeneratedFiles out, Emit(c.files, watched, emit_options));

#ifndef KV_ASSETS_GENERATOR_COMPRESS_H_
#define KV_ASSETS_GENERATOR_COMPRESS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/content_type.h"
#include "generator/hash.h"
#include "kv_assets/manifest.h"

namespace kv_assets::gen {

// A variant is kept only when it saves at least this many bytes AND this share of the
// original. Below 32 bytes the variant costs about what it saves: its row, its ETag string
// and the Content-Encoding and Vary headers of each response. Below 10 % the saving does not
// pay for the cost to every client of decoding it, nor for the cache entries a Vary on
// Accept-Encoding adds in shared caches.
inline constexpr std::uint64_t kMinSavingBytes = 32;
inline constexpr std::uint64_t kMinSavingPercent = 10;

// Whether a variant of `encoded_size` bytes is worth keeping for a body of `original_size`.
constexpr bool WorthKeeping(std::uint64_t original_size, std::uint64_t encoded_size) {
  if (encoded_size >= original_size) return false;
  const std::uint64_t saving = original_size - encoded_size;
  return saving >= kMinSavingBytes && saving * 100 >= original_size * kMinSavingPercent;
}

// The codings kv_assets_embed() precompresses with when not told: gzip for every client and
// br for every browser. zstd is not among them: every browser that accepts zstd accepts br,
// and br at quality 11 is smaller than zstd at 19 for web text, so zstd variants would add a
// quarter to a cold build for almost nothing (bench/README.md, "Cold builds").
inline const std::vector<Coding> kDefaultCodings = {Coding::kGzip, Coding::kBrotli};

// How far the run has got, for a progress line; updated by the worker threads as each
// encoding finishes. A file counts once all its encodings are done.
struct CompressProgress {
  std::atomic<std::size_t> files_done{0};
  std::atomic<std::size_t> files_total{0};  // distinct contents with encodings to make
  std::atomic<std::uint64_t> bytes_done{0};
  std::atomic<std::uint64_t> bytes_total{0};
  std::atomic<std::size_t> cached{0};  // encodings read from the cache so far
};

struct CompressOptions {
  // The codings to try; empty for none.
  std::vector<Coding> codings = kDefaultCodings;
  CompressLevel level = CompressLevel::kMax;
  // Where cached results live (compress_cache.h), created when missing; "" for no cache.
  std::string cache_dir;
  // Worker threads; 0 for std::thread::hardware_concurrency().
  unsigned threads = 0;
  // Where to count progress; nullptr for nowhere.
  CompressProgress* progress = nullptr;
};

// What a run did, counted per (distinct content, coding).
struct CompressStats {
  std::size_t computed = 0;        // encodings compressed in this run
  std::size_t from_cache = 0;      // encodings read from the cache
  std::size_t cache_rejected = 0;  // entries present but damaged: computed again
};

struct CompressResult {
  std::vector<PreparedFile> files;  // the input, each with its `variants` filled in
  // Names (in CompressOptions::cache_dir) of the entries this run used, sorted.
  std::vector<std::string> cache_entries;
  CompressStats stats;
};

// Fills in every file's variants, smallest first (ties in Coding order). Fails, naming the
// file, only when a compressor fails (it runs out of memory); never because of the cache.
absl::StatusOr<CompressResult> Compress(std::vector<PreparedFile> files,
                                        const CompressOptions& options);

// `content` encoded with `coding` and the settings above. Fails only when the compressor
// does (out of memory, or a body too large for it).
absl::StatusOr<std::string> Encode(Coding coding, Compressibility kind, std::string_view content,
                                   CompressLevel level = CompressLevel::kMax);

// The value of --compress=: "none", or a comma-separated list of "gzip", "br" and "zstd".
// Returns the codings in Coding order without repeats; InvalidArgumentError otherwise.
absl::StatusOr<std::vector<Coding>> ParseCodings(std::string_view list);

// The --compress flag of generate, sync and serve: `value` (nullopt when the flag is absent,
// which leaves `codings` as it is) parsed into `codings`, or an error naming the flag.
absl::Status ReadCompressFlag(const std::optional<std::string>& value,
                              std::vector<Coding>& codings);

namespace internal {
// The cache entry name for `digest` encoded with `coding` under the current settings (the
// level's parameters, the libraries' versions, the keep rule and the entry format): a change
// to any of them gives new names.
std::string CacheEntryName(const Digest& digest, Coding coding, Compressibility kind,
                           CompressLevel level = CompressLevel::kMax);
}  // namespace internal

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_COMPRESS_H_
