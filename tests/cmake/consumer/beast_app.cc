// README.md, "Serving with Beast": the same program, with a port argument (0:
// a free one) and its URL printed for tests/cmake/serve_and_fetch.sh.
#include <iostream>

#include "app_assets.h"
#include "kv_assets/beast_server.h"

namespace http = boost::beast::http;
const kv_assets::Server assets(app_assets::kManifest);

int main(int argc, char** argv) {
  boost::asio::io_context io;
  const auto port = static_cast<unsigned short>(argc > 1 ? std::stoi(argv[1]) : 8080);
  kv_assets::beast::AssetServer server(
      io, {boost::asio::ip::make_address("127.0.0.1"), port}, assets,
      [](const http::request<http::string_body>& req) {  // every target outside /static/
        http::response<http::string_body> res(http::status::ok, req.version());
        res.set(http::field::content_type, "text/html; charset=utf-8");
        res.body() =
            "<link rel=stylesheet href=\"" + std::string(app_assets::Tag("css/site.css")) + "\">";
        return res;
      });
  std::cout << "serving on http://127.0.0.1:" << server.local_endpoint().port() << "/" << std::endl;
  io.run();
}
