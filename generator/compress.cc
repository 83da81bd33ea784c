#include "generator/compress.h"

#include <brotli/encode.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "generator/file_util.h"
#include "generator/strings.h"

namespace kv_assets::gen {
namespace {

constexpr int kGzipLevel = 9;
// zlib's largest: slightly smaller output for 256 KiB more memory per stream.
constexpr int kGzipMemLevel = 9;
// A 32 KiB window (the most deflate has); adding 16 asks zlib for a gzip wrapper.
constexpr int kGzipWindowBits = 15 + 16;
// RFC 1952's "unknown" operating system: zlib would write the compiling machine's, and the
// same input must give the same bytes everywhere.
constexpr int kGzipOsUnknown = 255;
constexpr int kBrotliQuality = 11;
// Level 19's window is at most 8 MiB, the most a client must accept for the "zstd" content
// coding (RFC 9659); levels 20 to 22 use larger windows, which browsers refuse.
constexpr int kZstdLevel = 19;

// Bump when the layout of a cache entry changes.
constexpr std::uint8_t kCacheFormat = 1;
constexpr std::string_view kCacheMagic = "KVAC";
constexpr std::size_t kCacheHeaderSize = 24;  // magic, format, kept, 2 zero bytes, size, hash

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
      absl::StrCat("cannot compress with ", Sv(CodingName(coding)), ": ", Sv(what)));
}

absl::StatusOr<std::string> Gzip(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, kGzipLevel, Z_DEFLATED, kGzipWindowBits, kGzipMemLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
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

absl::StatusOr<std::string> Brotli(std::string_view in, Compressibility kind) {
  std::size_t size = BrotliEncoderMaxCompressedSize(in.size());
  if (size == 0) return EncoderError(Coding::kBrotli, "too large");
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(kBrotliQuality, BROTLI_DEFAULT_WINDOW, BrotliModeFor(kind), in.size(),
                             reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                             reinterpret_cast<std::uint8_t*>(out.data()))) {
    return EncoderError(Coding::kBrotli, "out of memory");
  }
  out.resize(size);
  return out;
}

absl::StatusOr<std::string> Zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const std::size_t size = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), kZstdLevel);
  if (ZSTD_isError(size)) return EncoderError(Coding::kZstd, ZSTD_getErrorName(size));
  out.resize(size);
  return out;
}

// Everything that decides a cache entry's content besides the input bytes.
std::string Settings(Coding coding, Compressibility kind) {
  std::string out;
  switch (coding) {
    case Coding::kGzip:
      out =
          absl::StrCat("gzip level=", kGzipLevel, " mem=", kGzipMemLevel,
                       " wbits=", kGzipWindowBits, " os=", kGzipOsUnknown, " zlib=", zlibVersion());
      break;
    case Coding::kBrotli:
      out = absl::StrCat("br quality=", kBrotliQuality, " lgwin=", BROTLI_DEFAULT_WINDOW,
                         " mode=", static_cast<int>(BrotliModeFor(kind)),
                         " brotli=", BrotliEncoderVersion());
      break;
    case Coding::kZstd:
      out = absl::StrCat("zstd level=", kZstdLevel, " zstd=", ZSTD_versionString());
      break;
  }
  absl::StrAppend(&out, " keep>=", kMinSavingBytes, "B,", kMinSavingPercent,
                  "% format=", kCacheFormat);
  return out;
}

void PutLittleEndian64(char* at, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) at[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

std::uint64_t GetLittleEndian64(const char* at) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(at[i]);
  return value;
}

// XXH3 of the entry's name, the first 16 bytes of its header and its payload: an entry
// copied under another name, truncated or damaged fails the check.
std::uint64_t EntryHash(std::string_view name, std::string_view header16,
                        std::string_view payload) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, name.data(), name.size());
  XXH3_64bits_update(state, header16.data(), header16.size());
  XXH3_64bits_update(state, payload.data(), payload.size());
  const std::uint64_t hash = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return hash;
}

enum class CacheState { kMissing, kDamaged, kHit };

struct CacheLookup {
  CacheState state = CacheState::kMissing;
  std::optional<std::string> variant;  // for kHit: the variant, or nullopt if not kept
};

