// kv_assets/key_value_store.h — KeyValueStore and OpenStore(): clients for the stores a
// manifest-only build reads its bodies from (KvAssets::stores; kv_assets/store.h explains
// manifest-only builds).
//
// A store is named by a URL:
//
//   dir:<path>                          a local folder; each key is a file below it. Writes
//                                       are atomic (a temporary file renamed into place) and
//                                       Get() maps the file into memory instead of copying it.
//   redis://[<user>:<password>@]<host>[:<port>][/<db>]
//                                       a Redis server (hiredis); port 6379 and db 0 unless
//                                       given. Uploads are pipelined. Credentials (percent-
//                                       encoded; ":<password>" for the default user) come from
//                                       the URL or else from KV_ASSETS_REDIS_PASSWORD and
//                                       KV_ASSETS_REDIS_USER; url() and messages show
//                                       "<user>:***" instead.
//   redis://<primary>?replica=<host>[:<port>][&replica=…]
//                                       reads from the replicas, in turn; writes, listing
//                                       and deletes on the primary. A replica that lacks a
//                                       key (it lags after a sync) or cannot be reached passes
//                                       the read to the primary.
//   cloudflare-kv://<account>/<namespace-id>
//                                       a Workers KV namespace through Cloudflare's REST API
//                                       (libcurl), with the API token from the environment
//                                       variable CLOUDFLARE_API_TOKEN. Bulk writes of base64
//                                       values (at most 10,000 pairs and 100 MB a request),
//                                       key listing with cursor pagination, bulk deletes,
//                                       and retries with exponential back-off on 429 and 5xx
//                                       (honouring Retry-After). KV_ASSETS_CLOUDFLARE_API_URL
//                                       replaces https://api.cloudflare.com/client/v4 (for
//                                       a proxy, or a test server).
//
// Every client is thread-safe. The write side (List, Put, Delete) is what `kv-assets sync`
// uses; a server only calls Get().
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<kv_assets::KeyValueStore>> store =
//       kv_assets::OpenStore("redis://127.0.0.1:6379/0");
//   if (!store.ok()) return store.status();  // "redis://127.0.0.1:6379/0: Connection refused"
//   kv_assets::StoreResponse r = kv_assets::HandleWithStore(server, **store, request);

#ifndef KV_ASSETS_KEY_VALUE_STORE_H_
#define KV_ASSETS_KEY_VALUE_STORE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kv_assets/store.h"

namespace kv_assets {

// One value to write. `value` is not copied: it must outlive the Put() call.
struct KeyValue {
  std::string key;
  std::string_view value;
};

// A store that `kv-assets sync` can read, list, write and prune.
class KeyValueStore : public Store {
 public:
  // The URL the store was opened with (it never holds a credential), for messages.
  virtual const std::string& url() const = 0;

  // Every key that begins with `prefix`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) const = 0;

  // Writes every entry. Each key is replaced atomically: a reader sees the old value or the
  // new one, never a part. The batch as a whole is not atomic: after a failure any subset
  // may have been written.
  virtual absl::Status Put(std::span<const KeyValue> entries) = 0;

  // Removes every key in `keys`; a key that does not exist is not an error.
  virtual absl::Status Delete(std::span<const std::string> keys) = 0;

  // Makes what Put() wrote durable before anything that refers to it is written (the local
  // folder calls syncfs). Remote stores acknowledge durable writes; for them it does
  // nothing.
  virtual absl::Status Flush() { return absl::OkStatus(); }

  // OK when the store can hold a value of `size` bytes under `key`; otherwise
  // InvalidArgumentError saying which limit it exceeds (Workers KV: keys of at most 512
  // bytes, values of at most 25 MiB).
  virtual absl::Status CheckEntry(std::string_view key, std::uint64_t size) const;
};

struct StoreOptions {
  // Cloudflare: the API token; empty means the environment variable CLOUDFLARE_API_TOKEN.
  std::string cloudflare_token;
  // Cloudflare: the API's base URL; empty means KV_ASSETS_CLOUDFLARE_API_URL from the
  // environment, or else https://api.cloudflare.com/client/v4.
  std::string cloudflare_api_url;
  // Cloudflare: the most pairs and bytes one bulk request carries. Larger values than the
  // API's limits (10,000 pairs, 100,000,000 bytes of request body) are lowered to them.
  std::size_t cloudflare_batch_pairs = 10000;
  std::size_t cloudflare_batch_bytes = 100'000'000;
  // Cloudflare: attempts for a request answered 429 or 5xx, or not answered; the wait
  // doubles from `retry_delay` each time, or is what Retry-After says (at most a minute).
  int max_attempts = 6;
  std::chrono::milliseconds retry_delay{500};
  // Redis and Cloudflare: connecting and waiting for an answer.
  std::chrono::milliseconds timeout{10000};
};

// Opens the store named by `url` (see the top of this file). InvalidArgumentError for a
// malformed URL or an unknown scheme; for Redis, UnavailableError when the server cannot be
// reached; for Cloudflare, FailedPreconditionError when no token is set. Messages begin with
// the URL.
absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenStore(std::string_view url,
                                                         StoreOptions options = {});

}  // namespace kv_assets

#endif  // KV_ASSETS_KEY_VALUE_STORE_H_
