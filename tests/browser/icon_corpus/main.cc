// A page of the icon-font corpus (tests/browser/icon_corpus_test.cmake): Bootstrap Icons'
// and Font Awesome's stylesheets, linked by tagged URL with their integrity and preloaded,
// and a few icons of each font, served by AssetServer. Prints its URL for browser_check.sh.
#include <iostream>
#include <string>

#include "icon_assets.h"
#include "kv_assets/beast_server.h"
#include "kv_assets/preload.h"

namespace http = boost::beast::http;
const kv_assets::Server assets(icon_assets::kManifest);

std::string Stylesheet(std::string_view path) {
  const kv_assets::Asset& a = *icon_assets::kManifest.Find(path);
  return "<link rel=\"stylesheet\" href=\"" + std::string(a.url()) + "\" integrity=\"" +
         std::string(a.integrity()) + "\">\n";
}

int main(int argc, char** argv) {
  const std::string port_flag = argc > 1 ? argv[1] : "--port=8080";
  const auto port =
      static_cast<unsigned short>(std::stoi(port_flag.substr(port_flag.find('=') + 1)));
  const std::string page =
      "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>icons</title>\n"
      "<link rel=\"icon\" href=\"data:,\">\n" +
      Stylesheet("bootstrap-icons/bootstrap-icons.css") + Stylesheet("fontawesome/css/all.css") +
      "</head>\n<body>\n<p>icon corpus</p>\n<i class=\"bi bi-alarm\"></i>\n"
      "<i class=\"fa-solid fa-house\"></i>\n<i class=\"fa-regular fa-bell\"></i>\n"
      "<i class=\"fa-brands fa-github\"></i>\n</body>\n</html>\n";
  const std::vector<std::string> preload = kv_assets::PreloadLinks(
      icon_assets::kManifest, {"bootstrap-icons/bootstrap-icons.css", "fontawesome/css/all.css",
                               "fontawesome/webfonts/fa-solid-900.woff2"});
  boost::asio::io_context io;
  kv_assets::beast::AssetServer server(
      io, {boost::asio::ip::make_address("127.0.0.1"), port}, assets,
      [&](const http::request<http::string_body>& req) {  // every target outside /static/
        http::response<http::string_body> res(http::status::ok, req.version());
        res.set(http::field::content_type, "text/html; charset=utf-8");
        for (const std::string& link : preload) res.insert(http::field::link, link);
        res.body() = page;
        return res;
      });
  std::cout << "serving on http://127.0.0.1:" << server.local_endpoint().port() << "/" << std::endl;
  io.run();
}
