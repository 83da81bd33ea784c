#include "live/src/served_names.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "generator/scan.h"
#include "generator/status_macros.h"
#include "live/src/file_version.h"

namespace kv_assets::live {
namespace {

constexpr std::chrono::seconds kRuleCheckInterval{1};
// Beyond this many remembered decisions, they are forgotten (and made again as needed).
constexpr std::size_t kMaxDecisions = 100'000;

// What stat(2) says of `path`, to compare: nullopt when it does not exist.
std::optional<Signature> Stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return SignatureOf(st);
}

std::string_view Parent(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// The scan's rules for the names themselves: no empty segment, no dotfile but a top-level
// .well-known/, and each segment a name the server can match.
bool NamesAreServable(std::string_view path) {
  std::size_t start = 0;
  for (bool first = true;; first = false) {
    const std::size_t slash = path.find('/', start);
    const std::string_view seg = path.substr(start, slash - start);
    if (seg.empty() || gen::IsHiddenName(seg, first)) return false;
    if (!gen::CheckServableName(seg).ok()) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServedNames>> ServedNames::Open(std::string root,
                                                               std::vector<std::string> excludes) {
  std::unique_ptr<ServedNames> names(new ServedNames(std::move(root), std::move(excludes)));
  KV_ASSETS_RETURN_IF_ERROR(names->Reopen());
  return names;
}

absl::StatusOr<bool> ServedNames::IsServed(std::string_view path) {
  if (!NamesAreServable(path)) return false;
  std::lock_guard lock(mu_);
  KV_ASSETS_RETURN_IF_ERROR(RefreshIfRulesChanged());
  if (const auto it = decisions_.find(path); it != decisions_.end()) return it->second;
  KV_ASSETS_ASSIGN_OR_RETURN(const bool served, Decide(path));
  if (decisions_.size() >= kMaxDecisions) decisions_.clear();
  decisions_.emplace(std::string(path), served);
  return served;
}

absl::Status ServedNames::Reopen() {
  KV_ASSETS_ASSIGN_OR_RETURN(rules_, gen::IgnoreRules::Open(root_, excludes_, ""));
  entered_.clear();
  decisions_.clear();
  watched_.clear();
  for (const std::string& f : rules_->rule_files()) Watch(f);
  last_check_ = std::chrono::steady_clock::now();
  return Enter("");
}

absl::Status ServedNames::RefreshIfRulesChanged() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < kRuleCheckInterval) return absl::OkStatus();
  last_check_ = now;
  for (const auto& [path, stamp] : watched_) {
    if (Stamp(path) != stamp) return Reopen();
  }
  return absl::OkStatus();
}

void ServedNames::Watch(const std::string& abs_path) { watched_[abs_path] = Stamp(abs_path); }

// Reads the rule files of `dir` and of the folders above it that were not read yet.
absl::Status ServedNames::Enter(std::string_view dir) {
  if (entered_.contains(dir)) return absl::OkStatus();
  if (!dir.empty()) KV_ASSETS_RETURN_IF_ERROR(Enter(Parent(dir)));
  KV_ASSETS_RETURN_IF_ERROR(rules_->EnterDirectory(dir));
  const std::string abs = dir.empty() ? root_ : absl::StrCat(root_, "/", ToAbsl(dir));
  Watch(abs + "/.gitignore");
  Watch(abs + "/.ignore");
  entered_.emplace(dir);
  return absl::OkStatus();
}

// As the scan decides while walking: a folder that is ignored hides all below it.
absl::StatusOr<bool> ServedNames::Decide(std::string_view path) {
  for (std::size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    const std::string_view dir = path.substr(0, slash);
    KV_ASSETS_RETURN_IF_ERROR(Enter(Parent(dir)));
    KV_ASSETS_ASSIGN_OR_RETURN(const bool ignored, rules_->IsIgnored(dir, /*is_dir=*/true));
    if (ignored) return false;
  }
  KV_ASSETS_RETURN_IF_ERROR(Enter(Parent(path)));
  KV_ASSETS_ASSIGN_OR_RETURN(const bool ignored, rules_->IsIgnored(path, /*is_dir=*/false));
  return !ignored;
}

}  // namespace kv_assets::live
