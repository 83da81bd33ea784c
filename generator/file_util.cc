#include "generator/file_util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "generator/strings.h"

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
      return absl::StatusCode::kResourceExhausted;
    case ELOOP:
    case EISDIR:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kUnknown;
  }
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
int WriteAll(int fd, std::string_view data) {
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

}  // namespace

absl::Status ErrnoToStatus(int err, std::string_view path, std::string_view what) {
  return absl::Status(CodeFor(err), absl::StrCat(Sv(path), ": ", Sv(what), what.empty() ? "" : ": ",
                                                 std::strerror(err)));
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
  const std::string tmp = absl::StrCat(path, ".tmp", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoToStatus(errno, tmp, "cannot create");
  int err = WriteAll(fd, content);
  if (err == 0 && durability == Durability::kFsync && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return ErrnoToStatus(err, path, "cannot write");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> WriteFileIfChanged(const std::string& path, std::string_view content) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == content.size()) {
    absl::StatusOr<std::string> old = ReadFile(path);
    if (old.ok() && *old == content) return false;
  }
  if (absl::Status s = ReplaceFile(path, content, Durability::kFsync); !s.ok()) return s;
  return true;
}

}  // namespace kv_assets::gen
