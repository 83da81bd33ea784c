#include "live/src/file_version.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "generator/compress.h"
#include "generator/content_type.h"
#include "generator/emit.h"
#include "generator/file_util.h"
#include "generator/integrity.h"
#include "kv_assets/http_date.h"

namespace kv_assets::live {
namespace {

constexpr std::int64_t kRacyNs = 2'000'000'000;
constexpr int kReadAttempts = 3;

std::int64_t Nanoseconds(const struct timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Appends `s` to a string table and says where it went.
internal::StringRef Add(std::string& table, std::string_view s) {
  const internal::StringRef ref{static_cast<std::uint32_t>(table.size()),
                                static_cast<std::uint32_t>(s.size())};
  table.append(s);
  return ref;
}

// One read of an open file: its bytes, and whether fstat(2) saw the same file before and
// after.
absl::StatusOr<bool> ReadOnce(int fd, const std::string& path, FileBytes& out) {
  struct stat before {
  }, after{};
  if (::fstat(fd, &before) != 0) return gen::ErrnoToStatus(errno, path, "cannot stat");
  out.content.assign(static_cast<std::size_t>(before.st_size), '\0');
  std::size_t done = 0;
  while (done < out.content.size()) {
    const ssize_t n =
        ::pread(fd, out.content.data() + done, out.content.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return gen::ErrnoToStatus(errno, path, "cannot read");
    if (n == 0) break;  // shrunk while read
    done += static_cast<std::size_t>(n);
  }
  char extra;
  const bool grew = ::pread(fd, &extra, 1, static_cast<off_t>(done)) > 0;
  if (::fstat(fd, &after) != 0) return gen::ErrnoToStatus(errno, path, "cannot stat");
  out.sig = SignatureOf(after);
  return done == out.content.size() && !grew && SignatureOf(before) == out.sig;
}

}  // namespace

Signature SignatureOf(const struct stat& st) {
  return {st.st_dev, st.st_ino, st.st_size, Nanoseconds(st.st_mtim), Nanoseconds(st.st_ctim)};
}

bool Racy(const Signature& sig, std::int64_t read_at_ns) {
  return std::max(sig.mtime_ns, sig.ctime_ns) + kRacyNs > read_at_ns;
}

absl::StatusOr<FileBytes> ReadStable(const std::string& abs_path) {
  const int fd = ::open(abs_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return gen::ErrnoToStatus(errno, abs_path, "cannot open");
  FileBytes bytes;
  absl::StatusOr<bool> stable = false;
  for (int i = 0; i < kReadAttempts && stable.ok() && !*stable; ++i) {
    stable = ReadOnce(fd, abs_path, bytes);
  }
  ::close(fd);
  if (!stable.ok()) return stable.status();
  if (!*stable) {
    return absl::UnavailableError(
        absl::StrCat(abs_path, ": changed while being read, ", kReadAttempts, " times"));
  }
  return bytes;
}

absl::StatusOr<std::shared_ptr<const FileVersion>> FileVersion::Make(
    std::string path, std::string abs_path, std::string content, std::int64_t mtime,
    const VersionOptions& options) {
  // The generator's steps, on one file: hash (tag, ETag), then compress at fast levels.
  gen::SourceFile source{std::move(path), std::move(abs_path), mtime, content.size()};
  std::vector<gen::PreparedFile> one;
  one.push_back(gen::HashFile(std::move(source), std::move(content)));
  const gen::CompressOptions compress{
      .codings = options.codings, .level = gen::CompressLevel::kFast, .threads = 1};
  absl::StatusOr<gen::CompressResult> compressed = gen::Compress(std::move(one), compress);
  if (!compressed.ok()) return compressed.status();
  std::shared_ptr<FileVersion> v(new FileVersion());
  v->file_ = std::move(compressed->files[0]);
  v->Build(options);
  return v;
}

void FileVersion::Build(const VersionOptions& options) {
  const gen::PreparedFile& f = file_;
  Asset& a = assets_[0];
  a.path_ref = Add(strings_, f.source.path);
  a.tagged_path_ref = Add(strings_, f.tagged_path);
  a.url_ref =
      Add(strings_, absl::StrCat(ToAbsl(options.prefix), gen::UrlEncodePath(f.tagged_path)));
  a.etag_ref = Add(strings_, f.etag);
  a.content_type_ref = Add(strings_, gen::ContentTypeFor(f.source.path));
  a.last_modified_unix = std::min<std::int64_t>(f.last_modified, std::time(nullptr));
  a.last_modified_ref = Add(strings_, FormatHttpDate(a.last_modified_unix));
  a.integrity_ref = Add(strings_, gen::Integrity(f.content));
  a.offset = 0;
  a.size = f.content.size();
  a.variant_count = static_cast<std::uint32_t>(f.variants.size());
  blob_ = f.content;
  for (const gen::EncodedVariant& e : f.variants) {
    Variant v;
    v.etag_ref = Add(strings_, gen::VariantEtag(f.etag, e.coding, e.level));
    v.coding = e.coding;
    v.offset = blob_.size();
    v.size = e.bytes.size();
    blob_.append(e.bytes);
    variants_.push_back(v);
  }
  // The table is complete: only now may views point into it.
  a.strings = strings_.data();
  for (Variant& v : variants_) v.strings = strings_.data();
  manifest_ = Manifest{options.prefix, assets_, by_tagged_, blob_.data(), variants_};
  server_.emplace(manifest_, options.server);
  untagged_target_ = absl::StrCat(ToAbsl(options.prefix), gen::UrlEncodePath(f.source.path));
}

}  // namespace kv_assets::live
