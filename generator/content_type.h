// generator/content_type.h — the Content-Type a web asset is served with, and whether it is
// worth precompressing, from its name.
//
// Example:
//   ContentTypeFor("css/site.css")       // "text/css; charset=utf-8"
//   CompressibilityFor("css/site.css")   // Compressibility::kText
//   CompressibilityFor("img/logo.png")   // Compressibility::kNone: PNG is deflated already

#ifndef KV_ASSETS_GENERATOR_CONTENT_TYPE_H_
#define KV_ASSETS_GENERATOR_CONTENT_TYPE_H_

#include <string_view>

namespace kv_assets::gen {

// The media type for `path`, chosen by its last extension, compared without regard to
// case: "text/css; charset=utf-8" for "a/b.min.CSS". Text types carry "; charset=utf-8"
// because browsers otherwise guess (and guess windows-1252 for CSS). Unknown extensions,
// and names without one, get "application/octet-stream", which browsers will not sniff
// into something executable.
std::string_view ContentTypeFor(std::string_view path);

// Whether a file's bytes are worth precompressing, and what kind of data they are (brotli
// tunes its model to text, fonts or other data).
enum class Compressibility {
  kNone,     // already compressed (PNG, JPEG, WOFF2, MP4, ZIP, ...), or of unknown type
  kText,     // HTML, CSS, JavaScript, JSON, SVG, XML, plain text, ...
  kFont,     // uncompressed fonts: TTF, OTF, EOT, TTC
  kGeneric,  // other uncompressed binary data: WebAssembly, ICO, BMP, ...
};

// From the same table as ContentTypeFor(), by `path`'s last extension. Unknown extensions
// and names without one get kNone: the generator does not guess what an octet stream holds.
Compressibility CompressibilityFor(std::string_view path);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_CONTENT_TYPE_H_
