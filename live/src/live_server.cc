// The live server: one request from the target to the bytes is Handle() -> Find() ->
// Load() (stat, then the cached FileVersion or a new one) -> that version's Server.

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "generator/file_util.h"
#include "generator/scan.h"
#include "generator/status_macros.h"
#include "kv_assets/live.h"
#include "live/src/file_version.h"
#include "live/src/served_names.h"

namespace kv_assets::live {
namespace {

// How often files no longer there are looked for among the cached ones.
constexpr std::chrono::seconds kSweepInterval{10};

std::int64_t NowNs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Undoes gen::TaggedPath(): "css/a.<tag>.min.css" -> "css/a.min.css" and `tag`. False when
// the name has no tag-shaped part after its first dot.
bool SplitTag(std::string_view path, std::string& untagged, std::string& tag) {
  const std::size_t name = path.rfind('/') + 1;  // npos + 1 == 0
  const std::size_t dot = path.find('.', name);
  if (dot == std::string_view::npos || dot == name) return false;
  const std::size_t end = dot + 1 + gen::kTagLength;
  if (end > path.size() || (end < path.size() && path[end] != '.')) return false;
  const std::string_view t = path.substr(dot + 1, gen::kTagLength);
  for (const char c : t) {
    if (!IsBase64Url(c)) return false;
  }
  untagged = absl::StrCat(ToAbsl(path.substr(0, dot)), ToAbsl(path.substr(end)));
  tag = std::string(t);
  return true;
}

// What was computed for one file, and when its bytes were read.
struct CacheEntry {
  Signature sig;
  std::int64_t read_at_ns = 0;
  std::shared_ptr<const FileVersion> version;
};

// The outcome of looking a name up in the folder.
struct Found {
  std::shared_ptr<const FileVersion> version;  // null: 404 (or 500 when `error` is set)
  bool stale_tag = false;                      // asked for by a tag that is not current
  absl::Status error;
};

}  // namespace

struct LiveServer::State {
  std::string root;
  LiveOptions options;
  VersionOptions version_options;
  std::unique_ptr<ServedNames> names;
  Manifest empty_manifest;
  std::optional<Server> empty_server;  // answers what an unknown name gets: 400, 404, 405

  mutable std::mutex mu;  // guards `cache` and `last_sweep`
  mutable std::map<std::string, CacheEntry, std::less<>> cache;
  mutable std::chrono::steady_clock::time_point last_sweep;

