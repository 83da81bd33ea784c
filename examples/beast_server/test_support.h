// Test support for the example's tests: start kv-assets-example on a free port, talk HTTP/1.1
// to it with Beast, and parse what comes back byte for byte.
//
// Every wait is bounded (kTimeout) and the server is killed when its ServerProcess goes,
// however the test ends; on Linux it also dies with the test process.
//
// Example:
//   ServerProcess server;
//   ASSERT_NO_FATAL_FAILURE(server.Start());
//   Reply reply = Fetch(server.port(), http::verb::get, "/static/css/site.css",
//                       {{http::field::accept_encoding, "br"}});

#ifndef KV_ASSETS_EXAMPLES_BEAST_SERVER_TEST_SUPPORT_H_
#define KV_ASSETS_EXAMPLES_BEAST_SERVER_TEST_SUPPORT_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kv_assets/beast.h"
#include "kv_assets/http_date.h"

namespace kv_assets_example_test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using HttpResponse = http::response<http::string_body>;
using Fields = std::initializer_list<std::pair<http::field, std::string_view>>;

constexpr std::chrono::seconds kTimeout(10);

// The bytes of public/<path> (KV_ASSETS_EXAMPLE_PUBLIC_DIR), to compare with what is served.
inline std::string ReadPublicFile(std::string_view path) {
  std::ifstream in(std::string(KV_ASSETS_EXAMPLE_PUBLIC_DIR) + "/" + std::string(path),
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read public/" << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string Field(const HttpResponse& res, http::field name) {
  return std::string(res[name]);
}
inline std::string Field(const HttpResponse& res, std::string_view name) {
  return std::string(res[beast::string_view(name.data(), name.size())]);
}

// The running example, started with --port=0. Killed (SIGKILL) on destruction if still alive.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { Kill(); }

  // Starts the example and reads the line naming its URL, waiting at most kTimeout.
  // `extra`: more flags for the example, e.g. "--sendfile-min=1".
  void Start(std::vector<std::string> extra = {}) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0) << std::strerror(errno);
    const pid_t parent = getpid();
    pid_ = fork();
    ASSERT_GE(pid_, 0) << std::strerror(errno);
    if (pid_ == 0) {
#ifdef __linux__
      // However the test process ends (crash, ctest timeout), the server goes with it.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
#endif
      dup2(fds[1], STDOUT_FILENO);
      std::vector<char*> argv = {const_cast<char*>(KV_ASSETS_EXAMPLE_BINARY),
                                 const_cast<char*>("--port=0")};
      for (std::string& flag : extra) argv.push_back(flag.data());
      argv.push_back(nullptr);
      execv(KV_ASSETS_EXAMPLE_BINARY, argv.data());
      _exit(127);
    }
    close(fds[1]);
    stdout_fd_ = fds[0];

    std::string output;
    ASSERT_TRUE(ReadLine(output)) << "no URL line from " << KV_ASSETS_EXAMPLE_BINARY << " within "
                                  << kTimeout.count() << " s; got: " << output;
    static const std::regex kLine(
        R"(kv-assets example: serving on http://127\.0\.0\.1:([0-9]+)/\n)");
    std::smatch match;
    ASSERT_TRUE(std::regex_match(output, match, kLine)) << "stdout: " << output;
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

