// README.md, "Serving with cpp-httplib": the same program, with a port argument (0:
// a free one) and its URL printed for tests/cmake/serve_and_fetch.sh.
#include <iostream>

#include "app_assets.h"
#include "kv_assets/httplib.h"

const kv_assets::Server assets(app_assets::kManifest);

int main(int argc, char** argv) {
  httplib::Server svr;
  kv_assets::httplib::Mount(svr, assets);  // every target under /static/
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "<link rel=stylesheet href=\"" + std::string(app_assets::Tag("css/site.css")) + "\">",
        "text/html; charset=utf-8");
  });
  const int port = argc > 1 ? std::stoi(argv[1]) : 8080;
  const int bound = port == 0 ? svr.bind_to_any_port("127.0.0.1")
                              : (svr.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound < 0) return 1;
  std::cout << "serving on http://127.0.0.1:" << bound << "/" << std::endl;
  return svr.listen_after_bind() ? 0 : 1;
}
