// A manifest-only build (kv_assets_embed(... STORE)) served from each store: bodies come from
// the store, and only answers that send a body touch it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "generator/generate.h"
#include "generator/manifest_json.h"
#include "generator/sync.h"
#include "http_client.h"  // tests/serving
#include "kv_assets/beast_server.h"
#include "kv_assets/httplib.h"
#include "kv_assets/store.h"
#include "store_assets.h"  // generated from testdata/store_site, manifest-only
#include "tests/store_test_util.h"

namespace kv_assets {
namespace {

using ::kv_assets::test_util::CountingStore;

std::string FileContent(const std::string& rel) {
  std::ifstream in(std::string(KV_ASSETS_TESTDATA_DIR) + "/store_site/" + rel, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Syncs testdata/store_site the way `kv-assets sync` would for the generated header: through
// the generator's own pipeline, with the embed's COMPRESS and COMPRESS_LEVEL
// (tests/CMakeLists.txt).
std::string SyncSite(KeyValueStore& store) {
  gen::GenerateConfig config;
  config.folder = std::string(KV_ASSETS_TESTDATA_DIR) + "/store_site";
  config.compress.codings = {Coding::kGzip, Coding::kBrotli, Coding::kZstd};
  config.compress.level = gen::CompressLevel::kMax;
  config.emit.prefix = "/static/";
  config.emit.store_namespace = "store_assets";
  absl::StatusOr<gen::Prepared> prepared = gen::Prepare(config);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  if (!prepared.ok()) return "";
  const std::vector<gen::PreparedFile>& files = prepared->files;
  const gen::EmitOptions& options = config.emit;
  const gen::ManifestData manifest = gen::BuildManifest(files, options);
  absl::StatusOr<gen::SyncReport> r =
      gen::Sync(store, manifest, gen::BodiesToStore(files, options), {.ns = "store_assets"});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->manifest_id : "";
}

TEST(ManifestOnlyBuild, HoldsKeysAndNoBodies) {
  EXPECT_EQ(store_assets::kManifest.blob, nullptr);
  const Asset* css = store_assets::kManifest.Find("index.html");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->store_key(), "store_assets/" + std::string(css->tagged_path()));
  EXPECT_TRUE(store_assets::kStore.starts_with("dir:"));
  EXPECT_EQ(store_assets::kManifestId.size(), 22u);
}

class StoreServerTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string why = env_.Open(GetParam());
    if (!why.empty()) GTEST_SKIP() << why;
    // The manifest sync stores is the one the build compiled in.
    ASSERT_EQ(SyncSite(*env_.store), store_assets::kManifestId);
    counting_ = std::make_unique<CountingStore>(*env_.store);
  }
  void TearDown() override { env_.ExpectNoViolations(); }

  StoreResponse Serve(Request r) { return HandleWithStore(server_, *counting_, r); }
  const Asset& Html() const { return *store_assets::kManifest.Find("index.html"); }
  std::string HtmlUrl() const { return std::string(Html().url()); }

  test_util::StoreEnv env_;
  std::unique_ptr<CountingStore> counting_;
  const Server server_{store_assets::kManifest};
};

TEST_P(StoreServerTest, GetSendsTheStoredBody) {
  StoreResponse r = Serve({.method = "GET", .target = HtmlUrl()});
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.BodyString(), FileContent("index.html"));
  EXPECT_EQ(r.response.content_length, Html().size);
  EXPECT_EQ(r.response.header("ETag"), Html().etag());
  EXPECT_EQ(counting_->gets.load(), 1);
  // The untagged name too, and a binary file.
  r = Serve({.method = "GET", .target = "/static/img/noise.bin"});
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.BodyString(), FileContent("img/noise.bin"));
  EXPECT_EQ(counting_->gets.load(), 2);
}

// kv_assets::CachingStore in front of each store: the body is read once, then served from
// memory, ranges of it included.
TEST_P(StoreServerTest, ACachingStoreReadsEachBodyOnce) {
  const CachingStore cached(*counting_, 1 << 20);
  for (int i = 0; i < 3; ++i) {
    StoreResponse r = HandleWithStore(server_, cached, {.method = "GET", .target = HtmlUrl()});
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.response.status, 200);
    EXPECT_EQ(r.response.BodyString(), FileContent("index.html"));
  }
  StoreResponse part = HandleWithStore(
      server_, cached, {.method = "GET", .target = HtmlUrl(), .range = "bytes=0-1"});
  EXPECT_EQ(part.response.status, 206);
  EXPECT_EQ(part.response.BodyString(), FileContent("index.html").substr(0, 2));
  EXPECT_EQ(counting_->gets.load(), 1);
  EXPECT_EQ(cached.counters().hits, 3u);
  EXPECT_EQ(cached.counters().bytes, Html().size);
}

