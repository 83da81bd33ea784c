// tests/fuzz/fuzz_util.h — what the fuzz targets share to report a broken invariant.
//
// Example:
//   std::fprintf(stderr, "  target: %s\n", kv_assets::fuzz::Printable(req.target, 300).c_str());

#ifndef KV_ASSETS_TESTS_FUZZ_FUZZ_UTIL_H_
#define KV_ASSETS_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace kv_assets::fuzz {

// The first `max_bytes` of `s` as one line of ASCII that a terminal shows as is: any other
// byte, and '\' (so that the escapes are unambiguous), becomes "\xHH"; "..." marks a cut.
inline std::string Printable(std::string_view s, std::size_t max_bytes) {
  std::string out;
  for (const char c : s.substr(0, max_bytes)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && u != '\\') {
      out.push_back(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    }
  }
  if (s.size() > max_bytes) out += "...";
  return out;
}

}  // namespace kv_assets::fuzz

#endif  // KV_ASSETS_TESTS_FUZZ_FUZZ_UTIL_H_
