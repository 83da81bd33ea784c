// CachingStore (kv_assets/store.h): an LRU list of values, a hash index into it, and the
// reads in flight, all under one mutex that is never held while the backing store is read.
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "common/strings.h"
#include "kv_assets/store.h"

namespace kv_assets {
namespace {

struct Cached {
  std::string key;
  StoreValue value;
};

// One read of the backing store that other Get()s of the same key wait for.
struct Flight {
  std::optional<absl::StatusOr<StoreValue>> result;  // set once, under State::mutex
  std::condition_variable done;
};

}  // namespace

struct CachingStore::State {
  State(const Store& b, std::size_t max) : backing(b), max_bytes(max) {}

  // Under `mutex`: the cached value of `key`, now the most recently used, or nullopt.
  std::optional<StoreValue> Lookup(std::string_view key) {
    auto it = index.find(ToAbsl(key));
    if (it == index.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second);
    return it->second->value;
  }

  // Under `mutex`: keeps `value`, then drops the least recently used beyond max_bytes.
  void Insert(std::string_view key, const StoreValue& value) {
    const std::size_t size = value.bytes().size();
    if (size > max_bytes || index.contains(ToAbsl(key))) return;
    lru.push_front(Cached{std::string(key), value});
    index.emplace(ToAbsl(lru.front().key), lru.begin());
    counters.bytes += size;
    while (counters.bytes > max_bytes) {
      const Cached& oldest = lru.back();
      counters.bytes -= oldest.value.bytes().size();
      index.erase(ToAbsl(oldest.key));
      lru.pop_back();
      ++counters.evictions;
    }
  }

  const Store& backing;
  const std::size_t max_bytes;
  std::mutex mutex;
  std::list<Cached> lru;  // most recently used first
  // Keys are views of the list's strings, which a node keeps until it is erased.
  absl::flat_hash_map<absl::string_view, std::list<Cached>::iterator> index;
  absl::flat_hash_map<std::string, std::shared_ptr<Flight>> flights;
  Counters counters;
};

CachingStore::CachingStore(const Store& backing, std::size_t max_bytes)
    : state_(std::make_unique<State>(backing, max_bytes)) {}

CachingStore::~CachingStore() = default;

absl::StatusOr<StoreValue> CachingStore::Get(std::string_view key) const {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  if (std::optional<StoreValue> hit = s.Lookup(key)) {
    ++s.counters.hits;
    return *std::move(hit);
  }
  if (auto it = s.flights.find(ToAbsl(key)); it != s.flights.end()) {
    const std::shared_ptr<Flight> flight = it->second;
    ++s.counters.joined;
    flight->done.wait(lock, [&] { return flight->result.has_value(); });
    return *flight->result;
  }
  auto flight = std::make_shared<Flight>();
  s.flights.emplace(std::string(key), flight);
  ++s.counters.misses;
  lock.unlock();
  absl::StatusOr<StoreValue> got = s.backing.Get(key);
  lock.lock();
  if (got.ok()) s.Insert(key, *got);
  flight->result = got;
  s.flights.erase(ToAbsl(key));
  flight->done.notify_all();
  return got;
}

std::optional<StoreValue> CachingStore::GetIfInMemory(std::string_view key) const {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  std::optional<StoreValue> hit = s.Lookup(key);
  if (hit.has_value()) ++s.counters.hits;
  return hit;
}

CachingStore::Counters CachingStore::counters() const {
  std::lock_guard lock(state_->mutex);
  Counters c = state_->counters;
  c.entries = state_->lru.size();
  return c;
}

}  // namespace kv_assets
