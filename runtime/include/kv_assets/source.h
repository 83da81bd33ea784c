// kv_assets/source.h — what the serving components (kv_assets/beast_server.h,
// kv_assets/httplib.h) answer from: an embedded manifest's Server, or another source of
// answers whose bytes are not in the program image, such as KvAssets::live's LiveServer (the
// asset folder served from disk while developing, kv_assets/live.h).
//
// Example:
//   const kv_assets::Server embedded(app_assets::kManifest);
//   const kv_assets::EmbeddedSource source(embedded);  // what AssetServer(.., embedded, ..) uses
//   kv_assets::SourcedResponse r = source.Answer(request);  // r.owner == nullptr

#ifndef KV_ASSETS_SOURCE_H_
#define KV_ASSETS_SOURCE_H_

#include <memory>
#include <optional>
#include <string_view>

#include "kv_assets/server.h"

namespace kv_assets {

// An answer, and what keeps the bytes it points into alive until it has been written.
struct SourcedResponse {
  Response response;
  // Null when `response` points only into the program image (an embedded manifest).
  std::shared_ptr<const void> owner;
};

class AssetSource {
 public:
  virtual ~AssetSource() = default;
  // Whether `target` is this source's to answer (its path lies under the prefix).
  virtual bool HandlesTarget(std::string_view target) const = 0;
  // Answers one request; thread-safe.
  virtual SourcedResponse Answer(const Request& request) const = 0;
  // Whether Answer() may wait for I/O (a StoreSource reads its store, kv_assets/store.h).
  // AssetServer then runs it on threads of its own, never on the io_context's.
  virtual bool MayBlock() const { return false; }
  // For a source that MayBlock(): the answer, when it can be given without waiting (it needs
  // no body, or its body is in memory); nullopt when only Answer() can give it. AssetServer
  // asks this first, on its I/O thread, and hands the request to a thread of its own only on
  // nullopt: the hand-over costs more than a cached answer (bench/README.md).
  virtual std::optional<SourcedResponse> AnswerWithoutWaiting(const Request& /*request*/) const {
    return std::nullopt;
  }
};

// An embedded manifest's Server as an AssetSource. `server` must outlive it.
class EmbeddedSource final : public AssetSource {
 public:
  explicit EmbeddedSource(const Server& server) : server_(&server) {}
  bool HandlesTarget(std::string_view target) const override {
    return server_->HandlesTarget(target);
  }
  SourcedResponse Answer(const Request& request) const override {
    return {server_->Handle(request), nullptr};
  }

 private:
  const Server* server_;
};

}  // namespace kv_assets

#endif  // KV_ASSETS_SOURCE_H_
