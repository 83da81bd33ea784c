// curl itself against each serving component: a download with --compressed decodes to the
// file, and one resumed with --compressed -C - (a Range request that also accepts br, gzip
// and zstd) ends with the file's bytes. Before docs/http.md rule 24 the resumed part was a
// slice of the brotli bytes, which curl cannot decode from the middle (exit 61).

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "http_client.h"
#include "public_assets.h"
#include "test_servers.h"

namespace {

namespace ex = kv_assets_test;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs curl with `args`; its exit status, or -1 if it did not exit normally.
int RunCurl(const std::string& args) {
  const std::string command = std::string(KV_ASSETS_CURL) + " -sS --max-time 10 " + args;
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Parameter: a kind of test server.
class Curl : public ex::ServingTest {
 protected:
  Curl() : ServingTest(public_assets::kManifest) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServingTest::SetUp());
    const kv_assets::Asset* css = public_assets::kManifest.Find("css/site.css");
    ASSERT_NE(css, nullptr);
    ASSERT_FALSE(public_assets::kManifest.VariantsOf(*css).empty()) << "nothing to decode";
    url_ = "http://127.0.0.1:" + std::to_string(port()) + std::string(css->url());
    file_ = ex::ReadPublicFile("css/site.css");
    out_ = ::testing::TempDir() + "kv_assets_curl_" + GetParam() + ".css";
    std::remove(out_.c_str());
  }
  void TearDown() override { std::remove(out_.c_str()); }

  std::string url_, file_, out_;
};

INSTANTIATE_TEST_SUITE_P(Servers, Curl, ::testing::ValuesIn(ex::TestServerKinds()),
                         [](const auto& info) { return info.param; });

TEST_P(Curl, Rule24DownloadsCompressedAndDecodes) {
  const std::string headers = out_ + ".headers";
  ASSERT_EQ(RunCurl("--compressed -D '" + headers + "' -o '" + out_ + "' '" + url_ + "'"), 0);
  EXPECT_NE(ReadFile(headers).find("Content-Encoding: "), std::string::npos) << "not compressed:\n"
                                                                             << ReadFile(headers);
  EXPECT_TRUE(ReadFile(out_) == file_) << "the decoded download is not the file";
  std::remove(headers.c_str());
}

TEST_P(Curl, Rule24ResumesACompressedDownload) {
  {
    std::ofstream partial(out_, std::ios::binary);
    partial << file_.substr(0, file_.size() / 2);  // a download cut off halfway
  }
  ASSERT_EQ(RunCurl("--compressed -C - -o '" + out_ + "' '" + url_ + "'"), 0);
  EXPECT_TRUE(ReadFile(out_) == file_) << "the resumed download is not the file";
}

}  // namespace
