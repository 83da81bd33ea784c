#include "generator/compress.h"

#include <brotli/encode.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "generator/compress_cache.h"
#include "generator/parallel.h"

namespace kv_assets::gen {
namespace {

// The settings of each level. kMax: the smallest bytes clients receive, for release builds.
// kFast: a few percent larger at a small fraction of the time, for builds run every few
// minutes (bench/README.md has both measured on the same corpus).
struct Levels {
  int gzip;
  int brotli;
  // At most 19: level 19's window is at most 8 MiB, the most a client must accept for the
  // "zstd" content coding (RFC 9659); levels 20 to 22 use larger windows, which browsers refuse.
  int zstd;
};
constexpr Levels kMaxLevels{9, 11, 19};
constexpr Levels kFastLevels{6, 5, 3};

constexpr const Levels& LevelsOf(CompressLevel level) {
  return level == CompressLevel::kFast ? kFastLevels : kMaxLevels;
}

// zlib's largest: slightly smaller output for 256 KiB more memory per stream.
constexpr int kGzipMemLevel = 9;
// A 32 KiB window (the most deflate has); adding 16 asks zlib for a gzip wrapper.
constexpr int kGzipWindowBits = 15 + 16;
// RFC 1952's "unknown" operating system: zlib would write the compiling machine's, and the
// same input must give the same bytes everywhere.
constexpr int kGzipOsUnknown = 255;

BrotliEncoderMode BrotliModeFor(Compressibility kind) {
  switch (kind) {
    case Compressibility::kText:
      return BROTLI_MODE_TEXT;
    case Compressibility::kFont:
      return BROTLI_MODE_FONT;
    case Compressibility::kNone:
    case Compressibility::kGeneric:
      break;
  }
  return BROTLI_MODE_GENERIC;
}

absl::Status EncoderError(Coding coding, std::string_view what) {
  return absl::ResourceExhaustedError(
      absl::StrCat("cannot compress with ", ToAbsl(CodingName(coding)), ": ", ToAbsl(what)));
}

absl::StatusOr<std::string> Gzip(std::string_view in, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, kGzipMemLevel, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return EncoderError(Coding::kGzip, "out of memory");
  }
  gz_header header{};  // no name, no comment, modification time 0
  header.os = kGzipOsUnknown;
  deflateSetHeader(&zs, &header);
  std::string out(deflateBound(&zs, in.size()), '\0');
  // zlib counts in 32-bit units, so a body over 4 GiB goes in pieces.
  auto* next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  std::size_t in_left = in.size(), produced = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const uInt in_chunk = static_cast<uInt>(std::min<std::size_t>(in_left, UINT_MAX));
    const uInt out_chunk =
        static_cast<uInt>(std::min<std::size_t>(out.size() - produced, UINT_MAX));
    zs.next_in = next_in;
    zs.avail_in = in_chunk;
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = out_chunk;
    rc = deflate(&zs, in_chunk == in_left ? Z_FINISH : Z_NO_FLUSH);
    next_in += in_chunk - zs.avail_in;
    in_left -= in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
  }
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return EncoderError(Coding::kGzip, absl::StrCat("zlib error ", rc));
  out.resize(produced);
  return out;
}

absl::StatusOr<std::string> Brotli(std::string_view in, Compressibility kind, int quality) {
  std::size_t size = BrotliEncoderMaxCompressedSize(in.size());
  if (size == 0) return EncoderError(Coding::kBrotli, "too large");
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BrotliModeFor(kind), in.size(),
                             reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                             reinterpret_cast<std::uint8_t*>(out.data()))) {
    return EncoderError(Coding::kBrotli, "out of memory");
  }
  out.resize(size);
  return out;
}

absl::StatusOr<std::string> Zstd(std::string_view in, int level) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const std::size_t size = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  if (ZSTD_isError(size)) return EncoderError(Coding::kZstd, ZSTD_getErrorName(size));
  out.resize(size);
  return out;
}

// Everything that decides a cache entry's content besides the input bytes.
std::string Settings(Coding coding, Compressibility kind, CompressLevel level) {
  const Levels& levels = LevelsOf(level);
  std::string out;
  switch (coding) {
    case Coding::kGzip:
      out =
          absl::StrCat("gzip level=", levels.gzip, " mem=", kGzipMemLevel,
                       " wbits=", kGzipWindowBits, " os=", kGzipOsUnknown, " zlib=", zlibVersion());
      break;
    case Coding::kBrotli:
      out = absl::StrCat("br quality=", levels.brotli, " lgwin=", BROTLI_DEFAULT_WINDOW,
                         " mode=", static_cast<int>(BrotliModeFor(kind)),
                         " brotli=", BrotliEncoderVersion());
      break;
    case Coding::kZstd:
      out = absl::StrCat("zstd level=", levels.zstd, " zstd=", ZSTD_versionString());
      break;
  }
  absl::StrAppend(&out, " keep>=", kMinSavingBytes, "B,", kMinSavingPercent,
                  "% format=", kCacheEntryFormat);
  return out;
}

