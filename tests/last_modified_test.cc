// Last-Modified sources: mtime, epoch, and git, which must agree with
// `git log -1 --format=%ct -- <file>` on repositories made with the git CLI.
#include "generator/last_modified.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "generator/scan.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::CommandResult;
using ::kv_assets::test_util::ReadAll;
using ::kv_assets::test_util::RunCommand;
using ::kv_assets::test_util::SetMtime;
using ::kv_assets::test_util::TempDir;

constexpr std::int64_t kT = 1600000000;  // 2020-09-13: commits are dated kT + n

// A repository made and changed with the git CLI.
class Repo {
 public:
  // A new repository; `dir` is created if need be.
  static Repo Init(const std::string& dir) {
    std::filesystem::create_directories(dir);
    Repo r(dir);
    r.Git({"init", "-q", "-b", "main"});
    return r;
  }
  // A clone or a linked worktree that git made.
  static Repo Existing(const std::string& dir) { return Repo(dir); }

  // Canonical, as libgit2 reports paths.
  const std::string& dir() const { return dir_; }

  std::string Git(const std::vector<std::string>& args, std::int64_t date = 0,
                  bool may_fail = false) const {
    const CommandResult r = test_util::RunGit(dir_, args, date);
    if (!may_fail) EXPECT_EQ(r.exit_code, 0) << "git " << args[0] << ":\n" << r.output;
    return r.output;
  }
  void Write(const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + rel).parent_path());
    std::ofstream(dir_ + "/" + rel, std::ios::binary) << content;
  }
  // Commits everything in the work tree at kT + `at`.
  void Commit(std::int64_t at, const std::string& message = "change") const {
    Git({"add", "-A"});
    Git({"commit", "-q", "--allow-empty", "-m", message}, kT + at);
  }
  // git's answer for `rel`.
  std::int64_t LogTime(const std::string& rel) const {
    return std::stoll(Git({"log", "-1", "--format=%ct", "--", rel}));
  }

 private:
  explicit Repo(const std::string& dir) : dir_(std::filesystem::canonical(dir).string()) {}

  std::string dir_;
};

struct Dated {
  std::map<std::string, std::int64_t> times;  // by path in the folder
  std::vector<std::string> watched;
};

absl::StatusOr<Dated> DateFolder(const std::string& folder, const LastModifiedOptions& options) {
  absl::StatusOr<ScanResult> scan = Scan(folder, {});
  if (!scan.ok()) return scan.status();
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(scan->files);
  if (!hashed.ok()) return hashed.status();
  absl::StatusOr<FileTimes> times = LastModifiedTimes(folder, *hashed, options);
  if (!times.ok()) return times.status();
  Dated out;
  for (std::size_t i = 0; i < hashed->size(); ++i) {
    out.times[(*hashed)[i].source.path] = times->times[i];
  }
  out.watched = times->watched;
  return out;
}

const LastModifiedOptions kGit{.source = LastModifiedSource::kGit};

bool GitAvailable() { return RunCommand({"git", "--version"}).exit_code == 0; }

