// live/src/file_version.h — one version of one file, ready to answer requests: its bytes,
// hash, variants and a one-asset manifest with a Server over it, built with the generator's
// own steps (hash.h, compress.h) so that live and embedded answers cannot drift.

#ifndef KV_ASSETS_LIVE_FILE_VERSION_H_
#define KV_ASSETS_LIVE_FILE_VERSION_H_

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/hash.h"
#include "kv_assets/manifest.h"
#include "kv_assets/server.h"

namespace kv_assets::live {

// What identifies a file's content without reading it: when none of these changed, neither
// did the bytes (barring an edit within the mtime's granularity, see Racy()).
struct Signature {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const Signature&) const = default;
};

Signature SignatureOf(const struct stat& st);

// Whether a file read at `read_at_ns` (CLOCK_REALTIME) with this signature must be read again
// even though its signature did not change: it was modified so shortly before it was read
// that a later write could have left the same mtime (git's racy-index rule, with two seconds
// for the coarsest file systems' timestamps).
bool Racy(const Signature& sig, std::int64_t read_at_ns);

struct FileBytes {
  std::string content;
  Signature sig;  // as fstat(2) saw the file while it was read
};

// Reads `abs_path` whole, and again (up to three times) when its signature changes while it
// is read, so that the bytes are one version's. Errors name the path.
absl::StatusOr<FileBytes> ReadStable(const std::string& abs_path);

struct VersionOptions {
  std::string_view prefix;
  std::vector<Coding> codings;
  ServerOptions server;  // its views must outlive the version
};

class FileVersion {
 public:
  // `path` relative to the folder; `mtime` seconds, for Last-Modified (capped at now). Fails
  // only when a compressor does (out of memory), naming the file.
  static absl::StatusOr<std::shared_ptr<const FileVersion>> Make(std::string path,
                                                                 std::string abs_path,
                                                                 std::string content,
                                                                 std::int64_t mtime,
                                                                 const VersionOptions& options);
  FileVersion(const FileVersion&) = delete;
  FileVersion& operator=(const FileVersion&) = delete;

  const gen::PreparedFile& file() const { return file_; }
  const Server& server() const { return *server_; }
  // The prefix and the untagged path, percent-encoded: what a stale tag is answered as.
  const std::string& untagged_target() const { return untagged_target_; }
  // The prefix and the tagged path, percent-encoded: what Tag() returns.
  std::string_view url() const { return assets_[0].url(); }

 private:
  FileVersion() = default;
  void Build(const VersionOptions& options);

  gen::PreparedFile file_;
  std::string strings_;  // the one-asset manifest's string table
  std::string blob_;     // the body, then each variant
  std::array<Asset, 1> assets_{};
  std::array<std::uint32_t, 1> by_tagged_{0};
  std::vector<Variant> variants_;
  Manifest manifest_;
  std::optional<Server> server_;
  std::string untagged_target_;
};

}  // namespace kv_assets::live

#endif  // KV_ASSETS_LIVE_FILE_VERSION_H_
