// kv-assets-httplib-example: the Beast example's site served by cpp-httplib, to show
// kv_assets::httplib::Mount() beside a program's own routes.
//
//   kv-assets-httplib-example [--address=127.0.0.1] [--port=8080] [--threads=64]
//
// --port=0 picks a free port (printed). --threads: the size of cpp-httplib's thread pool, which
// is how many connections it can serve at once: each open connection holds one thread.
//
// SIGINT/SIGTERM stop it: connections finish their current request, then it exits 0.

#include <signal.h>

#include <charconv>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "example_assets.h"
#include "kv_assets/httplib.h"

namespace {

const kv_assets::Server kServer(example_assets::kManifest);

// Built once: the manifest cannot change while the program runs, and neither can the page or
// its ETag (a hash of it), so a reload revalidates to a 304.
const std::string kHome =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>KvAssets with cpp-httplib</title>\n<link rel=\"icon\" href=\"" +
    std::string(example_assets::Tag("favicon.ico")) + "\">\n<link rel=\"stylesheet\" href=\"" +
    std::string(example_assets::Tag("css/site.css")) + "\">\n<script type=\"importmap\">\n" +
    std::string(example_assets::kImportMap) + "</script>\n<script type=\"module\" src=\"" +
    std::string(example_assets::Tag("js/app.js")) + "\"></script>\n</head>\n<body>\n" +
    "<main>\n<header><img src=\"" + std::string(example_assets::Tag("img/logo.svg")) +
    "\" alt=\"\"><h1>KvAssets with cpp-httplib</h1></header>\n" +
    "<p id=\"status\" class=\"muted\"></p>\n</main>\n</body>\n</html>\n";
const std::string kHomeEtag = [] {
  std::uint64_t h = 14695981039346656037u;  // FNV-1a
  for (const unsigned char c : kHome) h = (h ^ c) * 1099511628211u;
  char hex[16];
  return "\"" + std::string(hex, std::to_chars(hex, hex + 16, h, 16).ptr) + "\"";
}();

void Home(const httplib::Request& req, httplib::Response& res) {
  res.set_header("ETag", kHomeEtag);
  res.set_header("Cache-Control", "no-cache");  // it names the current asset URLs
  if (req.get_header_value("If-None-Match").find(kHomeEtag) != std::string::npos) {
    res.status = 304;
    return;
  }
  res.set_content(kHome, "text/html; charset=utf-8");
}

bool ParseFlags(int argc, char** argv, std::string& address, int& port, int& threads) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = arg.substr(arg.find('=') == arg.npos ? arg.size() : arg.find('=') + 1);
    if (arg.starts_with("--address=")) {
      address = value;
    } else if (arg.starts_with("--port=") &&
               std::from_chars(value.data(), value.data() + value.size(), port).ptr ==
                   value.data() + value.size() &&
               port >= 0 && port <= 65535) {
      continue;
    } else if (arg.starts_with("--threads=") &&
               std::from_chars(value.data(), value.data() + value.size(), threads).ptr ==
                   value.data() + value.size() &&
               threads >= 1 && threads <= 4096) {
      continue;
    } else {
      std::cerr
          << "usage: kv-assets-httplib-example [--address=127.0.0.1] [--port=8080] [--threads=64]\n"
          << (arg == "--help" ? ""
                              : "error: " + std::string(arg) + ": unknown flag or bad value\n");
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  int port = 8080;
  int threads = 64;
  if (!ParseFlags(argc, argv, address, port, threads))
    return argc > 1 && argv[1] == std::string_view("--help") ? 0 : 2;

  httplib::Server svr;
  // Each keep-alive connection holds a pool thread until it closes; 0.11's default pool has 8.
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_keep_alive_max_count(1000);  // 0.11's default of 5 requests per connection is low
  kv_assets::httplib::Mount(svr, kServer);
  svr.Get("/", Home);

  // Signals are taken by a thread of their own: stop() is not safe in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // inherited by every thread below
  const int bound =
      port == 0 ? svr.bind_to_any_port(address) : (svr.bind_to_port(address, port) ? port : -1);
  if (bound < 0) {
    std::cerr << "kv-assets httplib example: error: cannot listen on " << address << ":" << port
              << "\n";
    return 1;
  }
  std::thread stopper([&svr, &stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    svr.stop();
  });
  std::cout << "kv-assets httplib example: serving on http://" << address << ":" << bound << "/"
            << std::endl;
  const bool ok = svr.listen_after_bind();
  stopper.join();  // a failed listen ends only by a signal too, so that exits are alike
  return ok ? 0 : 1;
}
