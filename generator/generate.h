// generator/generate.h — the whole generator as two library calls: Prepare() runs the pure
// steps (scan -> hash -> date -> link -> compress) and Generate() also emits and writes the
// outputs. `kv-assets generate` and `kv-assets sync` are thin layers over them (main.cc), and tests
// call them in-process.
//
// Example:
//   GenerateConfig config;
//   config.folder = "web/public";
//   config.emit.out_dir = "build/kv_assets/app";
//   config.emit.name = config.emit.cpp_namespace = "app_assets";
//   config.compress.cache_dir = SharedCacheDir(env);  // "" : a private cache in out_dir
//   config.log = &std::cerr;                          // progress and the summary line
//   absl::StatusOr<GenerateReport> report = Generate(config);
//   // stderr: "kv-assets: app_assets: 112 files, 27.6 MB; 224 variants, 78 % saved; ..."

#ifndef KV_ASSETS_GENERATOR_GENERATE_H_
#define KV_ASSETS_GENERATOR_GENERATE_H_

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/compress.h"
#include "generator/compress_cache.h"
#include "generator/emit.h"
#include "generator/hash.h"
#include "generator/last_modified.h"
#include "generator/link.h"
#include "generator/scan.h"

namespace kv_assets::gen {

struct GenerateConfig {
  std::string folder;  // the asset folder; relative to the working folder or absolute
  ScanOptions scan;
  LastModifiedOptions dating;
  // References between files (generator/link.h). Its prefix is emit.prefix's: Prepare()
  // copies it.
  LinkOptions link;
  // compress.cache_dir: the shared cache (compress_cache.h), or "" for a private one in
  // emit.out_dir ("<name>.compress-cache", pruned to what the last generate used), or none
  // when there is no out_dir either.
  CompressOptions compress;
  EmitOptions emit;
  // The shared cache's size cap, enforced after a run that added to it.
  std::uint64_t cache_max_bytes = kDefaultCacheMaxBytes;
  // Where progress lines (while compressing takes longer than `progress_interval`, at most one
  // per interval) and the summary line go; nullptr for nowhere.
  std::ostream* log = nullptr;
  std::chrono::milliseconds progress_interval{1000};
};

// The pipeline's result before anything is written.
struct Prepared {
  std::vector<PreparedFile> files;   // hashed, dated and compressed, sorted by path
  std::vector<std::string> watched;  // what the depfile lists besides the files
  CompressStats stats;
  std::vector<std::string> cache_entries;  // the entries this run used, sorted
  LinkReport link;  // its warnings are the caller's to print (a CLI prints them even --quiet)
};

// What a Generate() run did, for its summary line.
struct GenerateReport {
  std::size_t files = 0;
  std::uint64_t bytes = 0;  // every file's identity bytes
  std::size_t variants = 0;
  std::uint64_t smallest_bytes = 0;  // every file's smallest representation
  CompressStats stats;
  double seconds = 0;
  std::vector<std::string> warnings;  // references to files not in the folder (link.h)
};

// Scan, hash, date, link and compress `config.folder`. Makes config's paths absolute and fills in
// what follows from the others (scratch folder, cache folder, the clock for Last-Modified).
// Errors name the path or value at fault.
absl::StatusOr<Prepared> Prepare(GenerateConfig& config);

// Prepare(), then Emit() and WriteOutputs(); then looks after the cache (trims the shared
// one after a run that added to it, prunes a private one). A failed run leaves every output
// as it was.
absl::StatusOr<GenerateReport> Generate(GenerateConfig config);

// "kv-assets: <name>: 112 files, 27.6 MB; 224 variants, 78 % saved; 0 cached; 9.4 s". The
// share saved is what a client that accepts every coding is spared: 1 - smallest_bytes / bytes.
std::string SummaryLine(std::string_view name, const GenerateReport& report);

// "kv-assets: <name>: compressing 84/112 files, 21/27 MB, 12 s".
std::string ProgressLine(std::string_view name, const CompressProgress& progress,
                         std::chrono::steady_clock::duration elapsed);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_GENERATE_H_
