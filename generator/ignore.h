// generator/ignore.h — which files under the asset folder git's ignore rules exclude.
//
// .gitignore files are read by libgit2, so negation, anchoring, directory-only patterns
// and `**` behave exactly as in git. When the folder lies in a git work tree, that
// repository's rules apply (every .gitignore from its top down, and .git/info/exclude);
// otherwise a scratch bare repository whose work tree is the folder's parent makes libgit2
// apply the .gitignore files of the parent, the folder and its subfolders without writing
// anything into them. `.ignore` files (as read by ripgrep and fd) use the same syntax and
// take precedence over .gitignore; EXCLUDE patterns from CMake act like a .ignore file in
// the folder itself. The user's global git configuration (core.excludesFile,
// ~/.config/git/ignore) is not read: what a build embeds must not depend on who runs it.
// Rules never exclude the asset folder itself, even when the repository ignores it (a
// build output such as dist/ usually is): they decide only what lies below it.
//
// Example:
//   auto rules = IgnoreRules::Open("/src/app/public", {"*.psd"}, "/build/scratch.git");
//   rules->EnterDirectory("");            // before asking about the folder's entries
//   bool skip = *rules->IsIgnored("css/site.scss", /*is_dir=*/false);

#ifndef KV_ASSETS_GENERATOR_IGNORE_H_
#define KV_ASSETS_GENERATOR_IGNORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct git_repository;

namespace kv_assets::gen {

// Rewrites the lines of an ignore file that lives in `dir` (relative to the work tree,
// '/'-separated, "" for its top) into rules with the same meaning for a file at the top:
// "*.log" in "a/b" becomes "/a/b/**/*.log", "/x" becomes "/a/b/x". Comments and blank
// lines are dropped. Exposed for tests.
std::string RebaseIgnoreRules(std::string_view rules, std::string_view dir);

class IgnoreRules {
 public:
  // `root`: the asset folder (absolute). `excludes`: extra patterns relative to it.
  // `scratch_dir`: where a bare scratch repository may be created when `root` is not in a
  // git work tree; an empty string means a temporary folder. Fails with the path and
  // libgit2's message when a repository cannot be opened or created.
  static absl::StatusOr<std::unique_ptr<IgnoreRules>> Open(
      const std::string& root, const std::vector<std::string>& excludes,
      const std::string& scratch_dir);
  ~IgnoreRules();

  // Reads `<root>/<dir>/.ignore`, if there is one. Call for each folder before asking about
  // its entries, parents first.
  absl::Status EnterDirectory(std::string_view dir);

  // Whether `path` (relative to the root, '/'-separated) is excluded by the rules at its own
  // level. The caller does not descend into excluded folders, which gives git's rule that
  // nothing below an excluded folder can be re-included.
  absl::StatusOr<bool> IsIgnored(std::string_view path, bool is_dir) const;

  // The rule files that exist and decide the outcome, absolute: a build must re-run the
  // scan when one of them changes.
  const std::vector<std::string>& rule_files() const { return rule_files_; }

 private:
  IgnoreRules() = default;
  absl::Status AddRules(std::string_view rules, std::string_view dir_in_worktree);
  absl::Status AddRuleFile(const std::string& path, std::string_view dir_in_worktree);

  git_repository* repo_ = nullptr;
  std::string root_;              // absolute asset folder
  std::string root_in_worktree_;  // the folder relative to the work tree, "" at its top
  std::string temp_scratch_;      // a temporary scratch repository to delete, if any
  std::vector<std::string> rule_files_;
};

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_IGNORE_H_
