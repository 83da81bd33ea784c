// tests/test_util.h — temporary folders, files and subprocesses for the generator tests.

#ifndef KV_ASSETS_TESTS_TEST_UTIL_H_
#define KV_ASSETS_TESTS_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kv_assets::test_util {

// A fresh folder under $TMPDIR (never inside a git work tree), removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `path()/rel`; creates parent folders and writes `content` there.
  std::string Write(const std::string& rel, const std::string& content = "x") const;
  std::string Mkdir(const std::string& rel) const;

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `argv` with `env` added to the environment, waits at most `timeout_seconds`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {}, const std::string& cwd = "",
                         int timeout_seconds = 60);

// Runs `git <args>` in `dir` as a fixed user, without the system's or the user's own git
// configuration; `date` (seconds since the Unix epoch, UTC), when not 0, is the author and
// committer date of whatever it commits.
CommandResult RunGit(const std::string& dir, const std::vector<std::string>& args,
                     std::int64_t date = 0);

// Sets the modification time of `path` to `seconds` since the Unix epoch.
void SetMtime(const std::string& path, std::int64_t seconds);

}  // namespace kv_assets::test_util

#endif  // KV_ASSETS_TESTS_TEST_UTIL_H_
