// KvAssets::live behind both serving components: an edit is served on the next request, and
// each answer's bytes stay alive until written, however large.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "http_client.h"
#include "kv_assets/live.h"
#include "test_servers.h"

namespace kv_assets_test {
namespace {

namespace http = boost::beast::http;

// Replaces `path` atomically, as editors do, so no request sees it half written.
void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  const std::filesystem::path tmp = path.string() + ".tmp";
  std::ofstream(tmp, std::ios::binary) << content;
  std::filesystem::rename(tmp, path);
}

class LiveServing : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kv-assets-live-serving-" + std::to_string(::getpid()) + "-" + GetParam());
    std::filesystem::remove_all(dir_);
    WriteFile(dir_ / "css/site.css", "body { color: red; }\n");
    absl::StatusOr<std::unique_ptr<kv_assets::live::LiveServer>> live =
        kv_assets::live::LiveServer::Open(dir_.string(), {.prefix = "/static/"});
    ASSERT_TRUE(live.ok()) << live.status();
    live_ = *std::move(live);
    server_ = StartTestServer(GetParam(), *live_);
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<kv_assets::live::LiveServer> live_;
  std::unique_ptr<TestServer> server_;
};

TEST_P(LiveServing, AnEditIsServedOnTheNextRequest) {
  Reply first = Fetch(server_->port(), http::verb::get, "/static/css/site.css");
  EXPECT_EQ(first.response.result_int(), 200);
  EXPECT_EQ(first.response.body(), "body { color: red; }\n");
  EXPECT_EQ(first.response[http::field::cache_control], "no-cache");
  WriteFile(dir_ / "css/site.css", "body { color: green; }\n");
  const std::string etag(first.response[http::field::etag]);
  Reply second = Fetch(server_->port(), http::verb::get, "/static/css/site.css",
                       {{http::field::if_none_match, etag}});
  EXPECT_EQ(second.response.result_int(), 200);
  EXPECT_EQ(second.response.body(), "body { color: green; }\n");
}

// A body larger than any socket buffer, replaced (and the replacement served, so the cache
// lets go of the old version) while the old one is still being written: the answer in flight
// keeps the bytes it started with.
TEST_P(LiveServing, ABodyInFlightOutlivesItsReplacement) {
  const std::string big(32 << 20, 'a');  // more than loopback's socket buffers hold
  WriteFile(dir_ / "big.bin", big);
  HttpClient client(server_->port());
  http::request<http::string_body> req = MakeRequest(http::verb::get, "/static/big.bin", {});
  req.set(http::field::accept_encoding, "identity");
  req.keep_alive(false);
  client.Send(std::move(req));
  // Read by the server: the answer is made, and being written to a client that is not reading.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (live_->cached_files() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(live_->cached_files(), 1u);
  WriteFile(dir_ / "big.bin", std::string(100, 'b'));
  EXPECT_EQ(Fetch(server_->port(), http::verb::get, "/static/big.bin").response.body(),
            std::string(100, 'b'));
  Reply reply = ParseReply(client.ReceiveAll(), false);
  EXPECT_EQ(reply.response.result_int(), 200);
  EXPECT_EQ(reply.response.body().size(), big.size());
  EXPECT_EQ(reply.response.body().find_first_not_of('a'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Servers, LiveServing, ::testing::ValuesIn(TestServerKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kv_assets_test
