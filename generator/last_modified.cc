#include "generator/last_modified.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "generator/file_util.h"
#include "generator/git_util.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {
namespace {

std::int64_t MtimeModeTime(const PreparedFile& file, const LastModifiedOptions& options) {
  return options.source_date_epoch.value_or(file.source.mtime);
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

struct OidLess {
  bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_cmp(&a, &b) < 0; }
};
using OidSet = std::set<git_oid, OidLess>;

std::string Hex(const git_oid& id) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &id);
  return hex;
}

// The commits of a shallow clone whose parents were not fetched. libgit2 1.5 does not know
// about shallow clones: it would fail to find those parents.
absl::StatusOr<OidSet> ShallowCommits(git_repository* repo) {
  OidSet out;
  const std::string path = absl::StrCat(git_repository_commondir(repo), "shallow");
  if (!Exists(path)) return out;
  KV_ASSETS_ASSIGN_OR_RETURN(const std::string content, ReadFile(path));
  for (absl::string_view line : absl::StrSplit(content, '\n', absl::SkipWhitespace())) {
    git_oid id;
    if (git_oid_fromstrn(&id, line.data(), line.size()) != 0) {
      return GitError("not a list of commit ids", path);
    }
    out.insert(id);
  }
  return out;
}

// See FileTimes::watched.
std::vector<std::string> WatchedFiles(git_repository* repo) {
  const std::string gitdir = git_repository_path(repo);  // per worktree; ends in '/'
  const std::string common = git_repository_commondir(repo);
  std::vector<std::string> out;
  for (std::string path : {gitdir + "HEAD", gitdir + "logs/HEAD", common + "shallow"}) {
    if (Exists(path)) out.push_back(std::move(path));
  }
  GitReference head;
  if (Fill(head, git_reference_lookup, repo, "HEAD") != 0 ||
      git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) {
    return out;  // detached: HEAD itself holds the commit
  }
  const std::string loose = common + git_reference_symbolic_target(head.get());
  if (Exists(loose)) {
    out.push_back(loose);
    return out;
  }
  // The branch is packed (a fresh clone, after git gc) or has no commit yet. The next commit
  // writes the loose file, which changes its folder; packed-refs changes on a fetch or gc.
  if (Exists(common + "packed-refs")) out.push_back(common + "packed-refs");
  std::filesystem::path folder = std::filesystem::path(loose).parent_path();
  while (!Exists(folder.string())) folder = folder.parent_path();
  out.push_back(folder.string());
  return out;
}

// Whether `file` has the bytes that HEAD's `tree` stores at `path`, as git would store them.
absl::StatusOr<bool> SameAsHead(git_repository* repo, const git_tree* tree,
                                const PreparedFile& file, const std::string& path) {
  GitTreeEntry entry;
  const int rc = Fill(entry, git_tree_entry_bypath, tree, path.c_str());
  if (rc == GIT_ENOTFOUND) return false;
  if (rc != 0) return GitError("cannot look up in HEAD", file.source.abs_path);
  const git_filemode_t mode = git_tree_entry_filemode(entry.get());
  // A symbolic link's blob is its target's name, not the bytes the scan followed it to.
  if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) return false;
  git_oid id;
  if (git_odb_hash(&id, file.content.data(), file.content.size(), GIT_OBJECT_BLOB) != 0) {
    return GitError("cannot hash", file.source.abs_path);
  }
  if (git_oid_equal(&id, git_tree_entry_id(entry.get()))) return true;
  // Clean filters (core.autocrlf, .gitattributes eol, ident) can make the stored bytes differ
  // from the file's. Rarely needed, and it reads the file again.
  if (git_repository_hashfile(&id, repo, file.source.abs_path.c_str(), GIT_OBJECT_BLOB,
                              path.c_str()) != 0) {
    return GitError("cannot hash", file.source.abs_path);
  }
  return git_oid_equal(&id, git_tree_entry_id(entry.get()));
}

// One walk of history, newest commit first, for many paths at once (see the banner). A path
// waits at the commit its search has reached; paths waiting at the same commit are compared
// with its parents together, and folders whose tree ids are equal are skipped whole.
class HistoryWalk {
 public:
  // `paths`: relative to the work tree's top, each a blob in HEAD's tree.
  HistoryWalk(git_repository* repo, const std::string& top, const std::vector<std::string>& paths,
              OidSet shallow)
      : repo_(repo), top_(top), paths_(paths), shallow_(std::move(shallow)) {}

