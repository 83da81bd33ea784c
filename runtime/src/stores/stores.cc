#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "kv_assets/key_value_store.h"
#include "runtime/src/stores/clients.h"

namespace kv_assets {

absl::Status KeyValueStore::CheckEntry(std::string_view, std::uint64_t) const {
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenStore(std::string_view url,
                                                         StoreOptions options) {
  if (url.starts_with("dir:")) return internal::OpenDirStore(url, url.substr(4));
  if (url.starts_with("redis://")) return internal::OpenRedisStore(url, url.substr(8), options);
  if (url.starts_with("cloudflare-kv://")) {
    std::string_view rest = url.substr(16);
    const std::size_t slash = rest.find('/');
    return internal::OpenCloudflareStore(
        url, rest.substr(0, slash),
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1), options);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(ToAbsl(url),
                   ": unknown store (expected dir:<path>, redis://<host>[:<port>][/<db>] or "
                   "cloudflare-kv://<account>/<namespace-id>)"));
}

}  // namespace kv_assets
