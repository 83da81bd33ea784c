// kv_assets/server.h — answers HTTP requests for a generated manifest, framework-agnostic.
//
// The server turns (method, request target, the few request headers it reads) into a
// status, response header fields and a body that is a view into the program image. It
// never touches the file system, never allocates on the request path, and holds only
// immutable data, so one instance can serve every thread. Adapters for a framework copy
// the request fields in and the response fields out; see kv_assets/beast.h. A manifest-only
// build (kv_assets_embed(... STORE)) is answered the same way, except that a body is named
// by a store key instead of pointed at: kv_assets/store.h fetches it.
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
//   req.accept_encoding = "gzip, deflate, br, zstd";  // fields the client sent, if any
//   req.if_none_match = R"("jZ3...-br")";
//   kv_assets::Response res = server.Handle(req);
//   // res.status == 304, res.headers() holds ETag, Cache-Control, Last-Modified, Vary.
//   for (std::string_view piece : res.body()) write(piece);  // for a 200/206
//
// Caching policy: an untagged name ("/static/css/style.css") is fresh for a minute and then
// revalidated; the tagged name is fresh for a year and immutable, because its bytes can never
// change; a tagged name whose tag is not the current one is 404, so a stale page never gets
// new bytes under an old URL.
//
// HTTP semantics (RFC 9110; each rule of docs/http.md has a test named after it):
//  - Content coding: the generator's gzip/br/zstd variants are offered by Accept-Encoding
//    weight, the smallest among equal weights, an unlisted identity last. No Accept-Encoding
//    field gets identity (RFC 9110 allows any coding then, but curl and most HTTP libraries
//    send none and cannot decode). Nothing acceptable, identity excluded: 406. Each variant has its
//    own ETag, and every answer for an asset with variants carries Vary: Accept-Encoding.
//  - Preconditions in §13.2.2 order: If-Match (strong), else If-Unmodified-Since -> 412;
//    If-None-Match (weak) -> 304, else If-Modified-Since -> 304. All are compared with the
//    representation that would be sent, and ignored when the answer would be 400/404/405/406.
//  - Range (GET only): one range is a 206 with Content-Range, several a multipart/byteranges
//    (overlapping ones merged), none satisfiable a 416 with "Content-Range: bytes */<length>".
//    A GET with a bytes Range is answered from the identity bytes whenever the client accepts
//    identity, and If-Range is compared with the identity ETag: a client resuming a download
//    (curl --compressed -C -) cannot decode a slice from the middle of a brotli stream
//    (RFC 9110 §14.1.2 lets the server pick the representation; nginx and Apache do the same).
//    Syntax errors, other units, and more than 8 ranges are answered with the whole body
//    (§14.2 allows ignoring Range).
//  - Request targets (RFC 9112 §3.2): origin-form and absolute-form; a byte the grammar does
//    not allow (a raw backslash, space, quote, control or non-ASCII byte) is a 400.
//    If-Range with a date matches only Last-Modified exactly; with LAST_MODIFIED epoch every
//    asset has the same date, so such a client should use the ETag form (browsers do).

#ifndef KV_ASSETS_SERVER_H_
#define KV_ASSETS_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kv_assets/internal/http_fields.h"
#include "kv_assets/manifest.h"

namespace kv_assets {

// The parts of a request the server reads. Views only: they must outlive the Handle() call.
// Header values are as received; a field sent on several lines should be joined with ", "
// (RFC 9110 §5.3). nullopt means the field was absent, which differs from an empty value for
// Accept-Encoding (absent: no preference; empty: identity only).
struct Request {
  std::string_view method;  // "GET", case-sensitive as RFC 9110 §9.1 says
  std::string_view target;  // request-target: "/static/a.css?v=1" or "http://host/static/a.css"
  std::optional<std::string_view> accept_encoding;
  std::optional<std::string_view> if_match;
  std::optional<std::string_view> if_none_match;
  std::optional<std::string_view> if_modified_since;
  std::optional<std::string_view> if_unmodified_since;
  std::optional<std::string_view> range;
  std::optional<std::string_view> if_range;
};

// One response header field.
namespace internal {
struct ResponseBuilder;
}  // namespace internal

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// The answer. Every view points into static storage, the manifest or the Response itself
// (the text of Content-Range and multipart part headers); copying a Response re-points the
// latter at the copy, so a Response may be copied and kept for as long as the manifest lives.
struct Response {
  static constexpr std::size_t kMaxHeaders = 12;
  // A whole body is one piece; multipart/byteranges is a header and a slice per range, then
  // the closing delimiter.
  static constexpr std::size_t kMaxBodyPieces = 2 * internal::kMaxRanges + 1;
  // Room for formatted field values and part headers. Enough for kMaxRanges parts with any
  // content type the generator writes; the server falls back to a 200 when it is not.
  static constexpr std::size_t kTextCapacity = 2048;