  // The committer time of the commit that last changed each path, from `head`.
  absl::StatusOr<std::vector<std::int64_t>> Run(const git_oid& head) {
    if (paths_.empty()) return std::vector<std::int64_t>();
    std::vector<std::uint32_t> all(paths_.size());
    std::iota(all.begin(), all.end(), 0u);
    std::sort(all.begin(), all.end(),
              [&](std::uint32_t a, std::uint32_t b) { return paths_[a] < paths_[b]; });
    KV_ASSETS_ASSIGN_OR_RETURN(const GitCommit commit, Lookup(head));
    times_.assign(paths_.size(), 0);
    Enqueue(head, git_commit_time(commit.get()), std::move(all));
    // Each path's search ends at the commit that dated it, so the queue runs dry as soon as
    // every path has its time, however much older history there is.
    while (!queue_.empty()) {
      const git_oid id = queue_.top().id;
      queue_.pop();
      auto it = waiting_.find(id);
      Files files = std::move(it->second);
      waiting_.erase(it);
      KV_ASSETS_RETURN_IF_ERROR(Visit(id, std::move(files)));
    }
    return times_;
  }

 private:
  // Indices into paths_, sorted by path: the paths below one folder are then adjacent.
  using Files = std::vector<std::uint32_t>;

  struct Queued {
    git_time_t time;
    std::uint64_t order;  // among equal times, first come first served, as in git log
    git_oid id;
    bool operator<(const Queued& other) const {
      return time != other.time ? time < other.time : order > other.order;
    }
  };

  absl::StatusOr<GitCommit> Lookup(const git_oid& id) {
    GitCommit commit;
    if (Fill(commit, git_commit_lookup, repo_, &id) != 0) {
      return GitError(absl::StrCat("cannot read commit ", Hex(id)), top_);
    }
    return commit;
  }

  absl::StatusOr<GitTree> TreeOf(const git_commit* commit) {
    GitTree tree;
    if (Fill(tree, git_commit_tree, commit) != 0) {
      return GitError(absl::StrCat("cannot read the tree of commit ", Hex(*git_commit_id(commit))),
                      top_);
    }
    return tree;
  }

  void Enqueue(const git_oid& id, git_time_t time, Files files) {
    auto [it, inserted] = waiting_.try_emplace(id);
    if (inserted) {
      it->second = std::move(files);
      queue_.push(Queued{time, order_++, id});
      return;
    }
    Files merged;
    merged.reserve(it->second.size() + files.size());
    std::merge(it->second.begin(), it->second.end(), files.begin(), files.end(),
               std::back_inserter(merged),
               [&](std::uint32_t a, std::uint32_t b) { return paths_[a] < paths_[b]; });
    it->second = std::move(merged);
  }

  // Compares the commit's entries for `undecided` with each parent's in turn: a path whose
  // entry a parent shares goes on to that parent; the rest were changed by this commit.
  absl::Status Visit(const git_oid& id, Files undecided) {
    KV_ASSETS_ASSIGN_OR_RETURN(const GitCommit commit, Lookup(id));
    KV_ASSETS_ASSIGN_OR_RETURN(const GitTree tree, TreeOf(commit.get()));
    const unsigned parents = shallow_.contains(id) ? 0 : git_commit_parentcount(commit.get());
    for (unsigned k = 0; k < parents && !undecided.empty(); ++k) {
      const git_oid parent_id = *git_commit_parent_id(commit.get(), k);
      KV_ASSETS_ASSIGN_OR_RETURN(const GitCommit parent, Lookup(parent_id));
      KV_ASSETS_ASSIGN_OR_RETURN(const GitTree parent_tree, TreeOf(parent.get()));
      Files same, differ;
      KV_ASSETS_RETURN_IF_ERROR(Split(tree.get(), parent_tree.get(), undecided, 0, same, differ));
      if (!same.empty()) Enqueue(parent_id, git_commit_time(parent.get()), std::move(same));
      undecided = std::move(differ);
    }
    for (std::uint32_t i : undecided) times_[i] = git_commit_time(commit.get());
    return absl::OkStatus();
  }

  // Sorts `files`, which all lie in the folder whose trees are `a` and `b` (nullptr where a
  // side has no such folder) and whose paths share their first `offset` characters, into
  // those with the same entry on both sides and those without.
  absl::Status Split(const git_tree* a, const git_tree* b, std::span<const std::uint32_t> files,
                     std::size_t offset, Files& same, Files& differ) {
    const auto append = [](Files& out, std::span<const std::uint32_t> group) {
      out.insert(out.end(), group.begin(), group.end());
    };
    if (a == b || (a != nullptr && b != nullptr && git_oid_equal(git_tree_id(a), git_tree_id(b)))) {
      append(same, files);
      return absl::OkStatus();
    }
    for (std::size_t i = 0; i < files.size();) {
      // The next name in this folder, and every path below it.
      const std::string& path = paths_[files[i]];
      const std::size_t slash = path.find('/', offset);
      std::size_t end = i + 1;
      if (slash != std::string::npos) {
        const std::string_view folder(path.data(), slash + 1);
        while (end < files.size() && paths_[files[end]].starts_with(folder)) ++end;
      }
      const std::span<const std::uint32_t> group = files.subspan(i, end - i);
      i = end;
      const std::string name =
          path.substr(offset, slash == std::string::npos ? std::string::npos : slash - offset);
      const git_tree_entry* in_a = a != nullptr ? git_tree_entry_byname(a, name.c_str()) : nullptr;
      const git_tree_entry* in_b = b != nullptr ? git_tree_entry_byname(b, name.c_str()) : nullptr;
      if (in_a == nullptr && in_b == nullptr) {
        append(same, group);
      } else if (in_a != nullptr && in_b != nullptr &&
                 git_oid_equal(git_tree_entry_id(in_a), git_tree_entry_id(in_b)) &&
                 git_tree_entry_filemode(in_a) == git_tree_entry_filemode(in_b)) {
        append(same, group);
      } else if (slash == std::string::npos) {
        append(differ, group);
      } else {
        KV_ASSETS_ASSIGN_OR_RETURN(const GitTree sub_a, SubTree(in_a));
        KV_ASSETS_ASSIGN_OR_RETURN(const GitTree sub_b, SubTree(in_b));
        KV_ASSETS_RETURN_IF_ERROR(Split(sub_a.get(), sub_b.get(), group, slash + 1, same, differ));
      }
    }
    return absl::OkStatus();
  }

