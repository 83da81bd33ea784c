#include "generator/ignore.h"

#include <git2.h>
#include <sys/stat.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "generator/file_util.h"
#include "generator/git_util.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {
namespace {

// Escapes glob characters so that a folder name matches only itself, and control characters
// (see EscapeControls) so that libgit2 reads them as themselves.
std::string EscapeGlob(std::string_view s) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '*' || c == '?' || c == '[' || c == '\\' || u < 0x20 || u == 0x7F) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

// `line` without its trailing spaces, unless escaped ("a\\ " keeps its space), as git reads a
// rule. libgit2 trims them too, but only after we have rebased the rule, when " " has become
// "/dir/**/ " (found by tests/fuzz).
std::string_view TrimTrailingSpaces(std::string_view line) {
  std::size_t keep = 0;  // length up to the last character that is not a trailing space
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == ' ') continue;
    if (line[i] == '\\' && i + 1 < line.size()) ++i;
    keep = i + 1;
  }
  return line.substr(0, keep);
}

// `pattern` with a backslash before each control character that is not escaped already.
std::string EscapeControls(std::string_view pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(pattern[i]);
    if (c == '\\' && i + 1 < pattern.size()) {
      out.push_back(pattern[i]);
      out.push_back(pattern[++i]);
      continue;
    }
    if (c < 0x20 || c == 0x7F) out.push_back('\\');
    out.push_back(pattern[i]);
  }
  return out;
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Where a path of the work tree lies in the scratch repository: below one folder of ours, for
// rules and paths alike. libgit2 1.5 reads a path that starts "c:/" as a drive root even on
// Linux ("/x" then matched "c:/x", and "c:/x" did not match "c:/x"; found by tests/fuzz), so
// no path it sees may start with a name of the asset folder.
constexpr std::string_view kScratchTop = "top";
std::string InScratch(std::string_view path_in_worktree) {
  if (path_in_worktree.empty()) return std::string(kScratchTop);
  return absl::StrCat(ToAbsl(kScratchTop), "/", ToAbsl(path_in_worktree));
}

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  return absl::StrCat(ToAbsl(dir), "/", ToAbsl(name));
}

}  // namespace

std::string RebaseIgnoreRules(std::string_view rules, std::string_view dir) {
  std::string out;
  const std::string base = dir.empty() ? "" : absl::StrCat("/", EscapeGlob(dir));
  for (absl::string_view line : absl::StrSplit(ToAbsl(rules), '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::string_view body = TrimTrailingSpaces(std::string_view(line.data(), line.size()));
    if (body.empty()) continue;
    const bool negated = body.front() == '!';
    if (negated) body.remove_prefix(1);
    if (body.empty()) continue;
    // Control characters are escaped: git reads them literally, and libgit2 1.5 loops forever
    // on a pattern that starts with a vertical tab or form feed (found by tests/fuzz).
    const std::string escaped = EscapeControls(body);
    body = escaped;
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
        // "/" alone names nothing (git ignores nothing for it); rebased it would name `dir`.
        if (body.empty()) {
          if (negated) out.pop_back();
          continue;
        }
        absl::StrAppend(&out, base, "/", ToAbsl(body));
      } else {
        absl::StrAppend(&out, base, "/**/", ToAbsl(body));
      }
    }
    out.push_back('\n');
  }
  return out;
}

