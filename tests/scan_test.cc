// The scan's errors: each names the path and says what is wrong.
#include "generator/scan.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "generator/hash.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::DropFileReadOverride;
using ::kv_assets::test_util::TempDir;

absl::Status ScanError(const std::string& root) {
  absl::StatusOr<ScanResult> scan = Scan(root, {});
  return scan.ok() ? absl::OkStatus() : scan.status();
}

TEST(Scan, FindsFilesSortedWithMetadata) {
  TempDir t;
  t.Write("site/b.txt", "bb");
  t.Write("site/a/z.txt", "z");
  t.Write("site/a.b", "");
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/site", {});
  ASSERT_TRUE(scan.ok()) << scan.status();
  ASSERT_EQ(scan->files.size(), 3u);
  EXPECT_EQ(scan->files[0].path, "a.b");
  EXPECT_EQ(scan->files[1].path, "a/z.txt");
  EXPECT_EQ(scan->files[2].path, "b.txt");
  EXPECT_EQ(scan->files[2].size, 2u);
  EXPECT_EQ(scan->files[2].abs_path, t.path() + "/site/b.txt");
  EXPECT_GT(scan->files[2].mtime, 1600000000);
  // Folders are watched so that adding or removing a file re-runs the build; the parent too,
  // where a new .gitignore or .ignore would change what is served.
  EXPECT_EQ(scan->watched,
            (std::vector<std::string>{t.path(), t.path() + "/site", t.path() + "/site/a"}));
}

TEST(Scan, MissingFolder) {
  EXPECT_EQ(ScanError("/nonexistent/public").message(),
            "/nonexistent/public: cannot open folder: No such file or directory");
}

TEST(Scan, NotAFolder) {
  TempDir t;
  const std::string f = t.Write("file.txt");
  EXPECT_EQ(ScanError(f).message(), f + ": not a folder");
}

TEST(Scan, SymlinkedFilesAndFoldersAreFollowed) {
  TempDir t;
  t.Write("elsewhere/real.css", "real");
  t.Mkdir("site");
  std::filesystem::create_symlink(t.path() + "/elsewhere/real.css", t.path() + "/site/link.css");
  std::filesystem::create_directory_symlink(t.path() + "/elsewhere", t.path() + "/site/dir");
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/site", {});
  ASSERT_TRUE(scan.ok()) << scan.status();
  ASSERT_EQ(scan->files.size(), 2u);
  EXPECT_EQ(scan->files[0].path, "dir/real.css");
  EXPECT_EQ(scan->files[1].path, "link.css");
}

TEST(Scan, SymlinkLoopThroughAFolder) {
  TempDir t;
  t.Mkdir("site/a");
  std::filesystem::create_directory_symlink(t.path() + "/site", t.path() + "/site/a/back");
  EXPECT_EQ(ScanError(t.path() + "/site").message(),
            t.path() + "/site/a/back: symbolic link loop: this folder contains itself");
}

TEST(Scan, SymlinkPointingAtItself) {
  TempDir t;
  t.Mkdir("site");
  std::filesystem::create_symlink("self", t.path() + "/site/self");
  EXPECT_EQ(ScanError(t.path() + "/site").message(), t.path() + "/site/self: symbolic link loop");
}

TEST(Scan, BrokenSymlink) {
  TempDir t;
  t.Mkdir("site");
  std::filesystem::create_symlink("missing.css", t.path() + "/site/dangling.css");
  EXPECT_EQ(ScanError(t.path() + "/site").message(),
            t.path() + "/site/dangling.css: symbolic link to a file that does not exist");
}

TEST(Scan, IgnoredProblemsAreNotErrors) {
  TempDir t;
  t.Write("site/.gitignore", "dangling.css\n");
  std::filesystem::create_symlink("missing.css", t.path() + "/site/dangling.css");
  std::filesystem::create_symlink("missing", t.path() + "/site/.dot-dangling");
  EXPECT_TRUE(ScanError(t.path() + "/site").ok());
}

TEST(Scan, NamesThatCannotBeServed) {
  struct Case {
    std::string name;
    std::string problem;
  };
  for (const Case& c : std::vector<Case>{
           {"bad\xff.css", "name is not valid UTF-8 (byte 0xFF at offset 3); cannot be served"},
           {"over\xc0\xae.css",
            "name is not valid UTF-8 (byte 0xC0 at offset 4); cannot be served"},
           {"surrogate\xed\xa0\x80.css",
            "name is not valid UTF-8 (byte 0xED at offset 9); cannot be served"},
           {"line\nbreak.css", "name contains control character 0x0A; cannot be served"},
           {"tab\t.css", "name contains control character 0x09; cannot be served"},
           {"del\x7f.css", "name contains control character 0x7F; cannot be served"},
       }) {
    TempDir t;
    const std::string path = t.Write("site/" + c.name);
    EXPECT_EQ(ScanError(t.path() + "/site").message(), path + ": " + c.problem);
  }
  TempDir t;
  const std::string dir = t.Mkdir("site/bad\xfe");
  t.Write("site/bad\xfe/a.css");
  EXPECT_EQ(ScanError(t.path() + "/site").message(),
            dir + ": name is not valid UTF-8 (byte 0xFE at offset 3); cannot be served");
}

TEST(Scan, SpecialFilesAreRejected) {
  TempDir t;
  t.Mkdir("site");
  const std::string fifo = t.path() + "/site/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(ScanError(t.path() + "/site").message(),
            fifo + ": not a regular file or folder; cannot be served");
}

TEST(Scan, NonAsciiAndPunctuationNamesAreFine) {
  TempDir t;
  for (const char* name : {"with space.txt", "q\"uote.txt", "back\\slash.txt", "\xE6\x97\xA5.txt",
                           "per%cent.txt", "que?ry.txt", "ha#sh.txt", "em\xF0\x9F\x98\x80.txt"}) {
    t.Write(std::string("site/") + name);
  }
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/site", {});
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(scan->files.size(), 8u);
}

TEST(Scan, TenThousandFiles) {
  TempDir t;
  for (int i = 0; i < 10000; ++i) {
    t.Write("site/d" + std::to_string(i % 50) + "/f" + std::to_string(i) + ".txt",
            std::to_string(i));
  }
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/site", {});
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(scan->files.size(), 10000u);
  EXPECT_EQ(scan->watched.size(), 52u);  // 50 folders, the folder itself and its parent
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(scan->files);
  ASSERT_TRUE(hashed.ok());
  EXPECT_EQ((*hashed)[0].content, "0");
}

TEST(ScanDeathTest, UnreadableFileAndFolder) {
  GTEST_FLAG_SET(death_test_style, "fast");
  TempDir t;
  const std::string file = t.Write("site/secret.css", "x");
  ::chmod(file.c_str(), 0);
  EXPECT_EXIT(
      {
        DropFileReadOverride();
        absl::StatusOr<ScanResult> scan = Scan(t.path() + "/site", {});
        absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(scan->files);
        std::fprintf(stderr, "%s\n", std::string(hashed.status().message()).c_str());
        std::exit(hashed.ok() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), file + ": cannot open: Permission denied");
  ::chmod(file.c_str(), 0644);
  const std::string dir = t.Mkdir("site/locked");
  ::chmod(dir.c_str(), 0);
  EXPECT_EXIT(
      {
        DropFileReadOverride();
        absl::Status s = ScanError(t.path() + "/site");
        std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
        std::exit(s.ok() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), dir + ": cannot read folder: Permission denied");
}

}  // namespace
}  // namespace kv_assets::gen
