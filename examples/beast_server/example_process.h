// The example server as a child process, for the example's own tests: started with --port=0,
// its URL line read from stdout, signalled and waited for, and killed (SIGKILL) when its
// ServerProcess goes, however the test ends; on Linux it also dies with the test process.
//
// Example:
//   ServerProcess server;
//   ASSERT_NO_FATAL_FAILURE(server.Start());
//   Reply reply = Fetch(server.port(), http::verb::get, "/");
//   EXPECT_EQ(server.SignalAndWait(SIGTERM), std::optional<int>(0));

#ifndef KV_ASSETS_EXAMPLES_BEAST_SERVER_EXAMPLE_PROCESS_H_
#define KV_ASSETS_EXAMPLES_BEAST_SERVER_EXAMPLE_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "http_client.h"  // tests/serving

namespace kv_assets_test {

// A server as a child process (the example, or `kv-assets serve`), started on a free port.
// Killed (SIGKILL) on destruction if still alive.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { Kill(); }

  // Starts the example and reads the line naming its URL, waiting at most kTimeout.
  // `extra`: more flags for the example, e.g. "--sendfile-min=1".
#ifdef KV_ASSETS_EXAMPLE_BINARY
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {KV_ASSETS_EXAMPLE_BINARY, "--port=0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    StartProcess(std::move(argv),
                 std::regex(R"(kv-assets example: serving on http://127\.0\.0\.1:([0-9]+)/\n)"));
  }
#endif

  // `argv` (argv[0] the binary), listening once it prints a first line matching `line`,
  // whose first group is the port. Its stderr goes to `stderr_path` when one is given.
  void StartProcess(std::vector<std::string> argv, const std::regex& line,
                    const std::string& stderr_path = "") {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0) << std::strerror(errno);
    const pid_t parent = getpid();
    pid_ = fork();
    ASSERT_GE(pid_, 0) << std::strerror(errno);
    if (pid_ == 0) {
#ifdef __linux__
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
#endif
      dup2(fds[1], STDOUT_FILENO);
      if (!stderr_path.empty()) {
        const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (err >= 0) dup2(err, STDERR_FILENO), close(err);
      }
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    stdout_fd_ = fds[0];

    std::string output;
    ASSERT_TRUE(ReadLine(output)) << "no URL line from " << argv[0] << " within "
                                  << kTimeout.count() << " s; got: " << output;
    std::smatch match;
    ASSERT_TRUE(std::regex_match(output, match, line)) << "stdout: " << output;
    port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
    ASSERT_NE(port_, 0);
  }

  std::uint16_t port() const { return port_; }

  // Sends `signal` and waits at most kTimeout for the process to end; returns its wait
  // status, or nullopt if it is still running.
  std::optional<int> SignalAndWait(int signal) {
    if (pid_ <= 0) return std::nullopt;
    kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

 private:
  // Reads stdout up to and including the first '\n' into `out`; false on timeout or EOF.
  // Whatever follows the newline in the same read is kept too, so that a test can see it.
  bool ReadLine(std::string& out) {
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (out.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{stdout_fd_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[256];
      const ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
      if (n <= 0) return false;  // the server exited before saying where it listens
      out.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);  // bounded: SIGKILL cannot be ignored
      pid_ = -1;
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
    stdout_fd_ = -1;
  }

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace kv_assets_test

#endif  // KV_ASSETS_EXAMPLES_BEAST_SERVER_EXAMPLE_PROCESS_H_