// Roughly how many times longer than gzip a coding takes per input byte at each level
// (bench/README.md, "Cold builds"): the order in which jobs start, never their results.
double CostPerByte(Coding coding, CompressLevel level) {
  const bool fast = level == CompressLevel::kFast;
  switch (coding) {
    case Coding::kGzip:
      return 1;
    case Coding::kBrotli:
      return fast ? 0.5 : 14;
    case Coding::kZstd:
      return fast ? 0.1 : 11;
  }
  return 1;
}

// What one (distinct content, coding) needs and gives.
struct Job {
  const PreparedFile* file = nullptr;  // the first file with this content
  std::size_t content = 0;             // which distinct content: an index into the run's counts
  Compressibility kind = Compressibility::kNone;
  Coding coding = Coding::kGzip;
  std::string cache_name;
  double cost = 0;  // estimated, for ordering
  // Results.
  absl::Status status;
  std::optional<std::string> variant;  // nullopt when not worth keeping
  CacheState cache = CacheState::kMissing;
};

// The work for one distinct content.
struct ContentWork {
  std::size_t jobs = 0;
  std::uint64_t bytes = 0;
};

// What the workers share besides the jobs.
struct JobContext {
  const CompressOptions& options;
  std::string cache_dir;  // "" for none
  // Per distinct content, its work and its jobs not finished yet (for CompressProgress).
  const std::vector<ContentWork>& contents;
  std::vector<std::atomic<std::size_t>> unfinished;
};

// A cached entry, when it is one this body can have: a kept variant must still be worth
// keeping (an entry planted for another body of the same hash would not be).
bool UseCached(Job& job, const std::string& cache_dir) {
  CacheEntry cached = ReadCacheEntry(cache_dir, job.cache_name);
  job.cache = cached.state;
  if (cached.state == CacheState::kHit && cached.kept &&
      !WorthKeeping(job.file->content.size(), cached.payload.size())) {
    job.cache = CacheState::kDamaged;
  }
  if (job.cache != CacheState::kHit) return false;
  if (cached.kept) job.variant = std::move(cached.payload);
  return true;
}

void RunJob(Job& job, const JobContext& context) {
  const std::string_view content = job.file->content;
  if (!context.cache_dir.empty() && UseCached(job, context.cache_dir)) return;
  absl::StatusOr<std::string> encoded =
      Encode(job.coding, job.kind, content, context.options.level);
  if (!encoded.ok()) {
    job.status = absl::Status(encoded.status().code(), absl::StrCat(job.file->source.abs_path, ": ",
                                                                    encoded.status().message()));
    return;
  }
  const bool kept = WorthKeeping(content.size(), encoded->size());
  if (kept) job.variant = std::move(*encoded);
  if (!context.cache_dir.empty()) {
    WriteCacheEntry(context.cache_dir, job.cache_name, kept,
                    kept ? std::string_view(*job.variant) : "");
  }
}

// A file counts as done once all its encodings are; its bytes count in shares, one per
// encoding, so the byte count moves while a large file's encodings run.
void CountFinished(const Job& job, JobContext& context) {
  CompressProgress* progress = context.options.progress;
  if (progress == nullptr) return;
  if (job.cache == CacheState::kHit) progress->cached.fetch_add(1);
  const std::uint64_t size = context.contents[job.content].bytes;
  const std::size_t jobs = context.contents[job.content].jobs;
  const std::uint64_t share = size / jobs;
  if (context.unfinished[job.content].fetch_sub(1) == 1) {
    progress->files_done.fetch_add(1);
    progress->bytes_done.fetch_add(size - share * (jobs - 1));
  } else {
    progress->bytes_done.fetch_add(share);
  }
}

// Runs every job on up to `threads` threads, the most expensive first, so that no long job
// starts last and runs alone while the other cores idle. Each job writes only its own slot.
void RunJobs(std::vector<Job>& jobs, JobContext& context) {
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return jobs[a].cost > jobs[b].cost; });
  ParallelFor(order.size(), context.options.threads, [&](std::size_t k) {
    RunJob(jobs[order[k]], context);
    CountFinished(jobs[order[k]], context);
  });
}

// One job per distinct (cache name) among the eligible files; `file_jobs[i]` lists file
// i's jobs, `contents` the work per distinct content.
std::vector<Job> PlanJobs(const std::vector<PreparedFile>& files, const CompressOptions& options,
                          std::vector<std::vector<std::size_t>>& file_jobs,
                          std::vector<ContentWork>& contents) {
  std::vector<Job> jobs;
  std::map<std::string, std::size_t> by_name;
  std::map<Digest, std::size_t> by_digest;
  file_jobs.assign(files.size(), {});
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Compressibility kind = CompressibilityFor(files[i].source.path);
    // A body of kMinSavingBytes or less cannot save kMinSavingBytes.
    if (kind == Compressibility::kNone || files[i].content.size() <= kMinSavingBytes) continue;
    for (const Coding coding : options.codings) {
      std::string name = internal::CacheEntryName(files[i].digest, coding, kind, options.level);
      const auto [it, inserted] = by_name.emplace(name, jobs.size());
      if (inserted) {
        const auto [d, new_content] = by_digest.emplace(files[i].digest, contents.size());
        if (new_content) contents.push_back({0, files[i].content.size()});
        ++contents[d->second].jobs;
        const double cost =
            static_cast<double>(files[i].content.size()) * CostPerByte(coding, options.level);
        jobs.push_back(Job{&files[i], d->second, kind, coding, std::move(name), cost});
      }
      file_jobs[i].push_back(it->second);
    }
  }
  return jobs;
}

