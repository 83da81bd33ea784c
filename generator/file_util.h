// generator/file_util.h — reading inputs and replacing outputs without ever leaving a
// half-written file, or a half-replaced set of files, behind.
//
// Example:
//   OutputSet out;
//   KV_ASSETS_RETURN_IF_ERROR(out.Stage(dir + "/a.cc", source));
//   KV_ASSETS_RETURN_IF_ERROR(out.Stage(dir + "/a.h", header));
//   KV_ASSETS_RETURN_IF_ERROR(out.Commit());  // both replaced, or neither

#ifndef KV_ASSETS_GENERATOR_FILE_UTIL_H_
#define KV_ASSETS_GENERATOR_FILE_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

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

// Replaces several files as one. Stage() writes each new content to a temporary file beside
// its target and syncs it, or does nothing when the target already holds exactly that content
// (so its mtime stays and the build tool sees nothing new). Commit() then renames the staged
// files over their targets, in the order staged; should a rename fail, the targets already
// replaced get their previous content back. Any failure leaves every target as it was, and
// errors name the target: "<path>: cannot write: No space left on device". Temporary files
// are removed when the set goes away. (A crash between two renames can still leave the first
// target new and the second old; see emit.h for why the generator's outputs survive that.)
class OutputSet {
 public:
  OutputSet() = default;
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  ~OutputSet();

  absl::Status Stage(const std::string& path, std::string_view content);
  absl::Status Commit();

  // The targets Commit() replaced (those whose content changed), in order.
  const std::vector<std::string>& written() const { return written_; }

 private:
  struct Staged {
    std::string path;
    std::string tmp;     // the new content, until renamed
    std::string backup;  // a hard link to the old content during Commit(), if there was one
    bool existed;        // whether the target had content before Commit()
  };
  std::vector<Staged> staged_;
  std::vector<std::string> written_;
};

// Makes `path` hold `content`, as a one-file OutputSet. Returns whether the file was written.
absl::StatusOr<bool> WriteFileIfChanged(const std::string& path, std::string_view content);

// `path` absolute, with every symbolic link, "." and ".." resolved. Errors name the path.
absl::StatusOr<std::string> RealPath(const std::string& path);

// "<path>: <strerror(err)>" as a Status whose code fits `err`.
absl::Status ErrnoToStatus(int err, std::string_view path, std::string_view what = "");

namespace internal {
// Test seam for the failures a disk can have. When set, it is called before each system call
// that makes an output — `step` is "create", "write", "fsync" or "rename", `path` the
// target — and a nonzero errno it returns makes that call fail with it (ENOSPC for a full
// disk). nullptr, the default, injects nothing. Not thread-safe; for tests only.
using WriteFault = int (*)(std::string_view step, const std::string& path);
void SetWriteFaultForTesting(WriteFault fault);
}  // namespace internal

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_FILE_UTIL_H_
