// What kv_assets::beast::AssetServer promises beyond the HTTP rules (kv_assets/beast_server.h):
// the fallback's view of a request and what is made of its answer, the idle timeout, Stop(),
// and a clear error when it cannot listen. The rules themselves run through it in
// conformance_test.cc, hostile_test.cc and connection_test.cc.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "http_client.h"
#include "kv_assets/beast_server.h"
#include "large_assets.h"
#include "public_assets.h"
#include "test_servers.h"

namespace {

namespace ex = kv_assets_test;
namespace http = ex::http;
namespace net = ex::net;
using kv_assets::beast::AssetServer;
using kv_assets::beast::AssetServerOptions;
using kv_assets::beast::Fallback;

using Running = ex::RunningAssetServer;

const kv_assets::Server& Assets() {
  static const kv_assets::Server assets(public_assets::kManifest);
  return assets;
}

http::response<http::string_body> Text(unsigned version, std::string body) {
  http::response<http::string_body> res(http::status::ok, version);
  res.set(http::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

TEST(AssetServer, FallbackSeesAbsoluteFormAsOriginFormWithItsHost) {
  Running running(Assets(), [](const http::request<http::string_body>& req) {
    return Text(req.version(),
                std::string(req.target()) + " " + std::string(req[http::field::host]));
  });
  const ex::Exchange e = ex::ToExchange(ex::ParseReply(
      ex::SendRaw(running.port(), ex::RawRequest("GET", "http://app.example:81/page?q=1", {})),
      false));
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.body, "/page?q=1 app.example:81");
}

TEST(AssetServer, FallbackAnswerGetsLengthDateAndNoBodyForHead) {
  Running running(Assets(), [](const http::request<http::string_body>& req) {
    return Text(req.version(), "twelve bytes");
  });
  const ex::Reply get = ex::Fetch(running.port(), http::verb::get, "/page");
  EXPECT_EQ(get.response.body(), "twelve bytes");
  EXPECT_EQ(ex::Field(get.response, http::field::content_length), "12");
  const ex::Reply head = ex::Fetch(running.port(), http::verb::head, "/page");  // checks Date
  EXPECT_EQ(ex::Field(head.response, http::field::content_length), "12");
  EXPECT_EQ(head.trailing, "") << "a body was sent for HEAD";
}

TEST(AssetServer, FallbackExceptionIsA500WithoutItsMessage) {
  Running running(Assets(),
                  [](const http::request<http::string_body>&) -> http::response<http::string_body> {
                    throw std::runtime_error("secret detail");
                  });
  const ex::Reply r = ex::Fetch(running.port(), http::verb::get, "/page");
  EXPECT_EQ(r.response.result_int(), 500);
  EXPECT_EQ(r.response.body().find("secret"), std::string::npos);
  // The server is still up.
  EXPECT_EQ(
      ex::Fetch(running.port(), http::verb::get, "/static/css/site.css").response.result_int(),
      200);
}

TEST(AssetServer, NoFallbackIsA404) {
  Running running(Assets(), nullptr);
  EXPECT_EQ(ex::Fetch(running.port(), http::verb::get, "/").response.result_int(), 404);
}

TEST(AssetServer, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  AssetServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(300);
  Running running(Assets(), nullptr, options);
  ex::HttpClient client(running.port());
  client.Send(ex::MakeRequest(http::verb::get, "/static/css/site.css"));
  EXPECT_EQ(client.Receive().result_int(), 200);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.ReceiveAll(), "");  // EOF, within the client's own 10 s limit
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(AssetServer, StopClosesIdleConnectionsAndFinishesResponsesInFlight) {
  const kv_assets::Server large(large_assets::kManifest);
  std::optional<Running> running;
  running.emplace(large, nullptr);
  ex::HttpClient idle(running->port());
  idle.Send(ex::MakeRequest(http::verb::get, "/large/big.txt"));
  EXPECT_EQ(idle.Receive().body().size(), 8u << 20);  // now idle, kept alive

  // An 8 MiB response that cannot be sent before the client reads: in flight during Stop().
  ex::HttpClient busy(running->port());
  busy.Send(ex::MakeRequest(http::verb::get, "/large/big.txt"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  running->server().Stop();

  EXPECT_EQ(idle.ReceiveAll(), "") << "the idle connection was not closed";
  const ex::HttpResponse whole = busy.Receive();
  EXPECT_EQ(whole.result_int(), 200);
  EXPECT_EQ(whole.body().size(), 8u << 20) << "the response in flight was cut";
  EXPECT_TRUE(running->WaitForRunToReturn(std::chrono::seconds(10)))
      << "io.run() did not return after Stop() and the last response";
  running.reset();
}

// The generator puts bodies of 64 KiB and more on a page of their own, so that sendfile(2)
// from the program file starts at a page-aligned offset (the ELF loader keeps file offsets and
// addresses equal modulo the page size).
TEST(AssetServer, LargeEmbeddedBodiesStartOnAPage) {
  const std::string_view body =
      large_assets::kManifest.Body(*large_assets::kManifest.Find("big.txt"));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(body.data()) % 4096, 0u);
}

TEST(AssetServer, ListeningOnAPortInUseThrows) {
  Running first(Assets(), nullptr);
  net::io_context io;
  try {
    AssetServer second(io, {net::ip::address_v4::loopback(), first.port()}, Assets(), nullptr);
    ADD_FAILURE() << "a second server listens on the same port";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), net::error::address_in_use) << e.what();
  }
}

}  // namespace