TEST_P(StoreServerTest, AnswersWithoutABodyNeverTouchTheStore) {
  const std::string etag(Html().etag());
  const std::string date(Html().last_modified());
  const std::string url = HtmlUrl();
  struct Case {
    Request request;
    int status;
  };
  const Case cases[] = {
      {{.method = "GET", .target = url, .if_none_match = etag}, 304},
      {{.method = "GET", .target = url, .if_modified_since = date}, 304},
      {{.method = "HEAD", .target = url}, 200},
      {{.method = "HEAD", .target = url, .range = "bytes=0-1"}, 200},
      {{.method = "GET", .target = "/static/no/such.css"}, 404},
      {{.method = "POST", .target = url}, 405},
      {{.method = "GET", .target = url, .if_match = "\"other\""}, 412},
      {{.method = "GET", .target = url, .range = "bytes=999999-"}, 416},
      {{.method = "GET", .target = "/static/%2e%2e/x"}, 400},
      {{.method = "GET", .target = "/static/empty.txt"}, 200},  // an empty body needs no fetch
  };
  for (const Case& c : cases) {
    StoreResponse r = Serve(c.request);
    EXPECT_EQ(r.response.status, c.status) << c.request.method << " " << c.request.target;
    EXPECT_TRUE(r.status.ok());
  }
  EXPECT_EQ(counting_->gets.load(), 0);
  StoreResponse head = Serve({.method = "HEAD", .target = HtmlUrl()});
  EXPECT_EQ(head.response.content_length, Html().size);
  EXPECT_TRUE(head.response.body().empty());
}

TEST_P(StoreServerTest, PrecompressedVariantsComeFromTheirOwnKeys) {
  const Asset& js = *store_assets::kManifest.Find("js/app.js");
  const std::span<const Variant> variants = store_assets::kManifest.VariantsOf(js);
  ASSERT_EQ(variants.size(), 3u);  // gzip, br and zstd all save enough on this file
  for (const Variant& v : variants) {
    EXPECT_TRUE(v.store_key().starts_with(js.store_key())) << v.store_key();
    EXPECT_TRUE(v.store_key().ends_with(v.content_encoding())) << v.store_key();
    const std::string coding(v.content_encoding());
    const std::string url(js.url());
    StoreResponse r = Serve({.method = "GET", .target = url, .accept_encoding = coding});
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.response.status, 200);
    EXPECT_EQ(r.response.header("Content-Encoding"), coding);
    EXPECT_EQ(r.response.BodyString().size(), v.size);
    EXPECT_EQ(r.response.BodyString(), env_.store->Get(v.store_key())->bytes());
    EXPECT_NE(r.response.BodyString(), FileContent("js/app.js"));
  }
  EXPECT_EQ(counting_->gets.load(), 3);
}

