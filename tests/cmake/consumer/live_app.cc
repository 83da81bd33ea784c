// The README's live-mode switch, as a user's program writes it: KV_ASSETS_LIVE names the
// folder to serve from disk. Answers one request for css/site.css and exits 0 on a 200 with
// the file's bytes, 1 otherwise.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kv_assets/live.h"

int main() {
  const char* dir = std::getenv("KV_ASSETS_LIVE");
  if (dir == nullptr || *dir == '\0') {
    std::cerr << "live_app: set KV_ASSETS_LIVE to a folder\n";
    return 2;
  }
  auto live = kv_assets::live::LiveServer::Open(dir, {.prefix = "/static/"});
  if (!live.ok()) {
    std::cerr << "live_app: " << live.status() << "\n";
    return 1;
  }
  const kv_assets::live::LiveResponse r =
      (*live)->Handle({.method = "GET", .target = "/static/css/site.css"});
  std::ostringstream file;
  file << std::ifstream(std::string(dir) + "/css/site.css", std::ios::binary).rdbuf();
  if (r.response.status != 200 || r.response.BodyString() != file.str()) {
    std::cerr << "live_app: status " << r.response.status << "\n";
    return 1;
  }
  std::cout << "live_app: ok " << r.response.header("ETag") << "\n";
  return 0;
}
