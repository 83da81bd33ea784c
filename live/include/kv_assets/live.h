// kv_assets/live.h — serve the asset folder straight from disk while developing: edit a
// stylesheet, reload, see it, with no rebuild and no restart.
//
// A LiveServer answers exactly what an embedded build of the same folder answers — the same
// files (dotfiles, .gitignore/.ignore and EXCLUDE through the generator's own rules), the same
// ETags for the same bytes, Vary, codings, Range, preconditions, 400/404/405 — except for
// freshness, so that an edit shows on the next reload:
//
//   untagged name ("css/site.css")            Cache-Control: no-cache (revalidated: 304)
//   the file's current tag                    as embedded: max-age=31536000, immutable
//   a tag that is not current (a page built   the current bytes, no-cache; never a 404
//   with the compile-time Tag() before an edit)
//
// Fresh without a watcher: each request costs one stat(2) of the file; what was computed for
// it (hash, type, variants at fast compression levels) is reused while its device, inode,
// size, mtime and ctime stay the same. A file modified within two seconds of being read
// counts as "racy" and is read again on every request until it is older (git's racy-index
// rule), so a same-size edit in the same second is seen. Ignore files are re-read when one of
// them changes, checked at most once a second. A file that cannot be read is a 500 with a
// fixed text and no-store; the reason goes to LiveOptions::log, never to the client.
//
// Turn it on at run time, never through NDEBUG or the build type, so that the binary you
// test is the binary you ship:
//
//   // KV_ASSETS_LIVE=web/public ./app   serves the folder; unset, the embedded assets
//   if (const char* dir = std::getenv("KV_ASSETS_LIVE"); dir != nullptr && *dir != '\0') {
//     auto live = kv_assets::live::LiveServer::Open(dir, {.prefix = "/static/"});
//     if (!live.ok()) { std::cerr << live.status() << "\n"; return 1; }
//     kv_assets::live::LiveResponse r = (*live)->Handle(request);
//     // write r.response; r.owner keeps its bytes alive until then
//   }

#ifndef KV_ASSETS_LIVE_H_
#define KV_ASSETS_LIVE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "kv_assets/manifest.h"
#include "kv_assets/server.h"
#include "kv_assets/source.h"

namespace kv_assets::live {

struct LiveOptions {
  // As kv_assets_embed()'s PREFIX and EXCLUDE.
  std::string prefix = "/";
  std::vector<std::string> excludes;
  // The codings to precompress with, at fast levels (gzip 6, brotli 5, zstd 3).
  std::vector<Coding> codings = {Coding::kGzip, Coding::kBrotli};
  // Cache-Control for untagged names and tags that are not current.
  std::string tagged_cache_control = "public, max-age=31536000, immutable";
  std::string untagged_cache_control = "no-cache";
  // Where the reasons for 500s go; nullptr: standard error.
  std::function<void(std::string_view)> log;
};

// An answer, and what keeps the bytes it points into alive until it has been written.
using LiveResponse = SourcedResponse;

// Both serving components take it as they take an embedded Server:
//   kv_assets::beast::AssetServer server(io, endpoint, *live, fallback);
//   kv_assets::httplib::Mount(svr, *live);
class LiveServer final : public AssetSource {
 public:
  // Opens `folder` (made absolute). Fails, naming the folder, when it is not a readable
  // folder, when the prefix is not one kv_assets_embed() accepts, or when its ignore rules
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<LiveServer>> Open(std::string folder,
                                                          LiveOptions options = {});
  ~LiveServer() override;
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;

  // As Server::HandlesTarget(): whether `target` lies under the prefix.
  bool HandlesTarget(std::string_view target) const override;

  // Answers one request from the folder as it is now. Thread-safe.
  LiveResponse Handle(const Request& request) const;
  SourcedResponse Answer(const Request& request) const override { return Handle(request); }

  // The URL to link to for `path` ("css/site.css") as the folder is now:
  // "/static/css/site.<current tag>.css". NotFoundError when no such file is served.
  absl::StatusOr<std::string> Tag(std::string_view path) const;

  // How many files' results are held (for tests: deleted files leave).
  std::size_t cached_files() const;

  const std::string& folder() const;

 private:
  struct State;
  explicit LiveServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace kv_assets::live

#endif  // KV_ASSETS_LIVE_H_
