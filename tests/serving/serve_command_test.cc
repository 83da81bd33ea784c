// `kv-assets serve`: a development server over a folder, started and stopped as a user would.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "example_process.h"  // examples/beast_server: a server as a child process
#include "gtest/gtest.h"
#include "http_client.h"

namespace kv_assets_test {
namespace {

namespace http = boost::beast::http;

class ServeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("kv-assets-serve-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "css");
    Write("css/site.css", "body { color: red; }\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& content) {
    std::ofstream(dir_ / (rel + ".tmp"), std::ios::binary) << content;
    std::filesystem::rename(dir_ / (rel + ".tmp"), dir_ / rel);
  }
  std::filesystem::path dir_;
};

TEST_F(ServeCommand, ServesTheFolderLiveUntilSigterm) {
  ServerProcess serve;
  ASSERT_NO_FATAL_FAILURE(serve.StartProcess(
      {KV_ASSETS_GENERATOR_EXE, "serve", dir_.string(), "--port=0", "--prefix=/static/"},
      std::regex("serving " + dir_.string() + R"( on http://127\.0\.0\.1:([0-9]+)/static/\n)")));
  Reply first = Fetch(serve.port(), http::verb::get, "/static/css/site.css");
  EXPECT_EQ(first.response.result_int(), 200);
  EXPECT_EQ(first.response.body(), "body { color: red; }\n");
  EXPECT_EQ(first.response[http::field::cache_control], "no-cache");
  Write("css/site.css", "body { color: green; }\n");
  EXPECT_EQ(Fetch(serve.port(), http::verb::get, "/static/css/site.css").response.body(),
            "body { color: green; }\n");
  EXPECT_EQ(Fetch(serve.port(), http::verb::get, "/elsewhere").response.result_int(), 404);
  const std::optional<int> status = serve.SignalAndWait(SIGTERM);
  ASSERT_TRUE(status.has_value()) << "still running after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

TEST_F(ServeCommand, SigintStopsItToo) {
  ServerProcess serve;
  ASSERT_NO_FATAL_FAILURE(
      serve.StartProcess({KV_ASSETS_GENERATOR_EXE, "serve", dir_.string(), "--port", "0"},
                         std::regex(R"(serving .* on http://127\.0\.0\.1:([0-9]+)/\n)")));
  EXPECT_EQ(Fetch(serve.port(), http::verb::get, "/css/site.css").response.result_int(), 200);
  const std::optional<int> status = serve.SignalAndWait(SIGINT);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

}  // namespace
}  // namespace kv_assets_test
