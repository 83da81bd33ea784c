// The store clients, each against a real store: a folder, a redis-server started here, and
// a local server implementing the Workers KV REST API (which checks every request's shape).
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "kv_assets/key_value_store.h"
#include "tests/store_test_util.h"
#include "tests/test_util.h"

namespace kv_assets {
namespace {

using ::kv_assets::test_util::FakeCloudflare;

TEST(Json, ParsesWhatTheApiSends) {
  namespace json = ::kv_assets::internal::json;
  absl::StatusOr<json::Value> v = json::Parse(
      R"({"success":true,"result":[{"name":"a\/b\u00e9\ud83d\ude00"}],"result_info":{"count":1,"cursor":""},"n":-12,"d":1.5e3})");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->Get("success").boolean());
  EXPECT_EQ(v->Get("result").array().at(0).Get("name").string(), "a/b\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(v->Get("n").integer(), -12);
  EXPECT_TRUE(v->Get("d").is_number());
  EXPECT_TRUE(v->Get("missing").is_null());
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"\x01\"", "01", "[1] x", "\"\\ud800\""}) {
    EXPECT_FALSE(json::Parse(bad).ok()) << bad;
  }
  EXPECT_EQ(json::Quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

class StoreTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string why = env_.Open(GetParam());
    if (!why.empty()) GTEST_SKIP() << why;
  }
  KeyValueStore& store() { return *env_.store; }
  test_util::StoreEnv env_;
};

TEST_P(StoreTest, PutGetListDelete) {
  const std::string binary("\0\x01\xFFzero\0", 8);
  const std::vector<KeyValue> entries = {
      {"ns/css/a.Tag1234567.css", "body{}"},
      {"ns/img/x y%?#.Tag1234567.png", binary},
      {"ns/empty.Tag1234567.txt", ""},
      {"other/file", "o"},
  };
  ASSERT_TRUE(store().Put(entries).ok());
  for (const KeyValue& e : entries) {
    absl::StatusOr<StoreValue> v = store().Get(e.key);
    ASSERT_TRUE(v.ok()) << e.key << ": " << v.status();
    EXPECT_EQ(v->bytes(), e.value) << e.key;
  }
  absl::StatusOr<StoreValue> missing = store().Get("ns/nothing");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();

  absl::StatusOr<std::vector<std::string>> keys = store().List("ns/");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, (std::vector<std::string>{"ns/css/a.Tag1234567.css", "ns/empty.Tag1234567.txt",
                                             "ns/img/x y%?#.Tag1234567.png"}));

  // A value is replaced whole.
  const KeyValue again{"ns/css/a.Tag1234567.css", "p{}"};
  ASSERT_TRUE(store().Put({&again, 1}).ok());
  EXPECT_EQ(store().Get(again.key)->bytes(), "p{}");

  const std::vector<std::string> gone = {"ns/css/a.Tag1234567.css", "ns/never-there"};
  ASSERT_TRUE(store().Delete(gone).ok());
  EXPECT_TRUE(absl::IsNotFound(store().Get(gone[0]).status()));
  keys = store().List("ns/");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(store().List("other/")->size(), 1u);
  env_.ExpectNoViolations();
}

TEST_P(StoreTest, ManyKeys) {
  std::vector<std::string> values;
  std::vector<KeyValue> entries;
  for (int i = 0; i < 250; ++i) values.push_back(std::string(static_cast<std::size_t>(i), 'v'));
  for (int i = 0; i < 250; ++i) entries.push_back({"many/k" + std::to_string(i), values[i]});
  ASSERT_TRUE(store().Put(entries).ok());
  absl::StatusOr<std::vector<std::string>> keys = store().List("many/");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 250u);
  EXPECT_EQ(store().Get("many/k249")->bytes().size(), 249u);
  env_.ExpectNoViolations();
}

// A value much larger than any socket buffer, with every byte value ("\r\n" included, which
// frames Redis replies), comes back whole, and so does the empty one after it on the same
// connection.
TEST_P(StoreTest, LargeBinaryValuesComeBackWhole) {
  std::string large(3 << 20, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>((i * 7919) >> 3);
  const std::vector<KeyValue> entries = {{"big/value", large}, {"big/empty", ""}};
  ASSERT_TRUE(store().Put(entries).ok());
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<StoreValue> v = store().Get("big/value");
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->bytes() == large) << v->bytes().size() << " bytes";
    absl::StatusOr<StoreValue> empty = store().Get("big/empty");
    ASSERT_TRUE(empty.ok()) << empty.status();
    EXPECT_EQ(empty->bytes(), "");
  }
  env_.ExpectNoViolations();
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("dir", "redis", "cloudflare"),
                         [](const auto& info) { return std::string(info.param); });

