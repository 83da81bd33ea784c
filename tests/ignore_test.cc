// Ignore rules: the scan must skip exactly what git skips, checked against git itself, plus
// the rules git does not have (.ignore files, EXCLUDE, dotfiles, the folder itself).
#include "generator/ignore.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "absl/strings/str_split.h"
#include "generator/scan.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::RunCommand;
using ::kv_assets::test_util::TempDir;

std::set<std::string> Scanned(const std::string& root, std::vector<std::string> excludes = {}) {
  absl::StatusOr<ScanResult> scan = Scan(root, ScanOptions{std::move(excludes), ""});
  EXPECT_TRUE(scan.ok()) << scan.status();
  std::set<std::string> out;
  if (scan.ok()) {
    for (const SourceFile& f : scan->files) out.insert(f.path);
  }
  return out;
}

// git's own answer: untracked files that are not ignored, relative to `root`.
std::set<std::string> GitNotIgnored(const std::string& repo, const std::string& root_rel) {
  const std::vector<std::string> env = {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
                                        "HOME=/nonexistent", "XDG_CONFIG_HOME=/nonexistent"};
  test_util::CommandResult r =
      RunCommand({"git", "-c", "core.quotePath=false", "ls-files", "--others", "--exclude-standard",
                  "-z", "--", root_rel.empty() ? "." : root_rel},
                 env, repo);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::set<std::string> out;
  for (absl::string_view p : absl::StrSplit(r.output, '\0', absl::SkipEmpty())) {
    std::string path(p);
    if (!root_rel.empty()) {
      if (path.rfind(root_rel + "/", 0) != 0) continue;
      path = path.substr(root_rel.size() + 1);
    }
    // Dotfiles are ours to skip, not git's; .well-known/ at the top is served.
    bool dotted = false;
    for (absl::string_view part : absl::StrSplit(path, '/')) {
      if (!part.empty() && part.front() == '.' && part != ".well-known") dotted = true;
    }
    if (!dotted) out.insert(path);
  }
  return out;
}

bool GitAvailable() { return RunCommand({"git", "--version"}).exit_code == 0; }

