// kv-assets-store-example: a manifest-only build (kv_assets_embed(... STORE <url>)) served by
// kv_assets::beast::AssetServer. The program carries the manifest of public/ but no body; the
// bodies come from the key-value store `kv-assets sync` uploaded them to, through a
// CachingStore, so each is read from the store once while it stays in the cache.
//
//   kv-assets-store-example [--address=127.0.0.1] [--port=8080] [--store=URL]
//                           [--cache-bytes=67108864] [--threads=N]
//
// --store: where the bodies are, by default the URL the build compiled in (kStore). An
// operator points the same binary at another store (staging, a replica) without a rebuild.
// --cache-bytes=0 reads every body from the store. Store errors are logged on stderr and
// answered 503 (unreachable) or 500 (a body missing); the next request asks again.
// SIGINT/SIGTERM: stop accepting, let responses in flight finish, exit 0.

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kv_assets/beast_server.h"
#include "kv_assets/key_value_store.h"
#include "kv_assets/store.h"
#include "store_example_assets.h"

namespace {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

const kv_assets::Server kServer(store_example_assets::kManifest);

struct Flags {
  std::string address = "127.0.0.1";
  unsigned port = 8080;
  std::string store{store_example_assets::kStore};
  std::size_t cache_bytes = 64 << 20;
  unsigned threads = 0;  // 0: one per core, at most 4
};

constexpr std::string_view kUsage =
    "usage: kv-assets-store-example [--address=127.0.0.1] [--port=8080] [--store=URL]\n"
    "                               [--cache-bytes=67108864] [--threads=N]\n"
    "  --store: where `kv-assets sync` put the bodies (default: the build's STORE URL);\n"
    "  --cache-bytes: bodies kept in memory (0: read each from the store); --port=0 picks\n"
    "  a free port (printed); --threads: default one per core, at most 4.\n";

// Accepts "--name=value" only. Returns nullopt after printing what is wrong.
std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const std::size_t eq = std::min(arg.find('='), arg.size());
    const std::string_view name = arg.substr(0, eq),
                           value = arg.substr(std::min(eq + 1, arg.size()));
    std::uint64_t n = 0;
    const bool number = std::from_chars(value.data(), value.data() + value.size(), n).ptr ==
                            value.data() + value.size() &&
                        !value.empty();
    if (name == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (name == "--address" && !value.empty()) {
      flags.address = value;
    } else if (name == "--store" && !value.empty()) {
      flags.store = value;
    } else if (name == "--port" && number && n <= 65535) {
      flags.port = static_cast<unsigned>(n);
    } else if (name == "--cache-bytes" && number) {
      flags.cache_bytes = static_cast<std::size_t>(n);
    } else if (name == "--threads" && number && n > 0 && n <= 256) {
      flags.threads = static_cast<unsigned>(n);
    } else {
      std::cerr << "kv-assets store example: error: " << arg << ": unknown flag or bad value\n"
                << kUsage;
      return std::nullopt;
    }
  }
  return flags;
}

// "/" lists every asset's URL; 404 elsewhere. The page depends on the manifest alone, so the
// manifest's id is its ETag: a reload revalidates to a 304 until a new version is deployed.
HttpResponse Route(const HttpRequest& req) {
  HttpResponse res(http::status::ok, 11);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  if (req.target() != "/") {
    res.result(http::status::not_found);
    res.body() = "404 Not Found\n";
    return res;
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "405 Method Not Allowed\n";
    return res;
  }
  static const std::string& etag =
      *new std::string("\"" + std::string(store_example_assets::kManifestId) + "\"");
  static const std::string& html = *new std::string([] {
    std::string page =
        "<!doctype html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n"
        "<title>KvAssets from a store</title>\n<h1>KvAssets from a store</h1>\n"
        "<p>This program holds only the manifest. Each body below is read from the store "
        "once, then from memory:</p>\n<ul>\n";
    for (const kv_assets::Asset& asset : store_example_assets::kManifest.assets) {
      const std::string url(asset.url());  // percent-encoded by the generator
      page += "<li><a href=\"" + url + "\"><code>" + url + "</code></a></li>\n";
    }
    return page + "</ul>\n";
  }());
  res.set(http::field::etag, etag);
  res.set(http::field::cache_control, "no-cache");
  if (req[http::field::if_none_match].find(etag) != boost::beast::string_view::npos) {
    res.result(http::status::not_modified);
    res.erase(http::field::content_type);
    return res;
  }
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.body() = html;
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags.has_value()) return 2;
  absl::StatusOr<std::unique_ptr<kv_assets::KeyValueStore>> store =
      kv_assets::OpenStore(flags->store);
  if (!store.ok()) {
    std::cerr << "kv-assets store example: error: " << store.status().message() << "\n";
    return 1;
  }
  const kv_assets::Store* bodies = store->get();
  std::optional<kv_assets::CachingStore> cache;
  if (flags->cache_bytes > 0) bodies = &cache.emplace(**store, flags->cache_bytes);
  const kv_assets::StoreSource source(kServer, *bodies);  // errors: one line on stderr

  boost::asio::io_context io;
  std::optional<kv_assets::beast::AssetServer> http_server;
  try {
    const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(flags->address),
                                                  flags->port);
    http_server.emplace(io, endpoint, source, Route);
  } catch (const boost::system::system_error& e) {
    std::cerr << "kv-assets store example: error: " << flags->address << ":" << flags->port << ": "
              << e.code().message() << "\n";
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&http_server](boost::system::error_code error, int) {
    if (!error) http_server->Stop();
  });
  const auto local = http_server->local_endpoint();
  std::cout << "kv-assets store example: serving " << (*store)->url() << " on http://"
            << local.address().to_string() << ":" << local.port() << "/" << std::endl;

  unsigned count = flags->threads;
  if (count == 0) count = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < count; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& thread : threads) thread.join();
  return 0;
}
