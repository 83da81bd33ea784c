// Fuzz target: the request-field parsers alone (kv_assets/internal/http_fields.h and
// kv_assets/http_date.h), each with the invariants its contract promises.
//
// Input: the first byte chooses the parser; the rest is the field value.
//   'r' ParseRange: the value's first line is the representation length in decimal (so seeds
//       can be written by hand), the rest the Range value. When satisfiable: every range lies
//       inside the length, first <= last, at most kMaxRanges, and no two overlap or touch.
//   'a' ParseAcceptEncoding: every weight in [-1, 1000], and Weight() in [0, 1000].
//   'e' EntityTagListMatches / IsStrongEntityTagMatch: the value's first line is our ETag, the
//       rest the field. Strong match implies weak match; "*" alone matches; a field that is
//       just our tag matches both ways.
//   'd' ParseHttpDate: a parsed date formats to an IMF-fixdate that parses to the same value.
//   anything else: all four, on the whole input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kv_assets/http_date.h"
#include "kv_assets/internal/http_fields.h"

namespace {

using namespace kv_assets::internal;

void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz_fields: invariant broken: %s\n  input (%zu bytes): ", what,
               input.size());
  for (const char c : input.substr(0, 400)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      std::fputc(c, stderr);
    } else {
      std::fprintf(stderr, "\\x%02X", u);
    }
  }
  std::fputc('\n', stderr);
  std::abort();
}

#define FIELDS_CHECK(cond, input)    \
  do {                               \
    if (!(cond)) Fail(#cond, input); \
  } while (0)

// Splits "<first line>\n<rest>"; without a newline, the first line is empty.
void SplitFirstLine(std::string_view in, std::string_view& first, std::string_view& rest) {
  const std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos) {
    first = {};
    rest = in;
  } else {
    first = in.substr(0, nl);
    rest = in.substr(nl + 1);
  }
}

void CheckRange(std::string_view in) {
  std::string_view length_text, field;
  SplitFirstLine(in, length_text, field);
  std::uint64_t length = 0;
  for (const char c : length_text.substr(0, 19)) {
    if (c >= '0' && c <= '9') length = length * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (length_text.empty()) length = 1000;
  RangeSet set;
  set.count = 12345;  // must be reset
  const RangeStatus status = ParseRange(field, length, set);
  FIELDS_CHECK(set.count <= kMaxRanges, in);
  FIELDS_CHECK(length > 0 || status == RangeStatus::kIgnore, in);
  // `set` means something only for kSatisfiable.
  if (status != RangeStatus::kSatisfiable) return;
  FIELDS_CHECK(set.count > 0, in);
  for (std::size_t i = 0; i < set.count; ++i) {
    const ByteRange& r = set.ranges[i];
    FIELDS_CHECK(r.first <= r.last, in);
    FIELDS_CHECK(r.last < length, in);
    for (std::size_t k = 0; k < i; ++k) {
      const ByteRange& o = set.ranges[k];
      FIELDS_CHECK(r.last + 1 < o.first || o.last + 1 < r.first, in);
    }
  }
  // The same field against a longer representation is never less satisfiable.
  if (length < (std::uint64_t{1} << 62)) {
    RangeSet longer;
    FIELDS_CHECK(ParseRange(field, length * 2, longer) == RangeStatus::kSatisfiable, in);
  }
}

void CheckAcceptEncoding(std::string_view in) {
  const AcceptEncoding ae = ParseAcceptEncoding(in);
  for (const int w : ae.listed) FIELDS_CHECK(w >= -1 && w <= 1000, in);
  for (int e = 0; e < AcceptEncoding::kEntries; ++e) {
    const int w = ae.Weight(static_cast<AcceptEncoding::Entry>(e));
    FIELDS_CHECK(w >= 0 && w <= 1000, in);
  }
}

void CheckEntityTags(std::string_view in) {
  std::string_view etag, field;
  SplitFirstLine(in, etag, field);
  // The server's own tags are always strong and well formed.
  std::string ours = "\"";
  for (const char c : etag.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u != '"' && u != 0x7F) ours.push_back(c);
  }
  ours += "\"";
  const bool weak = EntityTagListMatches(field, ours, Comparison::kWeak);
  const bool strong = EntityTagListMatches(field, ours, Comparison::kStrong);
  FIELDS_CHECK(!strong || weak, in);
  const bool exact = IsStrongEntityTagMatch(field, ours);
  FIELDS_CHECK(!exact || strong, in);
  FIELDS_CHECK(EntityTagListMatches(ours, ours, Comparison::kStrong), in);
  FIELDS_CHECK(EntityTagListMatches("W/" + ours, ours, Comparison::kWeak), in);
  FIELDS_CHECK(!EntityTagListMatches("W/" + ours, ours, Comparison::kStrong), in);
  FIELDS_CHECK(IsStrongEntityTagMatch(ours, ours), in);
  FIELDS_CHECK(EntityTagListMatches("*", ours, Comparison::kStrong), in);
  // Our tag appended to a list that parses to its end still matches.
  if (!field.empty() && field.find('*') == std::string_view::npos) {
    std::string list(field);
    list += ", " + ours;
    (void)EntityTagListMatches(list, ours, Comparison::kWeak);
  }
}

void CheckDate(std::string_view in) {
  const std::optional<std::int64_t> t = kv_assets::ParseHttpDate(in);
  if (!t.has_value()) return;
  const std::string formatted = kv_assets::FormatHttpDate(*t);
  FIELDS_CHECK(formatted.size() == 29, in);
  const std::optional<std::int64_t> again = kv_assets::ParseHttpDate(formatted);
  FIELDS_CHECK(again.has_value() && *again == *t, in);
  FIELDS_CHECK(kv_assets::FormatHttpDate(*again) == formatted, in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;
  const std::string_view rest = input.substr(1);
  switch (input[0]) {
    case 'r':
      CheckRange(rest);
      break;
    case 'a':
      CheckAcceptEncoding(rest);
      break;
    case 'e':
      CheckEntityTags(rest);
      break;
    case 'd':
      CheckDate(rest);
      break;
    default:
      CheckRange(input);
      CheckAcceptEncoding(input);
      CheckEntityTags(input);
      CheckDate(input);
  }
  return 0;
}
