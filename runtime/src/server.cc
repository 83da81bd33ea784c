// One request, from target to bytes: method check -> target to path -> percent-decode ->
// prefix -> manifest lookup (untagged or tagged name) -> content coding -> preconditions
// (412/304) -> Range -> 200, 206 or 416. The field parsers are in http_fields.cc.
#include "kv_assets/server.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "kv_assets/http_date.h"

namespace kv_assets {

namespace internal {
// How the functions below build a Response: its builder calls are private, since a program
// only reads one.
struct ResponseBuilder {
  static void AddHeader(Response& res, std::string_view name, std::string_view value) {
    res.AddHeader(name, value);
  }
  static void AddBodyPiece(Response& res, std::string_view bytes) { res.AddBodyPiece(bytes); }
  static std::optional<std::string_view> StoreText(Response& res,
                                                   std::initializer_list<std::string_view> parts) {
    return res.StoreText(parts);
  }
  static void AddBodyFromStore(Response& res, std::string_view key, ByteRange range) {
    res.AddBodyFromStore(key, range);
  }
};
}  // namespace internal

namespace {

using Build = internal::ResponseBuilder;

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

// Bytes RFC 3986 allows in a path and query (pchar, '/', '?'): unreserved, sub-delims, ':',
// '@' and '%' (escapes are checked when decoding). In an authority, '[' and ']' as well.
struct TargetBytes {
  bool path[256] = {};
  bool authority[256] = {};
  constexpr TargetBytes() {
    for (const unsigned char c :
         std::string_view("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                          "-._~!$&'()*+,;=:@/?%")) {
      path[c] = authority[c] = true;
    }
    authority[static_cast<unsigned char>('[')] = authority[static_cast<unsigned char>(']')] = true;
    authority[static_cast<unsigned char>('/')] = authority[static_cast<unsigned char>('?')] = false;
  }
};
constexpr TargetBytes kTargetBytes;

// ParseTarget(), and with `check_bytes` false the same split of any target whose form is
// right, for HandlesTarget(): a target with a forbidden byte under the prefix is still the asset
// server's to refuse.
std::optional<TargetParts> SplitTarget(std::string_view target, bool check_bytes) {
  // Plain loops: std::string_view::find_first_of calls memchr once per byte, which was half
  // the time of a whole request.
  TargetParts parts;
  std::size_t i = 0;
  if (!target.starts_with('/')) {
    if (StartsWithIgnoreCase(target, "http://")) {
      i = 7;
    } else if (StartsWithIgnoreCase(target, "https://")) {
      i = 8;
    } else {
      return std::nullopt;
    }
    const std::size_t start = i;
    while (i < target.size() && target[i] != '/' && target[i] != '?') {
      if (check_bytes && !kTargetBytes.authority[static_cast<unsigned char>(target[i])]) {
        return std::nullopt;
      }
      ++i;
    }
    // RFC 9110 §4.2.1: an http URI with an empty host is invalid.
    if (i == start) return std::nullopt;
    parts.authority = target.substr(start, i - start);
  }
  const std::size_t path_start = i;
  std::size_t path_end = target.size();
  for (; i < target.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(target[i]);
    if (check_bytes && !kTargetBytes.path[c]) return std::nullopt;
    if (c == '?' && path_end == target.size()) {
      path_end = i;
      if (!check_bytes) break;
    }
  }
  parts.path = target.substr(path_start, path_end - path_start);
  parts.path_and_query = target.substr(path_start);
  return parts;
}

// The path part of `target` without the query; "/" for an absolute-form without one.
std::optional<std::string_view> TargetPath(std::string_view target, bool check_bytes) {
  const std::optional<TargetParts> parts = SplitTarget(target, check_bytes);
  if (!parts.has_value()) return std::nullopt;
  return parts->path.empty() ? std::string_view("/") : parts->path;
}

}  // namespace

std::optional<TargetParts> ParseTarget(std::string_view target) {
  return SplitTarget(target, /*check_bytes=*/true);
}

std::string OriginForm(const TargetParts& parts) {
  if (parts.path.empty()) return "/" + std::string(parts.path_and_query);
  return std::string(parts.path_and_query);
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDotSegment(std::string_view segment) { return segment == "." || segment == ".."; }

// A path without escapes needs no copy: checked in place, the view is the decoded path.
bool IsPlainPath(std::string_view path) {
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '%' || c < 0x20 || c == 0x7F) return false;
    if (c == '/') {
      if (IsDotSegment(path.substr(segment_start, i - segment_start))) return false;
      segment_start = i + 1;
    }
  }
  return !IsDotSegment(path.substr(segment_start)) && path.size() <= kMaxPath;
}

// Percent-decodes `path` once into `decoded`, a view of `path` itself or of `buffer`. Lookup is an
// exact match in the manifest, never a file-system path, so nothing can escape it; still, anything
// that would let two spellings of one path mean different things is a bad request: malformed
// escapes, NUL and control bytes, an encoded '/', and "." or ".." segments (browsers remove those
// before sending). An encoded backslash (%5C) is an ordinary byte: it matches only a file whose
// name has one (a raw one never gets here: ParseTarget() refuses it).
PathError DecodePath(std::string_view path, char (&buffer)[kMaxPath], std::string_view& decoded) {
  if (IsPlainPath(path)) {
    decoded = path;
    return PathError::kNone;
  }
  char* const out = buffer;
  std::size_t len = 0;
  std::size_t segment_start = 0;  // in `out`
  // A "." or ".." segment, checked on decoded bytes so that "%2e%2e" counts too.
  const auto dot_segment = [&] {
    return IsDotSegment(std::string_view(out + segment_start, len - segment_start));
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
  if (dot_segment()) return PathError::kBadRequest;
  decoded = std::string_view(out, len);
  return PathError::kNone;
}

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Whether `path` could be a tagged name: its file name (leading dots aside) has kTagLength
// base64url characters after its first dot, then a dot or the end (generator/hash.cc,
// TaggedPath). Every tagged name the generator makes passes; most untagged ones do not.
// TaggedPath's form of a name of dots alone ("..." -> "....<tag>") fails on purpose: the
// leading dots swallow the dot before the tag. The scan keeps no such name, so it must never
// reach an asset as tagged (server_test, NamesOfDotsAloneAreNotFound).
bool LooksTagged(std::string_view path) {
  std::size_t i = path.size();
  while (i > 0 && path[i - 1] != '/') --i;
  while (i < path.size() && path[i] == '.') ++i;
  while (i < path.size() && path[i] != '.') ++i;
  if (path.size() - i < kTagLength + 1) return false;
  for (std::size_t k = i + 1; k <= i + kTagLength; ++k) {
    if (!IsBase64Url(path[k])) return false;
  }
  const std::size_t after = i + 1 + kTagLength;
  return after == path.size() || path[after] == '.';
}

}  // namespace

void Response::AddHeader(std::string_view name, std::string_view value) {
  if (field_count_ < kMaxHeaders) {
    std::construct_at(&fields_.items[field_count_++], HeaderField{name, value});
  }
}

void Response::AddBodyPiece(std::string_view bytes) {
  if (piece_count_ < kMaxBodyPieces) {
    std::construct_at(&pieces_.items[piece_count_++], bytes);
  }
}

std::optional<std::string_view> Response::StoreText(std::initializer_list<std::string_view> parts) {
  std::size_t total = 0;
  for (std::string_view part : parts) total += part.size();
  if (total > kTextCapacity - text_size_) return std::nullopt;
  char* const begin = text_.items + text_size_;
  char* out = begin;
  for (std::string_view part : parts) out = std::copy(part.begin(), part.end(), out);
  text_size_ += total;
  return std::string_view(begin, total);
}

void Response::AddBodyFromStore(std::string_view key, ByteRange range) {
  if (piece_count_ < kMaxBodyPieces && slot_count_ < internal::kMaxRanges) {
    body_key_ = key;
    std::construct_at(&slot_ranges_.items[slot_count_], range);
    slot_pieces_.items[slot_count_++] = static_cast<std::uint8_t>(piece_count_);
    std::construct_at(&pieces_.items[piece_count_++]);
  }
}

bool Response::FillBody(std::string_view value) {
  if (body_key_.empty()) return true;
  const std::uint64_t length =
      variant != nullptr ? variant->size : (asset != nullptr ? asset->size : 0);
  if (value.size() != length) return false;
  for (std::size_t i = 0; i < slot_count_; ++i) {
    const ByteRange& r = slot_ranges_.items[i];
    pieces_.items[slot_pieces_.items[i]] = value.substr(
        static_cast<std::size_t>(r.first), static_cast<std::size_t>(r.last - r.first + 1));
  }
  body_key_ = {};
  return true;
}

std::string Response::BodyString() const {
  std::string out;
  for (std::string_view piece : body()) out += piece;
  return out;
}

std::string_view Response::header(std::string_view name) const {
  for (const HeaderField& f : headers()) {
    if (f.name == name) return f.value;
  }
  return {};
}

std::string_view Response::Rebase(std::string_view view, const Response& from) const {
  const char* const base = from.text_.items;
  if (view.data() < base || view.data() >= base + from.text_size_) return view;
  return std::string_view(text_.items + (view.data() - base), view.size());
}

void Response::CopyFrom(const Response& other) {
  status = other.status;
  reason = other.reason;
  content_length = other.content_length;
  has_content_length = other.has_content_length;
  asset = other.asset;
  variant = other.variant;
  text_size_ = other.text_size_;
  std::copy_n(other.text_.items, text_size_, text_.items);
  field_count_ = other.field_count_;
  for (std::size_t i = 0; i < field_count_; ++i) {
    const HeaderField& f = other.fields_.items[i];
    std::construct_at(&fields_.items[i], HeaderField{f.name, Rebase(f.value, other)});
  }
  piece_count_ = other.piece_count_;
  for (std::size_t i = 0; i < piece_count_; ++i) {
    std::construct_at(&pieces_.items[i], Rebase(other.pieces_.items[i], other));
  }
  body_key_ = other.body_key_;
  slot_count_ = other.slot_count_;
  std::copy_n(other.slot_ranges_.items, slot_count_, slot_ranges_.items);
  std::copy_n(other.slot_pieces_.items, slot_count_, slot_pieces_.items);
}

bool Server::HandlesTarget(std::string_view target) const {
  const std::optional<std::string_view> path = TargetPath(target, /*check_bytes=*/false);
  if (!path.has_value()) return false;
  // The prefix as Handle() sees it, after percent-decoding: a prefix with a space or non-ASCII
  // bytes reaches the server encoded ("/my%20static/"), as Asset::url() writes it.
  const std::string_view prefix = manifest_->prefix;
  std::size_t i = 0;
  for (const char wanted : prefix) {
    if (i == path->size()) return false;
    char c = (*path)[i++];
    if (c == '%') {
      if (i + 1 >= path->size()) return false;
      const int hi = HexValue((*path)[i]);
      const int lo = HexValue((*path)[i + 1]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c != wanted) return false;
  }
  return true;
}

namespace {

using internal::AcceptEncoding;
using internal::Comparison;
using internal::RangeSet;
using internal::RangeStatus;

AcceptEncoding::Entry EntryOf(Coding coding) {
  switch (coding) {
    case Coding::kGzip:
      return AcceptEncoding::kGzip;
    case Coding::kBrotli:
      return AcceptEncoding::kBr;
    case Coding::kZstd:
      return AcceptEncoding::kZstd;
  }
  return AcceptEncoding::kIdentity;
}

// The representation to send: false when none is acceptable; else `chosen` is the variant,
// or nullptr for identity. Highest weight wins; among equal weights the smallest, which is
// the first variant (they are sorted by size, and identity is larger than any kept variant).
// With `prefer_identity` (a byte-range request), identity whenever it is acceptable at all.
bool Negotiate(const std::optional<std::string_view>& field, std::span<const Variant> variants,
               bool prefer_identity, const Variant*& chosen) {
  chosen = nullptr;
  // No field: identity (see server.h). Without variants there is nothing to choose either,
  // unless the client excluded identity.
  if (!field.has_value()) return true;
  const AcceptEncoding accept = internal::ParseAcceptEncoding(*field);
  int best = accept.Weight(AcceptEncoding::kIdentity);
  if (prefer_identity && best > 0) return true;
  for (const Variant& v : variants) {
    const int weight = accept.Weight(EntryOf(v.coding));
    if (weight > best || (weight == best && weight > 0 && chosen == nullptr)) {
      best = weight;
      chosen = &v;
    }
  }
  return best > 0;
}

// If-Range (§13.1.5): true when the validator names the representation exactly: a strong
// entity-tag equal to `etag`, or a date equal to Last-Modified.
bool IfRangeHolds(std::string_view field, std::string_view etag, const Asset& asset) {
  if (internal::IsStrongEntityTagMatch(field, etag)) return true;
  const std::optional<std::int64_t> date = ParseHttpDate(field);
  return date.has_value() && *date == asset.last_modified_unix;
}

// Decimal digits of `value` in `buffer`, which must hold 20.
std::string_view FormatNumber(std::uint64_t value, char (&buffer)[20]) {
  char* end = buffer + sizeof(buffer);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  return std::string_view(p, static_cast<std::size_t>(end - p));
}

// "bytes <first>-<last>/<length>" in `res`'s storage.
std::optional<std::string_view> ContentRange(Response& res, std::string_view prefix,
                                             const ByteRange& r, std::uint64_t length) {
  char a[20], b[20], c[20];
  return Build::StoreText(res, {prefix, "bytes ", FormatNumber(r.first, a), "-",
                                FormatNumber(r.last, b), "/", FormatNumber(length, c)});
}

// The bytes of the representation sent: a view into the blob, or for a manifest-only build
// the key FillBody() will fetch them under. Neither for HEAD.
struct Bytes {
  std::string_view embedded;
  std::string_view store_key;

  void AddRange(Response& res, const ByteRange& r) const {
    if (!embedded.empty()) {
      Build::AddBodyPiece(res, embedded.substr(static_cast<std::size_t>(r.first),
                                               static_cast<std::size_t>(r.last - r.first + 1)));
    } else if (!store_key.empty()) {
      Build::AddBodyFromStore(res, store_key, r);
    }
  }
};

// Sets the body and Content-Length of a 206 for `ranges` of `bytes` (length `length`), with
// the fields that differ from a 200. False, leaving the body unset, when the part headers do
// not fit in the Response; the caller then sends the whole body.
bool SetPartialBody(Response& res, const RangeSet& ranges, const Bytes& bytes, std::uint64_t length,
                    std::string_view content_type, std::string_view etag) {
  if (ranges.count == 1) {
    const std::optional<std::string_view> value = ContentRange(res, "", ranges.ranges[0], length);
    if (!value.has_value()) return false;
    Build::AddHeader(res, "Content-Type", content_type);
    Build::AddHeader(res, "Content-Range", *value);
    res.content_length = ranges.ranges[0].last - ranges.ranges[0].first + 1;
    bytes.AddRange(res, ranges.ranges[0]);
    return true;
  }
  // The boundary is the representation's hash: no body contains its own hash.
  const std::string_view boundary = etag.substr(1, etag.size() - 2);
  const std::optional<std::string_view> type =
      Build::StoreText(res, {"multipart/byteranges; boundary=", boundary});
  if (!type.has_value()) return false;
  std::string_view heads[internal::kMaxRanges];
  for (std::size_t i = 0; i < ranges.count; ++i) {
    const std::string_view lead = i == 0 ? "--" : "\r\n--";
    const std::optional<std::string_view> range_value =
        ContentRange(res, "\r\nContent-Range: ", ranges.ranges[i], length);
    const std::optional<std::string_view> head =
        range_value.has_value()
            ? Build::StoreText(res, {lead, boundary, "\r\nContent-Type: ", content_type,
                                     *range_value, "\r\n\r\n"})
            : std::nullopt;
    if (!head.has_value()) return false;
    heads[i] = *head;
  }
  const std::optional<std::string_view> tail =
      Build::StoreText(res, {"\r\n--", boundary, "--\r\n"});
  if (!tail.has_value()) return false;
  Build::AddHeader(res, "Content-Type", *type);
  res.content_length = tail->size();
  for (std::size_t i = 0; i < ranges.count; ++i) {
    res.content_length += heads[i].size() + (ranges.ranges[i].last - ranges.ranges[i].first + 1);
    Build::AddBodyPiece(res, heads[i]);
    bytes.AddRange(res, ranges.ranges[i]);
  }
  Build::AddBodyPiece(res, *tail);
  return true;
}

// The fixed texts of error answers, by status.
struct ErrorText {
  int status;
  std::string_view reason;
  std::string_view body;
};
constexpr ErrorText kErrorTexts[] = {
    {400, "Bad Request", "400 Bad Request\n"},
    {404, "Not Found", "404 Not Found\n"},
    {405, "Method Not Allowed", "405 Method Not Allowed\n"},
    {406, "Not Acceptable", "406 Not Acceptable\n"},
    {412, "Precondition Failed", "412 Precondition Failed\n"},
    {413, "Content Too Large", "413 Content Too Large\n"},
    {414, "URI Too Long", "414 URI Too Long\n"},
    {416, "Range Not Satisfiable", "416 Range Not Satisfiable\n"},
    {431, "Request Header Fields Too Large", "431 Request Header Fields Too Large\n"},
    {500, "Internal Server Error", "500 Internal Server Error\n"},
    {503, "Service Unavailable", "503 Service Unavailable\n"},
};

// Makes `res` an error answer, keeping the fields already added (Vary, Content-Range).
void SetError(Response& res, int status, bool head, std::string_view cache_control) {
  const ErrorText* text = nullptr;
  for (const ErrorText& t : kErrorTexts) {
    if (t.status == status || (text == nullptr && t.status == 500)) text = &t;
  }
  res.status = text->status;
  res.reason = text->reason;
  if (text->status == 405) Build::AddHeader(res, "Allow", "GET, HEAD");
  Build::AddHeader(res, "Content-Type", kTextPlain);
  Build::AddHeader(res, "Cache-Control", cache_control);
  res.content_length = text->body.size();
  res.has_content_length = true;
  if (!head) Build::AddBodyPiece(res, text->body);
}

// Step 1: method, target, prefix and name -> the asset, or the error status to answer.
int ResolveAsset(const Manifest& manifest, const Request& request, bool head, const Asset*& asset,
                 bool& tagged) {
  if (!head && request.method != "GET") return 405;
  const std::optional<std::string_view> raw_path = TargetPath(request.target, true);
  if (!raw_path.has_value()) return 400;
  char buffer[kMaxPath];
  std::string_view path;
  switch (DecodePath(*raw_path, buffer, path)) {
    case PathError::kNone:
      break;
    case PathError::kBadRequest:
      return 400;
    case PathError::kNotFound:
      return 404;
  }
  if (!path.starts_with(manifest.prefix)) return 404;
  path.remove_prefix(manifest.prefix.size());

  // Directories ("", "css/") are never assets: no listings, no index.html. The generator
  // refuses a tagged name equal to another file's name, so at most one lookup can succeed, and
  // a name of the tagged shape is most likely tagged: try that first and save a search.
  asset = nullptr;
  tagged = false;
  if (LooksTagged(path)) {
    asset = manifest.FindTagged(path);
    tagged = asset != nullptr;
  }
  if (asset == nullptr) asset = manifest.Find(path);
  return asset == nullptr ? 404 : 0;
}

// Steps 1 and 2 of §13.2.2: false when If-Match or If-Unmodified-Since fails (412).
bool WriteConditionsHold(const Request& request, std::string_view etag, const Asset& asset) {
  if (request.if_match.has_value()) {
    return internal::EntityTagListMatches(*request.if_match, etag, Comparison::kStrong);
  }
  if (request.if_unmodified_since.has_value()) {
    const std::optional<std::int64_t> since = ParseHttpDate(*request.if_unmodified_since);
    return !since.has_value() || asset.last_modified_unix <= *since;
  }
  return true;
}

// Steps 3 and 4: If-None-Match decides alone when present; only without it does
// If-Modified-Since count, and only when it is one valid date.
bool NotModified(const Request& request, std::string_view etag, const Asset& asset) {
  if (request.if_none_match.has_value()) {
    return internal::EntityTagListMatches(*request.if_none_match, etag, Comparison::kWeak);
  }
  if (request.if_modified_since.has_value()) {
    const std::optional<std::int64_t> since = ParseHttpDate(*request.if_modified_since);
    return since.has_value() && asset.last_modified_unix <= *since;
  }
  return false;
}

// Whether a GET's Range field uses the bytes unit, so that its answer comes from the identity
// bytes (server.h says why). Unit names are case-insensitive (RFC 9110 §14.1).
bool AsksForByteRanges(const Request& request, bool head) {
  return !head && request.range.has_value() && StartsWithIgnoreCase(*request.range, "bytes=");
}

// The representation an answer is about, once negotiated.
struct Chosen {
  const Variant* variant;  // nullptr: identity
  std::string_view etag;
  std::uint64_t length;
  std::string_view cache_control;
};

// Steps 5 and 6: Range (GET only, §14.2, while If-Range names this representation), then
// the 200, 206 or 416 with its body.
void AnswerWithBody(const Manifest& manifest, const ServerOptions& options, const Request& request,
                    bool head, const Chosen& chosen, Response& res) {
  const Asset& asset = *res.asset;
  RangeSet ranges;
  RangeStatus range_status = RangeStatus::kIgnore;
  if (!head && request.range.has_value() &&
      (!request.if_range.has_value() || IfRangeHolds(*request.if_range, chosen.etag, asset))) {
    range_status = internal::ParseRange(*request.range, chosen.length, ranges);
  }
  if (range_status == RangeStatus::kUnsatisfiable) {
    char digits[20];
    const std::optional<std::string_view> value =
        Build::StoreText(res, {"bytes */", FormatNumber(chosen.length, digits)});
    if (value.has_value()) Build::AddHeader(res, "Content-Range", *value);
    return SetError(res, 416, head, options.error_cache_control);
  }

  Bytes bytes;
  if (!head && chosen.length > 0) {
    const Variant* v = chosen.variant;
    if (manifest.blob != nullptr) {
      bytes.embedded = v != nullptr ? manifest.Body(*v) : manifest.Body(asset);
    } else {
      bytes.store_key = v != nullptr ? v->store_key() : asset.store_key();
    }
  }
  if (chosen.variant != nullptr) {
    Build::AddHeader(res, "Content-Encoding", chosen.variant->content_encoding());
  }
  Build::AddHeader(res, "ETag", chosen.etag);
  Build::AddHeader(res, "Last-Modified", asset.last_modified());
  Build::AddHeader(res, "Cache-Control", chosen.cache_control);
  Build::AddHeader(res, "Accept-Ranges", "bytes");
  Build::AddHeader(res, "X-Content-Type-Options", "nosniff");
  res.has_content_length = true;
  if (range_status == RangeStatus::kSatisfiable &&
      SetPartialBody(res, ranges, bytes, chosen.length, asset.content_type(), chosen.etag)) {
    res.status = 206;
    res.reason = "Partial Content";
    return;
  }
  res.status = 200;
  res.reason = "OK";
  Build::AddHeader(res, "Content-Type", asset.content_type());
  res.content_length = chosen.length;
  if (chosen.length > 0) bytes.AddRange(res, ByteRange{0, chosen.length - 1});
}

// Handle()'s work, writing into `res` so that every path returns the one object the caller
// made: returning different Response objects from different branches cost a 400-byte copy a
// request.
void Answer(const Manifest& manifest, const ServerOptions& options, const Request& request,
            Response& res) {
  const bool head = request.method == "HEAD";
  bool tagged = false;
  if (const int error = ResolveAsset(manifest, request, head, res.asset, tagged); error != 0) {
    res.asset = nullptr;
    return SetError(res, error, head, options.error_cache_control);
  }
  const Asset& asset = *res.asset;

  // Every answer about a resource with variants depends on Accept-Encoding (§12.5.5), 304s
  // and errors included, so that no cache hands one client's choice to another.
  const std::span<const Variant> variants = manifest.VariantsOf(asset);
  if (!variants.empty()) Build::AddHeader(res, "Vary", "Accept-Encoding");
  const Variant* variant = nullptr;
  if (!Negotiate(request.accept_encoding, variants, AsksForByteRanges(request, head), variant)) {
    return SetError(res, 406, head, options.error_cache_control);
  }
  res.variant = variant;
  const Chosen chosen{variant, variant != nullptr ? variant->etag() : asset.etag(),
                      variant != nullptr ? variant->size : asset.size,
                      tagged ? options.tagged_cache_control : options.untagged_cache_control};

  if (!WriteConditionsHold(request, chosen.etag, asset)) {
    return SetError(res, 412, head, options.error_cache_control);
  }
  if (NotModified(request, chosen.etag, asset)) {
    res.status = 304;
    res.reason = "Not Modified";
    Build::AddHeader(res, "ETag", chosen.etag);
    Build::AddHeader(res, "Cache-Control", chosen.cache_control);
    Build::AddHeader(res, "Last-Modified", asset.last_modified());
    return;
  }
  AnswerWithBody(manifest, options, request, head, chosen, res);
}

}  // namespace

namespace internal {
std::optional<std::string> DecodedTargetPath(std::string_view target) {
  const std::optional<std::string_view> raw_path = TargetPath(target, true);
  if (!raw_path.has_value()) return std::nullopt;
  char buffer[kMaxPath];
  std::string_view path;
  if (DecodePath(*raw_path, buffer, path) != PathError::kNone) return std::nullopt;
  return std::string(path);
}
}  // namespace internal

Response ErrorResponse(int status, std::string_view method) {
  Response res;
  SetError(res, status, method == "HEAD", "no-store");
  return res;
}

Response Server::Handle(const Request& request) const {
  Response res;
  Answer(*manifest_, options_, request, res);
  return res;
}

}  // namespace kv_assets
