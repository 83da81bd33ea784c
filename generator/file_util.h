// generator/file_util.h — reading inputs and replacing outputs without ever leaving a
// half-written file behind.

#ifndef KV_ASSETS_GENERATOR_FILE_UTIL_H_
#define KV_ASSETS_GENERATOR_FILE_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kv_assets::gen {

// The whole content of `path`. Errors name the path and the system's reason.
absl::StatusOr<std::string> ReadFile(const std::string& path);

enum class Durability {
  kFsync,    // on disk before the rename: after a crash, `path` is the old content or the new
  kNoFsync,  // faster; after a crash `path` may be empty or partial, so readers must verify
};

// Writes `content` to a temporary file beside `path` and renames it over `path`, so a reader
// sees the old content or the new, never a mix. Errors name `path`.
absl::Status ReplaceFile(const std::string& path, std::string_view content, Durability durability);

// Makes `path` hold `content`. Does nothing when it already does, so its mtime stays and
// the build tool sees nothing new. Otherwise writes a temporary file beside it and renames
// it over `path`, so a reader (or a crash) sees the old content or the new, never a mix.
// Returns whether the file was written.
absl::StatusOr<bool> WriteFileIfChanged(const std::string& path, std::string_view content);

// `path` absolute, with every symbolic link, "." and ".." resolved. Errors name the path.
absl::StatusOr<std::string> RealPath(const std::string& path);

// "<path>: <strerror(err)>" as a Status whose code fits `err`.
absl::Status ErrnoToStatus(int err, std::string_view path, std::string_view what = "");

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_FILE_UTIL_H_
