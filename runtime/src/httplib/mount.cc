// kv_assets::httplib::Mount (kv_assets/httplib.h): cpp-httplib's request to a
// kv_assets::Request, Server::Handle(), and the Response back into cpp-httplib's, with the
// body given as a content provider over the Response's own views.
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kv_assets/http_date.h"
#include "kv_assets/httplib.h"

namespace kv_assets::httplib {
namespace {

using HandlerResponse = ::httplib::Server::HandlerResponse;

// A request field as Request wants it: absent, or the values of every line joined with ", "
// (RFC 9110 §5.3), kept in `storage`.
std::optional<std::string_view> Field(const ::httplib::Request& req, const char* name,
                                      std::string& storage) {
  const std::size_t count = req.get_header_value_count(name);
  if (count == 0) return std::nullopt;
  const auto [first, last] = req.headers.equal_range(name);
  if (count == 1) return std::string_view(first->second);
  for (auto it = first; it != last; ++it) {
    if (it != first) storage += ", ";
    storage += it->second;
  }
  return std::string_view(storage);
}

// Whether `req` may have a body that Mount leaves unread. cpp-httplib would read what follows
// as the next request, so such a connection is closed after the answer. Any doubt counts as a
// body: Transfer-Encoding, or Content-Length other than one "0" (a second Content-Length is
// how request smuggling starts).
bool HasBody(const ::httplib::Request& req) {
  return req.has_header("Transfer-Encoding") || req.get_header_value_count("Content-Length") > 1 ||
         (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

// Writes the pieces of `answer` from `offset` on into `sink`.
bool WritePieces(const Response& answer, std::size_t offset, ::httplib::DataSink& sink) {
  for (const std::string_view piece : answer.body()) {
    if (offset >= piece.size()) {
      offset -= piece.size();
      continue;
    }
    if (!sink.write(piece.data() + offset, piece.size() - offset)) return false;
    offset = 0;
  }
  return true;
}

// `answer` into `res`. With `close`, the connection closes after it: its provider reports
// failure once every byte is written, the one way a handler can end a cpp-httplib connection.
void Put(const SourcedResponse& sourced, ::httplib::Response& res, bool close) {
  const Response& answer = sourced.response;
  res.status = answer.status;
  std::string content_type;
  for (const HeaderField& field : answer.headers()) {
    if (field.name == "Content-Type") {
      content_type = field.value;
    } else {
      res.set_header(std::string(field.name), std::string(field.value));
    }
  }
  res.set_header("Date", std::string(CurrentHttpDate()));
  if (close) res.set_header("Connection", "close");
  if (answer.status == 304) {
    const std::uint64_t length = answer.variant != nullptr ? answer.variant->size
                                 : answer.asset != nullptr ? answer.asset->size
                                                           : 0;
    res.set_header("Content-Length", std::to_string(length));
    return;
  }
  if (answer.content_length == 0) {
    res.set_header("Content-Length", "0");
    if (!content_type.empty()) res.set_header("Content-Type", content_type);
    return;
  }
  // A copy of the Response (its views point into the manifest, its owner or itself), kept
  // with its owner until cpp-httplib has written it.
  auto kept = std::make_shared<const SourcedResponse>(sourced);
  res.set_content_provider(
      static_cast<std::size_t>(answer.content_length), content_type,
      [kept, close](std::size_t offset, std::size_t, ::httplib::DataSink& sink) {
        return WritePieces(kept->response, offset, sink) && !close;
      });
}

// Answers `req` from `assets` into `res`. The request must be for an asset. `close`: close
// the connection after the answer, whatever the request says.
void Answer(const AssetSource& assets, const ::httplib::Request& req, ::httplib::Response& res,
            bool close = false) {
  // cpp-httplib parsed Range itself and would slice the body again after the handler.
  const_cast<::httplib::Request&>(req).ranges.clear();
  std::string joined[7];
  Request request;
  request.method = req.method;
  request.target = req.target;
  request.accept_encoding = Field(req, "Accept-Encoding", joined[0]);
  request.if_match = Field(req, "If-Match", joined[1]);
  request.if_none_match = Field(req, "If-None-Match", joined[2]);
  request.if_modified_since = Field(req, "If-Modified-Since", joined[3]);
  request.if_unmodified_since = Field(req, "If-Unmodified-Since", joined[4]);
  request.range = Field(req, "Range", joined[5]);
  request.if_range = Field(req, "If-Range", joined[6]);
  Put(assets.Answer(request), res, close || HasBody(req));
}

// RFC 9112 §3.2.2: an absolute-form target becomes origin-form, its authority the Host, so
// that every route sees it as it sees any other. The query was parsed already.
void ToOriginForm(::httplib::Request& req, const TargetParts& parts) {
  const std::size_t scheme_and_authority = req.target.size() - parts.path_and_query.size();
  std::string path = req.path.size() >= scheme_and_authority ? req.path.substr(scheme_and_authority)
                                                             : std::string();
  req.path = path.empty() ? "/" : path;
  std::string host(parts.authority);  // `parts` views req.target, replaced below
  req.target = OriginForm(parts);
  req.headers.erase("Host");
  req.headers.emplace("Host", std::move(host));
}

HandlerResponse PreRoute(const AssetSource& assets, const ::httplib::Request& req,
                         ::httplib::Response& res) {
  if (req.target == "*") {  // OPTIONS * (RFC 9112 §3.2.4): the assets say what they allow
    Answer(assets, req, res);
    return HandlerResponse::Handled;
  }
  const std::optional<TargetParts> parts = ParseTarget(req.target);
  if (!parts.has_value()) {
    Put({ErrorResponse(400, req.method), nullptr}, res, HasBody(req));
    return HandlerResponse::Handled;
  }
  if (!parts->authority.empty()) {
    ToOriginForm(const_cast<::httplib::Request&>(req), *parts);
  }
  if (!assets.HandlesTarget(req.target)) return HandlerResponse::Unhandled;
  Answer(assets, req, res);
  return HandlerResponse::Handled;
}

// Whether cpp-httplib refused `req` only for its method, one outside its list, and the
// target is the assets'.
bool IsUnlistedMethodForAssets(const AssetSource& assets, const ::httplib::Request& req) {
  static constexpr std::string_view kListed[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                                 "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI"};
  for (const std::string_view listed : kListed) {
    if (req.method == listed) return false;
  }
  return !req.method.empty() && (req.version == "HTTP/1.1" || req.version == "HTTP/1.0") &&
         ParseTarget(req.target).has_value() && assets.HandlesTarget(req.target);
}

}  // namespace

bool AnswerRefusedRequest(const AssetSource& assets, const ::httplib::Request& req,
                          ::httplib::Response& res) {
  // Only cpp-httplib's own refusals: a handler's answer has a body, a provider or a length.
  if (!res.body.empty() || res.content_provider_ || res.has_header("Content-Length")) {
    return false;
  }
  const int status = res.status;
  // cpp-httplib adds REMOTE_ADDR to every request whose fields it read whole.
  if (req.has_header("REMOTE_ADDR")) {
    // The one refusal of a request read whole: a Range it cannot parse, which it answers
    // with 416 and KvAssets ignores (RFC 9110 §14.2).
    if (status != 416 || !assets.HandlesTarget(req.target)) return false;
    res = ::httplib::Response();
    res.version = "HTTP/1.1";
    Answer(assets, req, res);
    return true;
  }
  // It gave up on the request line (a method outside its list, a target too long, a
  // malformed line) or on a field line (longer than 8 KiB), and left the rest unread: that
  // would be read as the next request, so the connection closes after the answer.
  res = ::httplib::Response();
  res.version = "HTTP/1.1";
  if (IsUnlistedMethodForAssets(assets, req)) {
    Answer(assets, req, res, /*close=*/true);  // 405 with Allow, like any other method
  } else {
    Put({ErrorResponse(status, req.method), nullptr}, res, /*close=*/true);
  }
  return true;
}

// cpp-httplib adds "Accept-Ranges: bytes" to every answer to HEAD that has none; an asset's
// 304 or error answer has none on purpose (docs/http.md rule 25: HEAD answers as GET does).
void PostRoute(const AssetSource& assets, const ::httplib::Request& req, ::httplib::Response& res) {
  if (req.method == "HEAD" && res.status != 200 && res.status != 206 &&
      (req.target == "*" || assets.HandlesTarget(req.target))) {
    res.headers.erase("Accept-Ranges");
  }
}

namespace {

// Installs the handlers; `assets` is what they answer from, `keep` what must live as long
// as they do.
void MountSource(::httplib::Server& svr, const AssetSource& assets,
                 std::shared_ptr<const void> keep) {
  // cpp-httplib writes a response's head and body in two send() calls; with Nagle's algorithm
  // the body then waits for the client's delayed ACK of the head, up to 40 ms on Linux.
  svr.set_tcp_nodelay(true);
  svr.set_pre_routing_handler(
      [&assets, keep](const ::httplib::Request& req, ::httplib::Response& res) {
        return PreRoute(assets, req, res);
      });
  svr.set_post_routing_handler(
      [&assets, keep](const ::httplib::Request& req, ::httplib::Response& res) {
        PostRoute(assets, req, res);
      });
  svr.set_error_handler(::httplib::Server::HandlerWithResponse(
      [&assets, keep](const ::httplib::Request& req, ::httplib::Response& res) {
        return AnswerRefusedRequest(assets, req, res) ? HandlerResponse::Handled
                                                      : HandlerResponse::Unhandled;
      }));
}

}  // namespace

void Mount(::httplib::Server& svr, const kv_assets::Server& assets) {
  auto embedded = std::make_shared<const EmbeddedSource>(assets);
  MountSource(svr, *embedded, embedded);
}

void Mount(::httplib::Server& svr, const kv_assets::Server& assets, const Store& store) {
  auto source = std::make_shared<const StoreSource>(assets, store);
  MountSource(svr, *source, source);
}

void Mount(::httplib::Server& svr, const AssetSource& assets) { MountSource(svr, assets, nullptr); }

bool AnswerRefusedRequest(const kv_assets::Server& assets, const ::httplib::Request& req,
                          ::httplib::Response& res) {
  return AnswerRefusedRequest(EmbeddedSource(assets), req, res);
}

}  // namespace kv_assets::httplib
