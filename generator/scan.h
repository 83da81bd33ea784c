// generator/scan.h — step 1 of 6: which files of the asset folder are served.
//
// Walks the folder (following symbolic links), skips names beginning with "." except a
// top-level ".well-known/", and whatever the ignore rules exclude (generator/ignore.h).
// Every name that is kept must be servable as a URL path; anything that could not be
// served, read or walked is an error naming the path, so a bad folder fails the build
// instead of silently shipping less.
//
// Example:
//   absl::StatusOr<ScanResult> scan = Scan("/src/app/public", {.excludes = {"*.psd"}});
//   for (const SourceFile& f : scan->files) std::cout << f.path << "\n";  // "css/site.css"

#ifndef KV_ASSETS_GENERATOR_SCAN_H_
#define KV_ASSETS_GENERATOR_SCAN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kv_assets::gen {

struct SourceFile {
  std::string path;        // relative to the folder, '/'-separated
  std::string abs_path;    // as found on disk, for reading
  std::int64_t mtime = 0;  // seconds since the Unix epoch
  std::uint64_t size = 0;
};

struct ScanResult {
  std::vector<SourceFile> files;  // sorted by `path`, bytewise
  // Every folder walked and every rule file consulted, absolute: when any of them changes
  // (a folder changes when an entry is added, removed or renamed) the scan must run again.
  std::vector<std::string> watched;
};

struct ScanOptions {
  std::vector<std::string> excludes;  // .gitignore-syntax patterns relative to the folder
  std::string scratch_dir;            // see IgnoreRules::Open; "" means a temporary folder
  // Test seam: called with each entry's absolute path just before the scan looks at it, so
  // that a test can delete or lock it mid-scan. Empty in real runs.
  std::function<void(const std::string& abs_path)> before_entry_for_testing;
};

// OK when `name` (one path component) can be a URL path segment served by the runtime:
// valid UTF-8 without control characters (which no client can send unencoded and many
// proxies reject). Otherwise InvalidArgumentError
// saying what is wrong with it.
absl::Status CheckServableName(std::string_view name);

// Whether the scan leaves out an entry for its name alone: a name beginning with '.', except
// ".well-known" at the top of the folder (`top_level`). Shared with KvAssets::live.
bool IsHiddenName(std::string_view name, bool top_level);

// OK when `prefix` (PREFIX, the URL path every asset is served under) is one the server can
// match: "/" or "/seg/.../", each segment a servable name other than "." and "..". Otherwise
// InvalidArgumentError saying what is wrong with it. A leading "//" would make Tag()'s URLs
// scheme-relative ("//css/a.css" is a link to a host named css), and a "." or ".." segment is
// a request the server refuses.
absl::Status CheckUrlPrefix(std::string_view prefix);

absl::StatusOr<ScanResult> Scan(const std::string& root, const ScanOptions& options);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_SCAN_H_
