// Starts kv-assets-example on a free port and checks, over real HTTP, what browsers and caches
// see: the home page and its tagged links, the caching headers of tagged and untagged URLs,
// conditional requests, HEAD, methods, path traversal, keep-alive and a clean shutdown.
//
// Every wait is bounded (kTimeout) and the server is killed when a test ends, however it ends;
// on Linux it also dies with the test process.

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

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using HttpResponse = http::response<http::string_body>;
using Fields = std::initializer_list<std::pair<http::field, std::string_view>>;

constexpr std::chrono::seconds kTimeout(10);
constexpr std::string_view kTaggedCacheControl = "public, max-age=31536000, immutable";
constexpr std::string_view kUntaggedCacheControl = "public, max-age=60";

// The files in public/, with what the server must say about them.
struct AssetCase {
  std::string_view path;  // under public/ and /static/
  std::string_view stem;  // the path up to the tag
  std::string_view extension;
  std::string_view content_type;
};
constexpr AssetCase kAssets[] = {
    {"css/site.css", "css/site", "css", "text/css; charset=utf-8"},
    {"js/app.js", "js/app", "js", "text/javascript; charset=utf-8"},
    {"img/logo.svg", "img/logo", "svg", "image/svg+xml"},
    {"favicon.ico", "favicon", "ico", "image/x-icon"},
};

