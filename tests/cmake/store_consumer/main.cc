// Serves every asset of a manifest-only build from its store and checks each answer against
// the file in the folder given as the first argument. Exit code 0 when all match.
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "app_assets.h"
#include "kv_assets/key_value_store.h"
#include "kv_assets/store.h"

namespace {

// Counts what reaches the store: a 304 or a HEAD must not.
class Counting : public kv_assets::Store {
 public:
  explicit Counting(const kv_assets::Store& inner) : inner_(inner) {}
  absl::StatusOr<kv_assets::StoreValue> Get(std::string_view key) const override {
    ++gets;
    return inner_.Get(key);
  }
  mutable std::atomic<int> gets{0};

 private:
  const kv_assets::Store& inner_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  static_assert(app_assets::kManifest.blob == nullptr);
  absl::StatusOr<std::unique_ptr<kv_assets::KeyValueStore>> store =
      kv_assets::OpenStore(app_assets::kStore);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  Counting counting(**store);
  const kv_assets::Server server(app_assets::kManifest);
  int failures = 0;
  for (const kv_assets::Asset& asset : app_assets::kManifest.assets) {
    std::ifstream in(std::string(argv[1]) + "/" + std::string(asset.path()), std::ios::binary);
    std::ostringstream want;
    want << in.rdbuf();
    const std::string url(asset.url());
    kv_assets::StoreResponse r =
        kv_assets::HandleWithStore(server, counting, {.method = "GET", .target = url});
    if (r.response.status != 200 || r.response.BodyString() != want.str()) {
      std::cerr << asset.path() << ": " << r.response.status << " " << r.status << "\n";
      ++failures;
    }
    const int before = counting.gets;
    r = kv_assets::HandleWithStore(server, counting,
                                   {.method = "GET", .target = url, .if_none_match = asset.etag()});
    const kv_assets::StoreResponse head =
        kv_assets::HandleWithStore(server, counting, {.method = "HEAD", .target = url});
    if (r.response.status != 304 || head.response.status != 200 || counting.gets != before) {
      std::cerr << asset.path() << ": a 304 or a HEAD touched the store\n";
      ++failures;
    }
  }
  std::cout << app_assets::kManifest.assets.size() << " assets served from " << app_assets::kStore
            << ", " << failures << " failures\n";
  return failures == 0 ? 0 : 1;
}
