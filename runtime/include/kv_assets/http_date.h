// kv_assets/http_date.h — HTTP-date (RFC 9110 §5.6.7) to and from Unix seconds.
//
// The server compares If-Modified-Since against Last-Modified as numbers, so it parses all
// three forms a recipient must accept; the generator writes only the preferred IMF-fixdate.
//
// Example:
//   std::optional<std::int64_t> t = kv_assets::ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT");
//   // *t == 784111777
//   kv_assets::FormatHttpDate(784111777);  // "Sun, 06 Nov 1994 08:49:37 GMT"

#ifndef KV_ASSETS_HTTP_DATE_H_
#define KV_ASSETS_HTTP_DATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kv_assets {

// Parses IMF-fixdate, the obsolete RFC 850 form and asctime(). Returns nullopt for anything
// else (including a valid date followed by other text, or a field list with two dates).
// Allocates nothing.
std::optional<std::int64_t> ParseHttpDate(std::string_view text);

// The IMF-fixdate for `unix_seconds` (years 0 to 9999; clamped outside).
std::string FormatHttpDate(std::int64_t unix_seconds);

// The IMF-fixdate of now, for the Date field every response carries (RFC 9110 §6.6.1). Each
// thread formats it at most once a second instead of once a request; the view is valid on
// the calling thread until its next call.
std::string_view CurrentHttpDate();

}  // namespace kv_assets

#endif  // KV_ASSETS_HTTP_DATE_H_