// History with a subfolder asset folder, a side branch and merges, a rename, and a committer
// date out of order (clock skew):
//
//   c1 -- c2 -- c3 ----- c4 ----- M -- c6 -- c7 (HEAD, main)
//                 \              /
//                  s1 --------- s2            (side)
void MakeHistory(const Repo& r) {
  const std::string p = "web/public/";
  for (const char* f :
       {"a.css", "b.js", "img/logo.svg", "d.txt", "e.txt", "f.txt", "old.txt", "deep/x/y/z.txt"}) {
    r.Write(p + f, std::string("first ") + f + "\n");
  }
  r.Write("README", "outside the folder\n");
  r.Commit(0, "c1");
  r.Write(p + "a.css", "second\n");
  r.Commit(100, "c2");
  r.Write("README", "changed outside\n");
  r.Commit(2000, "c3, dated after its children");
  r.Git({"checkout", "-q", "-b", "side"});
  r.Write(p + "b.js", "side\n");
  r.Write(p + "d.txt", "side\n");
  r.Commit(300, "s1");
  r.Write(p + "e.txt", "side\n");
  r.Commit(310, "s2");
  r.Git({"checkout", "-q", "main"});
  r.Write(p + "img/logo.svg", "main\n");
  r.Write(p + "d.txt", "main\n");
  r.Write(p + "f.txt", "main\n");
  r.Commit(400, "c4");
  // M: b.js as on side; d.txt as on neither parent (M changed it); e.txt as on main, so
  // side's change to it was dropped; f.txt as on side, so main's change to it was dropped.
  r.Git({"merge", "-q", "--no-ff", "--no-commit", "side"}, kT + 500, /*may_fail=*/true);
  r.Write(p + "d.txt", "merged\n");
  r.Write(p + "e.txt", "first e.txt\n");
  r.Write(p + "f.txt", "first f.txt\n");
  r.Commit(500, "M");
  r.Git({"mv", p + "old.txt", p + "new.txt"});
  r.Commit(600, "c6: rename");
  r.Write("README", "changed outside again\n");
  r.Commit(700, "c7");
}

TEST(LastModified, GitModeAgreesWithGitLog) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  const Repo r = Repo::Init(t.path() + "/repo");
  MakeHistory(r);
  const std::string folder = r.dir() + "/web/public";
  // The work tree: one edited file and one untracked, each with a known mtime.
  r.Write("web/public/a.css", "edited, not committed\n");
  SetMtime(folder + "/a.css", kT + 5555);
  r.Write("web/public/untracked.txt", "new\n");
  SetMtime(folder + "/untracked.txt", kT + 6666);

  const absl::StatusOr<Dated> dated = DateFolder(folder, kGit);
  ASSERT_TRUE(dated.ok()) << dated.status();
  const std::map<std::string, std::int64_t> expected = {
      {"a.css", kT + 5555},          // edited in the work tree: its mtime
      {"b.js", kT + 300},            // s1: M took side's version
      {"d.txt", kT + 500},           // M: differs from both parents
      {"deep/x/y/z.txt", kT + 0},    // c1
      {"e.txt", kT + 0},             // c1: M dropped s2's change
      {"f.txt", kT + 0},             // c1: M dropped c4's change
      {"img/logo.svg", kT + 400},    // c4
      {"new.txt", kT + 600},         // c6: the rename adds it
      {"untracked.txt", kT + 6666},  // untracked: its mtime
  };
  EXPECT_EQ(dated->times, expected);
  for (const auto& [path, time] : dated->times) {
    if (path == "a.css" || path == "untracked.txt") continue;
    EXPECT_EQ(time, r.LogTime("web/public/" + path)) << path;
  }
}

TEST(LastModified, GitModeInALinkedWorktree) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  const Repo r = Repo::Init(t.path() + "/repo");
  MakeHistory(r);
  r.Git({"worktree", "add", "-q", t.path() + "/linked", "side"});
  const Repo linked = Repo::Existing(t.path() + "/linked");
  const absl::StatusOr<Dated> dated = DateFolder(linked.dir() + "/web/public", kGit);
  ASSERT_TRUE(dated.ok()) << dated.status();
  EXPECT_EQ(dated->times.at("e.txt"), kT + 310);
  for (const auto& [path, time] : dated->times) {
    EXPECT_EQ(time, linked.LogTime("web/public/" + path)) << path;
  }
  // The linked worktree's own HEAD; its branch's ref lives in the main repository.
  EXPECT_EQ(dated->watched.front(), r.dir() + "/.git/worktrees/linked/HEAD");
  EXPECT_EQ(dated->watched.back(), r.dir() + "/.git/refs/heads/side");
}

