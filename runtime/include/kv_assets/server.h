// kv_assets/server.h — answers HTTP requests for a generated manifest, framework-agnostic.
//
// The server turns (method, request target, the few request headers it reads) into a
// status, response header fields and a body that is a view into the program image. It
// never touches the file system, never allocates on the request path, and holds only
// immutable data, so one instance can serve every thread. Adapters for a framework copy
// the request fields in and the response fields out; see kv_assets/beast.h.
//
// Example:
//
//   #include "app_assets.h"
//   #include "kv_assets/server.h"
//
//   const kv_assets::Server server(app_assets::kManifest);
//
//   kv_assets::Request req;
//   req.method = "GET";
//   req.target = "/static/css/style.EI7Zfw9kFp.css";
//   req.if_none_match = R"("jZ3...")";  // from the client, if it sent one
//   kv_assets::Response res = server.Handle(req);
//   // res.status == 304, res.headers() holds ETag, Cache-Control, Last-Modified.
//
// Caching policy: an untagged name ("/static/css/style.css") is fresh for a minute and then
// revalidated; the tagged name is fresh for a year and immutable, because its bytes can never
// change; a tagged name whose tag is not the current one is 404, so a stale page never gets
// new bytes under an old URL.

#ifndef KV_ASSETS_SERVER_H_
#define KV_ASSETS_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "kv_assets/manifest.h"

namespace kv_assets {

// The parts of a request the server reads. Views only: they must outlive the Handle() call.
// Header values are as received; a field sent on several lines should be joined with ", "
// (RFC 9110 §5.3). An empty view means the field was absent.
struct Request {
  std::string_view method;  // "GET", case-sensitive as RFC 9110 §9.1 says
  std::string_view target;  // request-target: "/static/a.css?v=1" or "http://host/static/a.css"
  std::string_view if_none_match;
  std::string_view if_modified_since;
};

// One response header field.
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// The answer. Every view points into static storage or the manifest, so a Response may be
// copied and kept for as long as the manifest lives.
struct Response {
  static constexpr std::size_t kMaxHeaders = 12;

  int status = 500;
  std::string_view reason;  // "OK", "Not Modified", …
  // Bytes to send; empty for HEAD and 304 even when `content_length` is not zero. Error
  // answers carry a short fixed text.
  std::string_view body;
  // The Content-Length to send, when `has_content_length`; for HEAD it is the GET length.
  // Not set on 304 (RFC 9110 §8.6: it would have to equal the 200's length, and omitting
  // it is always correct).
  std::uint64_t content_length = 0;
  bool has_content_length = false;
  // The asset that was answered for (200/304), or nullptr.
  const Asset* asset = nullptr;

  std::span<const HeaderField> headers() const { return {storage_.fields, field_count_}; }
  // The value of the first field named `name` (exact case as the server writes it), or "".
  std::string_view header(std::string_view name) const;

  // Used by the server; adapters only read.
  void AddHeader(std::string_view name, std::string_view value);

 private:
  // Left uninitialized beyond `field_count_`: zeroing 12 fields was a tenth of a request's
  // time. HeaderField is trivially copyable, so copying a Response stays a plain copy.
  union Storage {
    Storage() {}
    HeaderField fields[kMaxHeaders];
  } storage_;
  std::size_t field_count_ = 0;
};

struct ServerOptions {
  // Cache-Control for untagged names: short, so a deploy is seen within a minute.
  std::string_view untagged_cache_control = "public, max-age=60";
  // Cache-Control for tagged names: the bytes behind such a URL never change (RFC 8246).
  std::string_view tagged_cache_control = "public, max-age=31536000, immutable";
  // Cache-Control for 400/404/405: nothing an error says should outlive a deploy.
  std::string_view error_cache_control = "no-store";
};

class Server {
 public:
  explicit Server(const Manifest& manifest, ServerOptions options = {})
      : manifest_(&manifest), options_(options) {}

  // True when `target`'s path lies under the manifest's prefix, so Handle() is the one to
  // answer it (anything else is the application's). Cheap: it compares the path as sent,
  // without percent-decoding, so "/%73tatic/x" is the application's (browsers never encode
  // an unreserved character like that).
  bool Owns(std::string_view target) const;

  // Answers one request. Never fails: malformed input is a 400, unknown names a 404,
  // other methods a 405 with Allow. No heap allocation; about 4.5 KiB of stack (the decoded
  // path, at most kMaxUrlPath bytes).
  Response Handle(const Request& request) const;

  const Manifest& manifest() const { return *manifest_; }

 private:
  const Manifest* manifest_;
  ServerOptions options_;
};

}  // namespace kv_assets

#endif  // KV_ASSETS_SERVER_H_
