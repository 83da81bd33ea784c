// Generator faults: the folder changing under the scan, a disk that fills up while the outputs
// are written, and a run that dies between two outputs. Each must end in an error that names
// the file (or a run that was never half done), with the previous outputs intact and
// consistent: a header, source and blob that belong together.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "generator/emit.h"
#include "generator/file_util.h"
#include "generator/hash.h"
#include "generator/scan.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::DropFileReadOverride;
using ::kv_assets::test_util::ReadAll;
using ::kv_assets::test_util::TempDir;

// ---------------------------------------------------------------------------------------------
// The folder changes mid-scan.

absl::Status ScanAndHash(const std::string& root, ScanOptions options) {
  absl::StatusOr<ScanResult> scan = Scan(root, options);
  if (!scan.ok()) return scan.status();
  return HashFiles(scan->files).status();
}

TEST(Faults, FileDeletedMidScan) {
  TempDir t;
  t.Write("site/a.css");
  const std::string doomed = t.Write("site/b.css");
  t.Write("site/c.css");
  ScanOptions options;
  options.before_entry_for_testing = [&](const std::string& path) {
    if (path == doomed) std::filesystem::remove(path);
  };
  const absl::Status s = ScanAndHash(t.path() + "/site", options);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), doomed + ": removed during the scan");
}

TEST(Faults, FolderDeletedMidScan) {
  TempDir t;
  const std::string doomed = t.Mkdir("site/sub");
  t.Write("site/sub/a.css");
  ScanOptions options;
  options.before_entry_for_testing = [&](const std::string& path) {
    if (path == doomed) std::filesystem::remove_all(path);
  };
  EXPECT_EQ(ScanAndHash(t.path() + "/site", options).message(),
            doomed + ": removed during the scan");
}

TEST(Faults, FileDeletedBetweenScanAndHash) {
  TempDir t;
  const std::string doomed = t.Write("site/a.css");
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/site", {});
  ASSERT_TRUE(scan.ok()) << scan.status();
  std::filesystem::remove(doomed);
  EXPECT_EQ(HashFiles(scan->files).status().message(),
            doomed + ": cannot open: No such file or directory");
}

// For a death test's child: it drops root's power to read anything, which this process must
// keep. Scans and hashes `site`, locking `locked` (mode 0) just before the scan reaches it;
// prints the error and exits 0 when there is one, 1 when the scan succeeds.
[[noreturn]] void ScanLockingMidway(const std::string& site, const std::string& locked) {
  DropFileReadOverride();
  ScanOptions options;
  options.before_entry_for_testing = [&](const std::string& path) {
    if (path == locked) ::chmod(locked.c_str(), 0);
  };
  const absl::Status s = ScanAndHash(site, options);
  std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
  std::exit(s.ok() ? 1 : 0);
}

TEST(FaultsDeathTest, FileAndFolderMadeUnreadableMidScan) {
  GTEST_FLAG_SET(death_test_style, "fast");
  TempDir t;
  const std::string file = t.Write("site/a.css");
  const std::string dir = t.Mkdir("site/sub");
  t.Write("site/sub/b.css");
  // A folder locked just before the scan opens it.
  EXPECT_EXIT(ScanLockingMidway(t.path() + "/site", dir), ::testing::ExitedWithCode(0),
              dir + ": cannot read folder: Permission denied");
  ::chmod(dir.c_str(), 0755);
  // A file locked after the scan saw it, before it is read.
  EXPECT_EXIT(ScanLockingMidway(t.path() + "/site", file), ::testing::ExitedWithCode(0),
              file + ": cannot open: Permission denied");
  ::chmod(file.c_str(), 0644);
}

// ---------------------------------------------------------------------------------------------
// Writing the outputs fails, or the run dies, at each step.

struct Generation {
  GeneratedFiles files;
  EmitOptions options;
};

// One generation of `site` into `out`, with a depfile.
Generation Generate(const TempDir& t, const std::string& out, BodyMode bodies = BodyMode::kIncbin) {
  Generation run;
  run.options.out_dir = out;
  run.options.name = "a";
  run.options.cpp_namespace = "a";
  run.options.prefix = "/s/";
  run.options.bodies = bodies;
  run.options.depfile = out + "/a.d";
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/site", {});
  EXPECT_TRUE(scan.ok()) << scan.status();
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(scan->files);
  EXPECT_TRUE(hashed.ok()) << hashed.status();
  absl::StatusOr<GeneratedFiles> files = Emit(*hashed, scan->watched, run.options);
  EXPECT_TRUE(files.ok()) << files.status();
  run.files = *files;
  return run;
}