void InitRepo(const std::string& dir) {
  test_util::CommandResult r = RunCommand({"git", "init", "-q", dir},
                                          {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// A tree exercising every part of gitignore syntax.
void WritePatternTable(const TempDir& t, const std::string& base) {
  const auto w = [&](const std::string& rel, const std::string& content = "x") {
    t.Write(base + rel, content);
  };
  w(".gitignore",
    "# comment\n"
    "*.log\n"
    "!keep.log\n"
    "/anchored.txt\n"
    "build/\n"
    "!build/rescued.js\n"  // cannot re-include below an excluded folder
    "docs/**/draft.md\n"
    "**/cache\n"
    "a/**/z.txt\n"
    "*.tmp\n"
    "\\#hash.txt\n"
    "\\!bang.txt\n"
    "foo?.txt\n"
    "[ab]x.txt\n"
    "trailing.txt   \n"
    "*.min.js\n"
    "/only-root/\n"
    "mid/dle.txt\n"
    "star/*\n"
    "!star/kept.txt\n");
  for (const char* f : {"app.log",
                        "keep.log",
                        "sub/keep.log",
                        "sub/other.log",
                        "anchored.txt",
                        "sub/anchored.txt",
                        "build/out.js",
                        "build/rescued.js",
                        "sub/build/out.js",
                        "x/build",
                        "docs/draft.md",
                        "docs/a/b/draft.md",
                        "other/docs/draft.md",
                        "cache/x.js",
                        "deep1/cache/y.js",
                        "cachex/z.js",
                        "a/z.txt",
                        "a/b/c/z.txt",
                        "b/a/z.txt",
                        "t.tmp",
                        "#hash.txt",
                        "!bang.txt",
                        "foo1.txt",
                        "foo12.txt",
                        "ax.txt",
                        "bx.txt",
                        "cx.txt",
                        "trailing.txt",
                        "lib.min.js",
                        "sub/lib.min.js",
                        "only-root/f.txt",
                        "sub/only-root/f.txt",
                        "mid/dle.txt",
                        "x/mid/dle.txt",
                        "star/gone.txt",
                        "star/kept.txt",
                        "star/deeper/f.txt",
                        "plain.txt",
                        "with space.txt",
                        "\xC3\xA9t\xC3\xA9.txt",
                        ".hidden/x.txt",
                        ".dotfile",
                        ".well-known/security.txt"}) {
    w(f);
  }
  w("sub/.gitignore",
    "*.css\n"
    "!important.css\n"
    "/local.txt\n"
    "deep/\n"
    "!*.min.js\n"
    "!other.log\n");
  for (const char* f : {"sub/style.css", "sub/important.css", "sub/x/y.css", "sub/local.txt",
                        "sub/x/local.txt", "sub/deep/f.txt", "sub/x/deep/g.txt", "style.css"}) {
    w(f);
  }
  w("sub/x/.gitignore", "!y.css\n");
}

TEST(Ignore, MatchesGitInsideARepository) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  InitRepo(t.path());
  WritePatternTable(t, "");
  const std::set<std::string> ours = Scanned(t.path());
  const std::set<std::string> git = GitNotIgnored(t.path(), "");
  EXPECT_EQ(ours, git);
  EXPECT_GT(ours.size(), 20u);  // the table is not vacuous
  EXPECT_TRUE(ours.count("keep.log"));
  EXPECT_FALSE(ours.count("build/rescued.js"));
}

TEST(Ignore, MatchesGitForASubfolderOfARepository) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  InitRepo(t.path());
  t.Write(".gitignore", "*.bak\n/web/public/top-only.txt\n");
  WritePatternTable(t, "web/public/");
  t.Write("web/public/x.bak");
  t.Write("web/public/top-only.txt");
  t.Write("web/.gitignore", "public/sub/deep2/\n");
  t.Write("web/public/sub/deep2/f.txt");
  const std::set<std::string> ours = Scanned(t.path() + "/web/public");
  EXPECT_EQ(ours, GitNotIgnored(t.path(), "web/public"));
  EXPECT_FALSE(ours.count("x.bak"));
  EXPECT_FALSE(ours.count("top-only.txt"));
  EXPECT_FALSE(ours.count("sub/deep2/f.txt"));
  // Every rule file above, and every folder above where one could appear, is watched.
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/web/public", {});
  ASSERT_TRUE(scan.ok());
  for (const std::string& w :
       {t.path(), t.path() + "/.gitignore", t.path() + "/web", t.path() + "/web/.gitignore"}) {
    EXPECT_NE(std::find(scan->watched.begin(), scan->watched.end(), w), scan->watched.end()) << w;
  }
}

TEST(Ignore, MatchesGitOutsideAnyRepository) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  // The same tree scanned without a repository, then compared with git after making it one.
  TempDir t;
  WritePatternTable(t, "public/");
  t.Write(".gitignore", "*.bak\n");  // the parent folder's rules count too
  t.Write("public/old.bak");
  const std::set<std::string> ours = Scanned(t.path() + "/public");
  InitRepo(t.path());
  EXPECT_EQ(ours, GitNotIgnored(t.path(), "public"));
  EXPECT_FALSE(ours.count("old.bak"));
}

TEST(Ignore, WritesNothingIntoTheScannedFolder) {
  TempDir t;
  t.Write("public/a.txt");
  t.Write("public/.gitignore", "*.log\n");
  Scanned(t.path() + "/public");
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::recursive_directory_iterator(t.path())) {
    entries.push_back(e.path().lexically_relative(t.path()).string());
  }
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"public", "public/.gitignore", "public/a.txt"}));
}

TEST(Ignore, TheFolderItselfIsServedEvenWhenItsRepositoryIgnoresIt) {
  TempDir t;
  if (GitAvailable()) InitRepo(t.path());
  t.Write(".gitignore", "dist/\n");
  t.Write("dist/app.js");
  t.Write("dist/app.js.map");
  t.Write("dist/.gitignore", "*.map\n");
  EXPECT_EQ(Scanned(t.path() + "/dist"), (std::set<std::string>{"app.js"}));
  // Same without a repository: rules above that exclude the folder itself are dropped, the
  // others still apply.
  TempDir u;
  u.Write(".gitignore", "public\n*\n*.map\n");
  u.Write("public/a.css");
  u.Write("public/a.css.map");
  EXPECT_EQ(Scanned(u.path() + "/public"), (std::set<std::string>{"a.css"}));
  // Rules inside the folder are not dropped, even one that excludes everything.
  u.Write("public/.gitignore", "*\n");
  EXPECT_EQ(Scanned(u.path() + "/public"), (std::set<std::string>{}));
}