std::string ReadPublicFile(std::string_view path) {
  std::ifstream in(std::string(KV_ASSETS_EXAMPLE_PUBLIC_DIR) + "/" + std::string(path),
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read public/" << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Field(const HttpResponse& res, http::field name) { return std::string(res[name]); }
std::string Field(const HttpResponse& res, std::string_view name) {
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
  void Start() {
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
      execl(KV_ASSETS_EXAMPLE_BINARY, KV_ASSETS_EXAMPLE_BINARY, "--port=0",
            static_cast<char*>(nullptr));
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

  static void Check(std::string_view what, beast::error_code ec) {
    EXPECT_FALSE(ec) << what << ": " << ec.message();
  }

  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
};

http::request<http::string_body> MakeRequest(http::verb method, std::string_view target,
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
Reply ParseReply(std::string_view raw, bool head) {
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
Reply Fetch(std::uint16_t port, http::verb method, std::string_view target, Fields fields = {}) {
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

// The tagged URL the home page links for `asset`, e.g. "/static/css/site.Ab3dEf9hIj.css".
std::string TaggedUrlIn(const std::string& page, const AssetCase& asset) {
  const std::regex link("\"(/static/" + std::string(asset.stem) + "\\.[A-Za-z0-9_-]+\\." +
                        std::string(asset.extension) + ")\"");
  std::smatch match;
  if (!std::regex_search(page, match, link)) return "";
  return match[1].str();
}

// A server started once per test suite (gtest_discover_tests runs each test in its own
// process, so in practice once per test).
class ExampleServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess;
    server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(server_->port(), 0) << "the example did not start"; }

  static std::uint16_t port() { return server_->port(); }

  static Reply Get(std::string_view target, Fields fields = {}) {
    return Fetch(port(), http::verb::get, target, fields);
  }

  // The tagged URL of `asset`, as the home page links it.
  static std::string TaggedUrl(const AssetCase& asset) {
    const std::string url = TaggedUrlIn(Get("/").response.body(), asset);
    EXPECT_FALSE(url.empty()) << "the home page does not link " << asset.path;
    return url;
  }

  static ServerProcess* server_;
};

ServerProcess* ExampleServer::server_ = nullptr;

TEST(ExampleServerProcess, PrintsItsUrlAndServes) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  EXPECT_EQ(Fetch(server.port(), http::verb::get, "/").response.result_int(), 200);
}

TEST(ExampleServerProcess, ExitsCleanlyOnSigtermWithAnIdleConnectionOpen) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  HttpClient idle(server.port());
  idle.Send(MakeRequest(http::verb::get, "/"));
  EXPECT_EQ(idle.Receive().result_int(), 200);  // the connection stays open: keep-alive
  // Give the server time to finish that response and wait for the next request, so that the
  // signal finds the connection idle (the case that needs the server's help to end).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  const std::optional<int> status = server.SignalAndWait(SIGTERM);
  ASSERT_TRUE(status.has_value()) << "still running " << kTimeout.count() << " s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "wait status " << *status;
  EXPECT_EQ(idle.ReceiveAll(), "");  // closed without another byte
}

TEST(ExampleServerProcess, ExitsCleanlyOnSigint) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  const std::optional<int> status = server.SignalAndWait(SIGINT);
  ASSERT_TRUE(status.has_value()) << "still running " << kTimeout.count() << " s after SIGINT";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "wait status " << *status;
}

TEST_F(ExampleServer, HomePageLinksEveryAssetByItsTaggedUrl) {
  const Reply reply = Get("/");
  const HttpResponse& res = reply.response;
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(Field(res, http::field::content_type), "text/html; charset=utf-8");
  EXPECT_EQ(Field(res, http::field::cache_control), "no-cache");
  EXPECT_EQ(Field(res, http::field::content_length), std::to_string(res.body().size()));
  EXPECT_TRUE(res.body().starts_with("<!doctype html>"));
  for (const AssetCase& asset : kAssets) {
    const std::string url = TaggedUrlIn(res.body(), asset);
    EXPECT_FALSE(url.empty()) << "no tagged link to " << asset.path << " in:\n" << res.body();
  }
  EXPECT_EQ(Get("/?utm_source=test").response.result_int(), 200);
}

TEST_F(ExampleServer, AnythingElseIsNotFound) {
  for (const std::string_view target :
       {"/index.html", "/missing", "//", "/static", "/static/", "/static/css/", "/css/site.css"}) {
    const Reply reply = Get(target);
    EXPECT_EQ(reply.response.result_int(), 404) << target;
    EXPECT_EQ(Field(reply.response, http::field::content_type), "text/plain; charset=utf-8")
        << target;
    EXPECT_EQ(reply.response.body(), "404 Not Found\n") << target;
  }
}

TEST_F(ExampleServer, TaggedUrlServesTheFileForAYear) {
  for (const AssetCase& asset : kAssets) {
    SCOPED_TRACE(asset.path);
    const std::string url = TaggedUrl(asset);
    const Reply reply = Get(url);
    const HttpResponse& res = reply.response;
    const std::string file = ReadPublicFile(asset.path);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(Field(res, http::field::cache_control), kTaggedCacheControl);
    EXPECT_EQ(Field(res, http::field::content_type), asset.content_type);
    EXPECT_EQ(Field(res, http::field::content_length), std::to_string(file.size()));
    EXPECT_EQ(res.body(), file);
    EXPECT_EQ(reply.trailing, "");
    // A strong entity-tag (RFC 9110 §8.8.3): quoted, no W/.
    static const std::regex kStrongEtag(R"re("[\x21\x23-\x7E]+")re");
    EXPECT_TRUE(std::regex_match(Field(res, http::field::etag), kStrongEtag))
        << Field(res, http::field::etag);
    // Last-Modified is an HTTP-date no later than Date (§8.8.2.1).
    const auto last_modified = kv_assets::ParseHttpDate(Field(res, http::field::last_modified));
    const auto date = kv_assets::ParseHttpDate(Field(res, http::field::date));
    ASSERT_TRUE(last_modified.has_value()) << Field(res, http::field::last_modified);
    ASSERT_TRUE(date.has_value());
    EXPECT_LE(*last_modified, *date);
    EXPECT_EQ(Field(res, "X-Content-Type-Options"), "nosniff");
  }
}

TEST_F(ExampleServer, UntaggedUrlServesTheSameFileForAMinute) {
  for (const AssetCase& asset : kAssets) {
    SCOPED_TRACE(asset.path);
    const HttpResponse tagged = Get(TaggedUrl(asset)).response;
    const Reply reply = Get("/static/" + std::string(asset.path));
    const HttpResponse& res = reply.response;
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(Field(res, http::field::cache_control), kUntaggedCacheControl);
    EXPECT_EQ(Field(res, http::field::content_type), asset.content_type);
    EXPECT_EQ(Field(res, http::field::etag), Field(tagged, http::field::etag));
    EXPECT_EQ(res.body(), ReadPublicFile(asset.path));
  }
}

// RFC 9110 §13.1.2 (weak comparison) and §15.4.5 (what a 304 carries).
TEST_F(ExampleServer, IfNoneMatchWithTheEtagIsNotModified) {
  const AssetCase& asset = kAssets[0];
  const std::string url = TaggedUrl(asset);
  const HttpResponse full = Get(url).response;
  const std::string etag = Field(full, http::field::etag);
  ASSERT_FALSE(etag.empty());

  struct Case {
    http::verb method;
    std::string target;
    std::string if_none_match;
    std::string_view cache_control;
  };
  const Case cases[] = {
      {http::verb::get, url, etag, kTaggedCacheControl},
      {http::verb::get, url, "W/" + etag, kTaggedCacheControl},
      {http::verb::get, url, "\"nope\", " + etag, kTaggedCacheControl},
      {http::verb::get, url, "*", kTaggedCacheControl},
      {http::verb::head, url, etag, kTaggedCacheControl},
      {http::verb::get, "/static/" + std::string(asset.path), etag, kUntaggedCacheControl},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(http::to_string(c.method)) + " " + c.target +
                 ", If-None-Match: " + c.if_none_match);
    const Reply reply =
        Fetch(port(), c.method, c.target, {{http::field::if_none_match, c.if_none_match}});
    const HttpResponse& res = reply.response;
    EXPECT_EQ(res.result_int(), 304);
    EXPECT_EQ(Field(res, http::field::etag), etag);
    EXPECT_EQ(Field(res, http::field::cache_control), c.cache_control);
    EXPECT_EQ(Field(res, http::field::last_modified), Field(full, http::field::last_modified));
    EXPECT_EQ(res.count(http::field::content_length), 0u);
    EXPECT_EQ(res.count(http::field::content_type), 0u);
    EXPECT_EQ(res.body(), "");
    EXPECT_EQ(reply.trailing, "");
  }
}