// One client connection. Each operation runs the client's own io_context until it completes
// or kTimeout passes; failures are reported as test failures, never as a hang.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port) {
    const tcp::endpoint server(net::ip::address_v4::loopback(), port);
    Check("connect", Run([&](auto handler) { stream_.async_connect(server, handler); }));
  }

  void Send(http::request<http::string_body> req) {
    req.prepare_payload();
    Check("write", Run([&](auto handler) { http::async_write(stream_, req, handler); }));
  }

  // From here on, a server that closes the connection while the client still writes, or that
  // resets it after answering, is no failure: it rejected the request before reading it all
  // (a header over its limit, say). What it sent before is still read.
  void AllowEarlyClose() { allow_early_close_ = true; }

  void SendRaw(std::string_view bytes) {
    Check("write", Run([&](auto handler) {
            net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), handler);
          }));
  }

  // Reads one response. `head`: it answers a HEAD request, so it has no body whatever its
  // Content-Length says.
  HttpResponse Receive(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    Check("read", Run([&](auto handler) { http::async_read(stream_, buffer_, parser, handler); }));
    return parser.release();
  }

  // Reads until the server closes the connection; returns every byte it sent.
  std::string ReceiveAll() {
    std::string raw = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    for (;;) {
      char chunk[4096];
      std::size_t n = 0;
      const beast::error_code ec =
          Run([&](auto handler) { stream_.async_read_some(net::buffer(chunk), handler); }, &n);
      raw.append(chunk, n);
      if (ec == net::error::eof) return raw;
      if (ec) {
        Check("read to end", ec);
        return raw;
      }
    }
  }

 private:
  template <class Initiate>
  beast::error_code Run(Initiate initiate, std::size_t* bytes = nullptr) {
    std::optional<beast::error_code> result;
    stream_.expires_after(kTimeout);
    initiate([&result, bytes](beast::error_code ec, std::size_t n = 0) {
      result = ec;
      if (bytes != nullptr) *bytes = n;
    });
    ioc_.restart();
    ioc_.run_for(kTimeout + std::chrono::seconds(1));
    return result.value_or(net::error::timed_out);
  }

  void Check(std::string_view what, beast::error_code ec) const {
    if (allow_early_close_ &&
        (ec == net::error::broken_pipe || ec == net::error::connection_reset)) {
      return;
    }
    EXPECT_FALSE(ec) << what << ": " << ec.message();
  }

  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  bool allow_early_close_ = false;
};

inline http::request<http::string_body> MakeRequest(http::verb method, std::string_view target,
                                                    Fields fields = {}) {
  http::request<http::string_body> req(method, std::string(target), 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : fields) req.insert(name, kv_assets::ToBeastView(value));
  return req;
}

// What one request on its own connection got back.
struct Reply {
  HttpResponse response;
  // Bytes the server sent after the end of the response: always a bug (a body on a 304 or on
  // HEAD, a Content-Length that lies).
  std::string trailing;
};

// Parses `raw` as one response; `head` as for HttpClient::Receive.
inline Reply ParseReply(std::string_view raw, bool head) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.skip(head);
  beast::error_code ec;
  std::size_t used = 0;
  while (!ec && !parser.is_done()) {
    const std::size_t n = parser.put(net::buffer(raw.data() + used, raw.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) {
      ec = {};
      parser.put_eof(ec);  // a body that ends with the connection
      break;
    }
    if (n == 0) break;
  }
  EXPECT_FALSE(ec) << "unparsable response: " << ec.message() << "\n" << raw;
  EXPECT_TRUE(parser.is_done()) << "incomplete response:\n" << raw;
  return Reply{parser.release(), std::string(raw.substr(used))};
}

// Sends one request with "Connection: close" and reads until the server closes, so that
// anything after the response is seen. Every response must carry a valid Date.
inline Reply Fetch(std::uint16_t port, http::verb method, std::string_view target,
                   Fields fields = {}) {
  http::request<http::string_body> req = MakeRequest(method, target, fields);
  req.keep_alive(false);
  HttpClient client(port);
  client.Send(std::move(req));
  Reply reply = ParseReply(client.ReceiveAll(), method == http::verb::head);
  EXPECT_TRUE(kv_assets::ParseHttpDate(Field(reply.response, http::field::date)).has_value())
      << http::to_string(method) << " " << target << ": Date is \""
      << Field(reply.response, http::field::date) << "\"";
  return reply;
}

}  // namespace kv_assets_example_test

#endif  // KV_ASSETS_EXAMPLES_BEAST_SERVER_TEST_SUPPORT_H_
