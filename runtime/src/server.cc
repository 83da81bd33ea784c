// One request, from target to bytes: method check -> target to path -> percent-decode ->
// prefix -> manifest lookup (untagged or tagged name) -> preconditions -> 200 or 304.
#include "kv_assets/server.h"

#include <memory>
#include <optional>

#include "kv_assets/http_date.h"

namespace kv_assets {
namespace {

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
// Longest decoded path we look up; no manifest holds a longer one.
constexpr std::size_t kMaxPath = kMaxUrlPath;

enum class PathError { kNone, kBadRequest, kNotFound };

bool StartsWithIgnoreCase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

// The path part of an origin-form or absolute-form target (RFC 9112 §3.2), without query
// or fragment. nullopt for asterisk-form, authority-form and anything else.
std::optional<std::string_view> TargetPath(std::string_view target) {
  // Plain loops: std::string_view::find_first_of calls memchr once per byte, which was half
  // the time of a whole request.
  std::size_t i = 0;
  if (!target.starts_with('/')) {
    if (StartsWithIgnoreCase(target, "http://")) {
      i = 7;
    } else if (StartsWithIgnoreCase(target, "https://")) {
      i = 8;
    } else {
      return std::nullopt;
    }
    while (i < target.size() && target[i] != '/' && target[i] != '?' && target[i] != '#') ++i;
    if (i == target.size() || target[i] != '/') return std::string_view("/");
  }
  std::size_t end = i;
  while (end < target.size() && target[end] != '?' && target[end] != '#') ++end;
  return target.substr(i, end - i);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `path` once into `out`. Lookup is an exact match in the manifest, never a
// file-system path, so nothing can escape it; still, anything that would let two spellings
// of one path mean different things is a bad request: malformed escapes, NUL and control
// bytes, an encoded '/', and "." or ".." segments (browsers remove those before sending).
// A backslash is an ordinary byte: it matches only a file whose name has one.
PathError DecodePath(std::string_view path, char (&out)[kMaxPath], std::size_t& len) {
  len = 0;
  std::size_t segment_start = 0;  // in `out`
  // A "." or ".." segment, checked on decoded bytes so that "%2e%2e" counts too.
  const auto dot_segment = [&] {
    const std::size_t n = len - segment_start;
    return (n == 1 && out[segment_start] == '.') ||
           (n == 2 && out[segment_start] == '.' && out[segment_start + 1] == '.');
  };
  for (std::size_t i = 0; i < path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '%') {
      if (i + 2 >= path.size()) return PathError::kBadRequest;
      const int hi = HexValue(path[i + 1]);
      const int lo = HexValue(path[i + 2]);
      if (hi < 0 || lo < 0) return PathError::kBadRequest;
      c = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
      if (c == '/') return PathError::kBadRequest;
    } else if (c == '/') {
      if (dot_segment()) return PathError::kBadRequest;
      segment_start = len + 1;
    }
    if (c < 0x20 || c == 0x7F) return PathError::kBadRequest;
    if (len == kMaxPath) return PathError::kNotFound;
    out[len++] = static_cast<char>(c);
  }
  return dot_segment() ? PathError::kBadRequest : PathError::kNone;
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

// RFC 9110 §13.1.2: does the If-None-Match list name `etag` (weak comparison) or "*"?
// A malformed member ends the parse with what matched so far.
bool IfNoneMatchMatches(std::string_view field, std::string_view etag) {
  const std::string_view opaque = etag.substr(etag.starts_with("W/") ? 2 : 0);
  std::size_t i = 0;
  while (i < field.size()) {
    while (i < field.size() && (IsOws(field[i]) || field[i] == ',')) ++i;
    if (i == field.size()) break;
    if (field[i] == '*') return true;
    if (field.substr(i, 2) == "W/") i += 2;
    if (i >= field.size() || field[i] != '"') return false;
    const std::size_t close = field.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (field.substr(i, close - i + 1) == opaque) return true;
    i = close + 1;
  }
  return false;
}

}  // namespace

void Response::AddHeader(std::string_view name, std::string_view value) {
  if (field_count_ < kMaxHeaders) {
    std::construct_at(&storage_.fields[field_count_++], HeaderField{name, value});
  }
}

std::string_view Response::header(std::string_view name) const {
  for (const HeaderField& f : headers()) {
    if (f.name == name) return f.value;
  }
  return {};
}

bool Server::Owns(std::string_view target) const {
  const std::optional<std::string_view> path = TargetPath(target);
  return path.has_value() && path->starts_with(manifest_->prefix);
}

namespace {

// Handle()'s work, writing into `res` so that every path returns the one object the caller
// made: returning different Response objects from different branches cost a 400-byte copy a
// request.
void Answer(const Manifest& manifest, const ServerOptions& options, const Request& request,
            Response& res) {
  const bool head = request.method == "HEAD";
  const auto error = [&](int status, std::string_view reason, std::string_view body) -> void {
    res.status = status;
    res.reason = reason;
    res.AddHeader("Content-Type", kTextPlain);
    res.AddHeader("Cache-Control", options.error_cache_control);
    res.content_length = body.size();
    res.has_content_length = true;
    res.body = head ? std::string_view() : body;
  };

  if (!head && request.method != "GET") {
    res.AddHeader("Allow", "GET, HEAD");
    return error(405, "Method Not Allowed", "405 Method Not Allowed\n");
  }

  const std::optional<std::string_view> raw_path = TargetPath(request.target);
  if (!raw_path.has_value()) return error(400, "Bad Request", "400 Bad Request\n");
  char buffer[kMaxPath];
  std::size_t len = 0;
  switch (DecodePath(*raw_path, buffer, len)) {
    case PathError::kNone:
      break;
    case PathError::kBadRequest:
      return error(400, "Bad Request", "400 Bad Request\n");
    case PathError::kNotFound:
      return error(404, "Not Found", "404 Not Found\n");
  }
  std::string_view path(buffer, len);
  if (!path.starts_with(manifest.prefix)) return error(404, "Not Found", "404 Not Found\n");
  path.remove_prefix(manifest.prefix.size());

  // Directories ("", "css/") are never assets: no listings, no index.html.
  const Asset* asset = manifest.Find(path);
  bool tagged = false;
  if (asset == nullptr) {
    asset = manifest.FindTagged(path);
    tagged = asset != nullptr;
  }
  if (asset == nullptr) return error(404, "Not Found", "404 Not Found\n");

  res.asset = asset;
  const std::string_view cache_control =
      tagged ? options.tagged_cache_control : options.untagged_cache_control;

  // RFC 9110 §13.2.2: If-None-Match decides alone when present; only without it does
  // If-Modified-Since count, and only when it is one valid date.
  bool not_modified = false;
  if (!request.if_none_match.empty()) {
    not_modified = IfNoneMatchMatches(request.if_none_match, asset->etag());
  } else if (!request.if_modified_since.empty()) {
    const std::optional<std::int64_t> since = ParseHttpDate(request.if_modified_since);
    not_modified = since.has_value() && asset->last_modified_unix <= *since;
  }

  if (not_modified) {
    res.status = 304;
    res.reason = "Not Modified";
    res.AddHeader("ETag", asset->etag());
    res.AddHeader("Cache-Control", cache_control);
    res.AddHeader("Last-Modified", asset->last_modified());
    return;
  }

  res.status = 200;
  res.reason = "OK";
  res.AddHeader("Content-Type", asset->content_type());
  res.AddHeader("ETag", asset->etag());
  res.AddHeader("Last-Modified", asset->last_modified());
  res.AddHeader("Cache-Control", cache_control);
  res.AddHeader("X-Content-Type-Options", "nosniff");
  res.content_length = asset->size;
  res.has_content_length = true;
  if (!head) res.body = manifest.Body(*asset);
}

}  // namespace

Response Server::Handle(const Request& request) const {
  Response res;
  Answer(*manifest_, options_, request, res);
  return res;
}

}  // namespace kv_assets