TEST(Ignore, DotIgnoreFilesApplyAndOverrideGitignore) {
  TempDir t;
  t.Write("public/.gitignore", "*.log\n");
  t.Write("public/.ignore", "*.psd\n!keep.log\n");
  t.Write("public/sub/.ignore", "/only-here.txt\n");
  for (const char* f : {"a.psd", "sub/b.psd", "x.log", "keep.log", "sub/only-here.txt",
                        "sub/z/only-here.txt", "only-here.txt", "ok.txt"}) {
    t.Write(std::string("public/") + f);
  }
  t.Write(".ignore", "*.raw\n");  // parent folder's .ignore
  t.Write("public/p.raw");
  EXPECT_EQ(Scanned(t.path() + "/public"),
            (std::set<std::string>{"keep.log", "only-here.txt", "ok.txt", "sub/z/only-here.txt"}));
}

TEST(Ignore, ExcludePatternsActLikeAnIgnoreFileInTheFolder) {
  TempDir t;
  for (const char* f : {"a.map", "js/b.map", "src/c.ts", "js/src/d.ts", "keep.txt"}) {
    t.Write(std::string("public/") + f);
  }
  EXPECT_EQ(Scanned(t.path() + "/public", {"*.map", "/src/"}),
            (std::set<std::string>{"js/src/d.ts", "keep.txt"}));
}

// Found by tests/fuzz (fuzz_generator): "/" alone, or a line of spaces, in a subfolder's
// .gitignore ignored that whole subfolder (git ignores nothing for either); a rule starting
// with a vertical tab or a form feed made libgit2 loop forever, hanging the build; and libgit2
// misread rules for a top-level folder named like a drive ("w:").
TEST(Ignore, MatchesGitForRulesFoundByFuzzing) {
  if (!GitAvailable()) GTEST_SKIP() << "git is not installed";
  TempDir t;
  InitRepo(t.path());
  t.Write(".gitignore", "\vvt.txt\n!\fff.txt\n/\vroot.txt\n*.log\n");
  t.Write("public/sub/.gitignore", "/\n");
  t.Write("public/.gitignore", "\vx\n");
  t.Write("public/sp/.gitignore", "   \n!  \ntrail.txt  \nescaped.txt\\ \n");
  for (const char* f : {"public/\vvt.txt", "public/\vx", "public/sub/kept.txt",
                        "public/sub/d/kept.txt", "public/a.log", "public/ok.txt", "public/sp/a.txt",
                        "public/sp/trail.txt", "public/sp/escaped.txt", "public/sp/escaped.txt "}) {
    t.Write(f);
  }
  ::alarm(60);  // a hang is a failure, not a ctest timeout
  const std::set<std::string> ours = Scanned(t.path() + "/public");
  ::alarm(0);
  EXPECT_EQ(ours, GitNotIgnored(t.path(), "public"));
  EXPECT_EQ(ours, (std::set<std::string>{"ok.txt", "sp/a.txt", "sp/escaped.txt", "sub/d/kept.txt",
                                         "sub/kept.txt"}));
  // libgit2 reads a path starting "w:/" as a drive root: the rules and paths it sees are moved
  // one folder down. Here the asset folder is the work tree's top.
  TempDir u;
  InitRepo(u.path());
  u.Write(".gitignore", "w:/Sr\n/x\n");
  for (const char* f : {"w:/Sr", "w:/x", "x", "ok"}) u.Write(f);
  const std::set<std::string> top = Scanned(u.path());
  EXPECT_EQ(top, GitNotIgnored(u.path(), ""));
  EXPECT_EQ(top, (std::set<std::string>{"ok", "w:/x"}));
  EXPECT_EQ(RebaseIgnoreRules("/\n!/\n", "a"), "");
  EXPECT_EQ(RebaseIgnoreRules("\vx\n\\\fy\n", ""), "\\\vx\n\\\fy\n");
}

TEST(Ignore, RebaseKeepsMeaningRelativeToTheFolder) {
  EXPECT_EQ(RebaseIgnoreRules("*.log\n/a\nb/c\n!d\n# x\n\n", ""), "*.log\n/a\nb/c\n!d\n");
  EXPECT_EQ(RebaseIgnoreRules("*.log\n/a\nb/c\n!d\nbuild/\n**/e\n", "p/q"),
            "/p/q/**/*.log\n/p/q/a\n/p/q/b/c\n!/p/q/**/d\n/p/q/**/build/\n/p/q/**/e\n");
  EXPECT_EQ(RebaseIgnoreRules("x\r\n", "d[1]"), "/d\\[1]/**/x\n");
}

}  // namespace
}  // namespace kv_assets::gen