// Every file in `dir` by name, with its content.
std::map<std::string, std::string> Contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out[e.path().filename().string()] = ReadAll(e.path().string());
  }
  return out;
}

std::string Find(const std::string& text, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(pattern)) ? m[1].str() : "";
}

// What the compiler and linker would make of `dir`: the blob symbol the header declares, the
// one the source defines, and the bytes the source's .incbin reads (empty when absent).
struct Build {
  std::string header_symbol, source_symbol, blob_file, blob;
  bool blob_exists = false;
};

Build WhatABuildSees(const std::string& dir) {
  Build b;
  const std::string header = ReadAll(dir + "/a.h");
  const std::string source = ReadAll(dir + "/a.cc");
  b.header_symbol = Find(header, "extern \"C\" const char (kv_assets_blob_\\w+)\\[");
  b.source_symbol = Find(source, "\\.global (kv_assets_blob_\\w+)");
  b.blob_file = Find(source, "\\.incbin \\\\\"([^\\\\]+)\\\\\"");
  b.blob_exists = std::filesystem::exists(b.blob_file);
  b.blob = ReadAll(b.blob_file);
  return b;
}

// The outputs in `dir` either fail to link (the header and source name different symbols),
// or are exactly one of `runs`: its header, its source and its blob's bytes. Never a header
// and source that link but read other bytes.
void ExpectNeverConsistentButWrong(const std::string& dir,
                                   const std::vector<const Generation*>& runs,
                                   const std::string& when) {
  const Build b = WhatABuildSees(dir);
  if (b.header_symbol != b.source_symbol) return;  // a link error: the build says so
  for (const Generation* run : runs) {
    if (ReadAll(dir + "/a.h") == run->files.header && ReadAll(dir + "/a.cc") == run->files.source) {
      EXPECT_TRUE(b.blob_exists) << when;
      EXPECT_EQ(b.blob, run->files.blob) << when;
      return;
    }
  }
  ADD_FAILURE() << when << ": header and source link together but belong to no run";
}

struct FaultPoint {
  std::string step;
  std::string file_suffix;  // ".bin", ".cc", ".h", ".d"
};
FaultPoint g_fault;
int g_fault_errno = ENOSPC;

int InjectAtFaultPoint(std::string_view step, const std::string& path) {
  return step == g_fault.step && path.ends_with(g_fault.file_suffix) ? g_fault_errno : 0;
}

std::vector<FaultPoint> AllFaultPoints() {
  std::vector<FaultPoint> points;
  for (const char* step : {"create", "write", "fsync", "rename"}) {
    for (const char* file : {".bin", ".cc", ".h", ".manifest.json", ".d"})
      points.push_back({step, file});
  }
  return points;
}

TEST(Faults, DiskFullAtAnyStepLeavesThePreviousOutputs) {
  TempDir t;
  t.Write("site/a.css", "old a");
  t.Write("site/b.js", "old b");
  const std::string out = t.Mkdir("out");
  const Generation old_run = Generate(t, out);
  ASSERT_TRUE(WriteOutputs(old_run.files, old_run.options).ok());
  const std::map<std::string, std::string> before = Contents(out);
  ASSERT_EQ(before.size(), 5u);  // a.h, a.cc, a.<fingerprint>.bin, a.manifest.json, a.d
  t.Write("site/a.css", "new a, longer");
  t.Write("site/c.css", "new c");
  const Generation new_run = Generate(t, out);
  ASSERT_NE(new_run.files.blob_name, old_run.files.blob_name);

  for (const FaultPoint& point : AllFaultPoints()) {
    const std::string when = "ENOSPC at " + point.step + " of a" + point.file_suffix;
    g_fault = point;
    internal::SetWriteFaultForTesting(&InjectAtFaultPoint);
    const absl::Status s = WriteOutputs(new_run.files, new_run.options);
    internal::SetWriteFaultForTesting(nullptr);
    const std::string target = point.file_suffix == ".bin" ? out + "/" + new_run.files.blob_name
                                                           : out + "/a" + point.file_suffix;
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << when;
    EXPECT_EQ(s.message(), target + ": cannot write: No space left on device") << when;
    EXPECT_EQ(Contents(out), before) << when << ": outputs changed, or temporary files left";
    ExpectNeverConsistentButWrong(out, {&old_run}, when);
  }
  // With room again, the new outputs arrive and the old blob goes.
  ASSERT_TRUE(WriteOutputs(new_run.files, new_run.options).ok());
  const std::map<std::string, std::string> after = Contents(out);
  EXPECT_EQ(after.size(), 5u);
  EXPECT_EQ(after.count(old_run.files.blob_name), 0u);
  EXPECT_EQ(after.at(new_run.files.blob_name), new_run.files.blob);
  ExpectNeverConsistentButWrong(out, {&new_run}, "after the faults");
  EXPECT_EQ(WhatABuildSees(out).header_symbol, WhatABuildSees(out).source_symbol);
}