TEST(DirStore, KeysStayInsideTheFolderAndTemporariesAreNotListed) {
  test_util::TempDir t;
  auto store = OpenStore("dir:" + t.path() + "/store");
  ASSERT_TRUE(store.ok()) << store.status();
  for (const char* bad : {"../x", "a/../../x", "/abs", "a//b", ".kv-tmp/x", ""}) {
    const KeyValue e{bad, "x"};
    EXPECT_TRUE(absl::IsInvalidArgument((*store)->Put({&e, 1}))) << bad;
    EXPECT_FALSE((*store)->Get(bad).ok()) << bad;
  }
  t.Write("store/.kv-tmp/123-4", "half a value");
  t.Write("store/ns/a", "a");
  EXPECT_EQ(*(*store)->List(""), std::vector<std::string>{"ns/a"});
  // Deleting the last key of a folder removes the folder.
  const std::vector<std::string> keys = {"ns/a"};
  ASSERT_TRUE((*store)->Delete(keys).ok());
  EXPECT_FALSE(std::filesystem::exists(t.path() + "/store/ns"));
}

// A sync killed mid-write leaves a temporary behind; the next one clears it once it is old
// enough that no live write can own it, and leaves a recent one (perhaps another sync's) alone.
TEST(DirStore, LeftoverTemporariesOfKilledSyncsAreRemoved) {
  test_util::TempDir t;
  t.Write("store/.kv-tmp/999999-7", "half a value, two hours old");
  t.Write("store/.kv-tmp/999999-8", "half a value, just written");
  const std::string old_one = t.path() + "/store/.kv-tmp/999999-7";
  std::filesystem::last_write_time(
      old_one, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  auto store = OpenStore("dir:" + t.path() + "/store");
  ASSERT_TRUE(store.ok()) << store.status();
  const KeyValue e{"ns/a", "a"};
  ASSERT_TRUE((*store)->Put({&e, 1}).ok());
  EXPECT_FALSE(std::filesystem::exists(old_one));
  EXPECT_TRUE(std::filesystem::exists(t.path() + "/store/.kv-tmp/999999-8"));
  EXPECT_EQ((*(*store)->Get("ns/a")).bytes(), "a");
}

TEST(RedisStore, UnreachableServerIsUnavailable) {
  auto store = OpenStore("redis://127.0.0.1:1", {.timeout = std::chrono::milliseconds(500)});
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_TRUE(std::string(store.status().message()).starts_with("redis://127.0.0.1:1: "))
      << store.status();
}

// One command to the redis-server on `port`; its reply as text ("" for nil).
std::string RedisCommand(int port, std::vector<std::string> args) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeval{2, 0});
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const std::string& a : args) argv.push_back(a.data()), lens.push_back(a.size());
  auto* reply = static_cast<redisReply*>(
      c == nullptr || c->err
          ? nullptr
          : redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  std::string text = reply == nullptr                     ? "(no reply)"
                     : reply->type == REDIS_REPLY_INTEGER ? std::to_string(reply->integer)
                     : reply->str != nullptr              ? std::string(reply->str, reply->len)
                                                          : "";
  if (reply != nullptr) freeReplyObject(reply);
  if (c != nullptr) redisFree(c);
  return text;
}

// How many GETs the redis-server on `port` answered since its last CONFIG RESETSTAT.
int GetCalls(int port) {
  const std::string stats = RedisCommand(port, {"INFO", "commandstats"});
  const std::size_t at = stats.find("cmdstat_get:calls=");
  return at == std::string::npos ? 0 : std::atoi(stats.c_str() + at + 18);
}

