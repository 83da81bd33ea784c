// live/src/served_names.h — which paths of the folder the live server may serve: the
// generator's scan rules (generator/scan.h: no dotfiles but a top-level .well-known/, names
// that are servable URL segments, nothing .gitignore, .ignore or EXCLUDE leave out), asked
// one path at a time instead of by walking the folder.
//
// The ignore rules are libgit2's, through generator/ignore.h. A folder's rule files are read
// when a path below it is first asked about; the decisions are remembered. At most once a
// second the rule files read so far (and those that could appear) are checked with stat(2);
// when one changed, every rule is read afresh, so an edited .gitignore takes effect on the
// next request after that check.

#ifndef KV_ASSETS_LIVE_SERVED_NAMES_H_
#define KV_ASSETS_LIVE_SERVED_NAMES_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/ignore.h"
#include "live/src/file_version.h"

namespace kv_assets::live {

class ServedNames {
 public:
  // Fails with the folder and libgit2's message when the ignore rules cannot be read.
  static absl::StatusOr<std::unique_ptr<ServedNames>> Open(std::string root,
                                                           std::vector<std::string> excludes);

  // Whether `path` (relative, '/'-separated, not empty) is one the scan would keep, were it a
  // file. Thread-safe.
  absl::StatusOr<bool> IsServed(std::string_view path);

 private:
  ServedNames(std::string root, std::vector<std::string> excludes)
      : root_(std::move(root)), excludes_(std::move(excludes)) {}
  absl::Status Reopen();
  absl::Status RefreshIfRulesChanged();
  absl::Status Enter(std::string_view dir);
  absl::StatusOr<bool> Decide(std::string_view path);
  void Watch(const std::string& abs_path);

  const std::string root_;
  const std::vector<std::string> excludes_;
  std::mutex mu_;  // guards everything below; libgit2's repositories are not thread-safe
  std::unique_ptr<gen::IgnoreRules> rules_;
  std::set<std::string, std::less<>> entered_;
  std::map<std::string, bool, std::less<>> decisions_;
  // Rule files (existing or not) and folders, and what stat(2) said of them (nullopt: missing).
  std::map<std::string, std::optional<Signature>> watched_;
  std::chrono::steady_clock::time_point last_check_;
};

}  // namespace kv_assets::live

#endif  // KV_ASSETS_LIVE_SERVED_NAMES_H_
