#include "generator/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kv_assets::gen {
namespace {

absl::StatusCode CodeFor(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
      return absl::StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::StatusCode::kResourceExhausted;
    case ELOOP:
    case EISDIR:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kUnknown;
  }
}

internal::WriteFault write_fault = nullptr;

// The errno the test seam injects for `step` on `path`, or 0.
int Fault(std::string_view step, const std::string& path) {
  return write_fault == nullptr ? 0 : write_fault(step, path);
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
int WriteAll(int fd, std::string_view data, const std::string& target) {
  if (const int err = Fault("write", target); err != 0) return err;
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// Whether `path` already holds exactly `content`.
bool Holds(const std::string& path, std::string_view content) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || static_cast<uint64_t>(st.st_size) != content.size()) {
    return false;
  }
  absl::StatusOr<std::string> old = ReadFile(path);
  return old.ok() && *old == content;
}

}  // namespace

namespace internal {
void SetWriteFaultForTesting(WriteFault fault) { write_fault = fault; }
}  // namespace internal

absl::Status ErrnoToStatus(int err, std::string_view path, std::string_view what) {
  return absl::Status(CodeFor(err), absl::StrCat(ToAbsl(path), ": ", ToAbsl(what),
                                                 what.empty() ? "" : ": ", std::strerror(err)));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, path, "cannot open");
  std::string content;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) content.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return ErrnoToStatus(err, path, "cannot read");
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return ErrnoToStatus(errno, path, "cannot resolve");
  std::string out = real;
  ::free(real);
  return out;
}

absl::Status ReplaceFile(const std::string& path, std::string_view content, Durability durability) {
  // O_EXCL and a name no other writer uses: the shared compression cache is written by
  // several processes at once, possibly in containers whose pids coincide.
  static std::atomic<std::uint64_t> counter{std::random_device{}()};
  const std::string tmp = absl::StrCat(path, ".tmp", ::getpid(), "-", counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(errno, tmp, "cannot create");
  int err = WriteAll(fd, content, path);
  if (err == 0 && durability == Durability::kFsync && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return ErrnoToStatus(err, path, "cannot write");
  }
  return absl::OkStatus();
}

OutputSet::~OutputSet() {
  for (const Staged& s : staged_) {
    ::unlink(s.tmp.c_str());
    if (!s.backup.empty()) ::unlink(s.backup.c_str());
  }
}

absl::Status OutputSet::Stage(const std::string& path, std::string_view content) {
  if (Holds(path, content)) return absl::OkStatus();
  const std::string tmp = absl::StrCat(path, ".tmp", ::getpid());
  int err = Fault("create", path);
  const int fd =
      err != 0 ? -1 : ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(err != 0 ? err : errno, path, "cannot write");
  staged_.push_back(Staged{path, tmp, "", true});
  err = WriteAll(fd, content, path);
  if (err == 0) err = Fault("fsync", path);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) return ErrnoToStatus(err, path, "cannot write");
  return absl::OkStatus();
}

absl::Status OutputSet::Commit() {
  // First a second name for each old content, so that a failed rename can be undone. Where
  // the file system has no hard links, that one file cannot be put back.
  for (Staged& s : staged_) {
    const std::string backup = absl::StrCat(s.path, ".old", ::getpid());
    ::unlink(backup.c_str());
    if (::link(s.path.c_str(), backup.c_str()) == 0) {
      s.backup = backup;
    } else {
      s.existed = errno != ENOENT;
    }
  }
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    const Staged& s = staged_[i];
    int err = Fault("rename", s.path);
    if (err == 0 && ::rename(s.tmp.c_str(), s.path.c_str()) != 0) err = errno;
    if (err != 0) {
      for (std::size_t k = i; k-- > 0;) {
        const Staged& done = staged_[k];
        if (!done.backup.empty()) {
          ::rename(done.backup.c_str(), done.path.c_str());
        } else if (!done.existed) {
          ::unlink(done.path.c_str());
        }
      }
      written_.clear();
      return ErrnoToStatus(err, s.path, "cannot write");
    }
    written_.push_back(s.path);
  }
  for (Staged& s : staged_) {
    if (!s.backup.empty()) ::unlink(s.backup.c_str());
  }
  staged_.clear();
  return absl::OkStatus();
}

absl::StatusOr<bool> WriteFileIfChanged(const std::string& path, std::string_view content) {
  OutputSet out;
  if (absl::Status s = out.Stage(path, content); !s.ok()) return s;
  if (absl::Status s = out.Commit(); !s.ok()) return s;
  return !out.written().empty();
}

}  // namespace kv_assets::gen
