// A rolling deploy over HTTP, as an operator runs one behind a load balancer: the
// manifest-only example (examples/store_server) built from two versions of a folder
// (testdata/deploy/v1 and v2), synced with `kv-assets sync` and served side by side from one
// store, a real redis-server or a dir: folder. docs/stores.md, "Deploying", states the
// procedure this checks.
//
// Both programs are under load from before the second sync to after the prune, and every
// answer is compared with the bytes of its own version's file.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "example_process.h"  // examples/beast_server
#include "gtest/gtest.h"
#include "http_client.h"  // tests/serving
#include "kv_assets/key_value_store.h"
#include "tests/store_test_util.h"
#include "tests/test_util.h"

namespace kv_assets {
namespace {

using kv_assets_test::HttpClient;
using kv_assets_test::ServerProcess;
using test_util::CommandResult;
using test_util::RedisServer;
using test_util::TempDir;
namespace http = boost::beast::http;

constexpr std::string_view kName = "store_example_assets";  // both versions' manifest name

// One version of the program: its binary, the folder it was built from, and the sync command
// line its build wrote (<name>.sync-args: the generator's flags, without --store).
struct Version {
  std::string binary;
  std::string folder;
  std::vector<std::string> sync;
};

Version LoadVersion(const std::string& binary, const std::string& folder,
                    const std::string& args_file) {
  Version v{binary, folder, {}};
  std::ifstream in(args_file);
  for (std::string line; std::getline(in, line);) v.sync.push_back(line);
  EXPECT_GE(v.sync.size(), 3u) << "cannot read " << args_file;
  return v;
}

CommandResult Sync(const Version& v, const std::string& store,
                   std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = v.sync;
  argv.push_back("--store=" + store);
  argv.insert(argv.end(), extra.begin(), extra.end());
  return test_util::RunCommand(argv, {}, "", 120);
}

// The file a served URL names: /static/<dir>/<stem>.<tag>.<ext> or the untagged
// /static/<dir>/<stem>.<ext> → <dir>/<stem>.<ext>.
std::string PathOf(const std::string& url) {
  static const std::regex tagged(R"(^/static/(.*)\.[A-Za-z0-9_-]{10}(\.[^./]+)$)");
  std::smatch m;
  if (std::regex_match(url, m, tagged)) return m[1].str() + m[2].str();
  return url.substr(std::string_view("/static/").size());
}

// Every asset URL the program's home page lists (tagged), and each one's untagged URL.
std::vector<std::string> Urls(std::uint16_t port) {
  const kv_assets_test::Reply home = kv_assets_test::Fetch(port, http::verb::get, "/");
  const std::string& html = home.response.body();
  std::vector<std::string> urls;
  static const std::regex link(R"(<a href="(/static/[^"]+)\")");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), link); it != std::sregex_iterator();
       ++it) {
    urls.push_back((*it)[1].str());
    urls.push_back("/static/" + PathOf((*it)[1].str()));
  }
  EXPECT_GE(urls.size(), 10u) << html;
  // The page is the manifest's: its ETag (the manifest id) makes a reload a 304.
  const std::string etag(home.response[http::field::etag]);
  EXPECT_EQ(kv_assets_test::Fetch(port, http::verb::get, "/", {{http::field::if_none_match, etag}})
                .response.result_int(),
            304);
  return urls;
}

// A server process of one version, started with --store, its stderr kept in a file.
struct Running {
  ServerProcess process;
  std::string log;
  void Start(const Version& v, const std::string& store, const std::string& log_path) {
    log = log_path;
    process.StartProcess({v.binary, "--port=0", "--threads=2", "--store=" + store},
                         std::regex(R"(kv-assets store example: serving .* on )"
                                    R"(http://127\.0\.0\.1:([0-9]+)/\n)"),
                         log);
  }
  std::uint16_t port() const { return process.port(); }
};

// Requests every URL of one version again and again, from two keep-alive connections, until
// destroyed; every answer must be a 200 with the version's bytes.
class Load {
 public:
  Load(std::uint16_t port, std::vector<std::string> urls, std::string folder)
      : port_(port), urls_(std::move(urls)), folder_(std::move(folder)) {
    for (const std::string& url : urls_) {
      std::ifstream in(folder_ + "/" + PathOf(url), std::ios::binary);
      files_.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Load() { Stop(); }

  // Waits until every URL has been fetched `rounds` more times (at most 30 s).
  void WaitForRounds(int rounds) {
    const std::uint64_t target = rounds_.load() + static_cast<std::uint64_t>(rounds) * 2;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (rounds_.load() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GE(rounds_.load(), target) << "the load on port " << port_ << " stalled";
  }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  std::uint64_t requests() const { return requests_.load(); }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  void Run() {
    HttpClient client(port_);
    while (!stop_) {
      for (std::size_t i = 0; i < urls_.size() && !stop_; ++i) {
        client.Send(kv_assets_test::MakeRequest(http::verb::get, urls_[i],
                                                {{http::field::accept_encoding, "identity"}}));
        const kv_assets_test::HttpResponse res = client.Receive();
        ++requests_;
        if (res.result_int() != 200 || res.body() != files_[i]) {
          std::lock_guard lock(mu_);
          if (errors_.size() < 10) {
            errors_.push_back(urls_[i] + ": " + std::to_string(res.result_int()) + ", " +
                              std::to_string(res.body().size()) + " bytes");
          } else {
            errors_.back() = "...";
          }
          if (res.result_int() == 0) return;  // the connection failed: HttpClient said why
        }
      }
      ++rounds_;
    }
  }

  const std::uint16_t port_;
  const std::vector<std::string> urls_;
  const std::string folder_;
  std::vector<std::string> files_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> requests_{0}, rounds_{0};
  mutable std::mutex mu_;
  std::vector<std::string> errors_;
};

class RollingDeploy : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    v1_ = LoadVersion(KV_ASSETS_DEPLOY_V1_BINARY, KV_ASSETS_TESTDATA_DIR "/deploy/v1",
                      KV_ASSETS_DEPLOY_V1_SYNC_ARGS);
    v2_ = LoadVersion(KV_ASSETS_DEPLOY_V2_BINARY, KV_ASSETS_TESTDATA_DIR "/deploy/v2",
                      KV_ASSETS_DEPLOY_V2_SYNC_ARGS);
    if (GetParam() == "dir") {
      url_ = "dir:" + t_.path() + "/store";
    } else {
      bool installed = false;
      const std::string error = redis_.Start(installed);
      if (!installed) GTEST_SKIP() << error;
      ASSERT_EQ(error, "");
      url_ = redis_.url();
    }
  }

  std::vector<std::string> Keys() {
    absl::StatusOr<std::unique_ptr<KeyValueStore>> store = OpenStore(url_);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    absl::StatusOr<std::vector<std::string>> keys = (*store)->List(std::string(kName) + "/");
    EXPECT_TRUE(keys.ok()) << keys.status();
    return keys.ok() ? *keys : std::vector<std::string>{};
  }

  std::string Releases() {
    absl::StatusOr<std::unique_ptr<KeyValueStore>> store = OpenStore(url_);
    if (!store.ok()) return store.status().ToString();
    absl::StatusOr<StoreValue> v = (*store)->Get(std::string(kName) + "/.kv-assets/releases.json");
    return v.ok() ? std::string(v->bytes()) : v.status().ToString();
  }

  // Syncs a third version (v2 and 24 MiB of new files) and kills the sync once its first new
  // body is stored: it is then still uploading, and has written no release.
  void KillASyncMidway() {
    TempDir v3;
    std::filesystem::copy(v2_.folder, v3.path() + "/site",
                          std::filesystem::copy_options::recursive);
    std::mt19937_64 random(3);
    for (int i = 1; i <= 3; ++i) {
      std::string bytes(8 << 20, '\0');
      for (char& c : bytes) c = static_cast<char>(random());
      v3.Write("site/blob" + std::to_string(i) + ".bin", bytes);
    }
    // <generator> sync <folder> <flags>: v3's folder, and no --out-dir, as no build of v3
    // exists to compare with.
    std::vector<std::string> argv = {v2_.sync[0], v2_.sync[1], v3.path() + "/site"};
    for (std::size_t i = 3; i < v2_.sync.size(); ++i) {
      if (!v2_.sync[i].starts_with("--out-dir=")) argv.push_back(v2_.sync[i]);
    }
    argv.push_back("--compress=none");
    argv.push_back("--store=" + url_);
    const std::size_t before = Keys().size();
    const std::string releases = Releases();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO), dup2(null, STDERR_FILENO);
      execv(args[0], args.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (Keys().size() == before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the sync ended before it was killed";
    EXPECT_GT(Keys().size(), before) << "killed before it uploaded anything";
    EXPECT_EQ(Releases(), releases) << "a killed sync changed the list of releases";
  }

  TempDir t_;
  RedisServer redis_;
  std::string url_;
  Version v1_, v2_;
};

void ExpectNoErrors(const Load& load, std::string_view version) {
  EXPECT_GT(load.requests(), 0u);
  for (const std::string& e : load.errors()) ADD_FAILURE() << version << ": " << e;
}

TEST_P(RollingDeploy, TwoVersionsServeSideBySideThroughSyncPruneAndRollback) {
  // v1: synced, then serving under load.
  CommandResult r = Sync(v1_, url_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Running v1;
  ASSERT_NO_FATAL_FAILURE(v1.Start(v1_, url_, t_.path() + "/v1.log"));
  const std::vector<std::string> urls1 = Urls(v1.port());
  Load load1(v1.port(), urls1, v1_.folder);
  load1.WaitForRounds(1);

  // v2: synced while v1 serves, then serving beside it.
  r = Sync(v2_, url_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Running v2;
  ASSERT_NO_FATAL_FAILURE(v2.Start(v2_, url_, t_.path() + "/v2.log"));
  const std::vector<std::string> urls2 = Urls(v2.port());
  EXPECT_NE(urls1, urls2);
  Load load2(v2.port(), urls2, v2_.folder);
  load2.WaitForRounds(1);

  // A sync killed midway changes nothing either serves.
  ASSERT_NO_FATAL_FAILURE(KillASyncMidway());
  load1.WaitForRounds(1);
  load2.WaitForRounds(1);

  // --prune keeps the previous release (keep 1): both still serve, and the killed sync's
  // bodies, which no release names, are gone.
  r = Sync(v2_, url_, {"--prune"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  load1.WaitForRounds(2);
  load2.WaitForRounds(2);
  for (const std::string& key : Keys()) EXPECT_EQ(key.find("/blob"), key.npos) << key;

  // Rollback: a v1 started afresh, with an empty cache, still finds every body.
  Running v1_again;
  ASSERT_NO_FATAL_FAILURE(v1_again.Start(v1_, url_, t_.path() + "/v1-again.log"));
  {
    Load rollback(v1_again.port(), urls1, v1_.folder);
    rollback.WaitForRounds(1);
    rollback.Stop();
    ExpectNoErrors(rollback, "v1 after the rollback");
  }
  load1.Stop();
  load2.Stop();
  ExpectNoErrors(load1, "v1");
  ExpectNoErrors(load2, "v2");
  std::cout << "requests: v1 " << load1.requests() << ", v2 " << load2.requests() << "\n";
}

// After `--prune --keep 0` only the current release's bodies are left: a v1 started afresh
// answers 500 for the bodies only it referenced, and says why on stderr; what v1 shares with
// v2 and all of v2 still serve.
TEST_P(RollingDeploy, KeepZeroLeavesTheOldVersionOnlyTheBodiesItShares) {
  ASSERT_EQ(Sync(v1_, url_).exit_code, 0);
  CommandResult r = Sync(v2_, url_, {"--prune", "--keep=0"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  Running v1, v2;
  ASSERT_NO_FATAL_FAILURE(v1.Start(v1_, url_, t_.path() + "/v1.log"));
  ASSERT_NO_FATAL_FAILURE(v2.Start(v2_, url_, t_.path() + "/v2.log"));
  const std::vector<std::string> urls1 = Urls(v1.port()), urls2 = Urls(v2.port());
  const std::set<std::string> in_v2(urls2.begin(), urls2.end());
  int shared = 0, gone = 0;
  for (std::size_t i = 0; i < urls1.size(); i += 2) {  // tagged, then its untagged URL
    const bool kept = in_v2.contains(urls1[i]);        // the same tagged name: the same body
    for (const std::string& url : {urls1[i], urls1[i + 1]}) {
      const kv_assets_test::Reply reply = kv_assets_test::Fetch(
          v1.port(), http::verb::get, url, {{http::field::accept_encoding, "identity"}});
      EXPECT_EQ(reply.response.result_int(), kept ? 200 : 500) << url;
    }
    (kept ? shared : gone)++;
  }
  EXPECT_GT(shared, 0);
  EXPECT_GT(gone, 0);
  const std::string log = test_util::ReadAll(v1.log);
  EXPECT_NE(log.find(std::string(kName) + "/js/old."), std::string::npos)
      << "v1's log does not name the missing body:\n"
      << log;
  Load load2(v2.port(), urls2, v2_.folder);
  load2.WaitForRounds(1);
  load2.Stop();
  ExpectNoErrors(load2, "v2");
}

INSTANTIATE_TEST_SUITE_P(Stores, RollingDeploy, ::testing::Values("dir", "redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kv_assets
