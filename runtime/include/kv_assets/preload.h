// kv_assets/preload.h — Link field values that preload an application's critical assets.
//
// An HTML response that names its stylesheet, its fonts and its entry module in Link fields
// lets the browser fetch them before it has parsed the page, and lets a CDN (Cloudflare,
// Fastly, Akamai) send them as 103 Early Hints while the application is still rendering.
// Each value names the asset's tagged URL, so the preloaded response is the immutable one
// the page then uses.
//
// Example:
//   #include "app_assets.h"   // kv_assets_embed(app public/ NAMESPACE app_assets)
//
//   for (const std::string& link :
//        kv_assets::PreloadLinks(app_assets::kManifest, {"css/site.css", "fonts/fa.woff2"})) {
//     response.insert(http::field::link, link);
//   }
//   // Link: </static/css/site.EI7Zfw9kFp.css>; rel=preload; as=style; integrity="sha384-…"
//   // Link: </static/fonts/fa.Xc81LmN0qa.woff2>; rel=preload; as=font; crossorigin
//
// `as` follows the asset's type unless given: style for CSS, script for .js (module for
// .mjs: rel=modulepreload), font (always with crossorigin: fonts are fetched in CORS mode,
// and a preload without it would be fetched twice), image, else fetch (with crossorigin, as
// fetch() requests are). `integrity` is added where Subresource Integrity applies (styles,
// scripts, modules). Browsers reuse a preload only for a request with the same integrity,
// so the page's <link>/<script> must carry Asset::integrity() too, or set
// PreloadOptions::integrity to false.

#ifndef KV_ASSETS_PRELOAD_H_
#define KV_ASSETS_PRELOAD_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "kv_assets/manifest.h"

namespace kv_assets {

enum class PreloadAs { kAuto, kStyle, kScript, kModule, kFont, kImage, kFetch };

struct PreloadOptions {
  PreloadAs as = PreloadAs::kAuto;
  bool integrity = true;  // for styles, scripts and modules
};

// The Link field value preloading `path` (untagged, as in the asset folder), or "" when
// `manifest` has no such asset.
std::string PreloadLink(const Manifest& manifest, std::string_view path,
                        PreloadOptions options = {});

// PreloadLink() for each of `paths` the manifest has, in order: one Link field each, or
// join them with ", " into one.
std::vector<std::string> PreloadLinks(const Manifest& manifest,
                                      std::initializer_list<std::string_view> paths);

}  // namespace kv_assets

#endif  // KV_ASSETS_PRELOAD_H_
