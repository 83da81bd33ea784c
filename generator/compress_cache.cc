#include "generator/compress_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "generator/file_util.h"

namespace kv_assets::gen {
namespace {

constexpr std::uint8_t kCacheFormat = kCacheEntryFormat;
constexpr std::string_view kCacheMagic = "KVAC";
constexpr std::size_t kCacheHeaderSize = 24;  // magic, format, kept, 2 zero bytes, size, hash
// A temporary file this old belongs to no running build.
constexpr std::chrono::hours kStaleTemporary{1};

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

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A file a killed ReplaceFile() left: "<entry name>.tmp<pid>".
bool IsTemporaryName(std::string_view name) {
  const std::size_t dot = name.rfind(".tmp");
  return dot != std::string_view::npos && internal::IsCacheEntryName(name.substr(0, dot));
}

// An absolute value of an environment variable, or "".
std::string_view Absolute(const char* value) {
  if (value == nullptr || value[0] != '/') return {};
  return value;
}

struct DirEntry {
  std::filesystem::path path;
  std::uint64_t size = 0;
  std::filesystem::file_time_type mtime;
};

}  // namespace

std::string SharedCacheDir(const CacheEnvironment& env) {
  if (env.cache_dir != nullptr) {
    if (env.cache_dir[0] == '\0') return "";
    std::error_code ec;
    const std::filesystem::path path = std::filesystem::absolute(env.cache_dir, ec);
    return ec ? "" : path.lexically_normal().string();
  }
  if (!Absolute(env.xdg_cache_home).empty()) {
    return absl::StrCat(ToAbsl(Absolute(env.xdg_cache_home)), "/kv-assets");
  }
  if (!Absolute(env.home).empty())
    return absl::StrCat(ToAbsl(Absolute(env.home)), "/.cache/kv-assets");
  return "";
}

absl::StatusOr<std::uint64_t> ParseByteSize(std::string_view text) {
  std::string_view digits = text;
  std::uint64_t unit = 1;
  if (!digits.empty()) {
    switch (absl::ascii_tolower(static_cast<unsigned char>(digits.back()))) {
      case 'k':
        unit = std::uint64_t{1} << 10;
        break;
      case 'm':
        unit = std::uint64_t{1} << 20;
        break;
      case 'g':
        unit = std::uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (unit != 1) digits.remove_suffix(1);
  }
  std::uint64_t value = 0;
  if (digits.empty() || !IsDigits(digits) || !absl::SimpleAtoi(ToAbsl(digits), &value) ||
      value > UINT64_MAX / unit) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(text), ": expected a size in bytes, such as 1073741824, 512M or 2G"));
  }
  return value * unit;
}

CacheEntry ReadCacheEntry(const std::string& dir, const std::string& name) {
  const std::string path = absl::StrCat(dir, "/", name);
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    return {absl::IsNotFound(bytes.status()) ? CacheState::kMissing : CacheState::kDamaged};
  }
  const std::string_view b = *bytes;
  if (b.size() < kCacheHeaderSize || b.substr(0, 4) != kCacheMagic ||
      static_cast<std::uint8_t>(b[4]) != kCacheFormat || static_cast<std::uint8_t>(b[5]) > 1 ||
      b[6] != 0 || b[7] != 0) {
    return {CacheState::kDamaged};
  }
  const bool kept = b[5] == 1;
  const std::string_view payload = b.substr(kCacheHeaderSize);
  if (GetLittleEndian64(b.data() + 8) != payload.size() ||
      GetLittleEndian64(b.data() + 16) != EntryHash(name, b.substr(0, 16), payload) ||
      (!kept && !payload.empty())) {
    return {CacheState::kDamaged};
  }
  // Used now: the last to be trimmed. A cache on a read-only file system still serves.
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
  return {CacheState::kHit, kept, std::string(payload)};
}

void WriteCacheEntry(const std::string& dir, const std::string& name, bool kept,
                     std::string_view payload) {
  ReplaceFile(absl::StrCat(dir, "/", name), internal::CacheEntryBytes(name, kept, payload),
              Durability::kNoFsync)
      .IgnoreError();
}

TrimResult TrimCompressCache(const std::string& dir, std::uint64_t max_bytes) {
  TrimResult result;
  if (dir.empty()) return result;
  std::error_code ec;
  std::vector<DirEntry> entries;
  const auto now = std::filesystem::file_time_type::clock::now();
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code time_ec, size_ec, stat_ec;
    const auto mtime = it->last_write_time(time_ec);
    const std::uint64_t size = it->file_size(size_ec);
    if (time_ec || size_ec) continue;  // removed by a concurrent trim
    if (internal::IsCacheEntryName(name)) {
      entries.push_back({it->path(), size, mtime});
      result.bytes_before += size;
    } else if (IsTemporaryName(name) && now - mtime > kStaleTemporary) {
      if (std::filesystem::remove(it->path(), stat_ec)) ++result.removed;
    }
  }
  result.bytes_after = result.bytes_before;
  if (result.bytes_before <= max_bytes) return result;
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.mtime < b.mtime; });
  const std::uint64_t target = max_bytes / 10 * 8;
  for (const DirEntry& e : entries) {
    if (result.bytes_after <= target) break;
    const bool removed = std::filesystem::remove(e.path, ec);
    if (removed) ++result.removed;
    // Gone either way when removed here or by a concurrent trim; otherwise it stays counted.
    if (removed || !ec) result.bytes_after -= e.size;
  }
  return result;
}

std::size_t PruneCompressCache(const std::string& dir, const std::vector<std::string>& used) {
  if (dir.empty()) return 0;
  std::error_code ec;
  std::vector<std::filesystem::path> unused;
  std::size_t kept = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
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
  if (kept == 0 && removed == unused.size()) std::filesystem::remove(dir, ec);
  return removed;
}

namespace internal {

bool IsCacheEntryName(std::string_view name) {
  if (name.size() < 32 + 1 + 1 + 1 + 16 || !IsHex(name.substr(0, 32)) || name[32] != '-') {
    return false;
  }
  const std::string_view rest = name.substr(33);
  const std::size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string_view::npos || rest.size() - dash - 1 != 16) return false;
  const std::string_view coding = rest.substr(0, dash);
  return std::all_of(coding.begin(), coding.end(), [](char c) { return c >= 'a' && c <= 'z'; }) &&
         IsHex(rest.substr(dash + 1));
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