TEST(LastModified, GitModeInAShallowCloneDatesFilesAtTheBoundary) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  const Repo r = Repo::Init(t.path() + "/repo");
  MakeHistory(r);
  for (const std::string depth : {"1", "3"}) {
    const std::string clone = t.path() + "/depth" + depth;
    r.Git({"clone", "-q", "--depth", depth, "file://" + r.dir(), clone});
    const Repo c = Repo::Existing(clone);
    const absl::StatusOr<Dated> dated = DateFolder(clone + "/web/public", kGit);
    ASSERT_TRUE(dated.ok()) << dated.status();
    for (const auto& [path, time] : dated->times) {
      EXPECT_EQ(time, c.LogTime("web/public/" + path)) << path << ", depth " << depth;
      // Depth 1: everything is as old as HEAD (c7); depth 3: the boundary is M.
      EXPECT_EQ(time, depth == "1" ? kT + 700 : path == "new.txt" ? kT + 600 : kT + 500) << path;
    }
    EXPECT_NE(std::find(dated->watched.begin(), dated->watched.end(), clone + "/.git/shallow"),
              dated->watched.end());
  }
}

TEST(LastModified, GitModeSeesThroughLineEndingConversion) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  const Repo r = Repo::Init(t.path() + "/repo");
  r.Write("a.txt", "one\ntwo\n");
  r.Commit(0);
  // Checked out on Windows, say: CRLF in the work tree, LF in the repository.
  r.Git({"config", "core.autocrlf", "true"});
  r.Write("a.txt", "one\r\ntwo\r\n");
  ASSERT_EQ(r.Git({"diff", "--stat", "HEAD"}), "");  // git sees no change either
  const absl::StatusOr<Dated> dated = DateFolder(r.dir(), kGit);
  ASSERT_TRUE(dated.ok()) << dated.status();
  EXPECT_EQ(dated->times.at("a.txt"), kT);
}

TEST(LastModified, GitModeWatchesWhatMovesWithHead) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  const Repo r = Repo::Init(t.path() + "/repo");
  r.Write("public/a.css", "a");
  const std::string folder = r.dir() + "/public";
  const std::string git = r.dir() + "/.git/";
  // No commit yet: every file keeps its mtime, and the first commit will create the branch.
  SetMtime(folder + "/a.css", kT + 1);
  absl::StatusOr<Dated> dated = DateFolder(folder, kGit);
  ASSERT_TRUE(dated.ok()) << dated.status();
  EXPECT_EQ(dated->times.at("a.css"), kT + 1);
  EXPECT_EQ(dated->watched, (std::vector<std::string>{git + "HEAD", git + "refs/heads"}));

  r.Commit(0);
  dated = DateFolder(folder, kGit);
  ASSERT_TRUE(dated.ok()) << dated.status();
  EXPECT_EQ(dated->times.at("a.css"), kT);
  EXPECT_EQ(dated->watched,
            (std::vector<std::string>{git + "HEAD", git + "logs/HEAD", git + "refs/heads/main"}));

  // Packed, the branch moves by a loose file appearing in its folder.
  r.Git({"pack-refs", "--all"});
  dated = DateFolder(folder, kGit);
  ASSERT_TRUE(dated.ok()) << dated.status();
  EXPECT_EQ(dated->watched, (std::vector<std::string>{git + "HEAD", git + "logs/HEAD",
                                                      git + "packed-refs", git + "refs/heads"}));

  // Detached, HEAD itself holds the commit.
  r.Git({"checkout", "-q", "--detach"});
  dated = DateFolder(folder, kGit);
  ASSERT_TRUE(dated.ok()) << dated.status();
  EXPECT_EQ(dated->watched, (std::vector<std::string>{git + "HEAD", git + "logs/HEAD"}));
}