TEST(Faults, DiskFullWithLiteralBodies) {
  TempDir t;
  t.Write("site/a.css", "old");
  const std::string out = t.Mkdir("out");
  const Generation old_run = Generate(t, out, BodyMode::kLiteral);
  ASSERT_TRUE(WriteOutputs(old_run.files, old_run.options).ok());
  const std::map<std::string, std::string> before = Contents(out);
  t.Write("site/a.css", "new");
  t.Write("site/b.css", "new");  // the depfile changes too
  const Generation new_run = Generate(t, out, BodyMode::kLiteral);
  for (const FaultPoint& point : AllFaultPoints()) {
    if (point.file_suffix == ".bin") continue;
    g_fault = point;
    internal::SetWriteFaultForTesting(&InjectAtFaultPoint);
    EXPECT_FALSE(WriteOutputs(new_run.files, new_run.options).ok());
    internal::SetWriteFaultForTesting(nullptr);
    EXPECT_EQ(Contents(out), before) << point.step << " " << point.file_suffix;
  }
}

// A crash: the process dies at the fault point, with no chance to clean up or roll back.
int DieAtFaultPoint(std::string_view step, const std::string& path) {
  if (step == g_fault.step && path.ends_with(g_fault.file_suffix)) ::_exit(3);
  return 0;
}

TEST(Faults, KilledAtAnyStepNeverLeavesAConsistentButWrongSet) {
  for (const FaultPoint& point : AllFaultPoints()) {
    const std::string when = "killed at " + point.step + " of a" + point.file_suffix;
    TempDir t;
    t.Write("site/a.css", "old a");
    t.Write("site/b.js", "old b");
    const std::string out = t.Mkdir("out");
    const Generation old_run = Generate(t, out);
    ASSERT_TRUE(WriteOutputs(old_run.files, old_run.options).ok());
    // Same size, other bytes: only the content tells the blobs apart.
    t.Write("site/a.css", "new a");
    const Generation new_run = Generate(t, out);

    g_fault = point;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      internal::SetWriteFaultForTesting(&DieAtFaultPoint);
      (void)WriteOutputs(new_run.files, new_run.options);
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << when;
    EXPECT_EQ(WEXITSTATUS(status), 3) << when << ": the fault point was never reached";
    ExpectNeverConsistentButWrong(out, {&old_run, &new_run}, when);

    // The next build runs the generator again, and all is well.
    ASSERT_TRUE(WriteOutputs(new_run.files, new_run.options).ok()) << when;
    ExpectNeverConsistentButWrong(out, {&new_run}, when + ", then run again");
    EXPECT_EQ(ReadAll(out + "/a.h"), new_run.files.header) << when;
    for (const auto& [name, content] : Contents(out)) {
      EXPECT_EQ(name.find(".tmp"), std::string::npos) << when << ": " << name;
      EXPECT_EQ(name.find(".old"), std::string::npos) << when << ": " << name;
    }
  }
}

// The renames themselves fail midway (say the disk went read-only): the ones already done are
// undone.
TEST(Faults, FailedRenameMidwayIsUndone) {
  TempDir t;
  t.Write("site/a.css", "old");
  const std::string out = t.Mkdir("out");
  const Generation old_run = Generate(t, out);
  ASSERT_TRUE(WriteOutputs(old_run.files, old_run.options).ok());
  const std::map<std::string, std::string> before = Contents(out);
  t.Write("site/a.css", "new");
  const Generation new_run = Generate(t, out);
  g_fault = {"rename", ".d"};  // the last one, after the blob, source and header
  g_fault_errno = EROFS;
  internal::SetWriteFaultForTesting(&InjectAtFaultPoint);
  const absl::Status s = WriteOutputs(new_run.files, new_run.options);
  internal::SetWriteFaultForTesting(nullptr);
  g_fault_errno = ENOSPC;
  EXPECT_EQ(s.message(), out + "/a.d: cannot write: Read-only file system");
  EXPECT_EQ(Contents(out), before);
}

}  // namespace
}  // namespace kv_assets::gen
