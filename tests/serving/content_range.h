// A Content-Range field value read back, for tests that check a 206 body is the slice it
// claims to be. Standard headers only: the fuzz targets (tests/fuzz, libFuzzer with clang)
// include it as well as the serving tests.
//
// Example:
//   std::uint64_t first = 0, last = 0, length = 0;
//   ASSERT_TRUE(ParseContentRange(exchange.Get("Content-Range"), first, last, length));
//   EXPECT_EQ(body, bytes.substr(first, last - first + 1));

#ifndef KV_ASSETS_TESTS_SERVING_CONTENT_RANGE_H_
#define KV_ASSETS_TESTS_SERVING_CONTENT_RANGE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kv_assets_test {

// Reads "bytes <first>-<last>/<length>" (RFC 9110 §14.4, a satisfied range) into the three
// numbers. False when the value is malformed, a number has more than 19 digits, or the value
// is invalid (last < first, or length <= last); the numbers are then unspecified.
inline bool ParseContentRange(std::string_view v, std::uint64_t& first, std::uint64_t& last,
                              std::uint64_t& length) {
  const auto number = [&](std::uint64_t& out) {
    std::size_t i = 0;
    out = 0;
    // 19 digits always fit in 64 bits.
    while (i < v.size() && i < 19 && v[i] >= '0' && v[i] <= '9') {
      out = out * 10 + static_cast<std::uint64_t>(v[i++] - '0');
    }
    v.remove_prefix(i);
    return i > 0;
  };
  if (!v.starts_with("bytes ")) return false;
  v.remove_prefix(6);
  if (!number(first) || !v.starts_with('-')) return false;
  v.remove_prefix(1);
  if (!number(last) || !v.starts_with('/')) return false;
  v.remove_prefix(1);
  return number(length) && v.empty() && first <= last && last < length;
}

}  // namespace kv_assets_test

#endif  // KV_ASSETS_TESTS_SERVING_CONTENT_RANGE_H_
