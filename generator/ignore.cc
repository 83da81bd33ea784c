#include "generator/ignore.h"

#include <git2.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "generator/file_util.h"
#include "generator/strings.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {
namespace {

absl::Status GitError(std::string_view what, std::string_view path) {
  const git_error* err = git_error_last();
  return absl::InternalError(absl::StrCat(Sv(path), ": ",
                                          Sv(what), ": ",
                                          err != nullptr ? err->message : "unknown libgit2 error"));
}

void InitLibgit2Once() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // Builds must not depend on who runs them: no ~/.gitconfig, no global excludes file.
    for (int level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                      GIT_CONFIG_LEVEL_PROGRAMDATA}) {
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
    }
    // We only read ignore rules, so a work tree owned by another user (a container's
    // mounted source folder) is no risk.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
  });
}

// Escapes glob characters so that a folder name matches only itself.
std::string EscapeGlob(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  return absl::StrCat(Sv(dir), "/",
                      Sv(name));
}

}  // namespace

std::string RebaseIgnoreRules(std::string_view rules, std::string_view dir) {
  std::string out;
  const std::string base = dir.empty() ? "" : absl::StrCat("/", EscapeGlob(dir));
  for (absl::string_view line : absl::StrSplit(absl::string_view(rules.data(), rules.size()), '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::string_view body(line.data(), line.size());
    const bool negated = body.front() == '!';
    if (negated) body.remove_prefix(1);
    if (body.empty()) continue;
    if (negated) out.push_back('!');
    if (base.empty()) {
      out.append(body);
    } else {
      // git: a slash at the start or in the middle anchors the pattern to the file's folder;
      // otherwise it matches at any depth below it.
      std::string_view stem = body;
      if (stem.size() > 1 && stem.back() == '/') stem.remove_suffix(1);
      if (stem.find('/') != std::string_view::npos) {
        if (body.front() == '/') body.remove_prefix(1);
        absl::StrAppend(&out, base, "/", Sv(body));
      } else {
        absl::StrAppend(&out, base, "/**/", Sv(body));
      }
    }
    out.push_back('\n');
  }
  return out;
}

absl::StatusOr<std::unique_ptr<IgnoreRules>> IgnoreRules::Open(
    const std::string& root, const std::vector<std::string>& excludes,
    const std::string& scratch_dir) {
  InitLibgit2Once();
  std::unique_ptr<IgnoreRules> rules(new IgnoreRules());
  char* real = ::realpath(root.c_str(), nullptr);
  if (real == nullptr) return ErrnoToStatus(errno, root, "cannot resolve");
  rules->root_ = real;
  ::free(real);

  std::string workdir;
  git_repository* repo = nullptr;
  const int rc = git_repository_open_ext(&repo, rules->root_.c_str(), 0, nullptr);
  if (rc == 0 && !git_repository_is_bare(repo) && git_repository_workdir(repo) != nullptr) {
    rules->repo_ = repo;
    char* w = ::realpath(git_repository_workdir(repo), nullptr);
    workdir = w != nullptr ? w : git_repository_workdir(repo);
    ::free(w);
    const std::string exclude = absl::StrCat(git_repository_path(repo), "info/exclude");
    if (IsFile(exclude)) rules->rule_files_.push_back(exclude);
  } else {
    if (repo != nullptr) git_repository_free(repo);
    if (rc != 0 && rc != GIT_ENOTFOUND) return GitError("cannot open git repository", root);
    std::string scratch = scratch_dir;
    if (scratch.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "kv-assets-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoToStatus(errno, tmpl, "cannot create");
      scratch = rules->temp_scratch_ = tmpl;
    }
    if (git_repository_init(&repo, scratch.c_str(), /*is_bare=*/1) != 0) {
      return GitError("cannot create scratch repository", scratch);
    }
    rules->repo_ = repo;
    const std::filesystem::path parent = std::filesystem::path(rules->root_).parent_path();
    workdir = parent.string();
    if (git_repository_set_workdir(repo, workdir.c_str(), /*update_gitlink=*/0) != 0) {
      return GitError("cannot use as work tree", workdir);
    }
  }
  while (workdir.size() > 1 && workdir.back() == '/') workdir.pop_back();
  if (rules->root_ == workdir) {
    rules->root_in_worktree_ = "";
  } else if (rules->root_.starts_with(workdir == "/" ? workdir : workdir + "/")) {
    rules->root_in_worktree_ = rules->root_.substr(workdir == "/" ? 1 : workdir.size() + 1);
  } else {
    return absl::InternalError(absl::StrCat(rules->root_, ": not inside work tree ", workdir));
  }

  // The .gitignore files above the folder, which libgit2 reads by itself; listed so that the
  // build re-runs when one changes.
  const std::string_view in_tree = rules->root_in_worktree_;
  std::string dir = workdir;
  for (std::size_t start = 0; start <= in_tree.size() && !in_tree.empty();) {
    const std::string gitignore = absl::StrCat(dir, "/.gitignore");
    if (IsFile(gitignore)) rules->rule_files_.push_back(gitignore);
    const std::size_t slash = in_tree.find('/', start);
    if (slash == std::string_view::npos) break;
    dir = absl::StrCat(workdir, "/", Sv(in_tree.substr(0, slash)));
    start = slash + 1;
  }

  if (!in_tree.empty()) {
    const std::size_t slash = in_tree.rfind('/');
    const std::string_view parent_in_tree =
        slash == std::string_view::npos ? std::string_view() : in_tree.substr(0, slash);
    KV_ASSETS_RETURN_IF_ERROR(rules->AddRuleFile(
        absl::StrCat(std::filesystem::path(rules->root_).parent_path().string(), "/.ignore"),
        parent_in_tree));
    // Whatever the rules above say of the folder itself (or its parents), it is served.
    KV_ASSETS_RETURN_IF_ERROR(
        rules->AddRules(absl::StrCat("!/", EscapeGlob(in_tree), "/"), ""));
  }
  std::string exclude_rules;
  for (const std::string& pattern : excludes) absl::StrAppend(&exclude_rules, pattern, "\n");
  KV_ASSETS_RETURN_IF_ERROR(rules->AddRules(exclude_rules, in_tree));
  return rules;
}

IgnoreRules::~IgnoreRules() {
  if (repo_ != nullptr) git_repository_free(repo_);
  if (!temp_scratch_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_scratch_, ignored);
  }
}

