// Connections under stress, through each serving component (test_servers.h): clients that
// hang up with requests in flight, a client that reads slower than the server writes, many
// requests pipelined on one connection. The server must lose and repeat nothing, and stay up.

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "http_client.h"
#include "large_assets.h"
#include "public_assets.h"
#include "test_servers.h"

namespace {

namespace ex = kv_assets_test;
namespace http = ex::http;
namespace net = ex::net;

// Parameter: a kind of test server.
class Connections : public ex::ServingTest {
 protected:
  Connections() : ServingTest(public_assets::kManifest) {}

  static std::string Url(std::string_view path) {
    return std::string(public_assets::kManifest.Find(path)->url());
  }

  const kv_assets::Server large_{large_assets::kManifest};
};

INSTANTIATE_TEST_SUITE_P(Servers, Connections, ::testing::ValuesIn(ex::TestServerKinds()),
                         [](const auto& info) { return info.param; });

// What wrk does at the end of every run: many keep-alive clients hang up, some with a reset,
// while a request of theirs is still being answered. The server then writes to a connection
// that is gone; sendfile(2) has no MSG_NOSIGNAL, so a server that does not ignore SIGPIPE dies
// of it (here: the test process with it) within a few hundred such clients.
TEST_P(Connections, SurviveClientsHangingUpWithARequestInFlight) {
  const std::string url = Url("css/site.css");
  std::vector<std::thread> clients;
  for (int k = 0; k < 4; ++k) {
    clients.emplace_back([port = port(), &url] {
      for (int round = 0; round < 50 && !::testing::Test::HasFailure(); ++round) {
        std::vector<std::unique_ptr<ex::HttpClient>> open;
        for (int i = 0; i < 8 && !::testing::Test::HasFailure(); ++i) {
          open.push_back(std::make_unique<ex::HttpClient>(port));
          open.back()->Send(ex::MakeRequest(http::verb::get, url));
          EXPECT_EQ(open.back()->Receive().result_int(), 200);
        }
        for (auto& client : open) client->Send(ex::MakeRequest(http::verb::get, url));
        for (std::size_t i = 0; i < open.size(); ++i) open[i]->HangUp(/*reset=*/i % 2 == 1);
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(ex::Fetch(port(), http::verb::get, url).response.result_int(), 200);
}

// Connects with a 4 KiB receive buffer, sends `requests` from another thread (a server may
// stop reading requests while it cannot write), reads nothing for half a second so that the
// server's socket buffer fills up, then reads everything until the server closes.
std::string SlowRead(std::uint16_t port, const std::string& requests) {
  net::io_context ioc;
  ex::tcp::socket socket(ioc);
  socket.open(ex::tcp::v4());
  socket.set_option(net::socket_base::receive_buffer_size(4096));  // before the handshake
  socket.connect({net::ip::address_v4::loopback(), port});
  std::thread writer([&] {
    ex::beast::error_code write_ec;
    net::write(socket, net::buffer(requests), write_ec);
    EXPECT_FALSE(write_ec) << write_ec.message();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string received;
  ex::beast::error_code ec;
  net::read(socket, net::dynamic_buffer(received), ec);
  writer.join();
  EXPECT_EQ(ec, net::error::eof) << ec.message();
  return received;
}

// One response larger than any socket buffer (8 MiB; Linux's tcp_wmem allows 4 MiB at most)
// to a client that reads slowly: the server's writes (sendfile(2) for beast_sendfile) say
// EAGAIN, and it must wait for room and carry on where it stopped, losing and repeating
// nothing.
TEST_P(Connections, WaitForASlowReaderOfOneLargeBody) {
  ASSERT_NO_FATAL_FAILURE(Start(large_));
  const std::string_view body =
      large_assets::kManifest.Body(*large_assets::kManifest.Find("big.txt"));
  ASSERT_EQ(body.size(), 8u << 20);
  const std::string received =
      SlowRead(port(), "GET /large/big.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::vector<ex::Reply> replies = ex::ParseAll(received, false);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].response.result_int(), 200);
  EXPECT_TRUE(replies[0].response.body() == body) << "the body is not the file's bytes";
}

// The same with many small responses: 10,000 (9 MB) pipelined on one connection.
TEST_P(Connections, WaitForASlowReaderOfPipelinedRequests) {
  if (GetParam() == "httplib") {
    GTEST_SKIP() << "cpp-httplib 0.11.4 does not read pipelined requests (kv_assets/httplib.h)";
  }
  const std::string path = "js/app.js";
  const std::string file = ex::ReadPublicFile(path);
  const std::string request = "GET /static/" + path + " HTTP/1.1\r\nHost: x\r\n";
  constexpr int kRequests = 10000;
  std::string requests;
  for (int i = 1; i <= kRequests; ++i) {
    requests += request + (i == kRequests ? "Connection: close\r\n\r\n" : "\r\n");
  }

  const std::string received = SlowRead(port(), requests);

  // Each response is whole, and nothing follows the last.
  const std::vector<ex::Reply> replies = ex::ParseAll(received, false);
  ASSERT_EQ(replies.size(), static_cast<std::size_t>(kRequests));
  for (std::size_t i = 0; i < replies.size(); ++i) {
    ASSERT_EQ(replies[i].response.result_int(), 200) << "response " << i;
    ASSERT_TRUE(replies[i].response.body() == file) << "response " << i;
  }
}

// Requests of every kind on one keep-alive connection, each answered in turn: an asset, a
// conditional one, an error, the program's own route.
TEST_P(Connections, KeepOneConnectionForMixedRequests) {
  const std::string css = Url("css/site.css");
  const std::string etag(public_assets::kManifest.Find("css/site.css")->etag());
  ex::HttpClient client(port());
  for (int round = 0; round < 20; ++round) {
    client.Send(ex::MakeRequest(http::verb::get, css));
    EXPECT_EQ(client.Receive().result_int(), 200);
    client.Send(ex::MakeRequest(http::verb::get, css, {{http::field::if_none_match, etag}}));
    EXPECT_EQ(client.Receive().result_int(), 304);
    client.Send(ex::MakeRequest(http::verb::head, css));
    EXPECT_EQ(client.Receive(/*head=*/true).result_int(), 200);
    client.Send(ex::MakeRequest(http::verb::get, "/static/nope.css"));
    EXPECT_EQ(client.Receive().result_int(), 404);
    client.Send(ex::MakeRequest(http::verb::get, "/"));
    const ex::HttpResponse home = client.Receive();
    EXPECT_EQ(home.result_int(), 200);
    EXPECT_EQ(home.body(), ex::kHomePage);
  }
}

}  // namespace