  Found Find(std::string_view rel) const;
  Found Load(const std::string& rel) const;
  absl::StatusOr<std::shared_ptr<const FileVersion>> Reload(const std::string& rel,
                                                            const std::string& abs,
                                                            const CacheEntry& old) const;
  void Forget(const std::string& rel) const;
  void SweepIfDue() const;
  void Log(std::string_view message) const;
};

// A tag-shaped name is most likely tagged: its untagged file is looked at first, so a tagged
// request costs one stat(2), as an untagged one does.
Found LiveServer::State::Find(std::string_view rel) const {
  std::string untagged, tag;
  if (SplitTag(rel, untagged, tag)) {
    Found f = Load(untagged);
    if (!f.error.ok()) return f;
    if (f.version != nullptr && f.version->file().tag == tag) return f;
    // Not the current tag: a file of that very name comes first, as in the manifest.
    Found direct = Load(std::string(rel));
    if (direct.version != nullptr || !direct.error.ok()) return direct;
    f.stale_tag = f.version != nullptr;
    return f;
  }
  return Load(std::string(rel));
}

Found LiveServer::State::Load(const std::string& rel) const {
  const std::string abs = absl::StrCat(root, "/", rel);
  struct stat st {};
  const int err = ::stat(abs.c_str(), &st) == 0 ? 0 : errno;
  if (err != 0 || !S_ISREG(st.st_mode)) {
    Forget(rel);
    // Not there, or a folder: a 404. Anything else (a symbolic link loop, a folder it may
    // not enter) is a file that cannot be read: a 500, with the reason in the log.
    if (err == 0 || err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) return {};
    return {nullptr, false, gen::ErrnoToStatus(err, abs, "cannot stat")};
  }
  absl::StatusOr<bool> served = names->IsServed(rel);
  if (!served.ok()) return {nullptr, false, served.status()};
  if (!*served) return {};
  CacheEntry old;
  {
    std::lock_guard lock(mu);
    if (const auto it = cache.find(rel); it != cache.end()) old = it->second;
  }
  if (old.version != nullptr && old.sig == SignatureOf(st) && !Racy(old.sig, old.read_at_ns)) {
    return {old.version};
  }
  absl::StatusOr<std::shared_ptr<const FileVersion>> version = Reload(rel, abs, old);
  if (!version.ok()) {
    Forget(rel);
    return {nullptr, false, version.status()};
  }
  return {*std::move(version)};
}

// Reads the file again; keeps the old version when its bytes and date are the same.
absl::StatusOr<std::shared_ptr<const FileVersion>> LiveServer::State::Reload(
    const std::string& rel, const std::string& abs, const CacheEntry& old) const {
  const std::int64_t read_at = NowNs();
  KV_ASSETS_ASSIGN_OR_RETURN(FileBytes bytes, ReadStable(abs));
  const std::int64_t mtime = bytes.sig.mtime_ns / 1'000'000'000;
  std::shared_ptr<const FileVersion> version = old.version;
  if (version == nullptr || version->file().digest != gen::HashBytes(bytes.content) ||
      version->file().last_modified != mtime) {
    KV_ASSETS_ASSIGN_OR_RETURN(
        version, FileVersion::Make(rel, abs, std::move(bytes.content), mtime, version_options));
  }
  std::lock_guard lock(mu);
  cache[rel] = CacheEntry{bytes.sig, read_at, version};
  return version;
}

void LiveServer::State::Forget(const std::string& rel) const {
  std::lock_guard lock(mu);
  cache.erase(rel);
}

// Deleted and renamed files leave the cache on their next request; this catches those never
// asked for again, so memory stays bounded by what the folder holds.
void LiveServer::State::SweepIfDue() const {
  std::vector<std::string> paths;
  {
    std::lock_guard lock(mu);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sweep < kSweepInterval) return;
    last_sweep = now;
    for (const auto& [rel, entry] : cache) paths.push_back(rel);
  }
  for (const std::string& rel : paths) {
    struct stat st {};
    if (::stat(absl::StrCat(root, "/", rel).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      Forget(rel);
    }
  }
}

void LiveServer::State::Log(std::string_view message) const {
  if (options.log) {
    options.log(message);
  } else {
    std::cerr << "kv-assets live: " << message << std::endl;
  }
}

absl::StatusOr<std::unique_ptr<LiveServer>> LiveServer::Open(std::string folder,
                                                             LiveOptions options) {
  std::error_code ec;
  const std::string root = std::filesystem::absolute(folder, ec).lexically_normal().string();
  if (ec || !std::filesystem::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat(folder, ": not a folder"));
  }
  if (absl::Status s = gen::CheckUrlPrefix(options.prefix); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("prefix ", options.prefix, ": ", s.message()));
  }
  auto state = std::make_unique<State>();
  state->root = root.size() > 1 && root.back() == '/' ? root.substr(0, root.size() - 1) : root;
  state->options = std::move(options);
  const LiveOptions& o = state->options;
  KV_ASSETS_ASSIGN_OR_RETURN(state->names, ServedNames::Open(state->root, o.excludes));
  state->version_options = {o.prefix, o.codings,
                            ServerOptions{.untagged_cache_control = o.untagged_cache_control,
                                          .tagged_cache_control = o.tagged_cache_control}};
  state->empty_manifest = Manifest{o.prefix, {}, {}, nullptr, {}};
  state->empty_server.emplace(state->empty_manifest, state->version_options.server);
  state->last_sweep = std::chrono::steady_clock::now();
  return std::unique_ptr<LiveServer>(new LiveServer(std::move(state)));
}

LiveServer::LiveServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
LiveServer::~LiveServer() = default;

bool LiveServer::HandlesTarget(std::string_view target) const {
  return state_->empty_server->HandlesTarget(target);
}

LiveResponse LiveServer::Handle(const Request& request) const {
  const State& s = *state_;
  s.SweepIfDue();
  const Server& unknown = *s.empty_server;
  if (request.method != "GET" && request.method != "HEAD")
    return {unknown.Handle(request), nullptr};
  const std::optional<std::string> path = internal::DecodedTargetPath(request.target);
  if (!path.has_value() || !path->starts_with(s.options.prefix)) {
    return {unknown.Handle(request), nullptr};
  }
  const std::string_view rel = std::string_view(*path).substr(s.options.prefix.size());
  if (rel.empty() || rel.back() == '/') return {unknown.Handle(request), nullptr};
  const Found found = s.Find(rel);
  if (!found.error.ok()) {
    s.Log(std::string(found.error.message()));
    return {ErrorResponse(500, request.method), nullptr};
  }
  if (found.version == nullptr) return {unknown.Handle(request), nullptr};
  if (found.stale_tag) {
    // The current bytes, as the untagged name gets them: never cached without revalidation.
    Request untagged = request;
    untagged.target = found.version->untagged_target();
    return {found.version->server().Handle(untagged), found.version};
  }
  return {found.version->server().Handle(request), found.version};
}

absl::StatusOr<std::string> LiveServer::Tag(std::string_view path) const {
  const Found found = state_->Find(path);
  if (!found.error.ok()) return found.error;
  if (found.version == nullptr || found.stale_tag || found.version->file().source.path != path) {
    return absl::NotFoundError(
        absl::StrCat("no file \"", ToAbsl(path), "\" is served from ", state_->root));
  }
  return std::string(found.version->url());
}

std::size_t LiveServer::cached_files() const {
  std::lock_guard lock(state_->mu);
  return state_->cache.size();
}

const std::string& LiveServer::folder() const { return state_->root; }

}  // namespace kv_assets::live