namespace {

absl::StatusOr<bool> PathIsIgnored(git_repository* repo, const std::string& path) {
  int ignored = 0;
  if (git_ignore_path_is_ignored(&ignored, repo, path.c_str()) != 0) {
    return GitError("cannot evaluate ignore rules for", path);
  }
  return ignored != 0;
}

absl::Status AddRule(git_repository* repo, const std::string& rules, std::string_view origin) {
  if (rules.empty()) return absl::OkStatus();
  if (git_ignore_add_rule(repo, rules.c_str()) != 0) {
    return GitError("cannot add ignore rules", origin);
  }
  return absl::OkStatus();
}

absl::StatusOr<git_repository*> OpenScratch(const std::string& scratch) {
  git_repository* repo = nullptr;
  if (git_repository_init(&repo, scratch.c_str(), /*is_bare=*/1) != 0) {
    return GitError("cannot create scratch repository", scratch);
  }
  // An empty work tree: libgit2 then finds no .gitignore files of its own, and every rule
  // comes from us, in our order.
  const std::string empty = scratch + "/empty-worktree";
  std::error_code ec;
  std::filesystem::create_directories(empty, ec);
  if (ec) return ErrnoToStatus(ec.value(), empty, "cannot create");
  if (git_repository_set_workdir(repo, empty.c_str(), /*update_gitlink=*/0) != 0) {
    git_repository_free(repo);
    return GitError("cannot use as work tree", empty);
  }
  return repo;
}

// An ignore file found above the asset folder, and where it lives in the work tree.
struct RuleFile {
  std::string path;
  std::string dir_in_worktree;
  bool watch_folder = true;
};

// The rule files that count for the folder `root` (absolute, real), outermost first: git's
// core.excludesFile and info/exclude and each .gitignore from the top of the work tree down,
// or the parent's .gitignore outside one; then the parent's .ignore. Sets `root_in_worktree`
// to the folder's path in the work tree (its own name outside one).
absl::StatusOr<std::vector<RuleFile>> RuleFilesAbove(const std::string& root,
                                                     std::string& root_in_worktree) {
  const std::filesystem::path parent = std::filesystem::path(root).parent_path();
  std::vector<RuleFile> above;
  KV_ASSETS_ASSIGN_OR_RETURN(std::optional<WorkTree> tree, OpenWorkTree(root));
  if (tree.has_value()) {
    git_repository* repo = tree->repo.get();
    // The common folder, not git_repository_path(): in a linked worktree that is
    // .git/worktrees/<name>/, while git reads info/exclude from the main .git.
    const std::string gitdir = git_repository_commondir(repo);
    GitConfig config;
    if (Fill(config, git_repository_config_snapshot, repo) == 0) {
      git_buf excludes_file = GIT_BUF_INIT;
      if (git_config_get_path(&excludes_file, config.get(), "core.excludesfile") == 0) {
        above.push_back({excludes_file.ptr, "", /*watch_folder=*/false});
        git_buf_dispose(&excludes_file);
      }
    }
    above.push_back({gitdir + "info/exclude", "", /*watch_folder=*/false});
    root_in_worktree = tree->folder_in_tree;
    std::string dir_in_tree;
    for (absl::string_view part : absl::StrSplit(root_in_worktree, '/', absl::SkipEmpty())) {
      above.push_back(
          {absl::StrCat(tree->top, dir_in_tree.empty() ? "" : "/", dir_in_tree, "/.gitignore"),
           dir_in_tree});
      dir_in_tree = dir_in_tree.empty() ? std::string(part) : absl::StrCat(dir_in_tree, "/", part);
    }
  } else {
    root_in_worktree = std::filesystem::path(root).filename().string();
    above.push_back({(parent / ".gitignore").string(), ""});
  }
  if (!root_in_worktree.empty()) {
    const std::size_t slash = root_in_worktree.rfind('/');
    above.push_back({(parent / ".ignore").string(),
                     slash == std::string::npos ? "" : root_in_worktree.substr(0, slash)});
  }
  return above;
}

// The folder and the folders above it, as a rule from above would see them in the scratch
// repository.
std::vector<std::string> OwnDirs(const std::string& root_in_worktree) {
  std::vector<std::string> own_dirs;
  std::string d;
  for (absl::string_view part : absl::StrSplit(root_in_worktree, '/', absl::SkipEmpty())) {
    d = d.empty() ? std::string(part) : absl::StrCat(d, "/", part);
    own_dirs.push_back(InScratch(d) + "/");
  }
  return own_dirs;
}

// The rules of `file`, rebased to the scratch repository, less those that would exclude the
// asset folder itself or a folder above it: each is tried alone in `probe` (an empty
// repository) against `own_dirs`.
absl::StatusOr<std::string> KeptRules(const RuleFile& file, const std::string& content,
                                      git_repository* probe,
                                      const std::vector<std::string>& own_dirs,
                                      const std::string& scratch) {
  std::string kept;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    const std::string rule = RebaseIgnoreRules(std::string_view(line.data(), line.size()),
                                               InScratch(file.dir_in_worktree));
    if (rule.empty()) continue;
    bool excludes_folder = false;
    if (rule.front() != '!') {
      if (git_ignore_clear_internal_rules(probe) != 0) {
        return GitError("cannot reset ignore rules", scratch);
      }
      KV_ASSETS_RETURN_IF_ERROR(AddRule(probe, rule, file.path));
      for (const std::string& dir : own_dirs) {
        KV_ASSETS_ASSIGN_OR_RETURN(const bool hit, PathIsIgnored(probe, dir));
        excludes_folder = excludes_folder || hit;
      }
    }
    if (!excludes_folder) kept += rule;
  }
  return kept;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IgnoreRules>> IgnoreRules::Open(
    const std::string& root, const std::vector<std::string>& excludes,
    const std::string& scratch_dir) {
  std::unique_ptr<IgnoreRules> rules(new IgnoreRules());
  KV_ASSETS_ASSIGN_OR_RETURN(rules->root_, RealPath(root));
  KV_ASSETS_ASSIGN_OR_RETURN(const std::vector<RuleFile> above,
                             RuleFilesAbove(rules->root_, rules->root_in_worktree_));

  std::string scratch = scratch_dir;
  if (scratch.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kv-assets-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoToStatus(errno, tmpl, "cannot create");
    scratch = rules->temp_scratch_ = tmpl;
  }
  KV_ASSETS_ASSIGN_OR_RETURN(rules->rules_, OpenScratch(scratch));
  KV_ASSETS_ASSIGN_OR_RETURN(rules->excludes_, OpenScratch(scratch));

  const std::vector<std::string> own_dirs = OwnDirs(rules->root_in_worktree_);
  for (const RuleFile& file : above) {
    // The folder too, where one is a source folder: creating a rule file there must re-run
    // the scan. (core.excludesFile may live anywhere, and info/exclude in .git: those are
    // watched once they exist.)
    if (file.watch_folder) {
      rules->rule_files_.push_back(std::filesystem::path(file.path).parent_path().string());
    }
    if (!IsFile(file.path)) continue;
    KV_ASSETS_ASSIGN_OR_RETURN(const std::string content, ReadFile(file.path));
    rules->rule_files_.push_back(file.path);
    // The EXCLUDE repository is still empty: a probe for KeptRules().
    KV_ASSETS_ASSIGN_OR_RETURN(const std::string kept,
                               KeptRules(file, content, rules->excludes_, own_dirs, scratch));
    KV_ASSETS_RETURN_IF_ERROR(AddRule(rules->rules_, kept, file.path));
  }
  if (git_ignore_clear_internal_rules(rules->excludes_) != 0) {
    return GitError("cannot reset ignore rules", scratch);
  }
  std::string exclude_rules;
  for (const std::string& pattern : excludes) absl::StrAppend(&exclude_rules, pattern, "\n");
  KV_ASSETS_RETURN_IF_ERROR(
      AddRule(rules->excludes_,
              RebaseIgnoreRules(exclude_rules, InScratch(rules->root_in_worktree_)), "EXCLUDE"));
  return rules;
}

IgnoreRules::~IgnoreRules() {
  if (rules_ != nullptr) git_repository_free(rules_);
  if (excludes_ != nullptr) git_repository_free(excludes_);
  if (!temp_scratch_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_scratch_, ignored);
  }
}

