#include "kv_assets/internal/http_fields.h"

#include <algorithm>
#include <limits>

namespace kv_assets::internal {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != lower[i]) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2), in
// thousandths; -1 when malformed.
int ParseQValue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return -1;
  int value = (s[0] - '0') * 1000;
  if (s.size() == 1) return value;
  if (s[1] != '.' || s.size() > 5) return -1;
  int scale = 100;
  for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
    if (!IsDigit(s[i])) return -1;
    value += (s[i] - '0') * scale;
  }
  return value > 1000 ? -1 : value;
}

// The weight of one Accept-Encoding member's parameters ("; q=0.5"): 1000 without a q,
// -1 when malformed. Parameters other than q are not defined for this field; skip them.
int MemberWeight(std::string_view params) {
  int weight = 1000;
  while (!params.empty()) {
    params = TrimOws(params);
    if (params.empty()) break;
    if (params[0] != ';') return -1;
    params.remove_prefix(1);
    const std::size_t next = params.find(';');
    const std::string_view param = TrimOws(params.substr(0, next));
    params = next == std::string_view::npos ? std::string_view() : params.substr(next);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) return -1;
    if (EqualsIgnoreCase(TrimOws(param.substr(0, eq)), "q")) {
      weight = ParseQValue(TrimOws(param.substr(eq + 1)));
      if (weight < 0) return -1;
    }
  }
  return weight;
}

int EntryOf(std::string_view coding) {
  // By length first: this runs for every member of every request's field.
  switch (coding.size()) {
    case 1:
      return coding[0] == '*' ? AcceptEncoding::kStar : -1;
    case 2:
      return EqualsIgnoreCase(coding, "br") ? AcceptEncoding::kBr : -1;
    case 4:
      if (EqualsIgnoreCase(coding, "gzip")) return AcceptEncoding::kGzip;
      return EqualsIgnoreCase(coding, "zstd") ? AcceptEncoding::kZstd : -1;
    case 6:
      return EqualsIgnoreCase(coding, "x-gzip") ? AcceptEncoding::kGzip : -1;
    case 8:
      return EqualsIgnoreCase(coding, "identity") ? AcceptEncoding::kIdentity : -1;
    default:
      return -1;
  }
}

// One entity-tag at the start of `s` ([W/] DQUOTE *etagc DQUOTE); its length, or 0 when `s`
// does not start with one. Sets `weak`.
std::size_t EntityTagLength(std::string_view s, bool& weak) {
  weak = s.starts_with("W/");
  const std::size_t open = weak ? 2 : 0;
  if (s.size() <= open || s[open] != '"') return 0;
  for (std::size_t i = open + 1; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c < 0x21 || c == 0x7F) return 0;  // etagc excludes controls, space and DEL
  }
  return 0;
}

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// Digits at the start of `s`, saturating at 2^64-1; advances `s`. False when there are none.
bool ParseSaturating(std::string_view& s, std::uint64_t& value) {
  std::size_t i = 0;
  value = 0;
  while (i < s.size() && IsDigit(s[i])) {
    const std::uint64_t digit = static_cast<std::uint64_t>(s[i] - '0');
    value = value > (kMaxU64 - digit) / 10 ? kMaxU64 : value * 10 + digit;
    ++i;
  }
  s.remove_prefix(i);
  return i > 0;
}

// One range-spec resolved against `length` > 0. False on a syntax error; `satisfiable` tells
// whether the range lies (partly) within the representation.
bool ParseRangeSpec(std::string_view spec, std::uint64_t length, ByteRange& out,
                    bool& satisfiable) {
  satisfiable = false;
  if (spec.starts_with('-')) {
    spec.remove_prefix(1);
    std::uint64_t suffix = 0;
    if (!ParseSaturating(spec, suffix) || !spec.empty()) return false;
    if (suffix == 0) return true;
    out = {suffix >= length ? 0 : length - suffix, length - 1};
    satisfiable = true;
    return true;
  }
  std::uint64_t first = 0;
  if (!ParseSaturating(spec, first) || !spec.starts_with('-')) return false;
  spec.remove_prefix(1);
  std::uint64_t last = kMaxU64;
  if (!spec.empty() && (!ParseSaturating(spec, last) || !spec.empty())) return false;
  if (last < first) return false;
  if (first >= length) return true;
  out = {first, std::min(last, length - 1)};
  satisfiable = true;
  return true;
}

