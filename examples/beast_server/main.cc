// kv-assets-example: a home page and the files embedded from public/, served by
// kv_assets::beast::AssetServer. What a program of yours would hold: its flags (kUsage), its
// own page, and one AssetServer with a fallback for everything that is not an asset.
// SIGINT/SIGTERM: stop accepting, let responses in flight finish, close idle connections, exit 0.

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "example_assets.h"
#include "kv_assets/beast_server.h"
#include "kv_assets/preload.h"

namespace {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// Checked at compile time: renaming or deleting one of these files breaks the build, not the
// page. The URLs carry a content tag, so browsers may cache them for a year.
constexpr std::string_view kStylesheet = example_assets::Tag("css/site.css");
constexpr std::string_view kScript = example_assets::Tag("js/app.js");
constexpr std::string_view kLogo = example_assets::Tag("img/logo.svg");
constexpr std::string_view kFavicon = example_assets::Tag("favicon.ico");
// Subresource Integrity of a file, for the page's integrity attributes.
constexpr std::string_view Integrity(std::string_view path) {
  return example_assets::kManifest.assets[example_assets::kManifest.IndexOf(path)].integrity();
}

const kv_assets::Server kServer(example_assets::kManifest);  // immutable: shared by all threads

// The home page: the compile-time checked links above, the import map (js/app.js imports
// ./status.js, which it maps to a tagged URL), and every embedded file's URL (percent-encoded
// by the generator: safe in an attribute and as text).
std::string BuildHomePage() {
  std::string html =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>KvAssets example</title>\n<link rel=\"icon\" href=\"" +
      std::string(kFavicon) + "\">\n<link rel=\"stylesheet\" href=\"" + std::string(kStylesheet) +
      "\" integrity=\"" + std::string(Integrity("css/site.css")) +
      "\">\n<script type=\"importmap\">\n" + std::string(example_assets::kImportMap) +
      "</script>\n<script type=\"module\" src=\"" + std::string(kScript) + "\" integrity=\"" +
      std::string(Integrity("js/app.js")) +
      "\"></script>\n</head>\n<body>\n<main>\n<header><img src=\"" + std::string(kLogo) +
      "\" alt=\"\"><h1>KvAssets example</h1></header>\n"
      "<p>These files are compiled into the server. Each has a tagged URL, cached for a year, "
      "and an untagged one, revalidated after a minute:</p>\n<ul class=\"assets\">\n";
  for (const kv_assets::Asset& asset : example_assets::kManifest.assets) {
    const std::string url(asset.url());
    html += "<li><a href=\"" + url + "\"><code>" + url + "</code></a></li>\n";
  }
  return html + "</ul>\n<p id=\"status\" class=\"muted\"></p>\n</main>\n</body>\n</html>\n";
}

HttpResponse TextResponse(http::status status, std::string_view text) {
  HttpResponse res(status, 11);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  if (status == http::status::method_not_allowed) res.set(http::field::allow, "GET, HEAD");
  res.body() = text;
  return res;
}

// Everything that is not under /static/: the home page at "/", 404 elsewhere.
HttpResponse Route(const HttpRequest& req) {
  const std::string_view target(req.target().data(), req.target().size());
  if (target != "/" && !target.starts_with("/?")) {
    return TextResponse(http::status::not_found, "404 Not Found\n");
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return TextResponse(http::status::method_not_allowed, "405 Method Not Allowed\n");
  }
  // Built once: the manifest cannot change while the program runs. no-cache: the page names
  // the current asset URLs, so it is revalidated on every use (a reload gets a 304).
  static const std::string& html = *new std::string(BuildHomePage());
  static const std::string& etag =
      *new std::string("\"" + std::to_string(std::hash<std::string>{}(html)) + "\"");
  // The browser (or a CDN, as 103 Early Hints) starts on these before it parses the page.
  static const std::string& preload =
      *new std::string(kv_assets::PreloadLink(example_assets::kManifest, "css/site.css") + ", " +
                       kv_assets::PreloadLink(example_assets::kManifest, "js/app.js",
                                              {.as = kv_assets::PreloadAs::kModule}));
  const auto inm = req.find(http::field::if_none_match);
  HttpResponse res(http::status::ok, 11);
  if (inm != req.end() && inm->value().find(etag) != boost::beast::string_view::npos) {
    res.result(http::status::not_modified);
  } else {
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::link, preload);
    res.body() = html;
  }
  res.set(http::field::etag, etag);
  res.set(http::field::cache_control, "no-cache");
  return res;
}

struct Flags {
  std::string address = "127.0.0.1";
  unsigned port = 8080;
  unsigned threads = 0;  // 0: one per core, at most 4
  kv_assets::beast::AssetServerOptions options;
};

constexpr std::string_view kUsage =
    "usage: kv-assets-example [--address=127.0.0.1] [--port=8080] [--threads=N]\n"
    "                         [--sendfile-min=BYTES] [--sendfile-loopback]\n"
    "  --port=0 picks a free port (printed); --threads: default one per core, at most 4;\n"
    "  --sendfile-min: bodies this large go by sendfile(2) (default 65536, 0: never), to\n"
    "  loopback clients too with --sendfile-loopback.\n";

bool ParseNumber(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), out);
  return err == std::errc() && end == text.data() + text.size() && out <= max;
}

// Accepts "--name=value" and "--name value". Returns nullopt after printing what is wrong.
std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i], value;
    const bool bare = arg == "--help" || arg == "--sendfile-loopback";
    if (const auto eq = arg.find('='); eq != arg.npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (!bare && i + 1 < argc) {
      value = argv[++i];
    }
    std::uint64_t n = 0;
    if (arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--sendfile-loopback") {
      flags.options.sendfile_to_loopback = true;
    } else if (arg == "--address") {
      flags.address = value;
    } else if (arg == "--port" && ParseNumber(value, 65535, n)) {
      flags.port = static_cast<unsigned>(n);
    } else if (arg == "--threads" && ParseNumber(value, 256, n) && n > 0) {
      flags.threads = static_cast<unsigned>(n);
    } else if (arg == "--sendfile-min" && ParseNumber(value, SIZE_MAX, n)) {
      flags.options.sendfile_min = static_cast<std::size_t>(n);
    } else {
      std::cerr << "kv-assets example: error: " << arg << " " << value
                << ": unknown flag or bad value\n"
                << kUsage;
      return std::nullopt;
    }
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags.has_value()) return 2;
  boost::asio::io_context io;
  std::optional<kv_assets::beast::AssetServer> http_server;
  try {  // make_address: not an IP address; AssetServer: address in use and the like
    const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(flags->address),
                                                  flags->port);
    http_server.emplace(io, endpoint, kServer, Route, flags->options);
  } catch (const boost::system::system_error& e) {
    const bool bad_address = e.code() == boost::system::errc::invalid_argument;
    std::cerr << "kv-assets example: error: " << flags->address << ":" << flags->port << ": "
              << (bad_address ? "not an IP address" : e.code().message()) << "\n";
    return 1;
  }
  // Registered before the URL is printed: whoever reads it may signal right away.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&http_server](boost::system::error_code error, int) {
    if (!error) http_server->Stop();
  });
  const auto local = http_server->local_endpoint();
  const std::string host = local.address().to_string();
  std::cout << "kv-assets example: serving on http://"
            << (local.address().is_v6() ? "[" + host + "]" : host) << ":" << local.port() << "/"
            << std::endl;

  // run() returns once the server, the signal wait and every connection are done.
  unsigned count = flags->threads;
  if (count == 0) count = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < count; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& thread : threads) thread.join();
  return 0;
}