// RFC 9110 §5.3: a field sent on several lines is one comma-separated list, whichever line
// holds the match.
TEST_F(ExampleServer, IfNoneMatchOnSeveralLinesIsOneList) {
  const std::string url = TaggedUrl(kAssets[0]);
  const std::string etag = Field(Get(url).response, http::field::etag);
  EXPECT_EQ(Get(url, {{http::field::if_none_match, etag}, {http::field::if_none_match, "\"x\""}})
                .response.result_int(),
            304);
  EXPECT_EQ(Get(url, {{http::field::if_none_match, "\"x\""}, {http::field::if_none_match, etag}})
                .response.result_int(),
            304);
}

TEST_F(ExampleServer, IfNoneMatchWithAnotherTagServesTheFile) {
  const std::string url = TaggedUrl(kAssets[0]);
  const HttpResponse full = Get(url).response;
  // If-None-Match decides alone, even when If-Modified-Since would say 304 (§13.1.3).
  const Reply reply =
      Get(url, {{http::field::if_none_match, "\"other\""},
                {http::field::if_modified_since, Field(full, http::field::last_modified)}});
  EXPECT_EQ(reply.response.result_int(), 200);
  EXPECT_EQ(reply.response.body(), ReadPublicFile(kAssets[0].path));
}

TEST_F(ExampleServer, IfModifiedSinceLastModifiedIsNotModified) {
  const std::string url = TaggedUrl(kAssets[0]);
  const HttpResponse full = Get(url).response;
  const std::string last_modified = Field(full, http::field::last_modified);
  const std::optional<std::int64_t> lm = kv_assets::ParseHttpDate(last_modified);
  ASSERT_TRUE(lm.has_value()) << last_modified;

  const Reply same = Get(url, {{http::field::if_modified_since, last_modified}});
  EXPECT_EQ(same.response.result_int(), 304);
  EXPECT_EQ(Field(same.response, http::field::etag), Field(full, http::field::etag));
  EXPECT_EQ(same.response.count(http::field::content_length), 0u);
  EXPECT_EQ(same.trailing, "");

  const std::string earlier = kv_assets::FormatHttpDate(*lm - 86400);
  EXPECT_EQ(Get(url, {{http::field::if_modified_since, earlier}}).response.result_int(), 200);
  EXPECT_EQ(Get(url, {{http::field::if_modified_since, "yesterday"}}).response.result_int(), 200);
}

// §13.1.3: an If-Modified-Since with more than one member is ignored; two lines are two members.
TEST_F(ExampleServer, IfModifiedSinceSentTwiceIsIgnored) {
  const std::string url = TaggedUrl(kAssets[0]);
  const std::string last_modified = Field(Get(url).response, http::field::last_modified);
  const Reply reply = Get(url, {{http::field::if_modified_since, last_modified},
                                {http::field::if_modified_since, last_modified}});
  EXPECT_EQ(reply.response.result_int(), 200);
}

TEST_F(ExampleServer, StaleTagIsNotFound) {
  const std::string url = TaggedUrl(kAssets[0]);  // "/static/css/site.<tag>.css"
  const std::size_t tag_start = url.find('.') + 1;
  std::string stale = url;
  stale[tag_start] = stale[tag_start] == 'A' ? 'B' : 'A';  // same shape, another tag
  const Reply reply = Get(stale);
  EXPECT_EQ(reply.response.result_int(), 404) << stale;
  EXPECT_EQ(Field(reply.response, http::field::cache_control), "no-store");
}

