// kv_assets/store.h — serving a manifest-only build, whose bodies live in a key-value store.
//
// `kv_assets_embed(app public/ STORE <url>)` compiles the whole manifest (names, tags, ETags,
// types, dates, sizes, precompressed variants) into the program but no body
// (`Manifest::blob == nullptr`), so the binary's size does not depend on the assets. Every
// body is uploaded beforehand by `kv-assets sync` under a content-addressed key
// (Asset::store_key(), Variant::store_key(): the path with its tag), so the bytes behind a
// key never change and a key is never reused for other bytes.
//
// Decisions:
//  - Server::Handle() is unchanged and still synchronous, allocation-free and I/O-free: it
//    decides the status and every field from the manifest, and Response::body_key() names the
//    one value the body needs (Response::body_ranges() the parts of it a 206 sends). 304, 400,
//    404, 405, 406, 412, 416 and every HEAD need none, so they never touch the store.
//  - FetchBody() (or HandleWithStore(), both here) then reads that value through the
//    `kv_assets::Store` interface and points the body into it. It blocks: call it on a thread
//    that may wait, or use body_key() with an asynchronous client of your own and
//    Response::FillBody().
//  - A store that cannot be reached becomes a 503, any other store failure (the key is
//    missing, or holds a value of another length than the manifest says) a 500; both have a
//    fixed text body and `Cache-Control: no-store`, and the details go to the returned
//    Status for the application's log, never to the client.
//  - This header and FetchBody() are part of KvAssets::runtime and need nothing but Abseil.
//    The clients for `dir:`, `redis://` and `cloudflare-kv://` stores are in a library of
//    their own, KvAssets::stores (kv_assets/key_value_store.h), which brings hiredis and libcurl.
//  - Values are immutable, so a Store may cache them for as long as it likes: CachingStore,
//    below, does, in front of any other.
//
// Example:
//
//   #include "app_assets.h"          // kv_assets_embed(app public/ STORE redis://127.0.0.1:6379)
//   #include "kv_assets/store.h"
//   #include "kv_assets/key_value_store.h"    // KvAssets::stores
//
//   const kv_assets::Server server(app_assets::kManifest);
//   std::unique_ptr<kv_assets::KeyValueStore> store = *kv_assets::OpenStore(app_assets::kStore);
//
//   kv_assets::StoreResponse r = kv_assets::HandleWithStore(server, *store, request);
//   if (!r.status.ok()) log(r.status);   // r.response is then a 503 or a 500
//   // r.response.body() points into r.value: keep `r` alive until the body is written.

#ifndef KV_ASSETS_STORE_H_
#define KV_ASSETS_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kv_assets/server.h"
#include "kv_assets/source.h"

namespace kv_assets {

// Bytes read from a store, together with whatever keeps them alive (a string, a memory
// mapping, a client library's reply). Cheap to copy: copies share the bytes.
class StoreValue {
 public:
  StoreValue() = default;
  // Owns `bytes`.
  explicit StoreValue(std::string bytes);
  // `bytes` stays valid for as long as `owner` (or a copy of it) lives.
  StoreValue(std::string_view bytes, std::shared_ptr<const void> owner)
      : bytes_(bytes), owner_(std::move(owner)) {}

  std::string_view bytes() const { return bytes_; }

 private:
  std::string_view bytes_;
  std::shared_ptr<const void> owner_;
};

// What a server reads bodies from. Implementations must be thread-safe: one store serves
// every thread of a server.
class Store {
 public:
  virtual ~Store() = default;

  // The value stored under `key`. NotFoundError when there is none; UnavailableError or
  // DeadlineExceededError when the store cannot be reached in time; another code for
  // anything else. Messages name the store and the key, never a credential.
  virtual absl::StatusOr<StoreValue> Get(std::string_view key) const = 0;

