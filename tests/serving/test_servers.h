// The serving components, started in-process on 127.0.0.1 with a free port, for the tests in
// tests/serving that run every rule through each of them. Each server has the home page a
// program would have beside its assets ("/" answers "home\n", text/html, no-cache; any other
// target outside the assets is a 404 of the program's own), and stops when it goes out of
// scope, bounded in time.
//
// Kinds:
//   "beast"           kv_assets::beast::AssetServer, two threads on its io_context
//   "beast_sendfile"  the same with sendfile(2) for every body, loopback included
//   "httplib"         httplib::Server with kv_assets::httplib::Mount and a route for "/"
//
// Example:
//   std::unique_ptr<TestServer> server = StartTestServer("httplib", assets);
//   Exchange e = SendOverHttp(server->port(), "GET", "/static/css/site.css", {});
//
// ServingTest is the fixture of the tests parameterised over the kinds; RunningAssetServer
// is an AssetServer with a fallback of the test's own.

#ifndef KV_ASSETS_TESTS_SERVING_TEST_SERVERS_H_
#define KV_ASSETS_TESTS_SERVING_TEST_SERVERS_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kv_assets/beast_server.h"
#include "kv_assets/server.h"
#include "kv_assets/source.h"

namespace kv_assets_test {

inline constexpr std::string_view kHomePage = "home\n";

class TestServer {
 public:
  virtual ~TestServer() = default;
  virtual std::uint16_t port() const = 0;
};

struct TestServerOptions {
  // AssetServerOptions::idle_timeout, and cpp-httplib's read, write and keep-alive timeouts.
  std::chrono::seconds idle_timeout{5};
};

// One of the kinds above, listening; a test failure (and nullptr) if it cannot start.
std::unique_ptr<TestServer> StartTestServer(std::string_view kind, const kv_assets::Server& assets,
                                            TestServerOptions options = {});
// The same over another source of answers (KvAssets::live's LiveServer).
std::unique_ptr<TestServer> StartTestServer(std::string_view kind,
                                            const kv_assets::AssetSource& assets,
                                            TestServerOptions options = {});

// Every kind, for INSTANTIATE_TEST_SUITE_P.
std::vector<std::string> TestServerKinds();

// An AssetServer on 127.0.0.1 with a free port, run by two threads on an io_context of its
// own. Going out of scope stops it and waits for io.run() to return (a test failure after
// 15 s).
class RunningAssetServer : public TestServer {
 public:
  RunningAssetServer(const kv_assets::Server& assets, kv_assets::beast::Fallback fallback,
                     kv_assets::beast::AssetServerOptions options = {});
  RunningAssetServer(const kv_assets::AssetSource& assets, kv_assets::beast::Fallback fallback,
                     kv_assets::beast::AssetServerOptions options = {});
  ~RunningAssetServer() override;
  std::uint16_t port() const override;
  kv_assets::beast::AssetServer& server() { return server_; }

  // Whether io.run() has returned on every thread, waiting at most `limit`.
  bool WaitForRunToReturn(std::chrono::milliseconds limit);

 private:
  void Run();
  boost::asio::io_context io_;
  kv_assets::beast::AssetServer server_;
  std::atomic<int> finished_{0};
  std::vector<std::thread> threads_;
};

// The fixture of tests parameterised over TestServerKinds(): SetUp() starts that kind on
// the manifest given to the constructor.
class ServingTest : public ::testing::TestWithParam<std::string> {
 protected:
  explicit ServingTest(const kv_assets::Manifest& manifest) : assets_(manifest) {}
  void SetUp() override { Start(assets_); }

  // Replaces the server with one of the same kind on `assets` (which must outlive it).
  void Start(const kv_assets::Server& assets);
  std::uint16_t port() const { return server_->port(); }

  const kv_assets::Server assets_;
  std::unique_ptr<TestServer> server_;
};

}  // namespace kv_assets_test

#endif  // KV_ASSETS_TESTS_SERVING_TEST_SERVERS_H_