// Credentials from the URL's userinfo (percent-decoded) or KV_ASSETS_REDIS_PASSWORD /
// KV_ASSETS_REDIS_USER, for the default user and an ACL user; no message ever holds them.
TEST(RedisStore, CredentialsFromTheUrlOrTheEnvironmentAreNeverPrinted) {
  test_util::RedisServer redis;
  bool installed = false;
  const std::string why = redis.Start(installed);
  if (!installed) GTEST_SKIP() << why;
  ASSERT_EQ(why, "");
  const std::string authority = redis.url().substr(8);  // 127.0.0.1:<port>
  const std::string password = "p@ss:w/rd";             // "p%40ss%3Aw%2Frd" in a URL
  ASSERT_EQ(
      RedisCommand(redis.port(), {"ACL", "SETUSER", "kv", "on", ">acl-secret", "~*", "+@all"}),
      "OK");
  ASSERT_EQ(RedisCommand(redis.port(), {"CONFIG", "SET", "requirepass", password}), "OK");
  const auto expect_hidden = [&](const std::string& text) {
    for (const char* secret : {"p@ss", "p%40ss", "w/rd", "acl-secret", "wrong-secret"}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << text;
    }
  };
  const auto round_trip = [&](const std::string& url) {
    absl::StatusOr<std::unique_ptr<KeyValueStore>> store = OpenStore(url);
    ASSERT_TRUE(store.ok()) << store.status();
    expect_hidden((*store)->url());
    const KeyValue entry{"k", "v"};
    ASSERT_TRUE((*store)->Put(std::span(&entry, 1)).ok());
    absl::StatusOr<StoreValue> v = (*store)->Get("k");
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->bytes(), "v");
  };

  round_trip("redis://:p%40ss%3Aw%2Frd@" + authority);
  EXPECT_EQ((*OpenStore("redis://:p%40ss%3Aw%2Frd@" + authority))->url(),
            "redis://:***@" + authority);
  round_trip("redis://kv:acl-secret@" + authority);
  // No credentials: the first command is refused, and the message says how to give them.
  absl::StatusOr<std::unique_ptr<KeyValueStore>> none = OpenStore(redis.url());
  ASSERT_TRUE(none.ok()) << none.status();
  const absl::Status refused = (*none)->Get("k").status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_NE(refused.message().find("NOAUTH"), std::string_view::npos) << refused;
  // A wrong password fails to open, naming the store but not the password.
  absl::StatusOr<std::unique_ptr<KeyValueStore>> wrong =
      OpenStore("redis://kv:wrong-secret@" + authority);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("redis://kv:***@" + authority), std::string::npos);
  expect_hidden(std::string(wrong.status().message()));
  // A userinfo without a colon may be a password: none of it is shown.
  absl::StatusOr<std::unique_ptr<KeyValueStore>> bare =
      OpenStore("redis://wrong-secret@" + authority);
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.status().code(), absl::StatusCode::kInvalidArgument);
  expect_hidden(std::string(bare.status().message()));
  // From the environment, when the URL has none.
  ::setenv("KV_ASSETS_REDIS_PASSWORD", "acl-secret", 1);
  ::setenv("KV_ASSETS_REDIS_USER", "kv", 1);
  round_trip(redis.url());
  ::unsetenv("KV_ASSETS_REDIS_USER");
  ::setenv("KV_ASSETS_REDIS_PASSWORD", password.c_str(), 1);
  round_trip(redis.url());
  ::unsetenv("KV_ASSETS_REDIS_PASSWORD");
}

// Connections pooled before a restart of redis-server are all closed by it: the next reads
// still succeed, on new connections, from every thread.
TEST(RedisStore, PooledConnectionsSurviveARestart) {
  test_util::RedisServer redis;
  bool installed = false;
  const std::string why = redis.Start(installed);
  if (!installed) GTEST_SKIP() << why;
  ASSERT_EQ(why, "");
  absl::StatusOr<std::unique_ptr<KeyValueStore>> store = OpenStore(redis.url());
  ASSERT_TRUE(store.ok()) << store.status();
  const auto read_from_threads = [&] {
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 20; ++i) {
          if ((*store)->Get("k").status().code() != absl::StatusCode::kNotFound) ++failed;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    return failed.load();
  };
  EXPECT_EQ(read_from_threads(), 0);  // the pool now holds several connections
  ASSERT_EQ(redis.Restart(), "");
  EXPECT_EQ(read_from_threads(), 0);
  const KeyValue entry{"k", "after the restart"};
  ASSERT_TRUE((*OpenStore(redis.url()))->Put(std::span(&entry, 1)).ok());
  absl::StatusOr<StoreValue> v = (*store)->Get("k");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->bytes(), "after the restart");
}

