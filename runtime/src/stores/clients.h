// runtime/src/stores/clients.h — how OpenStore() reaches each client (KvAssets::stores;
// a private header, not installed).

#ifndef KV_ASSETS_STORES_CLIENTS_H_
#define KV_ASSETS_STORES_CLIENTS_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "kv_assets/key_value_store.h"

namespace kv_assets::internal {

// `url` is the whole URL, for messages; the rest is what follows the scheme.
absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenDirStore(std::string_view url,
                                                            std::string_view path);
absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenRedisStore(std::string_view url,
                                                              std::string_view authority,
                                                              const StoreOptions& options);
absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenCloudflareStore(std::string_view url,
                                                                   std::string_view account,
                                                                   std::string_view namespace_id,
                                                                   const StoreOptions& options);

}  // namespace kv_assets::internal

#endif  // KV_ASSETS_STORES_CLIENTS_H_