TEST(LastModified, GitModeOutsideARepositoryIsAnErrorNamingTheFolder) {
  TempDir t;  // never inside a git work tree
  t.Write("site/a.css", "a");
  const absl::StatusOr<Dated> dated = DateFolder(t.path() + "/site", kGit);
  ASSERT_FALSE(dated.ok());
  EXPECT_EQ(dated.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(dated.status().message(), t.path() +
                                          "/site: not in a git work tree, so "
                                          "--last-modified=git cannot date it");
}

TEST(LastModified, SourceDateEpochReplacesMtimesButNotCommitTimes) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  const Repo r = Repo::Init(t.path() + "/repo");
  r.Write("public/committed.css", "a");
  r.Commit(0);
  r.Write("public/untracked.css", "b");
  SetMtime(r.dir() + "/public/untracked.css", kT + 9);
  const std::string folder = r.dir() + "/public";
  using Times = std::map<std::string, std::int64_t>;
  const auto times = [&](LastModifiedSource source, std::optional<std::int64_t> epoch) {
    absl::StatusOr<Dated> dated =
        DateFolder(folder, {.source = source, .source_date_epoch = epoch});
    EXPECT_TRUE(dated.ok()) << dated.status();
    return dated.ok() ? dated->times : Times{};
  };
  SetMtime(folder + "/committed.css", kT + 8);
  EXPECT_EQ(times(LastModifiedSource::kMtime, std::nullopt),
            (Times{{"committed.css", kT + 8}, {"untracked.css", kT + 9}}));
  EXPECT_EQ(times(LastModifiedSource::kMtime, 42),
            (Times{{"committed.css", 42}, {"untracked.css", 42}}));
  EXPECT_EQ(times(LastModifiedSource::kEpoch, 42),
            (Times{{"committed.css", 42}, {"untracked.css", 42}}));
  EXPECT_EQ(times(LastModifiedSource::kGit, std::nullopt),
            (Times{{"committed.css", kT}, {"untracked.css", kT + 9}}));
  EXPECT_EQ(times(LastModifiedSource::kGit, 42),
            (Times{{"committed.css", kT}, {"untracked.css", 42}}));
}

TEST(LastModified, EpochModeWithoutSourceDateEpochIsAnError) {
  TempDir t;
  t.Write("site/a.css", "a");
  const absl::StatusOr<Dated> dated =
      DateFolder(t.path() + "/site", {.source = LastModifiedSource::kEpoch});
  ASSERT_FALSE(dated.ok());
  EXPECT_EQ(dated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dated.status().message(),
            "--last-modified=epoch: SOURCE_DATE_EPOCH is not set in the build's environment");
}

// Checking out the same commit twice must give the same headers, whatever the files' mtimes.
TEST(LastModified, TwoClonesOfOneCommitGiveByteIdenticalHeaders) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  const Repo r = Repo::Init(t.path() + "/repo");
  MakeHistory(r);
  std::map<std::string, std::string> headers;  // by clone and mode
  for (const std::string clone : {"one", "two"}) {
    const std::string dir = t.path() + "/" + clone;
    r.Git({"clone", "-q", r.dir(), dir});
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir + "/web/public")) {
      SetMtime(e.path().string(), clone == "one" ? kT + 10000 : kT + 20000);
    }
    for (const std::string mode : {"git", "mtime"}) {
      const std::string out = t.Mkdir("out-" + clone + "-" + mode);
      const CommandResult g =
          RunCommand({KV_ASSETS_GENERATOR_EXE, "generate", dir + "/web/public", "--out-dir=" + out,
                      "--name=a", "--last-modified=" + mode},
                     {"SOURCE_DATE_EPOCH="});
      ASSERT_EQ(g.exit_code, 0) << g.output;
      headers[clone + " " + mode] = ReadAll(out + "/a.h");
    }
  }
  EXPECT_EQ(headers["one git"], headers["two git"]);
  EXPECT_NE(headers["one git"].find(", 1600000500, "), std::string::npos);  // d.txt
  // The mtimes differ, so mtime mode would not do.
  EXPECT_NE(headers["one mtime"], headers["two mtime"]);
}

}  // namespace
}  // namespace kv_assets::gen