TEST_P(StoreServerTest, RangesSliceTheStoredBody) {
  const std::string html = FileContent("index.html");
  ASSERT_GE(html.size(), 20u);
  StoreResponse r = Serve({.method = "GET", .target = HtmlUrl(), .range = "bytes=2-5"});
  EXPECT_EQ(r.response.status, 206);
  EXPECT_EQ(r.response.BodyString(), html.substr(2, 4));
  r = Serve({.method = "GET", .target = HtmlUrl(), .range = "bytes=0-1,10-12"});
  EXPECT_EQ(r.response.status, 206);
  const std::string body = r.response.BodyString();
  EXPECT_EQ(body.size(), r.response.content_length);
  EXPECT_NE(body.find("\r\n\r\n" + html.substr(0, 2) + "\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("\r\n\r\n" + html.substr(10, 3) + "\r\n"), std::string::npos) << body;
  EXPECT_EQ(counting_->gets.load(), 2);
}

TEST_P(StoreServerTest, AMissingKeyIsA500WithoutDetails) {
  const std::vector<std::string> gone = {std::string(Html().store_key())};
  ASSERT_TRUE(env_.store->Delete(gone).ok());
  StoreResponse r = Serve({.method = "GET", .target = HtmlUrl()});
  EXPECT_EQ(r.response.status, 500);
  EXPECT_EQ(r.response.BodyString(), "500 Internal Server Error\n");
  EXPECT_EQ(r.response.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.response.header("ETag"), "");
  EXPECT_TRUE(absl::IsNotFound(r.status)) << r.status;
  EXPECT_NE(std::string(r.status.message()).find(Html().store_key()), std::string::npos)
      << r.status;
}

TEST_P(StoreServerTest, AValueOfAnotherSizeIsA500) {
  const KeyValue wrong{std::string(Html().store_key()), "short"};
  ASSERT_TRUE(env_.store->Put({&wrong, 1}).ok());
  StoreResponse r = Serve({.method = "GET", .target = HtmlUrl()});
  EXPECT_EQ(r.response.status, 500);
  EXPECT_TRUE(absl::IsDataLoss(r.status)) << r.status;
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreServerTest, ::testing::Values("dir", "redis", "cloudflare"),
                         [](const auto& info) { return std::string(info.param); });

// A store that cannot be reached: 503, nothing about the store in the answer.
class DownStore : public Store {
 public:
  absl::StatusOr<StoreValue> Get(std::string_view) const override {
    return absl::UnavailableError("redis://10.0.0.1:6379: cannot connect: Connection refused");
  }
};

TEST(StoreServer, AStoreThatIsDownIsA503) {
  const Server server(store_assets::kManifest);
  const std::string url(store_assets::kManifest.Find("index.html")->url());
  StoreResponse r = HandleWithStore(server, DownStore(), {.method = "GET", .target = url});
  EXPECT_EQ(r.response.status, 503);
  EXPECT_EQ(r.response.BodyString(), "503 Service Unavailable\n");
  EXPECT_EQ(r.response.content_length, r.response.BodyString().size());
  EXPECT_EQ(r.response.header("Cache-Control"), "no-store");
  for (const HeaderField& f : r.response.headers()) {
    EXPECT_EQ(f.value.find("redis"), std::string_view::npos) << f.name;
  }
  EXPECT_TRUE(absl::IsUnavailable(r.status));
  // HEAD never asks it.
  r = HandleWithStore(server, DownStore(), {.method = "HEAD", .target = url});
  EXPECT_EQ(r.response.status, 200);
}

TEST(StoreServer, AStoppedRedisIsA503) {
  test_util::StoreEnv env;
  const std::string why = env.Open("redis");
  if (!why.empty()) GTEST_SKIP() << why;
  ASSERT_EQ(SyncSite(*env.store), store_assets::kManifestId);
  const Server server(store_assets::kManifest);
  const std::string url(store_assets::kManifest.Find("index.html")->url());
  ASSERT_EQ(HandleWithStore(server, *env.store, {.method = "GET", .target = url}).response.status,
            200);
  env.redis->Stop();
  StoreResponse r = HandleWithStore(server, *env.store, {.method = "GET", .target = url});
  EXPECT_EQ(r.response.status, 503);
  EXPECT_EQ(r.response.BodyString(), "503 Service Unavailable\n");
  EXPECT_TRUE(absl::IsUnavailable(r.status)) << r.status;
}

TEST(StoreServer, FillBodyChecksTheLengthAndSurvivesACopy) {
  const Server server(store_assets::kManifest);
  const Asset& html = *store_assets::kManifest.Find("index.html");
  Response res = server.Handle({.method = "GET", .target = html.url(), .range = "bytes=1-2"});
  ASSERT_EQ(res.body_key(), html.store_key());
  ASSERT_EQ(res.body_ranges().size(), 1u);
  EXPECT_EQ(res.body_ranges()[0].first, 1u);
  EXPECT_EQ(res.body_ranges()[0].last, 2u);
  const Response copy = res;  // the key and the slots travel with a copy
  EXPECT_FALSE(res.FillBody("too short"));
  EXPECT_EQ(res.body_key(), html.store_key());
  const std::string value(html.size, 'x');
  Response filled = copy;
  ASSERT_TRUE(filled.FillBody(value));
  EXPECT_EQ(filled.BodyString(), "xx");
  EXPECT_TRUE(filled.body_key().empty());
}

// ---------------------------------------------------------------------------------------------
// A manifest-only build served over HTTP by both serving components (StoreSource).

namespace served {

using kv_assets_test::Fetch;
namespace http = boost::beast::http;

// A store in front of another that can be taken down, or made to hold every read at a gate.
class ControlledStore : public Store {
 public:
  explicit ControlledStore(const Store& inner) : inner_(inner) {}
  absl::StatusOr<StoreValue> Get(std::string_view key) const override {
    std::unique_lock lock(mutex_);
    ++gets_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return gate_open_; });
    if (down_) return absl::UnavailableError("redis://10.0.0.1:6379: cannot connect");
    lock.unlock();
    return inner_.Get(key);
  }
  void SetDown(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  void SetGate(bool open) {
    {
      std::lock_guard lock(mutex_);
      gate_open_ = open;
    }
    changed_.notify_all();
  }
  // Waits (at most 10 s) until `n` reads have begun.
  bool WaitForGets(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return gets_ >= n; });
  }
  int gets() const {
    std::lock_guard lock(mutex_);
    return gets_;
  }

 private:
  const Store& inner_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable int gets_ = 0;
  bool down_ = false;
  bool gate_open_ = true;
};

