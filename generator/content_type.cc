#include "generator/content_type.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"

namespace kv_assets::gen {
namespace {

struct Entry {
  std::string_view extension;
  std::string_view type;
  Compressibility compressibility;
};

// Sorted by extension for binary search. Types: the IANA media-type registry and the WHATWG
// MIME sniffing standard's expectations for what browsers accept. Compressibility: formats
// that carry their own compression (images but BMP, ICO and TIFF; audio and video but WAV;
// WOFF and WOFF2 fonts; archives; PDF) gain next to nothing from another pass, so they are
// never precompressed; the rest is, when the result is worth it (generator/compress.h).
constexpr auto kTypes = std::to_array<Entry>({
    {"aac", "audio/aac", Compressibility::kNone},
    {"apng", "image/apng", Compressibility::kNone},
    {"atom", "application/atom+xml; charset=utf-8", Compressibility::kText},
    {"avif", "image/avif", Compressibility::kNone},
    {"bmp", "image/bmp", Compressibility::kGeneric},
    {"cjs", "text/javascript; charset=utf-8", Compressibility::kText},
    {"css", "text/css; charset=utf-8", Compressibility::kText},
    {"csv", "text/csv; charset=utf-8", Compressibility::kText},
    {"eot", "application/vnd.ms-fontobject", Compressibility::kFont},
    {"flac", "audio/flac", Compressibility::kNone},
    {"gif", "image/gif", Compressibility::kNone},
    {"glb", "model/gltf-binary", Compressibility::kGeneric},
    {"gltf", "model/gltf+json", Compressibility::kText},
    {"gz", "application/gzip", Compressibility::kNone},
    {"htm", "text/html; charset=utf-8", Compressibility::kText},
    {"html", "text/html; charset=utf-8", Compressibility::kText},
    {"ico", "image/x-icon", Compressibility::kGeneric},
    {"ics", "text/calendar; charset=utf-8", Compressibility::kText},
    {"jpeg", "image/jpeg", Compressibility::kNone},
    {"jpg", "image/jpeg", Compressibility::kNone},
    {"js", "text/javascript; charset=utf-8", Compressibility::kText},
    {"json", "application/json", Compressibility::kText},
    {"jsonld", "application/ld+json", Compressibility::kText},
    {"jxl", "image/jxl", Compressibility::kNone},
    {"m4a", "audio/mp4", Compressibility::kNone},
    {"manifest", "application/manifest+json", Compressibility::kText},
    {"map", "application/json", Compressibility::kText},
    {"md", "text/markdown; charset=utf-8", Compressibility::kText},
    {"mjs", "text/javascript; charset=utf-8", Compressibility::kText},
    {"mp3", "audio/mpeg", Compressibility::kNone},
    {"mp4", "video/mp4", Compressibility::kNone},
    {"oga", "audio/ogg", Compressibility::kNone},
    {"ogg", "audio/ogg", Compressibility::kNone},
    {"ogv", "video/ogg", Compressibility::kNone},
    {"opus", "audio/ogg", Compressibility::kNone},
    {"otf", "font/otf", Compressibility::kFont},
    {"pdf", "application/pdf", Compressibility::kNone},
    {"png", "image/png", Compressibility::kNone},
    {"rss", "application/rss+xml; charset=utf-8", Compressibility::kText},
    {"svg", "image/svg+xml", Compressibility::kText},
    {"tif", "image/tiff", Compressibility::kGeneric},
    {"tiff", "image/tiff", Compressibility::kGeneric},
    {"ts", "video/mp2t", Compressibility::kNone},
    {"ttc", "font/collection", Compressibility::kFont},
    {"ttf", "font/ttf", Compressibility::kFont},
    {"txt", "text/plain; charset=utf-8", Compressibility::kText},
    {"vtt", "text/vtt; charset=utf-8", Compressibility::kText},
    {"wasm", "application/wasm", Compressibility::kGeneric},
    {"wav", "audio/wav", Compressibility::kGeneric},
    {"weba", "audio/webm", Compressibility::kNone},
    {"webm", "video/webm", Compressibility::kNone},
    {"webmanifest", "application/manifest+json", Compressibility::kText},
    {"webp", "image/webp", Compressibility::kNone},
    {"woff", "font/woff", Compressibility::kNone},
    {"woff2", "font/woff2", Compressibility::kNone},
    {"xhtml", "application/xhtml+xml; charset=utf-8", Compressibility::kText},
    {"xml", "application/xml; charset=utf-8", Compressibility::kText},
    {"xsl", "application/xslt+xml; charset=utf-8", Compressibility::kText},
    {"zip", "application/zip", Compressibility::kNone},
});

static_assert(std::is_sorted(kTypes.begin(), kTypes.end(), [](const Entry& a, const Entry& b) {
  return a.extension < b.extension;
}));

// The table entry for `path`'s last extension, or nullptr.
const Entry* Lookup(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return nullptr;
  const std::string_view ext = name.substr(dot + 1);
  if (ext.size() > 16) return nullptr;
  char lower_buf[16];
  for (std::size_t i = 0; i < ext.size(); ++i) lower_buf[i] = absl::ascii_tolower(ext[i]);
  const std::string_view lower(lower_buf, ext.size());
  const auto it =
      std::lower_bound(kTypes.begin(), kTypes.end(), lower,
                       [](const Entry& e, std::string_view k) { return e.extension < k; });
  return (it != kTypes.end() && it->extension == lower) ? &*it : nullptr;
}

}  // namespace

std::string_view ContentTypeFor(std::string_view path) {
  const Entry* entry = Lookup(path);
  return entry == nullptr ? "application/octet-stream" : entry->type;
}

Compressibility CompressibilityFor(std::string_view path) {
  const Entry* entry = Lookup(path);
  return entry == nullptr ? Compressibility::kNone : entry->compressibility;
}

}  // namespace kv_assets::gen
