// dir:<path> — one file per key below a folder.
//
// Writes go to a temporary file in <path>/.kv-tmp/ and are renamed into place, so a killed
// upload leaves either the whole value or nothing under the key; the temporary folder is on
// the same file system, which rename() needs. Reads map the file instead of copying it: the
// mapping stays valid even when the file is deleted or replaced while it is being sent.
//
// A sync killed mid-write leaves its temporary file behind. The first Put of a store object
// removes temporaries not touched for kStaleTemp: a live write renames its file moments after
// creating it, so only a dead writer's can be that old, on this host or another one sharing
// the folder (a process id would not tell that apart).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "runtime/src/stores/clients.h"

namespace kv_assets::internal {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTempFolder = ".kv-tmp";
constexpr std::chrono::hours kStaleTemp(1);

absl::Status ErrnoError(int err, std::string_view url, std::string_view what) {
  const std::string message =
      absl::StrCat(ToAbsl(url), ": ", ToAbsl(what), ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

class DirStore final : public KeyValueStore {
 public:
  DirStore(std::string url, fs::path root) : url_(std::move(url)), root_(std::move(root)) {}

  const std::string& url() const override { return url_; }

  absl::StatusOr<StoreValue> Get(std::string_view key) const override {
    if (absl::Status s = CheckKey(key); !s.ok()) return s;
    const std::string path = (root_ / std::string(key)).string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, url_, key);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoError(err, url_, key);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return absl::NotFoundError(absl::StrCat(url_, ": ", ToAbsl(key), ": not a file"));
    }
    const std::size_t size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
      ::close(fd);
      return StoreValue(std::string());
    }
    void* const data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (data == MAP_FAILED) return ErrnoError(err, url_, key);
    std::shared_ptr<const void> owner(
        data, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
    return StoreValue(std::string_view(static_cast<const char*>(data), size), std::move(owner));
  }

  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) const override {
    std::vector<std::string> keys;
    // Walk only the folder the prefix names, when it names one: a namespace's keys.
    fs::path start = root_;
    if (const std::size_t slash = prefix.rfind('/'); slash != std::string_view::npos) {
      start = root_ / std::string(prefix.substr(0, slash));
    }
    std::error_code ec;
    if (!fs::exists(start, ec)) return keys;
    fs::recursive_directory_iterator it(start, ec), end;
    if (ec) return ErrnoError(ec.value(), url_, start.string());
    for (; it != end; it.increment(ec)) {
      if (ec) return ErrnoError(ec.value(), url_, "listing");
      const fs::path rel = it->path().lexically_relative(root_);
      if (it.depth() == 0 && start == root_ && rel == kTempFolder) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string key = rel.generic_string();
      if (key.starts_with(prefix)) keys.push_back(std::move(key));
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  absl::Status Put(std::span<const KeyValue> entries) override {
    const fs::path temp_dir = root_ / std::string(kTempFolder);
    std::error_code ec;
    fs::create_directories(temp_dir, ec);
    if (ec) return ErrnoError(ec.value(), url_, temp_dir.string());
    if (!swept_.exchange(true)) RemoveStaleTemporaries(temp_dir);
    for (const KeyValue& e : entries) {
      if (absl::Status s = CheckKey(e.key); !s.ok()) return s;
      const fs::path target = root_ / e.key;
      fs::create_directories(target.parent_path(), ec);
      if (ec) return ErrnoError(ec.value(), url_, target.parent_path().string());
      const std::string temp =
          (temp_dir / absl::StrCat(::getpid(), "-", counter_.fetch_add(1))).string();
      const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return ErrnoError(errno, url_, temp);
      std::string_view rest = e.value;
      while (!rest.empty()) {
        const ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          const int err = errno;
          ::close(fd);
          ::unlink(temp.c_str());
          return ErrnoError(err, url_, e.key);
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      if (::close(fd) != 0 || ::rename(temp.c_str(), target.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return ErrnoError(err, url_, e.key);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Delete(std::span<const std::string> keys) override {
    for (const std::string& key : keys) {
      if (absl::Status s = CheckKey(key); !s.ok()) return s;
      const fs::path path = root_ / key;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError(errno, url_, key);
      // Folders left empty go too, up to the root; rmdir fails harmlessly on the others.
      for (fs::path dir = path.parent_path();
           dir != root_ && dir.string().size() > root_.string().size(); dir = dir.parent_path()) {
        if (::rmdir(dir.c_str()) != 0) break;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Flush() override {
    const int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, url_, root_.string());
    const int rc = ::syncfs(fd);
    const int err = errno;
    ::close(fd);
    return rc == 0 ? absl::OkStatus() : ErrnoError(err, url_, "syncfs");
  }

 private:
  // Best effort: a leftover that cannot be removed now is tried again by the next sync.
  static void RemoveStaleTemporaries(const fs::path& temp_dir) {
    std::error_code ec;
    const auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(temp_dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code entry_ec;
      const auto written = it->last_write_time(entry_ec);
      if (!entry_ec && now - written > kStaleTemp) fs::remove(it->path(), entry_ec);
    }
  }

  // A key must name a file below the root and nothing else.
  absl::Status CheckKey(std::string_view key) const {
    bool ok = !key.empty() && !key.starts_with('/') && key.find('\0') == std::string_view::npos;
    std::size_t start = 0;
    while (ok && start <= key.size()) {
      std::size_t end = key.find('/', start);
      if (end == std::string_view::npos) end = key.size();
      const std::string_view segment = key.substr(start, end - start);
      ok = !segment.empty() && segment != "." && segment != ".." &&
           !(start == 0 && segment == kTempFolder);
      start = end + 1;
    }
    if (ok) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(url_, ": '", ToAbsl(key), "' cannot be a key of a folder store"));
  }

  std::string url_;
  fs::path root_;
  std::atomic<std::uint64_t> counter_{0};
  std::atomic<bool> swept_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenDirStore(std::string_view url,
                                                            std::string_view path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(url), ": expected dir:<path>"));
  }
  std::error_code ec;
  fs::path root = fs::absolute(fs::path(std::string(path)), ec).lexically_normal();
  if (root.has_filename() == false && root != root.root_path()) root = root.parent_path();
  fs::create_directories(root, ec);
  if (ec) return ErrnoError(ec.value(), url, root.string());
  return std::make_unique<DirStore>(std::string(url), std::move(root));
}

}  // namespace kv_assets::internal
