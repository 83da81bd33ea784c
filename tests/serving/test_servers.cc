#include "test_servers.h"

#include <httplib.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "kv_assets/beast_server.h"
#include "kv_assets/httplib.h"

namespace kv_assets_test {
namespace {

namespace http = boost::beast::http;

// How long a stopping server may take to let its last connection go.
constexpr std::chrono::seconds kStopTimeout(15);

http::response<http::string_body> HomePage(const http::request<http::string_body>& req) {
  if (req.target() != "/") {
    http::response<http::string_body> res(http::status::not_found, req.version());
    res.body() = "404 Not Found\n";  // the text KvAssets uses, so tests allow one
    return res;
  }
  http::response<http::string_body> res(http::status::ok, req.version());
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  res.body() = std::string(kHomePage);
  return res;
}

// cpp-httplib configured as a program serving many keep-alive clients would be: a pool
// larger than its default of 8 threads (each open connection holds one) and no cap of 5
// requests per connection. Mount() itself changes neither.
class HttplibServer : public TestServer {
 public:
  // `Assets`: a kv_assets::Server or a kv_assets::AssetSource, each Mount()'s overload.
  template <typename Assets>
  HttplibServer(const Assets& assets, TestServerOptions options) {
    svr_.new_task_queue = [] { return new ::httplib::ThreadPool(64); };
    svr_.set_keep_alive_max_count(1000000);
    svr_.set_keep_alive_timeout(options.idle_timeout.count());
    svr_.set_read_timeout(options.idle_timeout.count(), 0);
    svr_.set_write_timeout(options.idle_timeout.count(), 0);
    kv_assets::httplib::Mount(svr_, assets);
    svr_.Get("/", [](const ::httplib::Request&, ::httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(kHomePage), "text/html; charset=utf-8");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    EXPECT_GT(port_, 0) << "cpp-httplib cannot listen on 127.0.0.1";
    if (port_ <= 0) return;
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    // stop() does nothing to a server that is not running yet, so wait until it is.
    const auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
    while (!svr_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(svr_.is_running()) << "cpp-httplib did not start listening";
  }
  ~HttplibServer() override {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const override { return static_cast<std::uint16_t>(port_); }

 private:
  ::httplib::Server svr_;
  int port_ = -1;
  std::thread thread_;
};

}  // namespace

template <typename Assets>
std::unique_ptr<TestServer> StartKind(std::string_view kind, const Assets& assets,
                                      TestServerOptions options) {
  if (kind == "beast" || kind == "beast_sendfile") {
    kv_assets::beast::AssetServerOptions beast;
    beast.idle_timeout = options.idle_timeout;
    if (kind == "beast_sendfile") {
      beast.sendfile_min = 1;
      beast.sendfile_to_loopback = true;
    }
    return std::make_unique<RunningAssetServer>(assets, HomePage, beast);
  }
  if (kind == "httplib") return std::make_unique<HttplibServer>(assets, options);
  ADD_FAILURE() << "no test server of kind " << kind;
  return nullptr;
}

std::unique_ptr<TestServer> StartTestServer(std::string_view kind, const kv_assets::Server& assets,
                                            TestServerOptions options) {
  return StartKind(kind, assets, options);
}

std::unique_ptr<TestServer> StartTestServer(std::string_view kind,
                                            const kv_assets::AssetSource& assets,
                                            TestServerOptions options) {
  return StartKind(kind, assets, options);
}

std::vector<std::string> TestServerKinds() { return {"beast", "beast_sendfile", "httplib"}; }

RunningAssetServer::RunningAssetServer(const kv_assets::Server& assets,
                                       kv_assets::beast::Fallback fallback,
                                       kv_assets::beast::AssetServerOptions options)
    : server_(io_, {boost::asio::ip::address_v4::loopback(), 0}, assets, std::move(fallback),
              options) {
  Run();
}

RunningAssetServer::RunningAssetServer(const kv_assets::AssetSource& assets,
                                       kv_assets::beast::Fallback fallback,
                                       kv_assets::beast::AssetServerOptions options)
    : server_(io_, {boost::asio::ip::address_v4::loopback(), 0}, assets, std::move(fallback),
              options) {
  Run();
}

void RunningAssetServer::Run() {
  for (int i = 0; i < 2; ++i) {
    threads_.emplace_back([this] {
      io_.run();
      ++finished_;
    });
  }
}

RunningAssetServer::~RunningAssetServer() {
  server_.Stop();
  EXPECT_TRUE(WaitForRunToReturn(kStopTimeout))
      << "AssetServer still had work " << kStopTimeout.count() << " s after Stop()";
  io_.stop();
  for (std::thread& t : threads_) t.join();
}

std::uint16_t RunningAssetServer::port() const { return server_.local_endpoint().port(); }

bool RunningAssetServer::WaitForRunToReturn(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (finished_ < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return finished_ == 2;
}

void ServingTest::Start(const kv_assets::Server& assets) {
  server_.reset();  // one server at a time: the old one stops first
  server_ = StartTestServer(GetParam(), assets);
  ASSERT_TRUE(server_ != nullptr && server_->port() != 0) << GetParam() << " did not start";
}

}  // namespace kv_assets_test
