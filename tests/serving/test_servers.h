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

#ifndef KV_ASSETS_TESTS_SERVING_TEST_SERVERS_H_
#define KV_ASSETS_TESTS_SERVING_TEST_SERVERS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kv_assets/server.h"

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

// Every kind, for INSTANTIATE_TEST_SUITE_P.
std::vector<std::string> TestServerKinds();

}  // namespace kv_assets_test

#endif  // KV_ASSETS_TESTS_SERVING_TEST_SERVERS_H_