// redis://primary?replica=<host>:<port>: reads go to the replica, writes to the primary; a
// key the replica lacks (it lags after a sync) and a replica that is down pass the read to
// the primary; with the primary down, the replica still serves what it holds.
TEST(RedisStore, ReadsGoToTheReplicasAndFallBackToThePrimary) {
  test_util::RedisServer primary, replica;
  bool installed = false;
  // Without the delay, the first full sync to the replica waits 5 s for more replicas.
  std::string why = primary.Start(installed, {"--repl-diskless-sync-delay", "0"});
  if (!installed) GTEST_SKIP() << why;
  ASSERT_EQ(why, "");
  ASSERT_EQ(replica.Start(installed, {"--replicaof", "127.0.0.1", std::to_string(primary.port())}),
            "");
  const std::string url = primary.url() + "?replica=127.0.0.1:" + std::to_string(replica.port());
  absl::StatusOr<std::unique_ptr<KeyValueStore>> store = OpenStore(url);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->url(), url);
  const KeyValue k1{"k1", "one"};
  ASSERT_TRUE((*store)->Put(std::span(&k1, 1)).ok());
  for (int i = 0; i < 500 && RedisCommand(replica.port(), {"GET", "k1"}) != "one"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(RedisCommand(replica.port(), {"GET", "k1"}), "one") << "the replica never synced";
  RedisCommand(primary.port(), {"CONFIG", "RESETSTAT"});
  RedisCommand(replica.port(), {"CONFIG", "RESETSTAT"});
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<StoreValue> v = (*store)->Get("k1");
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->bytes(), "one");
  }
  EXPECT_EQ(GetCalls(replica.port()), 20);
  EXPECT_EQ(GetCalls(primary.port()), 0);

  // A replica that lags: detached, it never receives k2.
  ASSERT_EQ(RedisCommand(replica.port(), {"REPLICAOF", "NO", "ONE"}), "OK");
  const KeyValue k2{"k2", "two"};
  ASSERT_TRUE((*store)->Put(std::span(&k2, 1)).ok());
  absl::StatusOr<StoreValue> v = (*store)->Get("k2");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->bytes(), "two");
  EXPECT_EQ(GetCalls(primary.port()), 1);
  EXPECT_TRUE(absl::IsNotFound((*store)->Get("k3").status()));

  // The primary down: what the replica holds is still served; what only the primary holds
  // is UNAVAILABLE (a 503 that heals), not NOT_FOUND.
  primary.Stop();
  v = (*store)->Get("k1");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->bytes(), "one");
  EXPECT_TRUE(absl::IsUnavailable((*store)->Get("k2").status())) << (*store)->Get("k2").status();
  absl::StatusOr<std::unique_ptr<KeyValueStore>> reopened = OpenStore(url);
  EXPECT_TRUE(reopened.ok()) << "a reader starts while its primary is away: " << reopened.status();
  replica.Stop();
  const absl::Status both_down = (*store)->Get("k1").status();
  EXPECT_TRUE(absl::IsUnavailable(both_down)) << both_down;
}

TEST(StoreUrl, MalformedUrlsAreRefusedWithTheUrl) {
  for (const char* url : {"ftp://x", "redis://", "redis://h:notaport", "redis://h:1/x",
                          "redis://h:1?replica=", "redis://h:1?replica=h:x", "redis://h:1?db=2",
                          "cloudflare-kv://acct", "cloudflare-kv://a b/c", "dir:"}) {
    auto store = OpenStore(url, {.cloudflare_token = "t"});
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_TRUE(absl::IsInvalidArgument(store.status())) << url << ": " << store.status();
    EXPECT_TRUE(std::string(store.status().message()).starts_with(url)) << store.status();
  }
}

TEST(CloudflareStore, WithoutATokenItDoesNotStart) {
  const char* saved = std::getenv("CLOUDFLARE_API_TOKEN");
  const std::string keep = saved == nullptr ? "" : saved;
  ::unsetenv("CLOUDFLARE_API_TOKEN");
  auto store = OpenStore("cloudflare-kv://acct/ns");
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_NE(std::string(store.status().message()).find("CLOUDFLARE_API_TOKEN"), std::string::npos);
  if (saved != nullptr) ::setenv("CLOUDFLARE_API_TOKEN", keep.c_str(), 1);
}

