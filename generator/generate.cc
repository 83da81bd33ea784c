#include "generator/generate.h"

#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <stop_token>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "generator/file_util.h"
#include "generator/manifest_json.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {
namespace {

using Clock = std::chrono::steady_clock;

std::string Absolute(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

std::string PrivateCacheDir(const EmitOptions& emit) {
  return absl::StrCat(emit.out_dir, "/", emit.name, ".compress-cache");
}

// Absolute paths (the depfile and the .incbin directive are read from other folders), and
// what follows from them.
void Complete(GenerateConfig& config) {
  EmitOptions& emit = config.emit;
  config.folder = Absolute(config.folder);
  if (!emit.out_dir.empty()) emit.out_dir = Absolute(emit.out_dir);
  while (emit.out_dir.size() > 1 && emit.out_dir.back() == '/') emit.out_dir.pop_back();
  if (!emit.depfile.empty()) emit.depfile = std::filesystem::absolute(emit.depfile).string();
  // One per manifest: several embeds into one target share the output folder and run in
  // parallel, and libgit2 locks a repository's config while it initialises it.
  if (config.scan.scratch_dir.empty() && !emit.out_dir.empty()) {
    config.scan.scratch_dir = emit.out_dir + "/" + emit.name + ".ignore-scratch.git";
  }
  if (config.compress.cache_dir.empty() && !emit.out_dir.empty()) {
    config.compress.cache_dir = PrivateCacheDir(emit);
  }
  emit.latest_last_modified = static_cast<std::int64_t>(std::time(nullptr));
  config.link.prefix = emit.prefix;
}

// Prints ProgressLine() every `interval` from another thread until destroyed.
class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream* log, std::string_view name, const CompressProgress& progress,
                  std::chrono::milliseconds interval)
      : start_(Clock::now()) {
    if (log == nullptr) return;
    // No thread, no progress lines: the run itself is not affected.
    try {
      StartThread(log, name, progress, interval);
    } catch (const std::system_error&) {
    }
  }

 private:
  void StartThread(std::ostream* log, std::string_view name, const CompressProgress& progress,
                   std::chrono::milliseconds interval) {
    thread_ = std::jthread([=, this, &progress](std::stop_token stop) {
      std::mutex mu;
      std::unique_lock lock(mu);
      while (!wake_.wait_for(lock, stop, interval, [] { return false; }) &&
             !stop.stop_requested()) {
        if (progress.files_total.load() == 0) continue;  // not planned yet
        *log << ProgressLine(name, progress, Clock::now() - start_) << std::endl;
      }
    });
  }

  Clock::time_point start_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined before the rest goes
};

std::string Size(std::uint64_t bytes) {
  if (bytes < 1000) return absl::StrCat(bytes, " B");
  if (bytes < 1000 * 1000) return absl::StrFormat("%.1f kB", static_cast<double>(bytes) / 1e3);
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6);
}

GenerateReport Report(const std::vector<PreparedFile>& files, const CompressStats& stats) {
  GenerateReport report;
  report.files = files.size();
  report.stats = stats;
  for (const PreparedFile& f : files) {
    report.bytes += f.content.size();
    report.variants += f.variants.size();
    report.smallest_bytes += f.variants.empty() ? f.content.size() : f.variants[0].bytes.size();
  }
  return report;
}

// After a run that succeeded: a failed one says nothing about what the next needs.
void LookAfterCache(const GenerateConfig& config, const Prepared& prepared) {
  const std::string& cache_dir = config.compress.cache_dir;  // as Prepare() completed it
  if (cache_dir.empty()) return;
  const std::string private_dir = PrivateCacheDir(config.emit);
  if (cache_dir == private_dir) {
    PruneCompressCache(private_dir, prepared.cache_entries);
    return;
  }
  // A build folder that used a private cache before the shared one was turned on.
  if (!config.emit.out_dir.empty()) PruneCompressCache(private_dir, {});
  if (prepared.stats.computed > 0) TrimCompressCache(cache_dir, config.cache_max_bytes);
}

