// Live mode's cost per request (docs/live.md): LiveServer::Handle() of an unchanged 2 KB
// stylesheet in folders of 100 and of 20,000 files, against Server::Handle() of the same
// bytes embedded, and against one stat(2) of the file. The target: live costs at most one
// stat and 5 µs more than embedded, whatever the folder's size. No socket.
//
//   build/bench/bench/kv_assets_live_bench --benchmark_repetitions=5 \
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "kv_assets/live.h"
#include "kv_assets/server.h"
#include "live_bench_assets.h"  // e2e/small.css, the 2 KB stylesheet of bench/e2e.sh

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kChromeAcceptEncoding = "gzip, deflate, br, zstd";

std::string SmallCss() {
  const kv_assets::Manifest& m = live_bench_assets::kManifest;
  return std::string(m.Body(*m.Find("e2e/small.css")));
}

// A folder of `files` files, 100 per sub-folder, one of them e2e/small.css; made once.
std::string MakeFolder(int files) {
  const fs::path root =
      fs::temp_directory_path() / ("kv-assets-live-bench-" + std::to_string(files));
  if (!fs::exists(root / "done")) {
    fs::remove_all(root);
    const std::string css = SmallCss();
    fs::create_directories(root / "e2e");
    std::ofstream(root / "e2e/small.css", std::ios::binary) << css;
    for (int i = 1; i < files; ++i) {
      const fs::path dir = root / ("d" + std::to_string(i / 100));
      fs::create_directories(dir);
      std::ofstream(dir / ("f" + std::to_string(i) + ".css"), std::ios::binary) << css << i;
    }
    std::ofstream(root / "done") << "";
    // Files modified less than two seconds ago are read again on every request (racy).
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  }
  return root.string();
}

const kv_assets::live::LiveServer& Live(int files) {
  static std::map<int, std::unique_ptr<kv_assets::live::LiveServer>> servers;
  auto& server = servers[files];
  if (server == nullptr) {
    server = *kv_assets::live::LiveServer::Open(MakeFolder(files), {.prefix = "/static/"});
  }
  return *server;
}

kv_assets::Request CssRequest() {
  return {
      .method = "GET", .target = "/static/e2e/small.css", .accept_encoding = kChromeAcceptEncoding};
}

void BM_Embedded(benchmark::State& state) {
  static const kv_assets::Server server(live_bench_assets::kManifest);
  const kv_assets::Request request = CssRequest();
  for (auto _ : state) {
    kv_assets::Response response = server.Handle(request);
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_Embedded);

void BM_Stat(benchmark::State& state) {
  const std::string path = MakeFolder(static_cast<int>(state.range(0))) + "/e2e/small.css";
  for (auto _ : state) {
    struct stat st {};
    benchmark::DoNotOptimize(::stat(path.c_str(), &st));
  }
}
BENCHMARK(BM_Stat)->Arg(100)->Arg(20000);

void BM_Live(benchmark::State& state) {
  const kv_assets::live::LiveServer& live = Live(static_cast<int>(state.range(0)));
  const kv_assets::Request request = CssRequest();
  if (live.Handle(request).response.status != 200) {
    state.SkipWithError("not a 200");
    return;
  }
  for (auto _ : state) {
    kv_assets::live::LiveResponse response = live.Handle(request);
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_Live)->Arg(100)->Arg(20000);

}  // namespace

BENCHMARK_MAIN();
