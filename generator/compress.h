// generator/compress.h — step 4 of 5: precompressed variants of the files worth compressing.
//
// Each file whose type compresses (CompressibilityFor(), content_type.h) is encoded with
// every requested coding: gzip (zlib level 9, a gzip header without name or time), brotli
// (quality 11, default window, mode by type) and zstd (level 19). A variant is kept only when
// it is clearly smaller (WorthKeeping()). Files are compressed on a pool of threads; the
// result depends on the input alone, never on the number of threads or their timing.
//
// Brotli at quality 11 runs at about 1 MB/s, so results are cached in a folder of the build:
// one file per (content hash, coding, settings), "not worth keeping" included. A build then
// compresses only the files whose content changed. Entries are written atomically and
// checked when read; a damaged one is computed again, and a cache that cannot be read or
// written only makes the run slower. After a successful run, PruneCompressCache() removes
// the entries that run did not use, so the folder holds one build's worth.
//
// Example:
//   CompressOptions options{.cache_dir = out_dir + "/assets.compress-cache"};
//   KV_ASSETS_ASSIGN_OR_RETURN(CompressResult c, Compress(std::move(hashed), options));
//   KV_ASSETS_ASSIGN_OR_RETURN(GeneratedFiles out, Emit(c.files, watched, emit_options));
//   KV_ASSETS_RETURN_IF_ERROR(WriteOutputs(out, emit_options));
//   PruneCompressCache(options.cache_dir, c.cache_entries);

#ifndef KV_ASSETS_GENERATOR_COMPRESS_H_
#define KV_ASSETS_GENERATOR_COMPRESS_H_

#include <cstddef>
#include <cstdint>
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

struct CompressOptions {
  // The codings to try; empty for none.
  std::vector<Coding> codings = {Coding::kGzip, Coding::kBrotli, Coding::kZstd};
  // Where cached results live, created when missing; "" for no cache.
  std::string cache_dir;
  // Worker threads; 0 for std::thread::hardware_concurrency().
  unsigned threads = 0;
};

// What a run did, counted per (distinct content, coding).
struct CompressStats {
  std::size_t computed = 0;        // encodings compressed in this run
  std::size_t from_cache = 0;      // encodings read from the cache
  std::size_t cache_rejected = 0;  // entries present but damaged: computed again
};

struct CompressResult {
  std::vector<HashedFile> files;  // the input, each with its `variants` filled in
  // Names (in CompressOptions::cache_dir) of the entries this run used, sorted.
  std::vector<std::string> cache_entries;
  CompressStats stats;
};

// Fills in every file's variants, smallest first (ties in Coding order). Fails, naming the
// file, only when a compressor fails (it runs out of memory); never because of the cache.
absl::StatusOr<CompressResult> Compress(std::vector<HashedFile> files,
                                        const CompressOptions& options);

// Removes every file in `cache_dir` that `used` does not name, and the folder itself when
// nothing is left. Best effort: what cannot be removed stays for the next run. Returns the
// number of files removed.
std::size_t PruneCompressCache(const std::string& cache_dir, const std::vector<std::string>& used);

// `content` encoded with `coding` and the settings above. Fails only when the compressor
// does (out of memory, or a body too large for it).
absl::StatusOr<std::string> Encode(Coding coding, Compressibility kind, std::string_view content);

// The value of --compress=: "none", or a comma-separated list of "gzip", "br" and "zstd".
// Returns the codings in Coding order without repeats; InvalidArgumentError otherwise.
absl::StatusOr<std::vector<Coding>> ParseCodings(std::string_view list);

namespace internal {
// The cache file name for `digest` encoded with `coding` under the current settings (the
// compression levels and modes, the libraries' versions and the keep rule): a change to any
// of them gives new names, and the old entries are pruned.
std::string CacheEntryName(const Digest& digest, Coding coding, Compressibility kind);
// A cache file's bytes: a header (magic, format, whether the variant is kept, payload size,
// and an XXH3 of the name, the header and the payload) followed by the encoded bytes.
std::string CacheEntryBytes(std::string_view name, bool kept, std::string_view payload);
}  // namespace internal

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_COMPRESS_H_
