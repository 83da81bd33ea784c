// The request core alone: Server::Handle() on the example's assets, with the fields a browser
// sends, and no socket. Reports ns per request and heap allocations per request (counted by a
// replaced operator new); issue 5's targets are <= 100 ns and 0.
//
// Also the generator's hashing against memcpy over the same buffer: hashing a file must cost
// no more than about two copies of it.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "bench_assets.h"
#include "generator/hash.h"
#include "kv_assets/server.h"
#include "tests/allocation_counter.h"

namespace {

const kv_assets::Server kServer(bench_assets::kManifest);
const kv_assets::Asset& kCss = *bench_assets::kManifest.Find("css/site.css");

// What Chrome 13x sends for a stylesheet, in the fields the server reads.
constexpr std::string_view kChromeAcceptEncoding = "gzip, deflate, br, zstd";

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
  request.accept_encoding = kChromeAcceptEncoding;
  return request;
}

void BM_Untagged200(benchmark::State& state) { Run(state, Get("/static/css/site.css?v=3"), 200); }
void BM_Tagged200(benchmark::State& state) { Run(state, Get(kCss.url()), 200); }
void BM_Tagged200NoAcceptEncoding(benchmark::State& state) {
  kv_assets::Request request = Get(kCss.url());
  request.accept_encoding.reset();  // curl
  Run(state, request, 200);
}
void BM_NotModified304(benchmark::State& state) {
  // A revalidation as Chrome sends it: both validators, of the variant it was given.
  const kv_assets::Variant& smallest = bench_assets::kManifest.VariantsOf(kCss).front();
  static const std::string etag(smallest.etag());
  static const std::string since(kCss.last_modified());
  kv_assets::Request request = Get("/static/css/site.css");
  request.if_none_match = etag;
  request.if_modified_since = since;
  Run(state, request, 304);
}
void BM_StaleTag404(benchmark::State& state) {
  Run(state, Get("/static/css/site.AAAAAAAAAA.css"), 404);
}
void BM_Range206(benchmark::State& state) {
  kv_assets::Request request = Get(kCss.url());
  request.accept_encoding = "identity";  // what a media player resuming a download sends
  request.range = "bytes=100-199";
  Run(state, request, 206);
}

BENCHMARK(BM_Untagged200);
BENCHMARK(BM_Tagged200);
BENCHMARK(BM_Tagged200NoAcceptEncoding);
BENCHMARK(BM_NotModified304);
BENCHMARK(BM_StaleTag404);
BENCHMARK(BM_Range206);

// Hashing (XXH3-128, what the generator does to every file) against memcpy of the same bytes;
// bytes/s of the two are the ratio issue 5 asks for (target: hashing >= 50 % of memcpy).
const std::string& Buffer() {
  static const std::string buffer = [] {
    std::string b(64 << 20, '\0');
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>((i * 2654435761u) >> 13);
    return b;
  }();
  return buffer;
}

void BM_Memcpy64MiB(benchmark::State& state) {
  const std::string& in = Buffer();
  std::vector<char> out(in.size());
  for (auto _ : state) {
    std::memcpy(out.data(), in.data(), in.size());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}
void BM_Hash64MiB(benchmark::State& state) {
  const std::string& in = Buffer();
  for (auto _ : state) benchmark::DoNotOptimize(kv_assets::gen::HashBytes(in));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
}

BENCHMARK(BM_Memcpy64MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hash64MiB)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