// One serving component on 127.0.0.1 and a free port: an AssetServer over a StoreSource run
// by `io_threads` threads, or cpp-httplib with Mount(svr, server, store) ("httplib") or with
// Mount(svr, source) over the same StoreSource as Beast ("httplib_source"), whose errors go to
// log().
class Running {
 public:
  Running(std::string_view kind, const Server& server, const Store& store, int io_threads = 2,
          std::size_t blocking_threads = 4)
      : source_(server, store, [this](const absl::Status& s) {
          std::lock_guard lock(log_mutex_);
          log_.push_back(std::string(s.message()));
        }) {
    if (kind == "beast") {
      asset_server_.emplace(
          io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0),
          source_, nullptr, beast::AssetServerOptions{.blocking_threads = blocking_threads});
      port_ = asset_server_->local_endpoint().port();
      for (int i = 0; i < io_threads; ++i) threads_.emplace_back([this] { io_.run(); });
    } else {
      if (kind == "httplib_source") {
        kv_assets::httplib::Mount(svr_, source_);
      } else {
        kv_assets::httplib::Mount(svr_, server, store);
      }
      port_ = static_cast<std::uint16_t>(svr_.bind_to_any_port("127.0.0.1"));
      threads_.emplace_back([this] { svr_.listen_after_bind(); });
      // cpp-httplib 0.11 has no wait_until_ready(); stop() before listening would be lost.
      for (int i = 0; i < 5000 && !svr_.is_running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  ~Running() {
    if (asset_server_.has_value()) asset_server_->Stop();
    svr_.stop();
    for (std::thread& t : threads_) t.join();
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

 private:
  StoreSource source_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
  boost::asio::io_context io_;
  std::optional<kv_assets::beast::AssetServer> asset_server_;
  ::httplib::Server svr_;
  std::uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

class StoreOverHttpTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string why = env_.Open("dir");
    if (!why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(SyncSite(*env_.store), store_assets::kManifestId);
  }
  std::string HtmlUrl() const {
    return std::string(store_assets::kManifest.Find("index.html")->url());
  }

  test_util::StoreEnv env_;
  const Server server_{store_assets::kManifest};
};

TEST_P(StoreOverHttpTest, BodiesComeFromTheStoreAndRevalidationNeverTouchesIt) {
  ControlledStore store(*env_.store);
  Running running(GetParam(), server_, store);
  const kv_assets_test::Reply r = Fetch(running.port(), http::verb::get, HtmlUrl());
  EXPECT_EQ(r.response.result_int(), 200);
  EXPECT_EQ(r.response.body(), FileContent("index.html"));
  EXPECT_EQ(store.gets(), 1);
  const std::string etag(store_assets::kManifest.Find("index.html")->etag());
  const kv_assets_test::Reply again =
      Fetch(running.port(), http::verb::get, HtmlUrl(), {{http::field::if_none_match, etag}});
  EXPECT_EQ(again.response.result_int(), 304);
  const kv_assets_test::Reply head = Fetch(running.port(), http::verb::head, HtmlUrl());
  EXPECT_EQ(head.response.result_int(), 200);
  EXPECT_EQ(store.gets(), 1);
}

TEST_P(StoreOverHttpTest, AStoreThatIsDownIs503AndServingRecoversByItself) {
  ControlledStore store(*env_.store);
  Running running(GetParam(), server_, store);
  store.SetDown(true);
  const kv_assets_test::Reply down = Fetch(running.port(), http::verb::get, HtmlUrl());
  EXPECT_EQ(down.response.result_int(), 503);
  EXPECT_EQ(down.response[http::field::cache_control], "no-store");
  if (std::string_view(GetParam()) != "httplib") {  // Mount(svr, server, store) logs to stderr
    ASSERT_EQ(running.log().size(), 1u);
    EXPECT_NE(running.log()[0].find("cannot connect"), std::string::npos);
  }
  store.SetDown(false);
  const kv_assets_test::Reply up = Fetch(running.port(), http::verb::get, HtmlUrl());
  EXPECT_EQ(up.response.result_int(), 200);
  EXPECT_EQ(up.response.body(), FileContent("index.html"));
}

INSTANTIATE_TEST_SUITE_P(Components, StoreOverHttpTest,
                         ::testing::Values("beast", "httplib", "httplib_source"),
                         [](const auto& info) { return std::string(info.param); });

// With one I/O thread, a request waiting for the store does not hold up another connection's
// answer from the manifest: the read runs on AssetServer's own threads.
TEST(StoreOverHttp, AStoreReadNeverBlocksBeastsIoThread) {
  test_util::StoreEnv env;
  const std::string why = env.Open("dir");
  if (!why.empty()) GTEST_SKIP() << why;
  ASSERT_EQ(SyncSite(*env.store), store_assets::kManifestId);
  const Server server(store_assets::kManifest);
  ControlledStore store(*env.store);
  Running running("beast", server, store, /*io_threads=*/1);
  const std::string url(store_assets::kManifest.Find("index.html")->url());
  store.SetGate(false);
  std::thread waiting([&] {
    const kv_assets_test::Reply r = Fetch(running.port(), http::verb::get, url);
    EXPECT_EQ(r.response.result_int(), 200);
    EXPECT_EQ(r.response.body(), FileContent("index.html"));
  });
  ASSERT_TRUE(store.WaitForGets(1));
  // The store still holds the first request; this one needs no body.
  const auto start = std::chrono::steady_clock::now();
  const kv_assets_test::Reply head = Fetch(running.port(), http::verb::head, url);
  EXPECT_EQ(head.response.result_int(), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  store.SetGate(true);
  waiting.join();
  EXPECT_EQ(store.gets(), 1);
}

// A CachingStore's hits are answered on the I/O thread: while the one thread that may wait is
// held by a read at a closed gate, a cached body still comes back at once.
TEST(StoreOverHttp, ACachedBodyNeedsNoThreadThatMayWait) {
  test_util::StoreEnv env;
  const std::string why = env.Open("dir");
  if (!why.empty()) GTEST_SKIP() << why;
  ASSERT_EQ(SyncSite(*env.store), store_assets::kManifestId);
  const Server server(store_assets::kManifest);
  ControlledStore gated(*env.store);
  const CachingStore cached(gated, 1 << 20);
  Running running("beast", server, cached, /*io_threads=*/1, /*blocking_threads=*/1);
  const std::string html(store_assets::kManifest.Find("index.html")->url());
  ASSERT_EQ(Fetch(running.port(), http::verb::get, html).response.result_int(), 200);
  gated.SetGate(false);
  std::thread waiting([&] {
    const kv_assets_test::Reply r = Fetch(running.port(), http::verb::get, "/static/img/noise.bin");
    EXPECT_EQ(r.response.result_int(), 200);
  });
  ASSERT_TRUE(gated.WaitForGets(2));  // the pool's one thread now waits at the gate
  const auto start = std::chrono::steady_clock::now();
  const kv_assets_test::Reply hit = Fetch(running.port(), http::verb::get, html);
  EXPECT_EQ(hit.response.result_int(), 200);
  EXPECT_EQ(hit.response.body(), FileContent("index.html"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(cached.counters().hits, 1u);
  gated.SetGate(true);
  waiting.join();
}

}  // namespace served

// ---------------------------------------------------------------------------------------------
// Against a real Workers KV namespace, only when the environment names one (skipped
// otherwise; docs/stores.md, "Testing against Workers KV"):
//
//   CLOUDFLARE_API_TOKEN=<token with Workers KV Storage: Edit> \
//   KV_ASSETS_CLOUDFLARE_ACCOUNT=<account id> KV_ASSETS_CLOUDFLARE_NAMESPACE=<namespace id> \
//   ctest --test-dir build/dev -R CloudflareLive --output-on-failure
//
// It writes keys below a prefix of its own and below store_assets/, and deletes every key
// below both at the end, whatever happened: give it a namespace of its own.
namespace live {

// Workers KV is eventually consistent: a write can take up to a minute to be seen, so each
// check is repeated, every 2 s, for up to 90 s.
template <typename Check>
bool Eventually(Check check) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!check()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  return true;
}

// Deletes every key below `prefixes` when it goes.
struct DeleteOnExit {
  KeyValueStore& store;
  std::vector<std::string> prefixes;
  ~DeleteOnExit() {
    for (const std::string& prefix : prefixes) {
      absl::StatusOr<std::vector<std::string>> keys = store.List(prefix);
      const absl::Status deleted = keys.ok() ? store.Delete(*keys) : keys.status();
      EXPECT_TRUE(deleted.ok()) << "cleaning up " << prefix << ": " << deleted;
    }
  }
};

// What the live test checks, on any store: the client with binary values and keys that need
// encoding in a URL, then a manifest-only build synced to the store and served from it.
void CheckClientAndServing(KeyValueStore& store) {
  const std::string prefix = "kv-assets-test-" + std::to_string(::getpid()) + "-" +
                             std::to_string(std::time(nullptr)) + "/";
  const DeleteOnExit cleanup{store, {prefix, "store_assets/"}};
  const std::string binary("\0\x01\xFFzero\0", 8);
  const std::vector<KeyValue> entries = {{prefix + "css/a.css", "body{}"},
                                         {prefix + "img/x y%?#.png", binary}};
  ASSERT_TRUE(store.Put(entries).ok());
  for (const KeyValue& e : entries) {
    EXPECT_TRUE(Eventually([&] {
      absl::StatusOr<StoreValue> v = store.Get(e.key);
      return v.ok() && v->bytes() == e.value;
    })) << e.key;
  }
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<std::vector<std::string>> keys = store.List(prefix);
    return keys.ok() && keys->size() == entries.size();
  }));
  EXPECT_TRUE(absl::IsNotFound(store.Get(prefix + "never-written").status()));

  ASSERT_EQ(SyncSite(store), store_assets::kManifestId);
  const Server server(store_assets::kManifest);
  for (const Asset& asset : store_assets::kManifest.assets) {
    EXPECT_TRUE(Eventually([&] {
      const StoreResponse r =
          HandleWithStore(server, store, {.method = "GET", .target = std::string(asset.url())});
      return r.response.status == 200 &&
             r.response.BodyString() == FileContent(std::string(asset.path()));
    })) << asset.path();
  }
}

TEST(CloudflareLive, TheClientAndAManifestOnlyBuildAgainstARealNamespace) {
  const char* token = std::getenv("CLOUDFLARE_API_TOKEN");
  const char* account = std::getenv("KV_ASSETS_CLOUDFLARE_ACCOUNT");
  const char* ns = std::getenv("KV_ASSETS_CLOUDFLARE_NAMESPACE");
  if (token == nullptr || account == nullptr || ns == nullptr || *token == '\0' ||
      *account == '\0' || *ns == '\0') {
    GTEST_SKIP() << "set CLOUDFLARE_API_TOKEN, KV_ASSETS_CLOUDFLARE_ACCOUNT and "
                    "KV_ASSETS_CLOUDFLARE_NAMESPACE to run against a real Workers KV namespace";
  }
  absl::StatusOr<std::unique_ptr<KeyValueStore>> store =
      OpenStore(std::string("cloudflare-kv://") + account + "/" + ns);
  ASSERT_TRUE(store.ok()) << store.status();
  CheckClientAndServing(**store);
}

// The same checks against the local Workers KV API, on every run: the opt-in test's own code
// stays tested.
TEST(CloudflareLive, TheSameChecksPassAgainstTheLocalApi) {
  test_util::StoreEnv env;
  ASSERT_EQ(env.Open("cloudflare"), "");
  CheckClientAndServing(*env.store);
  env.ExpectNoViolations();
}

}  // namespace live

}  // namespace
}  // namespace kv_assets