absl::Status IgnoreRules::AddRuleFile(const std::string& path, std::string_view dir_in_worktree) {
  if (!IsFile(path)) return absl::OkStatus();
  KV_ASSETS_ASSIGN_OR_RETURN(const std::string content, ReadFile(path));
  rule_files_.push_back(path);
  return AddRule(rules_, RebaseIgnoreRules(content, InScratch(dir_in_worktree)), path);
}

absl::Status IgnoreRules::EnterDirectory(std::string_view dir) {
  const std::string abs = dir.empty() ? root_ : absl::StrCat(root_, "/", ToAbsl(dir));
  const std::string in_tree = Join(root_in_worktree_, dir);
  KV_ASSETS_RETURN_IF_ERROR(AddRuleFile(abs + "/.gitignore", in_tree));
  return AddRuleFile(abs + "/.ignore", in_tree);
}

absl::StatusOr<bool> IgnoreRules::IsIgnored(std::string_view path, bool is_dir) const {
  std::string full = InScratch(Join(root_in_worktree_, path));
  if (is_dir) full.push_back('/');
  KV_ASSETS_ASSIGN_OR_RETURN(const bool excluded, PathIsIgnored(excludes_, full));
  if (excluded) return true;
  return PathIsIgnored(rules_, full);
}

}  // namespace kv_assets::gen