// §15.5.6: a 405 names the methods that would work.
TEST_F(ExampleServer, OtherMethodsAreNotAllowed) {
  const std::string url = TaggedUrl(kAssets[0]);
  for (const http::verb method : {http::verb::post, http::verb::put, http::verb::delete_}) {
    for (const std::string& target : {url, std::string("/")}) {
      SCOPED_TRACE(std::string(http::to_string(method)) + " " + target);
      http::request<http::string_body> req = MakeRequest(method, target);
      req.keep_alive(false);
      req.body() = "name=value";
      HttpClient client(port());
      client.Send(std::move(req));
      const Reply reply = ParseReply(client.ReceiveAll(), false);
      EXPECT_EQ(reply.response.result_int(), 405);
      EXPECT_EQ(Field(reply.response, http::field::allow), "GET, HEAD");
      EXPECT_FALSE(Field(reply.response, http::field::date).empty());
    }
  }
}

// §9.3.2: HEAD gets the fields GET would, with GET's Content-Length, and no content.
TEST_F(ExampleServer, HeadHasTheHeadersOfGetAndNoBody) {
  std::vector<std::string> targets = {"/"};
  for (const AssetCase& asset : kAssets) {
    targets.push_back(TaggedUrl(asset));
    targets.push_back("/static/" + std::string(asset.path));
  }
  const auto without_date = [](const HttpResponse& res) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& field : res) {
      if (field.name() != http::field::date) {
        fields.emplace_back(field.name_string(), field.value());
      }
    }
    return fields;
  };
  for (const std::string& target : targets) {
    SCOPED_TRACE(target);
    const Reply get = Get(target);
    const Reply head = Fetch(port(), http::verb::head, target);
    EXPECT_EQ(head.response.result_int(), get.response.result_int());
    EXPECT_EQ(without_date(head.response), without_date(get.response));
    EXPECT_EQ(Field(head.response, http::field::content_length),
              std::to_string(get.response.body().size()));
    EXPECT_EQ(head.trailing, "");  // no body, although Content-Length is not 0
  }
}

// Neither the raw nor the percent-encoded form of ".." reaches outside public/.
TEST_F(ExampleServer, PathTraversalIsRejected) {
  for (const std::string_view target : {
           "/static/../CMakeLists.txt",
           "/static/%2e%2e/CMakeLists.txt",
           "/static/%2E%2E/CMakeLists.txt",
           "/static/.%2e/CMakeLists.txt",
           "/static/css/..%2f..%2fCMakeLists.txt",
           "/static/%2e%2e%2fCMakeLists.txt",
           "/static/..%5cCMakeLists.txt",
           "/static/%252e%252e/CMakeLists.txt",
           "/static/css/../../CMakeLists.txt",
           "/../CMakeLists.txt",
           "/static/../main.cc",
       }) {
    const Reply reply = Get(target);
    const int status = reply.response.result_int();
    EXPECT_TRUE(status == 400 || status == 404) << target << " -> " << status;
    EXPECT_EQ(reply.response.body().find("cmake_minimum_required"), std::string::npos) << target;
    EXPECT_EQ(reply.response.body().find("#include"), std::string::npos) << target;
  }
}

TEST_F(ExampleServer, MalformedRequestIsBadRequestWithoutDetails) {
  HttpClient client(port());
  client.SendRaw("GET /static/css/site.css HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  const Reply reply = ParseReply(client.ReceiveAll(), false);
  EXPECT_EQ(reply.response.result_int(), 400);
  EXPECT_EQ(reply.response.body(), "400 Bad Request\n");
  EXPECT_TRUE(kv_assets::ParseHttpDate(Field(reply.response, http::field::date)).has_value());
}

TEST_F(ExampleServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  const AssetCase& asset = kAssets[0];
  const std::string url = TaggedUrl(asset);
  const std::string file = ReadPublicFile(asset.path);
  HttpClient client(port());

  client.Send(MakeRequest(http::verb::get, url));
  const HttpResponse first = client.Receive();
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), file);
  EXPECT_TRUE(first.keep_alive());

  // A HEAD body or a 304 body would corrupt the responses after it.
  client.Send(MakeRequest(http::verb::head, url));
  EXPECT_EQ(client.Receive(/*head=*/true).result_int(), 200);
  client.Send(MakeRequest(http::verb::get, url,
                          {{http::field::if_none_match, Field(first, http::field::etag)}}));
  EXPECT_EQ(client.Receive().result_int(), 304);
  client.Send(MakeRequest(http::verb::get, "/missing"));
  EXPECT_EQ(client.Receive().result_int(), 404);
  client.Send(MakeRequest(http::verb::get, url));
  const HttpResponse last = client.Receive();
  EXPECT_EQ(last.result_int(), 200);
  EXPECT_EQ(last.body(), file);
}

TEST_F(ExampleServer, ServesAnotherClientWhileOneIsIdle) {
  HttpClient idle(port());  // connected, has sent nothing yet
  EXPECT_EQ(Get("/").response.result_int(), 200);
  idle.Send(MakeRequest(http::verb::get, "/"));
  EXPECT_EQ(idle.Receive().result_int(), 200);
}

}  // namespace