  // The folder `entry` names; nullptr when there is no entry or it is not a folder.
  absl::StatusOr<GitTree> SubTree(const git_tree_entry* entry) {
    GitTree tree;
    if (entry == nullptr || git_tree_entry_type(entry) != GIT_OBJECT_TREE) return tree;
    if (Fill(tree, git_tree_lookup, repo_, git_tree_entry_id(entry)) != 0) {
      return GitError(absl::StrCat("cannot read tree ", Hex(*git_tree_entry_id(entry))), top_);
    }
    return tree;
  }

  git_repository* repo_;
  const std::string& top_;
  const std::vector<std::string>& paths_;
  const OidSet shallow_;
  std::vector<std::int64_t> times_;
  std::map<git_oid, Files, OidLess> waiting_;  // exactly the commits in queue_
  std::priority_queue<Queued> queue_;
  std::uint64_t order_ = 0;
};

absl::StatusOr<FileTimes> GitTimes(const std::string& folder,
                                   const std::vector<PreparedFile>& files,
                                   const LastModifiedOptions& options) {
  FileTimes out;
  for (const PreparedFile& f : files) out.times.push_back(MtimeModeTime(f, options));
  KV_ASSETS_ASSIGN_OR_RETURN(const std::string real, RealPath(folder));
  KV_ASSETS_ASSIGN_OR_RETURN(const std::optional<WorkTree> tree, OpenWorkTree(real));
  if (!tree.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(folder, ": not in a git work tree, so --last-modified=git cannot date it"));
  }
  git_repository* repo = tree->repo.get();
  out.watched = WatchedFiles(repo);
  git_oid head;
  const int rc = git_reference_name_to_id(&head, repo, "HEAD");
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) return out;  // no commit yet
  if (rc != 0) return GitError("cannot read HEAD", tree->top);
  GitTree head_tree;
  {
    GitCommit commit;
    if (Fill(commit, git_commit_lookup, repo, &head) != 0 ||
        Fill(head_tree, git_commit_tree, commit.get()) != 0) {
      return GitError("cannot read HEAD's tree", tree->top);
    }
  }

  std::vector<std::string> paths;    // those HEAD can date, relative to the top
  std::vector<std::size_t> file_of;  // their index in `files`
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string path = tree->folder_in_tree.empty()
                           ? files[i].source.path
                           : absl::StrCat(tree->folder_in_tree, "/", files[i].source.path);
    KV_ASSETS_ASSIGN_OR_RETURN(const bool same, SameAsHead(repo, head_tree.get(), files[i], path));
    if (same) {
      paths.push_back(std::move(path));
      file_of.push_back(i);
    }
  }
  KV_ASSETS_ASSIGN_OR_RETURN(OidSet shallow, ShallowCommits(repo));
  HistoryWalk walk(repo, tree->top, paths, std::move(shallow));
  KV_ASSETS_ASSIGN_OR_RETURN(const std::vector<std::int64_t> times, walk.Run(head));
  for (std::size_t k = 0; k < times.size(); ++k) out.times[file_of[k]] = times[k];
  return out;
}

}  // namespace

absl::StatusOr<FileTimes> LastModifiedTimes(const std::string& folder,
                                            const std::vector<PreparedFile>& files,
                                            const LastModifiedOptions& options) {
  switch (options.source) {
    case LastModifiedSource::kMtime:
      break;
    case LastModifiedSource::kEpoch:
      if (!options.source_date_epoch.has_value()) {
        return absl::InvalidArgumentError(
            "--last-modified=epoch: SOURCE_DATE_EPOCH is not set in the build's environment");
      }
      break;
    case LastModifiedSource::kGit:
      return GitTimes(folder, files, options);
  }
  FileTimes out;
  for (const PreparedFile& f : files) out.times.push_back(MtimeModeTime(f, options));
  return out;
}

}  // namespace kv_assets::gen