// Reads and checks the entry `name` for a body of `original_size` bytes.
CacheLookup ReadCacheEntry(const std::string& dir, const std::string& name,
                           std::uint64_t original_size) {
  absl::StatusOr<std::string> bytes = ReadFile(absl::StrCat(dir, "/", name));
  if (!bytes.ok()) {
    return {absl::IsNotFound(bytes.status()) ? CacheState::kMissing : CacheState::kDamaged, {}};
  }
  const std::string_view b = *bytes;
  if (b.size() < kCacheHeaderSize || b.substr(0, 4) != kCacheMagic ||
      static_cast<std::uint8_t>(b[4]) != kCacheFormat || static_cast<std::uint8_t>(b[5]) > 1 ||
      b[6] != 0 || b[7] != 0) {
    return {CacheState::kDamaged, {}};
  }
  const bool kept = b[5] == 1;
  const std::string_view payload = b.substr(kCacheHeaderSize);
  if (GetLittleEndian64(b.data() + 8) != payload.size() ||
      GetLittleEndian64(b.data() + 16) != EntryHash(name, b.substr(0, 16), payload) ||
      (kept ? !WorthKeeping(original_size, payload.size()) : !payload.empty())) {
    return {CacheState::kDamaged, {}};
  }
  if (!kept) return {CacheState::kHit, std::nullopt};
  return {CacheState::kHit, std::string(payload)};
}

// What one (distinct content, coding) needs and gives.
struct Job {
  const HashedFile* file = nullptr;  // the first file with this content
  Compressibility kind = Compressibility::kNone;
  Coding coding = Coding::kGzip;
  std::string cache_name;
  // Results.
  absl::Status status;
  std::optional<std::string> variant;  // nullopt when not worth keeping
  CacheState cache = CacheState::kMissing;
};

void RunJob(Job& job, const std::string& cache_dir) {
  const std::string_view content = job.file->content;
  if (!cache_dir.empty()) {
    CacheLookup cached = ReadCacheEntry(cache_dir, job.cache_name, content.size());
    job.cache = cached.state;
    if (cached.state == CacheState::kHit) {
      job.variant = std::move(cached.variant);
      return;
    }
  }
  absl::StatusOr<std::string> encoded = Encode(job.coding, job.kind, content);
  if (!encoded.ok()) {
    job.status = absl::Status(encoded.status().code(), absl::StrCat(job.file->source.abs_path, ": ",
                                                                    encoded.status().message()));
    return;
  }
  const bool kept = WorthKeeping(content.size(), encoded->size());
  if (kept) job.variant = std::move(*encoded);
  if (!cache_dir.empty()) {
    // A cache that cannot be written only makes the next run slower.
    ReplaceFile(
        absl::StrCat(cache_dir, "/", job.cache_name),
        internal::CacheEntryBytes(job.cache_name, kept, kept ? std::string_view(*job.variant) : ""),
        Durability::kNoFsync)
        .IgnoreError();
  }
}

// Runs every job on up to `threads` threads, largest bodies first so that one big file does
// not start last and run alone. Each job writes only its own slot.
void RunJobs(std::vector<Job>& jobs, unsigned threads, const std::string& cache_dir) {
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return jobs[a].file->content.size() > jobs[b].file->content.size();
  });
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t k; (k = next.fetch_add(1)) < order.size();) RunJob(jobs[order[k]], cache_dir);
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, jobs.size()));
  std::vector<std::jthread> pool;
  for (unsigned i = 1; i < threads; ++i) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer threads than asked for: slower, same result
    }
  }
  work();
}

// One job per distinct (cache name) among the eligible files; `file_jobs[i]` lists file
// i's jobs.
std::vector<Job> PlanJobs(const std::vector<HashedFile>& files, const std::vector<Coding>& codings,
                          std::vector<std::vector<std::size_t>>& file_jobs) {
  std::vector<Job> jobs;
  std::map<std::string, std::size_t> by_name;
  file_jobs.assign(files.size(), {});
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Compressibility kind = CompressibilityFor(files[i].source.path);
    // A body of kMinSavingBytes or less cannot save kMinSavingBytes.
    if (kind == Compressibility::kNone || files[i].content.size() <= kMinSavingBytes) continue;
    for (const Coding coding : codings) {
      std::string name = internal::CacheEntryName(files[i].digest, coding, kind);
      const auto [it, inserted] = by_name.emplace(name, jobs.size());
      if (inserted) jobs.push_back(Job{&files[i], kind, coding, std::move(name)});
      file_jobs[i].push_back(it->second);
    }
  }
  return jobs;
}

}  // namespace

