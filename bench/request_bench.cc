// The request core alone: kv_assets::Server::Handle() for the answers a browser gets most,
// with the target and validators a browser sends. Heap allocations are counted (operator new
// is replaced in this binary) and reported per request next to the time.
//
//   build/bench/bench/kv_assets_request_bench   (after -DKV_ASSETS_BUILD_BENCHMARKS=ON)
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "bench_assets.h"
#include "kv_assets/http_date.h"
#include "kv_assets/server.h"
#include "tests/allocation_counter.h"

namespace {

const kv_assets::Server kServer(bench_assets::kManifest);
const kv_assets::Asset& kCss = *bench_assets::kManifest.Find("css/site.css");

void Run(benchmark::State& state, const kv_assets::Request& request, int expected_status) {
  if (kServer.Handle(request).status != expected_status) {
    state.SkipWithError("unexpected status");
    return;
  }
  const long before = kv_assets::test_util::Allocations();
  for (auto _ : state) {
    kv_assets::Response response = kServer.Handle(request);
    benchmark::DoNotOptimize(response);
  }
  state.counters["allocs/req"] =
      benchmark::Counter(static_cast<double>(kv_assets::test_util::Allocations() - before),
                         benchmark::Counter::kAvgIterations);
}

kv_assets::Request Get(std::string_view target) {
  kv_assets::Request request;
  request.method = "GET";
  request.target = target;
  return request;
}

void BM_Untagged200(benchmark::State& state) { Run(state, Get("/static/css/site.css?v=3"), 200); }
void BM_Tagged200(benchmark::State& state) { Run(state, Get(kCss.url()), 200); }
void BM_NotModified304(benchmark::State& state) {
  // What Chrome sends on revalidation: both validators.
  static const std::string etag(kCss.etag());
  static const std::string since(kCss.last_modified());
  kv_assets::Request request = Get("/static/css/site.css");
  request.if_none_match = etag;
  request.if_modified_since = since;
  Run(state, request, 304);
}
void BM_StaleTag404(benchmark::State& state) {
  Run(state, Get("/static/css/site.AAAAAAAAAA.css"), 404);
}

BENCHMARK(BM_Untagged200);
BENCHMARK(BM_Tagged200);
BENCHMARK(BM_NotModified304);
BENCHMARK(BM_StaleTag404);

}  // namespace

BENCHMARK_MAIN();