TEST(CloudflareStore, BulkRequestsStayWithinTheConfiguredBatches) {
  FakeCloudflare cf;
  StoreOptions o = cf.store_options();
  o.cloudflare_batch_pairs = 4;
  o.cloudflare_batch_bytes = 2000;
  auto store = OpenStore(cf.store_url(), o);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string big(1000, 'b');  // 1,336 bytes in base64: one a request
  std::vector<KeyValue> entries;
  for (int i = 0; i < 10; ++i) entries.push_back({"k/" + std::to_string(i), "small"});
  entries.push_back({"k/big1", big});
  entries.push_back({"k/big2", big});
  ASSERT_TRUE((*store)->Put(entries).ok());
  const FakeCloudflare::Stats s = cf.stats();
  EXPECT_TRUE(s.violations.empty()) << s.violations.front();
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < s.bulk_write_pairs.size(); ++i) {
    EXPECT_LE(s.bulk_write_pairs[i], 4u);
    EXPECT_LE(s.bulk_write_bytes[i], 2000u);
    pairs += s.bulk_write_pairs[i];
  }
  EXPECT_EQ(pairs, 12u);
  EXPECT_GE(s.bulk_write_pairs.size(), 4u);  // 10 small in 3, then each big alone

  std::vector<std::string> keys;
  for (int i = 0; i < 9; ++i) keys.push_back("k/" + std::to_string(i));
  ASSERT_TRUE((*store)->Delete(keys).ok());
  EXPECT_EQ(cf.stats().bulk_delete_keys, (std::vector<std::size_t>{4, 4, 1}));
  EXPECT_EQ(cf.data().size(), 3u);
}

TEST(CloudflareStore, ListingFollowsTheCursor) {
  FakeCloudflare cf(FakeCloudflare::Options{.page_size = 3});
  auto store = OpenStore(cf.store_url(), cf.store_options());
  ASSERT_TRUE(store.ok());
  std::vector<KeyValue> entries;
  for (int i = 0; i < 10; ++i) entries.push_back({"p/" + std::to_string(i), "v"});
  entries.push_back({"q/not-this", "v"});
  ASSERT_TRUE((*store)->Put(entries).ok());
  absl::StatusOr<std::vector<std::string>> keys = (*store)->List("p/");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 10u);
  EXPECT_EQ(cf.stats().list_pages, 4u);  // 3 + 3 + 3 + 1
}

TEST(CloudflareStore, RetriesThrottledRequests) {
  FakeCloudflare cf(FakeCloudflare::Options{.fail_first = 3});
  auto store = OpenStore(cf.store_url(), cf.store_options());
  ASSERT_TRUE(store.ok());
  const KeyValue e{"r/1", "one"};
  ASSERT_TRUE((*store)->Put({&e, 1}).ok());
  EXPECT_EQ(cf.stats().throttled, 3u);
  EXPECT_EQ(cf.data().at("r/1"), "one");
}

TEST(CloudflareStore, GivesUpAfterTheLastAttemptWithoutLeakingTheToken) {
  FakeCloudflare cf(FakeCloudflare::Options{.fail_first = 100});
  StoreOptions o = cf.store_options();
  o.max_attempts = 3;
  auto store = OpenStore(cf.store_url(), o);
  ASSERT_TRUE(store.ok());
  const KeyValue e{"r/1", "one"};
  const absl::Status s = (*store)->Put({&e, 1});
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(cf.stats().throttled, 3u);
  EXPECT_EQ(std::string(s.message()).find("test-token"), std::string::npos) << s;
  EXPECT_TRUE(std::string(s.message()).starts_with(cf.store_url())) << s;
}

TEST(CloudflareStore, LimitsAreCheckedBeforeWriting) {
  FakeCloudflare cf;
  auto store = OpenStore(cf.store_url(), cf.store_options());
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(absl::IsInvalidArgument((*store)->CheckEntry(std::string(513, 'k'), 1)));
  EXPECT_TRUE(absl::IsInvalidArgument((*store)->CheckEntry("k", (25 << 20) + 1)));
  EXPECT_TRUE((*store)->CheckEntry("k", 25 << 20).ok());
}

}  // namespace
}  // namespace kv_assets