// Sorts and merges the ranges in place when any two overlap or touch; otherwise leaves them
// in request order.
void CoalesceIfOverlapping(RangeSet& set) {
  ByteRange* begin = set.ranges;
  ByteRange* end = set.ranges + set.count;
  bool overlap = false;
  for (ByteRange* a = begin; a != end && !overlap; ++a) {
    for (ByteRange* b = a + 1; b != end; ++b) {
      // Touching (a.last + 1 == b.first) counts: two parts would only add overhead. No
      // overflow: a resolved `last` is below the length.
      if (a->first <= b->last + 1 && b->first <= a->last + 1) {
        overlap = true;
        break;
      }
    }
  }
  if (!overlap) return;
  std::sort(begin, end, [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  std::size_t n = 0;
  for (ByteRange* r = begin; r != end; ++r) {
    if (n > 0 && r->first <= set.ranges[n - 1].last + 1) {
      set.ranges[n - 1].last = std::max(set.ranges[n - 1].last, r->last);
    } else {
      set.ranges[n++] = *r;
    }
  }
  set.count = n;
}

}  // namespace

AcceptEncoding ParseAcceptEncoding(std::string_view field) {
  AcceptEncoding out;
  // What current browsers send (Chrome and Firefox, then Safari), known without parsing.
  if (field == "gzip, deflate, br, zstd") {
    out.listed[AcceptEncoding::kGzip] = out.listed[AcceptEncoding::kBr] =
        out.listed[AcceptEncoding::kZstd] = 1000;
    return out;
  }
  if (field == "gzip, deflate, br") {
    out.listed[AcceptEncoding::kGzip] = out.listed[AcceptEncoding::kBr] = 1000;
    return out;
  }
  // Plain loops: string_view::find calls memchr, which cost a fifth of a request.
  std::size_t i = 0;
  const std::size_t n = field.size();
  while (i < n) {
    while (i < n && (IsOws(field[i]) || field[i] == ',')) ++i;
    const std::size_t name_start = i;
    while (i < n && field[i] != ',' && field[i] != ';' && !IsOws(field[i])) ++i;
    const int entry = EntryOf(field.substr(name_start, i - name_start));
    const std::size_t params_start = i;
    while (i < n && field[i] != ',') ++i;
    if (entry < 0 || out.listed[entry] >= 0) continue;
    const int weight = MemberWeight(field.substr(params_start, i - params_start));
    if (weight >= 0) out.listed[entry] = weight;
  }
  return out;
}

bool EntityTagListMatches(std::string_view field, std::string_view etag, Comparison comparison) {
  std::size_t i = 0;
  while (i < field.size()) {
    while (i < field.size() && (IsOws(field[i]) || field[i] == ',')) ++i;
    if (i == field.size()) break;
    if (field[i] == '*') return true;
    bool weak = false;
    const std::size_t n = EntityTagLength(field.substr(i), weak);
    if (n == 0) return false;
    const std::string_view opaque = field.substr(i + (weak ? 2 : 0), n - (weak ? 2 : 0));
    if (opaque == etag && (comparison == Comparison::kWeak || !weak)) return true;
    i += n;
  }
  return false;
}

bool IsStrongEntityTagMatch(std::string_view field, std::string_view etag) {
  field = TrimOws(field);
  bool weak = false;
  return !field.empty() && EntityTagLength(field, weak) == field.size() && !weak && field == etag;
}

RangeStatus ParseRange(std::string_view field, std::uint64_t length, RangeSet& out) {
  out.count = 0;
  const std::size_t eq = field.find('=');
  if (eq == std::string_view::npos || !EqualsIgnoreCase(field.substr(0, eq), "bytes")) {
    return RangeStatus::kIgnore;
  }
  if (length == 0) return RangeStatus::kIgnore;
  std::string_view specs = field.substr(eq + 1);
  std::size_t seen = 0;
  while (true) {
    const std::size_t comma = specs.find(',');
    const std::string_view spec = TrimOws(specs.substr(0, comma));
    // The list syntax allows empty members ("0-1, ,2-3"); a list of only those is invalid.
    if (!spec.empty()) {
      if (++seen > kMaxRanges) return RangeStatus::kIgnore;
      ByteRange range;
      bool satisfiable = false;
      if (!ParseRangeSpec(spec, length, range, satisfiable)) return RangeStatus::kIgnore;
      if (satisfiable) out.ranges[out.count++] = range;
    }
    if (comma == std::string_view::npos) break;
    specs.remove_prefix(comma + 1);
  }
  if (seen == 0) return RangeStatus::kIgnore;
  if (out.count == 0) return RangeStatus::kUnsatisfiable;
  CoalesceIfOverlapping(out);
  return RangeStatus::kSatisfiable;
}

}  // namespace kv_assets::internal
