// tests/store_test_util.h — real stores for the store tests: a redis-server started on a
// free loopback port, a local HTTP server that implements the Workers KV endpoints and
// checks the shape of every request, and a store wrapper that counts calls and can fail
// after a number of writes (a sync killed mid-upload).

#ifndef KV_ASSETS_TESTS_STORE_TEST_UTIL_H_
#define KV_ASSETS_TESTS_STORE_TEST_UTIL_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kv_assets/key_value_store.h"
#include "tests/test_util.h"

namespace kv_assets::test_util {

// redis-server on 127.0.0.1 and a free port, with no persistence, in a folder of its own;
// stopped (SIGTERM, then SIGKILL) on destruction. Start() fails with a message when
// redis-server is not installed (callers GTEST_SKIP with it) or does not answer in 10 s.
class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // "" when running; otherwise why not. `installed` says whether the binary exists.
  // `extra`: more arguments for redis-server, such as {"--replicaof", "127.0.0.1", "6379"}.
  std::string Start(bool& installed, std::vector<std::string> extra = {});
  // Stops it and starts it again on the same port, as an operator's restart would: every
  // connection to it is closed. "" when it runs again.
  std::string Restart();
  std::string url() const;  // "redis://127.0.0.1:<port>"
  int port() const { return port_; }
  void Stop();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int fixed_port_ = 0;  // Restart(): the port to start on again
  std::string dir_;
  std::vector<std::string> extra_;  // kept for Restart()
};

// Workers KV's REST API on 127.0.0.1, in memory, serving one connection at a time. Every
// request is checked against the documented API: the Authorization header, at most 10,000
// pairs and 100,000,000 bytes a bulk write, base64 values, a `limit` from 10 to 1000 when
// listing, at most 10,000 keys a bulk delete. What does not match is recorded in
// violations(). Lists are cut into pages of `page_size` keys, so a client must follow
// the cursor; the first `fail_first` requests are answered 429 with Retry-After: 0.
class FakeCloudflare {
 public:
  struct Options {
    std::string token = "test-token";
    std::string account = "0123abcd";
    std::string namespace_id = "ns42";
    std::size_t page_size = 3;
    int fail_first = 0;
  };
  explicit FakeCloudflare(Options options);
  FakeCloudflare() : FakeCloudflare(Options()) {}
  ~FakeCloudflare();

  std::string api_url() const;         // http://127.0.0.1:<port>/client/v4
  std::string store_url() const;       // cloudflare-kv://<account>/<namespace>
  StoreOptions store_options() const;  // token and API URL set, short retry delays

  struct Stats {
    std::vector<std::size_t> bulk_write_pairs;
    std::vector<std::size_t> bulk_write_bytes;
    std::vector<std::size_t> bulk_delete_keys;
    std::size_t list_pages = 0;
    std::size_t value_gets = 0;
    std::size_t throttled = 0;  // 429s sent
    std::vector<std::string> violations;
  };
  Stats stats() const;
  std::map<std::string, std::string> data() const;

 private:
  void Serve();
  void HandleConnection(int fd);
  std::string Handle(const std::string& method, const std::string& target,
                     const std::map<std::string, std::string>& headers, const std::string& body);

  Options options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  Stats stats_;
  std::map<std::string, std::string> data_;
  int failures_left_ = 0;
};

// Wraps a store: counts calls, and with fail_after_writes set, writes that many entries and
// then fails every write, as a sync killed during its upload would leave the store.
class CountingStore : public KeyValueStore {
 public:
  explicit CountingStore(KeyValueStore& inner) : inner_(inner) {}

  const std::string& url() const override { return inner_.url(); }
  absl::StatusOr<StoreValue> Get(std::string_view key) const override;
  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) const override;
  absl::Status Put(std::span<const KeyValue> entries) override;
  absl::Status Delete(std::span<const std::string> keys) override;
  absl::Status Flush() override { return inner_.Flush(); }
  absl::Status CheckEntry(std::string_view key, std::uint64_t size) const override {
    return inner_.CheckEntry(key, size);
  }

  mutable std::atomic<int> gets{0};
  mutable std::atomic<int> lists{0};
  std::size_t writes = 0;  // entries written
  std::size_t deletes = 0;
  long fail_after_writes = -1;

 private:
  KeyValueStore& inner_;
};

// One store of each kind for parameterized tests: "dir", "redis" or "cloudflare", with
// whatever server it needs, all stopped on destruction.
struct StoreEnv {
  // "" when `store` is open. Otherwise the reason: only "redis-server is not installed"
  // is a reason to skip; anything else is also reported as a test failure.
  std::string Open(std::string_view kind);
  // Fails the test when the fake Cloudflare API saw a request it would refuse.
  void ExpectNoViolations() const;

  TempDir tmp;
  std::unique_ptr<RedisServer> redis;
  std::unique_ptr<FakeCloudflare> cloudflare;
  std::unique_ptr<KeyValueStore> store;
};

}  // namespace kv_assets::test_util

#endif  // KV_ASSETS_TESTS_STORE_TEST_UTIL_H_
