// kv_assets::CachingStore (kv_assets/store.h): an LRU cache of immutable values with single
// flight, in front of a Store the tests control.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kv_assets/store.h"

namespace kv_assets {
namespace {

// Values by key, a count of reads per key, and, when closed, a gate every read waits at.
class FakeStore : public Store {
 public:
  void Set(std::string key, std::string value) { values_[std::move(key)] = std::move(value); }
  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(status);
  }
  void CloseGate() {
    std::lock_guard lock(mutex_);
    gate_open_ = false;
  }
  void OpenGate() {
    {
      std::lock_guard lock(mutex_);
      gate_open_ = true;
    }
    gate_.notify_all();
  }
  int reads(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = reads_.find(key);
    return it == reads_.end() ? 0 : it->second;
  }

  absl::StatusOr<StoreValue> Get(std::string_view key) const override {
    std::unique_lock lock(mutex_);
    ++reads_[std::string(key)];
    gate_.wait(lock, [&] { return gate_open_; });
    if (!failure_.ok()) return failure_;
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return absl::NotFoundError(std::string(key));
    return StoreValue(it->second);
  }

 private:
  std::map<std::string, std::string> values_;
  mutable std::mutex mutex_;
  mutable std::condition_variable gate_;
  mutable std::map<std::string, int> reads_;
  bool gate_open_ = true;
  absl::Status failure_;
};

std::string Read(const Store& store, std::string_view key) {
  absl::StatusOr<StoreValue> v = store.Get(key);
  return v.ok() ? std::string(v->bytes()) : "error: " + v.status().ToString();
}

TEST(CachingStore, ASecondReadIsAnsweredFromMemory) {
  FakeStore backing;
  backing.Set("a", "alpha");
  const CachingStore store(backing, 1024);
  EXPECT_EQ(Read(store, "a"), "alpha");
  EXPECT_EQ(Read(store, "a"), "alpha");
  EXPECT_EQ(backing.reads("a"), 1);
  const CachingStore::Counters c = store.counters();
  EXPECT_EQ(c.hits, 1u);
  EXPECT_EQ(c.misses, 1u);
  EXPECT_EQ(c.bytes, 5u);
  EXPECT_EQ(c.entries, 1u);
}

// GetIfInMemory() answers hits only: a miss is nullopt, with no read of the backing store
// and no wait for a read in flight.
TEST(CachingStore, GetIfInMemoryAnswersHitsOnlyAndNeverWaits) {
  FakeStore backing;
  backing.Set("a", "alpha");
  backing.Set("b", "beta");
  const CachingStore store(backing, 1024);
  EXPECT_FALSE(store.GetIfInMemory("a").has_value());
  EXPECT_EQ(backing.reads("a"), 0);
  EXPECT_EQ(Read(store, "a"), "alpha");
  const std::optional<StoreValue> hit = store.GetIfInMemory("a");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->bytes(), "alpha");
  EXPECT_EQ(store.counters().hits, 1u);
  backing.CloseGate();
  std::thread reading([&] { Read(store, "b"); });
  while (backing.reads("b") == 0) std::this_thread::yield();
  EXPECT_FALSE(store.GetIfInMemory("b").has_value());  // b is in flight: no wait
  backing.OpenGate();
  reading.join();
  EXPECT_TRUE(store.GetIfInMemory("b").has_value());
  EXPECT_FALSE(FakeStore().GetIfInMemory("a").has_value());  // a Store's default
}

TEST(CachingStore, EvictsTheLeastRecentlyUsedBeyondMaxBytes) {
  FakeStore backing;
  for (const char* k : {"a", "b", "c"}) backing.Set(k, std::string(4, k[0]));
  const CachingStore store(backing, 10);  // room for two 4-byte values
  Read(store, "a");
  Read(store, "b");
  Read(store, "a");  // now b is the least recently used
  Read(store, "c");  // 12 bytes: b goes
  EXPECT_EQ(store.counters().evictions, 1u);
  EXPECT_EQ(store.counters().bytes, 8u);
  Read(store, "a");
  Read(store, "c");
  EXPECT_EQ(backing.reads("a"), 1);
  EXPECT_EQ(backing.reads("c"), 1);
  EXPECT_EQ(Read(store, "b"), "bbbb");
  EXPECT_EQ(backing.reads("b"), 2);
}

TEST(CachingStore, AValueBiggerThanMaxBytesIsPassedThrough) {
  FakeStore backing;
  backing.Set("small", "s");
  backing.Set("big", std::string(100, 'x'));
  const CachingStore store(backing, 10);
  Read(store, "small");
  EXPECT_EQ(Read(store, "big"), std::string(100, 'x'));
  EXPECT_EQ(Read(store, "big"), std::string(100, 'x'));
  EXPECT_EQ(backing.reads("big"), 2);
  EXPECT_EQ(store.counters().evictions, 0u);  // it evicted nothing either
  Read(store, "small");
  EXPECT_EQ(backing.reads("small"), 1);
}

TEST(CachingStore, ErrorsAreNotCachedSoTheProgramRecovers) {
  FakeStore backing;
  backing.Set("a", "alpha");
  const CachingStore store(backing, 1024);
  backing.FailWith(absl::UnavailableError("redis://127.0.0.1:1: cannot connect"));
  EXPECT_EQ(store.Get("a").status().code(), absl::StatusCode::kUnavailable);
  backing.FailWith(absl::OkStatus());  // the store is back
  EXPECT_EQ(Read(store, "a"), "alpha");
  EXPECT_EQ(store.Get("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Get("missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backing.reads("missing"), 2);
}

TEST(CachingStore, ConcurrentMissesForOneKeyMakeOneRead) {
  FakeStore backing;
  backing.Set("a", "alpha");
  const CachingStore store(backing, 1024);
  backing.CloseGate();
  constexpr int kThreads = 8;
  std::vector<std::string> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { got[i] = Read(store, "a"); });
  }
  // Every thread is either reading (one) or waiting for that read (the others).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store.counters().joined < kThreads - 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(store.counters().joined, static_cast<std::uint64_t>(kThreads - 1));
  backing.OpenGate();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(backing.reads("a"), 1);
  for (const std::string& g : got) EXPECT_EQ(g, "alpha");
  EXPECT_EQ(store.counters().misses, 1u);
}

TEST(CachingStore, AValueOutlivesItsEviction) {
  FakeStore backing;
  backing.Set("a", std::string(8, 'a'));
  backing.Set("b", std::string(8, 'b'));
  const CachingStore store(backing, 8);
  absl::StatusOr<StoreValue> a = store.Get("a");
  ASSERT_TRUE(a.ok());
  Read(store, "b");  // evicts a
  EXPECT_EQ(store.counters().evictions, 1u);
  EXPECT_EQ(a->bytes(), std::string(8, 'a'));  // still readable (ASan checks the memory)
}

TEST(CachingStore, ManyThreadsOverFewKeysGetTheirOwnBytes) {
  FakeStore backing;
  for (int k = 0; k < 16; ++k) backing.Set("k" + std::to_string(k), std::string(k + 1, 'a' + k));
  const CachingStore store(backing, 40);  // a few values: evictions all the time
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const int k = (i * 7 + t * 3) % 16;
        if (Read(store, "k" + std::to_string(k)) != std::string(k + 1, 'a' + k)) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  const CachingStore::Counters c = store.counters();
  EXPECT_EQ(c.hits + c.misses + c.joined, 8000u);
  EXPECT_LE(c.bytes, 40u);
}

}  // namespace
}  // namespace kv_assets