  // The value under `key` when the store can give it at once, from memory, without waiting
  // for I/O or for another thread's read; nullopt otherwise. The default is nullopt: only
  // CachingStore answers, with its hits. A server uses it to send a cached body from its I/O
  // thread instead of handing the request to a thread that may wait
  // (StoreSource::AnswerWithoutWaiting).
  virtual std::optional<StoreValue> GetIfInMemory(std::string_view /*key*/) const {
    return std::nullopt;
  }
};

// Completes `response`, an answer of Server::Handle() for a manifest-only build: when it
// needs a body (Response::body_key() is not empty), reads the value from `store` into `value`
// and points the body into it, so `value` must outlive the writing of the body. Returns OK
// without calling the store when no body is needed (HEAD, 304, errors, embedded bodies).
// On failure, replaces `response` with a 503 Service Unavailable (the store could not be
// reached: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) or a 500 Internal Server
// Error (anything else), each with a fixed text body and `Cache-Control: no-store`, and
// returns the store's error for the application's log.
absl::Status FetchBody(const Store& store, Response& response, StoreValue& value);

// An answer and the bytes its body points into.
struct StoreResponse {
  Response response;
  StoreValue value;
  absl::Status status;  // the store's error when `response` became a 503 or 500; else OK
};

// server.Handle(request), then FetchBody() from `store`.
StoreResponse HandleWithStore(const Server& server, const Store& store, const Request& request);

// A manifest-only build's Server and the Store its bodies come from, as the AssetSource the
// serving components answer from (kv_assets/source.h):
//
//   const kv_assets::StoreSource source(server, cached);   // a CachingStore, say
//   kv_assets::beast::AssetServer http(io, endpoint, source, fallback);
//   kv_assets::httplib::Mount(svr, server, store);         // the same, made by Mount
//
// Answers that need no body (304, HEAD, 404, 405, 412, 416) never touch the store. A store
// error becomes the 503 or 500 of FetchBody() and is passed to `on_error`, by default one line
// on stderr ("kv-assets: <error>"), so an operator sees why a body could not be served; the
// next request asks the store again. MayBlock() is true: AssetServer reads the store on
// threads of its own (AssetServerOptions::blocking_threads). `server` and `store` must
// outlive it.
class StoreSource final : public AssetSource {
 public:
  using ErrorLog = std::function<void(const absl::Status&)>;
  StoreSource(const Server& server, const Store& store, ErrorLog on_error = nullptr);

  bool HandlesTarget(std::string_view target) const override;
  SourcedResponse Answer(const Request& request) const override;
  bool MayBlock() const override { return true; }
  // Every answer without a body, and those whose body the store holds in memory
  // (Store::GetIfInMemory: a CachingStore's hits).
  std::optional<SourcedResponse> AnswerWithoutWaiting(const Request& request) const override;

 private:
  const Server& server_;
  const Store& store_;
  ErrorLog on_error_;
};

// A Store in front of another that keeps the values it read in memory, up to `max_bytes` of
// them, evicting the least recently used first. Values are immutable (content-addressed
// keys), so nothing is ever invalidated: a deploy adds keys, it never changes one.
//
//   std::unique_ptr<kv_assets::KeyValueStore> redis = *kv_assets::OpenStore(app_assets::kStore);
//   const kv_assets::CachingStore store(*redis, 64 << 20);  // 64 MiB of bodies
//   kv_assets::StoreResponse r = kv_assets::HandleWithStore(server, store, request);
//
// Decisions:
//  - Concurrent misses for one key make one read of the backing store (single flight): the
//    others wait for it and share its answer, so a cold start under load does not multiply
//    the store's traffic by the number of threads.
//  - Errors are never cached: the next Get() asks the backing store again, so a program
//    recovers by itself when the store comes back.
//  - A value bigger than `max_bytes` is passed through: returned, never cached, and it evicts
//    nothing.
//  - `max_bytes` counts the values' bytes. A value handed out stays valid after its eviction
//    (StoreValue shares ownership), so memory can briefly exceed the bound by what responses
//    in flight still hold.
//  - Thread-safe; one mutex, held for lookups and bookkeeping only, never during a read of the
//    backing store. `backing` must outlive the CachingStore.
class CachingStore final : public Store {
 public:
  struct Counters {
    std::uint64_t hits = 0;    // answered from memory
    std::uint64_t misses = 0;  // reads of the backing store (single flights count once)
    std::uint64_t joined = 0;  // Get()s that waited for another's read of the same key
    std::uint64_t evictions = 0;
    std::uint64_t bytes = 0;    // bytes of the values held now
    std::uint64_t entries = 0;  // values held now
  };

  CachingStore(const Store& backing, std::size_t max_bytes);
  ~CachingStore() override;
  CachingStore(const CachingStore&) = delete;
  CachingStore& operator=(const CachingStore&) = delete;

  absl::StatusOr<StoreValue> Get(std::string_view key) const override;
  // A hit (counted as one), or nullopt: never a read of the backing store, never a wait.
  std::optional<StoreValue> GetIfInMemory(std::string_view key) const override;
  Counters counters() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kv_assets

#endif  // KV_ASSETS_STORE_H_
