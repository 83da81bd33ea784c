// kv_assets/internal/http_fields.h — parsers for the request fields the server reads.
//
// Not part of the API: Server::Handle() is. These are separate so that tests and fuzzers can
// reach each parser alone. Every parser takes the raw field value, allocates nothing, never
// throws, and reads malformed input as the RFC says to (mostly: ignore it).
//
// Example:
//   using namespace kv_assets::internal;
//   AcceptEncoding ae = ParseAcceptEncoding("gzip;q=0.5, br");
//   // ae.Weight(AcceptEncoding::kGzip) == 500, ae.Weight(AcceptEncoding::kBr) == 1000
//   RangeSet set;
//   ParseRange("bytes=0-9,-5", 100, set);  // RangeStatus::kSatisfiable, {0-9}, {95-99}

#ifndef KV_ASSETS_INTERNAL_HTTP_FIELDS_H_
#define KV_ASSETS_INTERNAL_HTTP_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kv_assets {

// One byte range of a representation, both ends inclusive (RFC 9110 §14.1.2 "first-pos" and
// "last-pos"): what Response::body_ranges() names for a manifest-only build. No default
// member initializers, here and in RangeSet: zeroing the unused slots on every request was a
// tenth of a request's time.
struct ByteRange {
  std::uint64_t first;  // inclusive
  std::uint64_t last;   // inclusive
};

}  // namespace kv_assets

namespace kv_assets::internal {

// Accept-Encoding (RFC 9110 §12.5.3), reduced to the codings the server can send.
struct AcceptEncoding {
  enum Entry { kIdentity, kGzip, kBr, kZstd, kStar, kEntries };
  // Weight of each entry in thousandths (q=0.5 is 500), or -1 when the field does not list it.
  int listed[kEntries] = {-1, -1, -1, -1, -1};

  // The weight a coding gets: its own when listed, else that of "*", else 0. Identity, when
  // not listed, is acceptable unless "*;q=0" excludes it (§12.5.3), but only as the last
  // choice (weight 1): "br;q=0.5, gzip;q=0.4" asks for br, not for an uncompressed body.
  int Weight(Entry coding) const {
    if (listed[coding] >= 0) return listed[coding];
    if (coding == kIdentity) return listed[kStar] == 0 ? 0 : 1;
    return listed[kStar] >= 0 ? listed[kStar] : 0;
  }
};

// Parses an Accept-Encoding value. Codings are case-insensitive; "x-gzip" is gzip (§12.5.3);
// a member whose weight is malformed is skipped; the first listing of a coding counts.
AcceptEncoding ParseAcceptEncoding(std::string_view field);

enum class Comparison { kWeak, kStrong };

// True when the If-None-Match / If-Match list in `field` is "*" or names `etag` under
// `comparison` (RFC 9110 §8.8.3.2). `etag` is the server's own tag, quotes included, and is
// strong. The parse stops at the first malformed member, keeping what matched before it.
bool EntityTagListMatches(std::string_view field, std::string_view etag, Comparison comparison);

// True when `field` is exactly one well-formed entity-tag (an If-Range value in entity-tag
// form) and it equals `etag` under strong comparison (§13.1.5).
bool IsStrongEntityTagMatch(std::string_view field, std::string_view etag);

// At most this many ranges in one request are served; more are answered with the whole body
// (RFC 9110 §14.2 allows ignoring Range, and §17.15 warns about many small ranges). It also
// bounds the multipart text a Response carries.
inline constexpr std::size_t kMaxRanges = 8;

using ::kv_assets::ByteRange;

struct RangeSet {
  ByteRange ranges[kMaxRanges];  // [0, count) are set
  std::size_t count = 0;
};

enum class RangeStatus {
  kIgnore,         // not a byte range we serve: send 200 with the whole body
  kUnsatisfiable,  // valid, but no range lies within the representation: 416
  kSatisfiable,    // `out` holds the ranges to send, in request order or merged
};

// Parses `field` (a Range value) against a representation of `length` bytes (§14.1–14.2).
// Unknown units, syntax errors, a range whose last position is before its first, more than
// kMaxRanges ranges and a zero-length representation all give kIgnore. Positions too large
// for 64 bits saturate, which gives the right answer (a first position past the end, a last
// position clamped, a suffix longer than the representation). Ranges past the end are
// dropped; when the ones left overlap or touch, they are sorted and merged (§14.2 allows
// coalescing), otherwise they keep the request's order.
RangeStatus ParseRange(std::string_view field, std::uint64_t length, RangeSet& out);

}  // namespace kv_assets::internal

#endif  // KV_ASSETS_INTERNAL_HTTP_FIELDS_H_
