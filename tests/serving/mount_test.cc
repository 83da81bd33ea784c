// What kv_assets::httplib::Mount promises beyond the HTTP rules (kv_assets/httplib.h): the
// program's own routes keep working beside it, absolute-form targets reach them, and requests
// cpp-httplib would misread afterwards (a body Mount does not read, a request line it gave up
// on) end their connection. The rules themselves run through it in conformance_test.cc,
// hostile_test.cc and connection_test.cc ("httplib").

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "http_client.h"
#include "kv_assets/httplib.h"
#include "public_assets.h"

namespace {

namespace ex = kv_assets_test;
namespace http = ex::http;

// A cpp-httplib server with Mount() and two routes of the program's own, on a free port.
class MountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kv_assets::httplib::Mount(svr_, assets_);
    svr_.Get("/page", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.target + " " + req.get_header_value("Host"), "text/plain");
    });
    svr_.Post("/form", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("got " + req.body, "text/plain");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 1000 && !svr_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(svr_.is_running());
  }
  void TearDown() override {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }

  const kv_assets::Server assets_{public_assets::kManifest};
  httplib::Server svr_;
  int port_ = -1;
  std::thread thread_;
};

TEST_F(MountTest, OwnRoutesStillAnswer) {
  const ex::Exchange e = ex::SendOverHttp(port(), "GET", "/page?x=1", {});
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.body, "/page?x=1 127.0.0.1");
  const ex::Exchange post = ex::ToExchange(
      ex::ParseReply(ex::SendRaw(port(),
                                 "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                 "Connection: close\r\n\r\nhello"),
                     false));
  EXPECT_EQ(post.body, "got hello");
}

TEST_F(MountTest, AbsoluteFormReachesOwnRoutesAsOriginFormWithItsHost) {
  const ex::Exchange e = ex::ToExchange(ex::ParseReply(
      ex::SendRaw(port(), ex::RawRequest("GET", "http://app.example:81/page?q=1", {})), false));
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.body, "/page?q=1 app.example:81");
}

// The body is not read, so the connection ends after the answer: what follows the body on
// the same connection is never taken for a request.
TEST_F(MountTest, BodyOnAnAssetIsAnsweredThenTheConnectionCloses) {
  const std::string smuggled = "GET /static/js/app.js HTTP/1.1\r\nHost: x\r\n\r\n";
  ex::HttpClient client(port());
  client.AllowEarlyClose();
  client.SendRaw("POST /static/css/site.css HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                 std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled);
  const std::vector<ex::Reply> replies = ex::ParseAll(client.ReceiveAll(), false);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].response.result_int(), 405);
  EXPECT_EQ(ex::Field(replies[0].response, http::field::allow), "GET, HEAD");
}

// A method outside cpp-httplib's list: it stops at the request line; Mount answers 405 as for
// any other method and closes, so the unread fields are never taken for a request.
TEST_F(MountTest, MethodCppHttplibDoesNotKnowIsA405ThatClosesTheConnection) {
  ex::HttpClient client(port());
  client.AllowEarlyClose();
  client.SendRaw("PURGE /static/css/site.css HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::vector<ex::Reply> replies = ex::ParseAll(client.ReceiveAll(), false);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].response.result_int(), 405);
}

TEST_F(MountTest, OversizedRequestLineIsA414ThatClosesTheConnection) {
  ex::HttpClient client(port());
  client.AllowEarlyClose();
  client.SendRaw("GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::vector<ex::Reply> replies = ex::ParseAll(client.ReceiveAll(), false);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].response.result_int(), 414);
  EXPECT_EQ(replies[0].response.body(), "414 URI Too Long\n");
}

}  // namespace
