// The manifest-only build of bench/e2e.sh's folder served by cpp-httplib (kv_assets::httplib::
// Mount with a store), for the benchmark only: examples/store_server is the same with Beast.
//
//   kv_assets_bench_httplib_store_server --store=URL [--address=127.0.0.1] [--port=0]
//                                        [--cache-bytes=67108864] [--threads=64]
//
// Prints "serving on http://<address>:<port>/" once it listens; SIGTERM ends it.

#include <charconv>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kv_assets/httplib.h"
#include "kv_assets/key_value_store.h"
#include "kv_assets/store.h"
#include "store_example_assets.h"

int main(int argc, char** argv) {
  std::string address = "127.0.0.1", store_url;
  std::uint64_t port = 0, cache_bytes = 64 << 20, threads = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const std::string_view value = arg.substr(std::min(arg.find('=') + 1, arg.size()));
    std::uint64_t* number = arg.starts_with("--port=")          ? &port
                            : arg.starts_with("--cache-bytes=") ? &cache_bytes
                            : arg.starts_with("--threads=")     ? &threads
                                                                : nullptr;
    if (arg.starts_with("--address=")) {
      address = value;
    } else if (arg.starts_with("--store=")) {
      store_url = value;
    } else if (number == nullptr ||
               std::from_chars(value.data(), value.data() + value.size(), *number).ptr !=
                   value.data() + value.size()) {
      std::cerr << "kv_assets_bench_httplib_store_server: " << arg
                << ": unknown flag or bad value\n";
      return 2;
    }
  }
  absl::StatusOr<std::unique_ptr<kv_assets::KeyValueStore>> store =
      kv_assets::OpenStore(store_url.empty() ? store_example_assets::kStore : store_url);
  if (!store.ok()) {
    std::cerr << "kv_assets_bench_httplib_store_server: " << store.status() << "\n";
    return 1;
  }
  const kv_assets::Store* bodies = store->get();
  std::optional<kv_assets::CachingStore> cache;
  if (cache_bytes > 0) bodies = &cache.emplace(**store, cache_bytes);
  static const kv_assets::Server server(store_example_assets::kManifest);

  httplib::Server svr;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_keep_alive_max_count(1000000);
  kv_assets::httplib::Mount(svr, server, *bodies);
  const int bound = port == 0 ? svr.bind_to_any_port(address)
                              : (svr.bind_to_port(address, static_cast<int>(port)) ? 0 : -1);
  if (bound < 0) {
    std::cerr << "kv_assets_bench_httplib_store_server: cannot listen on " << address << "\n";
    return 1;
  }
  std::cout << "serving on http://" << address << ":" << (port == 0 ? bound : port) << "/"
            << std::endl;
  return svr.listen_after_bind() ? 0 : 1;
}