// The counts a finished run reports.
void Tally(const std::vector<Job>& jobs, bool cached, CompressResult& result) {
  for (const Job& job : jobs) {
    if (job.cache == CacheState::kHit) {
      ++result.stats.from_cache;
    } else {
      ++result.stats.computed;
      if (job.cache == CacheState::kDamaged) ++result.stats.cache_rejected;
    }
    if (cached) result.cache_entries.push_back(job.cache_name);
  }
  std::sort(result.cache_entries.begin(), result.cache_entries.end());
}

}  // namespace

absl::StatusOr<std::string> Encode(Coding coding, Compressibility kind, std::string_view content,
                                   CompressLevel level) {
  const Levels& levels = LevelsOf(level);
  switch (coding) {
    case Coding::kGzip:
      return Gzip(content, levels.gzip);
    case Coding::kBrotli:
      return Brotli(content, kind, levels.brotli);
    case Coding::kZstd:
      return Zstd(content, levels.zstd);
  }
  return absl::InvalidArgumentError("unknown coding");
}

absl::StatusOr<CompressResult> Compress(std::vector<PreparedFile> files,
                                        const CompressOptions& options) {
  std::vector<std::vector<std::size_t>> file_jobs;
  std::vector<ContentWork> contents;
  std::vector<Job> jobs = PlanJobs(files, options, file_jobs, contents);
  JobContext context{options, options.cache_dir, contents,
                     std::vector<std::atomic<std::size_t>>(contents.size())};
  if (!context.cache_dir.empty() && !jobs.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(context.cache_dir, ec);
    if (ec) context.cache_dir.clear();  // no cache: slower, same result
  }
  for (std::size_t i = 0; i < contents.size(); ++i) {
    context.unfinished[i] = contents[i].jobs;
    if (options.progress != nullptr) {
      options.progress->files_total.fetch_add(1);
      options.progress->bytes_total.fetch_add(contents[i].bytes);
    }
  }
  RunJobs(jobs, context);
  for (const Job& job : jobs) {
    if (!job.status.ok()) return job.status;
  }
  CompressResult result;
  Tally(jobs, !context.cache_dir.empty(), result);
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::vector<EncodedVariant>& variants = files[i].variants;
    for (const std::size_t j : file_jobs[i]) {
      if (jobs[j].variant) variants.push_back({jobs[j].coding, *jobs[j].variant, options.level});
    }
    std::sort(variants.begin(), variants.end(), [](const auto& a, const auto& b) {
      return std::pair(a.bytes.size(), a.coding) < std::pair(b.bytes.size(), b.coding);
    });
  }
  result.files = std::move(files);
  return result;
}

absl::StatusOr<std::vector<Coding>> ParseCodings(std::string_view list) {
  std::vector<Coding> codings;
  if (list == "none") return codings;
  for (const absl::string_view token : absl::StrSplit(ToAbsl(list), ',')) {
    if (token == "gzip") {
      codings.push_back(Coding::kGzip);
    } else if (token == "br") {
      codings.push_back(Coding::kBrotli);
    } else if (token == "zstd") {
      codings.push_back(Coding::kZstd);
    } else {
      return absl::InvalidArgumentError(
          "expected none or a comma-separated list of gzip, br, zstd");
    }
  }
  std::sort(codings.begin(), codings.end());
  codings.erase(std::unique(codings.begin(), codings.end()), codings.end());
  return codings;
}

absl::Status ReadCompressFlag(const std::optional<std::string>& value,
                              std::vector<Coding>& codings) {
  if (!value.has_value()) return absl::OkStatus();
  absl::StatusOr<std::vector<Coding>> parsed = ParseCodings(*value);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--compress=", *value, ": ", parsed.status().message()));
  }
  codings = *std::move(parsed);
  return absl::OkStatus();
}

namespace internal {

std::string CacheEntryName(const Digest& digest, Coding coding, Compressibility kind,
                           CompressLevel level) {
  const std::string settings = Settings(coding, kind, level);
  return absl::StrCat(absl::Hex(digest.high, absl::kZeroPad16),
                      absl::Hex(digest.low, absl::kZeroPad16), "-", ToAbsl(CodingName(coding)), "-",
                      absl::Hex(XXH3_64bits(settings.data(), settings.size()), absl::kZeroPad16));
}

}  // namespace internal
}  // namespace kv_assets::gen