// A tagged URL is cached for a year, so it must never name other bytes: the tag of a file in a
// cycle is not the hash of its final bytes (generator/link.h), and this check turns any
// mistake in how those are derived into a failed build instead of stale caches everywhere.
// It compares with the manifest the previous run wrote, when there is one.
absl::Status CheckTagsKeepTheirBytes(const std::vector<PreparedFile>& files,
                                     const EmitOptions& emit) {
  if (emit.out_dir.empty()) return absl::OkStatus();
  const std::string built = absl::StrCat(emit.out_dir, "/", emit.name, ".manifest.json");
  absl::StatusOr<std::string> text = ReadFile(built);
  if (!text.ok()) return absl::OkStatus();  // a first build
  absl::StatusOr<ManifestData> previous = ManifestFromJson(*text);
  if (!previous.ok()) return absl::OkStatus();  // not ours to judge
  std::map<std::string_view, std::string_view> etags;
  for (const ManifestAsset& a : previous->assets) etags.emplace(a.tagged_path, a.etag);
  for (const PreparedFile& f : files) {
    const auto it = etags.find(f.tagged_path);
    if (it == etags.end() || it->second == f.etag) continue;
    return absl::InternalError(absl::StrCat(
        f.source.abs_path, ": its tagged name ", f.tagged_path, " named other bytes (ETag ",
        ToAbsl(it->second), ") in the previous build, ", built, ", and would now name ETag ",
        f.etag,
        "; caches keep a tagged URL for a year, so the build stops. Please report this "
        "as a kv-assets bug; removing ",
        built, " lets the build go on"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Prepared> Prepare(GenerateConfig& config) {
  Complete(config);
  KV_ASSETS_ASSIGN_OR_RETURN(ScanResult scanned, Scan(config.folder, config.scan));
  KV_ASSETS_ASSIGN_OR_RETURN(std::vector<PreparedFile> hashed, HashFiles(std::move(scanned.files)));
  KV_ASSETS_ASSIGN_OR_RETURN(FileTimes times,
                             LastModifiedTimes(config.folder, hashed, config.dating));
  for (std::size_t i = 0; i < hashed.size(); ++i) hashed[i].last_modified = times.times[i];
  scanned.watched.insert(scanned.watched.end(), times.watched.begin(), times.watched.end());
  KV_ASSETS_ASSIGN_OR_RETURN(LinkReport linked, Link(hashed, config.link));

  CompressProgress progress;
  CompressOptions compress = config.compress;
  compress.progress = &progress;
  absl::StatusOr<CompressResult> compressed = [&] {
    const ProgressPrinter printer(config.log, config.emit.name, progress, config.progress_interval);
    return Compress(std::move(hashed), compress);
  }();
  if (!compressed.ok()) return compressed.status();
  return Prepared{std::move(compressed->files), std::move(scanned.watched), compressed->stats,
                  std::move(compressed->cache_entries), std::move(linked)};
}

absl::StatusOr<GenerateReport> Generate(GenerateConfig config) {
  const Clock::time_point start = Clock::now();
  KV_ASSETS_ASSIGN_OR_RETURN(Prepared prepared, Prepare(config));
  KV_ASSETS_ASSIGN_OR_RETURN(GeneratedFiles files,
                             Emit(prepared.files, prepared.watched, config.emit));
  KV_ASSETS_RETURN_IF_ERROR(CheckTagsKeepTheirBytes(prepared.files, config.emit));
  KV_ASSETS_RETURN_IF_ERROR(WriteOutputs(files, config.emit));
  LookAfterCache(config, prepared);
  GenerateReport report = Report(prepared.files, prepared.stats);
  report.warnings = std::move(prepared.link.warnings);
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (config.log != nullptr) *config.log << SummaryLine(config.emit.name, report) << std::endl;
  return report;
}

std::string SummaryLine(std::string_view name, const GenerateReport& report) {
  const double saved = report.bytes == 0
                           ? 0
                           : 100.0 * static_cast<double>(report.bytes - report.smallest_bytes) /
                                 static_cast<double>(report.bytes);
  return absl::StrFormat(
      "kv-assets: %s: %d files, %s; %d variants, %.0f %% saved; %d cached; %.1f s", ToAbsl(name),
      report.files, Size(report.bytes), report.variants, saved, report.stats.from_cache,
      report.seconds);
}

std::string ProgressLine(std::string_view name, const CompressProgress& progress,
                         Clock::duration elapsed) {
  const auto mb = [](std::uint64_t bytes) { return (bytes + 500'000) / 1'000'000; };
  return absl::StrFormat("kv-assets: %s: compressing %d/%d files, %d/%d MB, %d s", ToAbsl(name),
                         progress.files_done.load(), progress.files_total.load(),
                         mb(progress.bytes_done.load()), mb(progress.bytes_total.load()),
                         std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
}

}  // namespace kv_assets::gen
