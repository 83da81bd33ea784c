// generator/compress_cache.h — the folder where compressed variants are kept between runs.
//
// Brotli at quality 11 runs at about 1 MB/s, so each (content, coding, settings) is
// compressed once per machine, not once per build folder: the cache is shared by every
// build, checkout and CI job that points at the same folder, as ccache's is. Where it lives:
//
//   --cache-dir=DIR                 that folder ("" : no shared cache, see below)
//   KV_ASSETS_CACHE_DIR=DIR         that folder ("" : no shared cache)
//   $XDG_CACHE_HOME/kv-assets       otherwise, when XDG_CACHE_HOME is set
//   $HOME/.cache/kv-assets          otherwise
//
// Without a shared cache, the generator keeps a private one in the build folder, pruned to
// what the last run used (so an incremental build still compresses only what changed).
//
// Each entry is one file named by the content's hash, the coding and a hash of every setting
// that shapes the bytes (levels, library versions), so builds with different settings never
// read each other's entries. Entries are written to a temporary file and renamed, so
// concurrent builds never see half an entry, and each is checked (its own hash) when read:
// a damaged entry is computed again. Reading an entry refreshes its mtime; a run that wrote
// entries then trims the folder, least recently used first, to below its size cap
// (KV_ASSETS_CACHE_MAX_SIZE, default 1 GiB). Only files with an entry's name are ever
// removed, so a cache folder pointed at the wrong place loses nothing else.
//
// Example:
//   std::string dir = SharedCacheDir({.cache_dir = std::getenv("KV_ASSETS_CACHE_DIR"),
//                                     .xdg_cache_home = std::getenv("XDG_CACHE_HOME"),
//                                     .home = std::getenv("HOME")});
//   WriteCacheEntry(dir, name, /*kept=*/true, brotli_bytes);
//   CacheEntry e = ReadCacheEntry(dir, name);   // e.state == CacheState::kHit
//   TrimCompressCache(dir, 1 << 30);

#ifndef KV_ASSETS_GENERATOR_COMPRESS_CACHE_H_
#define KV_ASSETS_GENERATOR_COMPRESS_CACHE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kv_assets::gen {

inline constexpr std::uint64_t kDefaultCacheMaxBytes = std::uint64_t{1} << 30;
// The layout of an entry; part of every entry's name (compress.cc), so a new layout starts a
// new set of entries instead of reading the old ones wrongly.
inline constexpr std::uint8_t kCacheEntryFormat = 1;

// The environment variables the location depends on; nullptr for unset.
struct CacheEnvironment {
  const char* cache_dir = nullptr;  // KV_ASSETS_CACHE_DIR
  const char* xdg_cache_home = nullptr;
  const char* home = nullptr;
};

// The shared cache's folder, or "" when there is none (KV_ASSETS_CACHE_DIR set but empty, or
// no home folder to put it in). A relative KV_ASSETS_CACHE_DIR is taken from the working
// folder (the build folder, in a build); relative XDG_CACHE_HOME and HOME are ignored, as the
// XDG specification asks.
std::string SharedCacheDir(const CacheEnvironment& env);

// "1073741824", "512M", "2G", "100k" (powers of 1024): the value of KV_ASSETS_CACHE_MAX_SIZE.
absl::StatusOr<std::uint64_t> ParseByteSize(std::string_view text);

enum class CacheState { kMissing, kDamaged, kHit };

struct CacheEntry {
  CacheState state = CacheState::kMissing;
  bool kept = false;    // for kHit: whether the variant was worth keeping
  std::string payload;  // for kHit and kept: the variant's bytes
};

// Reads and checks the entry `name` in `dir`, and marks it used (its mtime becomes now).
CacheEntry ReadCacheEntry(const std::string& dir, const std::string& name);

// Writes the entry atomically. Best effort: a cache that cannot be written only makes the
// next run slower.
void WriteCacheEntry(const std::string& dir, const std::string& name, bool kept,
                     std::string_view payload);

struct TrimResult {
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
  std::size_t removed = 0;
};

// When the entries in `dir` take more than `max_bytes`, removes the least recently used
// until they take at most 80 % of it (so the next few runs need not trim again). Also
// removes temporary files more than an hour old (left by a run that was killed). Best
// effort: what cannot be removed stays.
TrimResult TrimCompressCache(const std::string& dir, std::uint64_t max_bytes);

// For a build folder's private cache: removes every entry that `used` does not name, and the
// folder itself when nothing is left. Returns the number of files removed.
std::size_t PruneCompressCache(const std::string& dir, const std::vector<std::string>& used);

namespace internal {
// Whether `name` has the shape of an entry's name ("<32 hex>-<coding>-<16 hex>").
bool IsCacheEntryName(std::string_view name);
// A cache file's bytes: a header (magic, format, whether the variant is kept, payload size,
// and an XXH3 of the name, the header and the payload) followed by the encoded bytes.
std::string CacheEntryBytes(std::string_view name, bool kept, std::string_view payload);
}  // namespace internal

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_COMPRESS_CACHE_H_
