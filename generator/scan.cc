#include "generator/scan.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "generator/file_util.h"
#include "generator/ignore.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8
// (overlong forms and surrogates included, as RFC 3629 says).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned min_second = 0x80, max_second = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) min_second = 0xA0;
    if (c == 0xED) max_second = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) min_second = 0x90;
    if (c == 0xF4) max_second = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

struct DirId {
  dev_t dev;
  ino_t ino;
  bool operator==(const DirId&) const = default;
};

class Walker {
 public:
  Walker(IgnoreRules& rules, const ScanOptions& options, ScanResult& result)
      : rules_(rules), options_(options), result_(result) {}

  absl::Status Walk(const std::string& abs, const std::string& rel, DirId id) {
    for (const DirId& open : stack_) {
      if (open == id) {
        return absl::FailedPreconditionError(
            absl::StrCat(abs, ": symbolic link loop: this folder contains itself"));
      }
    }
    stack_.push_back(id);
    result_.watched.push_back(abs);
    KV_ASSETS_RETURN_IF_ERROR(rules_.EnterDirectory(rel));

    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(abs.c_str()), &::closedir);
    if (dir == nullptr) return ErrnoToStatus(errno, abs, "cannot read folder");
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir.get())) {
      names.emplace_back(entry->d_name);
    }
    if (errno != 0) return ErrnoToStatus(errno, abs, "cannot read folder");
    dir.reset();
    std::sort(names.begin(), names.end());

    for (const std::string& name : names) {
      if (name == "." || name == "..") continue;
      if (IsHiddenName(name, rel.empty())) continue;
      const std::string child_abs = absl::StrCat(abs, "/", name);
      const std::string child_rel = rel.empty() ? name : absl::StrCat(rel, "/", name);

      if (options_.before_entry_for_testing) options_.before_entry_for_testing(child_abs);
      struct stat st;
      int stat_err = 0;
      if (::stat(child_abs.c_str(), &st) != 0) stat_err = errno;
      const bool is_dir = stat_err == 0 && S_ISDIR(st.st_mode);
      KV_ASSETS_ASSIGN_OR_RETURN(const bool ignored, rules_.IsIgnored(child_rel, is_dir));
      if (ignored) continue;

      if (stat_err == ELOOP) {
        return absl::FailedPreconditionError(absl::StrCat(child_abs, ": symbolic link loop"));
      }
      if (stat_err == ENOENT) {
        struct stat lst;
        if (::lstat(child_abs.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
          return absl::NotFoundError(
              absl::StrCat(child_abs, ": symbolic link to a file that does not exist"));
        }
        // Deleted while we walked: the build must run again, and this run must not pretend.
        return absl::NotFoundError(absl::StrCat(child_abs, ": removed during the scan"));
      }
      if (stat_err != 0) return ErrnoToStatus(stat_err, child_abs, "cannot stat");

      if (absl::Status s = CheckServableName(name); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(child_abs, ": ", s.message()));
      }
      if (is_dir) {
        KV_ASSETS_RETURN_IF_ERROR(Walk(child_abs, child_rel, DirId{st.st_dev, st.st_ino}));
      } else if (S_ISREG(st.st_mode)) {
        result_.files.push_back(SourceFile{child_rel, child_abs,
                                           static_cast<std::int64_t>(st.st_mtim.tv_sec),
                                           static_cast<std::uint64_t>(st.st_size)});
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat(child_abs, ": not a regular file or folder; cannot be served"));
      }
    }
    stack_.pop_back();
    return absl::OkStatus();
  }

 private:
  IgnoreRules& rules_;
  const ScanOptions& options_;
  ScanResult& result_;
  std::vector<DirId> stack_;
};

}  // namespace

bool IsHiddenName(std::string_view name, bool top_level) {
  return name.starts_with('.') && !(top_level && name == ".well-known");
}

absl::Status CheckServableName(std::string_view name) {
  for (std::size_t i = 0; i < name.size();) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) {
      return absl::InvalidArgumentError(
          absl::StrFormat("name contains control character 0x%02X; cannot be served", c));
    }
    const std::size_t len = Utf8SequenceLength(name, i);
    if (len == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "name is not valid UTF-8 (byte 0x%02X at offset %d); cannot be served", c, i));
    }
    i += len;
  }
  return absl::OkStatus();
}

absl::Status CheckUrlPrefix(std::string_view prefix) {
  if (!prefix.starts_with('/') || !prefix.ends_with('/')) {
    return absl::InvalidArgumentError("must start and end with '/'");
  }
  std::string_view rest = prefix.substr(1);
  while (!rest.empty()) {
    const std::string_view segment = rest.substr(0, rest.find('/'));
    rest.remove_prefix(segment.size() + 1);
    if (segment.empty()) return absl::InvalidArgumentError("has an empty segment (\"//\")");
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("has a \"", ToAbsl(segment), "\" segment, which the server refuses"));
    }
    if (absl::Status s = CheckServableName(segment); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment \"", ToAbsl(segment), "\": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ScanResult> Scan(const std::string& root, const ScanOptions& options) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return ErrnoToStatus(errno, root, "cannot open folder");
  if (!S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(root, ": not a folder"));
  KV_ASSETS_ASSIGN_OR_RETURN(std::unique_ptr<IgnoreRules> rules,
                             IgnoreRules::Open(root, options.excludes, options.scratch_dir));
  ScanResult result;
  Walker walker(*rules, options, result);
  std::string start = root;
  while (start.size() > 1 && start.back() == '/') start.pop_back();
  KV_ASSETS_RETURN_IF_ERROR(walker.Walk(start, "", DirId{st.st_dev, st.st_ino}));
  // The walk visits names in sorted order per folder, but "a/b" vs "a.b" needs a full sort.
  std::sort(result.files.begin(), result.files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  for (const std::string& f : rules->rule_files()) result.watched.push_back(f);
  std::sort(result.watched.begin(), result.watched.end());
  result.watched.erase(std::unique(result.watched.begin(), result.watched.end()),
                       result.watched.end());
  return result;
}

}  // namespace kv_assets::gen