absl::StatusOr<std::string> Encode(Coding coding, Compressibility kind, std::string_view content) {
  switch (coding) {
    case Coding::kGzip:
      return Gzip(content);
    case Coding::kBrotli:
      return Brotli(content, kind);
    case Coding::kZstd:
      return Zstd(content);
  }
  return absl::InvalidArgumentError("unknown coding");
}

absl::StatusOr<CompressResult> Compress(std::vector<HashedFile> files,
                                        const CompressOptions& options) {
  CompressResult result;
  std::string cache_dir = options.cache_dir;
  if (!cache_dir.empty() && !options.codings.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cache_dir, ec);
    if (ec) cache_dir.clear();  // no cache: slower, same result
  }
  std::vector<std::vector<std::size_t>> file_jobs;
  std::vector<Job> jobs = PlanJobs(files, options.codings, file_jobs);
  RunJobs(jobs, options.threads, cache_dir);

  for (const Job& job : jobs) {
    if (!job.status.ok()) return job.status;
    if (job.cache == CacheState::kHit) {
      ++result.stats.from_cache;
    } else {
      ++result.stats.computed;
      if (job.cache == CacheState::kDamaged) ++result.stats.cache_rejected;
    }
    if (!cache_dir.empty()) result.cache_entries.push_back(job.cache_name);
  }
  std::sort(result.cache_entries.begin(), result.cache_entries.end());
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::vector<EncodedVariant>& variants = files[i].variants;
    for (const std::size_t j : file_jobs[i]) {
      if (jobs[j].variant) variants.push_back({jobs[j].coding, *jobs[j].variant});
    }
    std::sort(variants.begin(), variants.end(), [](const auto& a, const auto& b) {
      return std::pair(a.bytes.size(), a.coding) < std::pair(b.bytes.size(), b.coding);
    });
  }
  result.files = std::move(files);
  return result;
}

std::size_t PruneCompressCache(const std::string& cache_dir, const std::vector<std::string>& used) {
  if (cache_dir.empty()) return 0;
  std::error_code ec;
  std::vector<std::filesystem::path> unused;
  std::size_t kept = 0;
  for (std::filesystem::directory_iterator it(cache_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (std::binary_search(used.begin(), used.end(), it->path().filename().string())) {
      ++kept;
    } else {
      unused.push_back(it->path());
    }
  }
  std::size_t removed = 0;
  for (const std::filesystem::path& path : unused) {
    if (std::filesystem::remove(path, ec)) ++removed;
  }
  if (kept == 0 && removed == unused.size()) std::filesystem::remove(cache_dir, ec);
  return removed;
}

absl::StatusOr<std::vector<Coding>> ParseCodings(std::string_view list) {
  std::vector<Coding> codings;
  if (list == "none") return codings;
  for (const absl::string_view token : absl::StrSplit(Sv(list), ',')) {
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

namespace internal {

std::string CacheEntryName(const Digest& digest, Coding coding, Compressibility kind) {
  const std::string settings = Settings(coding, kind);
  return absl::StrCat(absl::Hex(digest.high, absl::kZeroPad16),
                      absl::Hex(digest.low, absl::kZeroPad16), "-", Sv(CodingName(coding)), "-",
                      absl::Hex(XXH3_64bits(settings.data(), settings.size()), absl::kZeroPad16));
}

std::string CacheEntryBytes(std::string_view name, bool kept, std::string_view payload) {
  std::string out(kCacheHeaderSize, '\0');
  std::memcpy(out.data(), kCacheMagic.data(), kCacheMagic.size());
  out[4] = static_cast<char>(kCacheFormat);
  out[5] = kept ? 1 : 0;
  PutLittleEndian64(out.data() + 8, payload.size());
  PutLittleEndian64(out.data() + 16, EntryHash(name, std::string_view(out).substr(0, 16), payload));
  out.append(payload);
  return out;
}

}  // namespace internal
}  // namespace kv_assets::gen
