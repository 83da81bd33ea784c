// generator/ignore.h — which files under the asset folder git's ignore rules exclude.
//
// Patterns are matched by libgit2, so wildcards, negation, anchoring, directory-only
// patterns and `**` behave as in git. Which rules apply, and in which order, is decided
// here, because libgit2's git_ignore_path_is_ignored() lets a parent folder's rule beat a
// deeper folder's negation (git does the opposite; tests/ignore_test.cc checks us against
// git itself). Every rule is therefore rewritten relative to the work tree's top (placed one
// folder down, see ignore.cc's InScratch) and added, lowest precedence first, to a scratch
// bare repository whose work tree is an empty folder:
//
//   1. when the folder lies in a git work tree: the repository's core.excludesFile (from its
//      own .git/config only) and .git/info/exclude, then each .gitignore from the top of the
//      work tree down to the folder's parent;
//      otherwise: the parent folder's .gitignore;
//   2. the parent folder's .ignore;
//   3. for each folder walked, parents first: its .gitignore, then its .ignore (so .ignore
//      wins at the same level, as in ripgrep and fd, and deeper folders win over shallower).
//
// EXCLUDE patterns from CMake are evaluated apart and always win. Rules from step 1 or 2
// that would exclude the asset folder itself (or a folder above it) are dropped: they say
// the folder is not versioned, which is usual for a build output such as dist/, not which
// of its files are assets. The user's global git configuration (~/.gitconfig's
// core.excludesFile, ~/.config/git/ignore) is not read: what a build embeds must not depend
// on who runs it. Nothing is ever written into the scanned folder or its repository.
//
// Example:
//   auto rules = IgnoreRules::Open("/src/app/public", {"*.psd"}, "/build/scratch.git");
//   (*rules)->EnterDirectory("");            // before asking about the folder's entries
//   bool skip = *(*rules)->IsIgnored("css/site.scss", /*is_dir=*/false);

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
  // `root`: the asset folder. `excludes`: extra patterns relative to it. `scratch_dir`:
  // where the scratch repository lives (created if missing); "" means a temporary folder.
  // Fails with the path and libgit2's message when a repository cannot be opened or created.
  static absl::StatusOr<std::unique_ptr<IgnoreRules>> Open(const std::string& root,
                                                           const std::vector<std::string>& excludes,
                                                           const std::string& scratch_dir);
  ~IgnoreRules();

  // Reads `<root>/<dir>/.gitignore` and `.ignore`, if there are any. Call for each folder
  // before asking about its entries, parents first.
  absl::Status EnterDirectory(std::string_view dir);

  // Whether `path` (relative to the root, '/'-separated) is excluded by the rules at its own
  // level. The caller does not descend into excluded folders, which gives git's rule that
  // nothing below an excluded folder can be re-included.
  absl::StatusOr<bool> IsIgnored(std::string_view path, bool is_dir) const;

  // The rule files that exist and decide the outcome, and the source folders above the asset
  // folder where one could appear, absolute: a build must re-run the scan when one changes.
  const std::vector<std::string>& rule_files() const { return rule_files_; }

 private:
  IgnoreRules() = default;
  absl::Status AddRuleFile(const std::string& path, std::string_view dir_in_worktree);

  git_repository* rules_ = nullptr;     // every rule, in precedence order
  git_repository* excludes_ = nullptr;  // EXCLUDE patterns alone
  std::string root_;                    // absolute asset folder, symbolic links resolved
  std::string root_in_worktree_;        // the folder relative to the work tree's top
  std::string temp_scratch_;            // a temporary scratch repository to delete, if any
  std::vector<std::string> rule_files_;
};

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_IGNORE_H_
