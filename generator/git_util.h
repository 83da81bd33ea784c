// generator/git_util.h — libgit2 handles that free themselves, libgit2's errors as a Status,
// and the work tree a folder lies in.
//
// For the units that read a repository (ignore.cc, last_modified.cc). libgit2 is initialised
// once per process without the system, XDG and global configuration files: what a build
// embeds must not depend on who runs it.
//
// Example:
//   InitLibgit2Once();
//   absl::StatusOr<std::optional<WorkTree>> tree = OpenWorkTree("/src/app/public");
//   // (*tree)->folder_in_tree == "app/public" when /src is the work tree's top
//   GitCommit commit;
//   if (Fill(commit, git_commit_lookup, (*tree)->repo.get(), &id) != 0) {
//     return GitError("cannot read commit", (*tree)->top);
//   }

#ifndef KV_ASSETS_GENERATOR_GIT_UTIL_H_
#define KV_ASSETS_GENERATOR_GIT_UTIL_H_

#include <git2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kv_assets::gen {

template <auto kFree>
struct GitFree {
  template <typename T>
  void operator()(T* handle) const {
    kFree(handle);
  }
};
using GitRepository = std::unique_ptr<git_repository, GitFree<&git_repository_free>>;
using GitConfig = std::unique_ptr<git_config, GitFree<&git_config_free>>;
using GitReference = std::unique_ptr<git_reference, GitFree<&git_reference_free>>;
using GitCommit = std::unique_ptr<git_commit, GitFree<&git_commit_free>>;
using GitTree = std::unique_ptr<git_tree, GitFree<&git_tree_free>>;
using GitTreeEntry = std::unique_ptr<git_tree_entry, GitFree<&git_tree_entry_free>>;

// Calls a libgit2 function that returns a handle through its first argument, `T**`, and
// gives the handle to `out`; returns the function's result:
//   if (Fill(commit, git_commit_lookup, repo, &id) != 0) return GitError(...);
template <typename Handle, typename Function, typename... Args>
int Fill(Handle& out, Function function, Args&&... args) {
  typename Handle::pointer raw = nullptr;
  const int rc = function(&raw, std::forward<Args>(args)...);
  out.reset(raw);
  return rc;
}

// Initialises libgit2 for this process, once; see the banner.
void InitLibgit2Once();

// "<path>: <what>: <libgit2's last error message>" as an InternalError.
absl::Status GitError(std::string_view what, std::string_view path);

struct WorkTree {
  GitRepository repo;
  std::string top;  // the work tree's top folder, symbolic links resolved, no '/' at the end
  std::string folder_in_tree;  // the folder relative to `top`, '/'-separated; "" for the top
};

// The repository whose work tree contains `real_folder` (absolute, symbolic links resolved),
// from the folder upwards as git looks for it; a linked worktree opens as itself. nullopt
// when there is none, or only a bare repository. Fails with the path and libgit2's message
// when a repository is found but cannot be opened.
absl::StatusOr<std::optional<WorkTree>> OpenWorkTree(const std::string& real_folder);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_GIT_UTIL_H_
