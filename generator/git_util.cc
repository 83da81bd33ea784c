#include "generator/git_util.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "generator/file_util.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {

void InitLibgit2Once() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // Builds must not depend on who runs them: no ~/.gitconfig, no global excludes file.
    for (int level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                      GIT_CONFIG_LEVEL_PROGRAMDATA}) {
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
    }
    // We only read (ignore rules, history), so a work tree owned by another user (a
    // container's mounted source folder) is no risk.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
  });
}

absl::Status GitError(std::string_view what, std::string_view path) {
  const git_error* err = git_error_last();
  return absl::InternalError(absl::StrCat(ToAbsl(path), ": ", ToAbsl(what), ": ",
                                          err != nullptr ? err->message : "unknown libgit2 error"));
}

absl::StatusOr<std::optional<WorkTree>> OpenWorkTree(const std::string& real_folder) {
  InitLibgit2Once();
  WorkTree tree;
  const int rc = Fill(tree.repo, git_repository_open_ext, real_folder.c_str(), 0, nullptr);
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  if (rc != 0) return GitError("cannot open git repository", real_folder);
  const char* workdir = git_repository_workdir(tree.repo.get());
  if (git_repository_is_bare(tree.repo.get()) || workdir == nullptr) return std::nullopt;
  absl::StatusOr<std::string> top = RealPath(workdir);
  tree.top = top.ok() ? *std::move(top) : workdir;
  while (tree.top.size() > 1 && tree.top.back() == '/') tree.top.pop_back();
  if (real_folder != tree.top) {
    const std::string top_slash = tree.top == "/" ? tree.top : tree.top + "/";
    if (!real_folder.starts_with(top_slash)) {
      return absl::InternalError(absl::StrCat(real_folder, ": not inside work tree ", tree.top));
    }
    tree.folder_in_tree = real_folder.substr(top_slash.size());
  }
  return tree;
}

}  // namespace kv_assets::gen