  Response() = default;
  Response(const Response& other) { CopyFrom(other); }
  Response& operator=(const Response& other) {
    if (this != &other) CopyFrom(other);
    return *this;
  }

  int status = 500;
  std::string_view reason;  // "OK", "Not Modified", …
  // The Content-Length to send, when `has_content_length`; for HEAD it is the GET length.
  // Not set on 304 (RFC 9110 §8.6: it would have to equal the 200's length, and omitting
  // it is always correct).
  std::uint64_t content_length = 0;
  bool has_content_length = false;
  // The asset that was answered for (200/206/304/412/416), or nullptr.
  const Asset* asset = nullptr;
  // The precompressed variant the answer is about, or nullptr for the identity body: the
  // one sent (200/206), validated (304, 412) or measured (416's Content-Range). Only a 200 or
  // 206 carries its bytes and Content-Encoding.
  const Variant* variant = nullptr;

  // Bytes to send, in order; their sizes add up to `content_length` except for HEAD and 304,
  // which have none. Error answers carry a short fixed text.
  std::span<const std::string_view> body() const { return {pieces_.items, piece_count_}; }
  // All of body() in one string, for tests and for adapters that need one buffer. Allocates.
  std::string BodyString() const;

  // Manifest-only builds (Manifest::blob == nullptr; see kv_assets/store.h). The store key
  // whose value the body needs, or "" when it needs none: embedded bodies, HEAD, 304, every
  // error and empty bodies are answered from the manifest alone. The pieces that come from
  // that value are empty until FillBody() puts them in.
  std::string_view body_key() const { return body_key_; }
  // The byte ranges of that value the body uses, in order (first and last inclusive): one
  // covering the whole value for a 200, one per range for a 206. A store that can read part
  // of a value may read only these.
  std::span<const ByteRange> body_ranges() const { return {slot_ranges_.items, slot_count_}; }
  // Puts the slices of `value`, the whole value stored under body_key(), into the body, and
  // clears body_key(). False, changing nothing, when `value` is not as long as the manifest
  // says (the store holds other bytes under that key). The body then points into `value`.
  bool FillBody(std::string_view value);

  std::span<const HeaderField> headers() const { return {fields_.items, field_count_}; }
  // The value of the first field named `name` (exact case as the server writes it), or "".
  std::string_view header(std::string_view name) const;

 private:
  // The builder calls are the server's own (internal::ResponseBuilder, in server.cc): a
  // program reads a Response, and makes one only with Server::Handle() or ErrorResponse().
  friend struct internal::ResponseBuilder;
  void AddHeader(std::string_view name, std::string_view value);
  void AddBodyPiece(std::string_view bytes);
  // Copies `parts`, concatenated, into the response's own storage and returns a view of the
  // copy, or nullopt (storing nothing) when it does not fit. A copied Response re-points
  // such views when they were passed to AddHeader() or AddBodyPiece().
  std::optional<std::string_view> StoreText(std::initializer_list<std::string_view> parts);
  // A body piece FillBody() will set to `range` of the value under `key`.
  void AddBodyFromStore(std::string_view key, ByteRange range);

  void CopyFrom(const Response& other);
  std::string_view Rebase(std::string_view view, const Response& from) const;

