// kv_assets/tag.h — the URL to link to for an asset named at run time.
//
// The generated `Tag("css/site.css")` is checked at compile time and is what code should
// use. Templates and configuration name assets only at run time; this is their lookup,
// with an error that says which name is missing.
//
// Example:
//   #include "app_assets.h"
//   #include "kv_assets/tag.h"
//
//   absl::StatusOr<std::string_view> url = kv_assets::Tag(app_assets::kManifest, name);
//   if (!url.ok()) return url.status();   // NotFound: no asset "css/sit.css" in the manifest …
//   html += *url;                          // "/static/css/site.EI7Zfw9kFp.css"

#ifndef KV_ASSETS_TAG_H_
#define KV_ASSETS_TAG_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "kv_assets/manifest.h"

namespace kv_assets {

// The URL (prefix and tagged path) for the asset whose untagged path is `path`, or
// NotFoundError naming `path` and the manifest's prefix.
absl::StatusOr<std::string_view> Tag(const Manifest& manifest, std::string_view path);

}  // namespace kv_assets

#endif  // KV_ASSETS_TAG_H_
