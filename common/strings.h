// common/strings.h — std::string_view at the Abseil boundary, for the generator and the
// runtime's sources (not installed).
//
// Debian builds Abseil with its own absl::string_view, which does not convert from
// std::string_view; the code uses std::string_view throughout and converts here.
//
// Example:
//   absl::StrCat("prefix ", ToAbsl(some_std_string_view));

#ifndef KV_ASSETS_COMMON_STRINGS_H_
#define KV_ASSETS_COMMON_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace kv_assets {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace kv_assets

#endif  // KV_ASSETS_COMMON_STRINGS_H_