  // Arrays left uninitialized beyond their counts: zeroing 12 fields was a tenth of a
  // request's time. The element types are trivially copyable.
  template <typename T, std::size_t N>
  union Storage {
    Storage() {}
    T items[N];
  };
  Storage<HeaderField, kMaxHeaders> fields_;
  std::size_t field_count_ = 0;
  Storage<std::string_view, kMaxBodyPieces> pieces_;
  std::size_t piece_count_ = 0;
  Storage<char, kTextCapacity> text_;
  std::size_t text_size_ = 0;
  // Manifest-only builds: the pieces FillBody() sets, and the ranges they take.
  std::string_view body_key_;
  Storage<ByteRange, internal::kMaxRanges> slot_ranges_;
  Storage<std::uint8_t, internal::kMaxRanges> slot_pieces_;
  std::size_t slot_count_ = 0;
};

struct ServerOptions {
  // Cache-Control for untagged names: short, so a deploy is seen within a minute.
  std::string_view untagged_cache_control = "public, max-age=60";
  // Cache-Control for tagged names: the bytes behind such a URL never change (RFC 8246).
  std::string_view tagged_cache_control = "public, max-age=31536000, immutable";
  // Cache-Control for 400/404/405: nothing an error says should outlive a deploy.
  std::string_view error_cache_control = "no-store";
};

// The parts of a request-target (RFC 9112 §3.2) that a server routes on. Views into the
// target. For origin-form "/a/b?q" `path` is "/a/b" and `path_and_query` the whole target;
// for absolute-form "http://host:8080/a?q" they are "/a" and "/a?q", and `authority` is
// "host:8080" (RFC 9112 §3.2.2: it replaces Host). "http://host?q" has an empty path,
// which means "/".
struct TargetParts {
  std::string_view authority;
  std::string_view path;
  std::string_view path_and_query;
};

// Splits `target`, or nullopt when it is not a target an origin server answers:
// asterisk-form ("*"), authority-form ("host:443"), another scheme, or any byte outside RFC
// 3986's grammar (a raw backslash, space, '"', '<', '>', '^', '`', '{', '|', '}', '#',
// control bytes, bytes >= 0x80). Such requests get 400 and are never looked up.
std::optional<TargetParts> ParseTarget(std::string_view target);

// The origin-form of a target ParseTarget() accepts ("http://h:1/a?q" -> "/a?q", "http://h"
// -> "/"), so that an application's routes see absolute-form requests as they see any other.
std::string OriginForm(const TargetParts& parts);

namespace internal {
// For servers of other sources (KvAssets::live): the percent-decoded path of `target`, prefix
// included, exactly as Handle() looks it up, or nullopt when Handle() answers 400 or 404
// without a lookup (malformed, an encoded '/', a "." or ".." segment, too long).
std::optional<std::string> DecodedTargetPath(std::string_view target);
}  // namespace internal

// The answer the server gives with `status` for a request with `method`: a short fixed text
// ("404 Not Found\n"), text/plain, Cache-Control: no-store, and Allow: GET, HEAD on a 405;
// no body for HEAD, with the GET's Content-Length. Statuses without a text of their own get
// 500's. For adapters that refuse a request before the server sees it (400, 413, 431).
Response ErrorResponse(int status, std::string_view method = "GET");

class Server {
 public:
  explicit Server(const Manifest& manifest, ServerOptions options = {})
      : manifest_(&manifest), options_(options) {}

  // True when `target`'s path lies under the manifest's prefix, so Handle() is the one to
  // answer it (anything else is the application's). Cheap: it percent-decodes only as much
  // of the path as the prefix is long, so that "/my%20static/x" is under "/my static/", as
  // the URLs in the manifest are.
  bool HandlesTarget(std::string_view target) const;

  // Answers one request. Never fails: malformed paths are a 400, unknown names a 404, other
  // methods a 405 with Allow; malformed conditional, Range and Accept-Encoding fields are
  // ignored or answered as the RFC says. No heap allocation; about 7 KiB of stack (the
  // decoded path, at most kMaxUrlPath bytes, and the Response). For a manifest-only build
  // the status and fields are final, and Response::body_key() names what the body still
  // needs (kv_assets/store.h's FetchBody() fetches it).
  Response Handle(const Request& request) const;

  const Manifest& manifest() const { return *manifest_; }

 private:
  const Manifest* manifest_;
  ServerOptions options_;
};

}  // namespace kv_assets

#endif  // KV_ASSETS_SERVER_H_