absl::Status IgnoreRules::AddRules(std::string_view rules, std::string_view dir_in_worktree) {
  const std::string rebased = RebaseIgnoreRules(rules, dir_in_worktree);
  if (rebased.empty()) return absl::OkStatus();
  if (git_ignore_add_rule(repo_, rebased.c_str()) != 0) {
    return GitError("cannot add ignore rules", root_);
  }
  return absl::OkStatus();
}

absl::Status IgnoreRules::AddRuleFile(const std::string& path, std::string_view dir_in_worktree) {
  if (!IsFile(path)) return absl::OkStatus();
  KV_ASSETS_ASSIGN_OR_RETURN(const std::string content, ReadFile(path));
  rule_files_.push_back(path);
  return AddRules(content, dir_in_worktree);
}

absl::Status IgnoreRules::EnterDirectory(std::string_view dir) {
  const std::string abs = dir.empty() ? root_ : absl::StrCat(root_, "/", Sv(dir));
  const std::string gitignore = absl::StrCat(abs, "/.gitignore");
  if (IsFile(gitignore)) rule_files_.push_back(gitignore);
  return AddRuleFile(absl::StrCat(abs, "/.ignore"), Join(root_in_worktree_, dir));
}

absl::StatusOr<bool> IgnoreRules::IsIgnored(std::string_view path, bool is_dir) const {
  std::string full = Join(root_in_worktree_, path);
  if (is_dir) full.push_back('/');
  int ignored = 0;
  if (git_ignore_path_is_ignored(&ignored, repo_, full.c_str()) != 0) {
    return GitError("cannot evaluate ignore rules", absl::StrCat(root_, "/", Sv(path)));
  }
  return ignored != 0;
}

}  // namespace kv_assets::gen
