#include "kv_assets/preload.h"

namespace kv_assets {
namespace {

PreloadAs AsFor(const Asset& asset) {
  const std::string_view type = asset.content_type();
  if (type.starts_with("text/css")) return PreloadAs::kStyle;
  if (type.starts_with("text/javascript") || type.starts_with("application/javascript")) {
    return asset.path().ends_with(".mjs") ? PreloadAs::kModule : PreloadAs::kScript;
  }
  if (type.starts_with("font/") || type.starts_with("application/font") ||
      type.starts_with("application/vnd.ms-fontobject")) {
    return PreloadAs::kFont;
  }
  if (type.starts_with("image/")) return PreloadAs::kImage;
  return PreloadAs::kFetch;
}

// The attributes after the URL: rel, as, crossorigin; and whether integrity applies.
std::string_view Attributes(PreloadAs as, bool& integrity_applies) {
  integrity_applies =
      as == PreloadAs::kStyle || as == PreloadAs::kScript || as == PreloadAs::kModule;
  switch (as) {
    case PreloadAs::kStyle:
      return "; rel=preload; as=style";
    case PreloadAs::kScript:
      return "; rel=preload; as=script";
    case PreloadAs::kModule:
      return "; rel=modulepreload";
    case PreloadAs::kFont:
      return "; rel=preload; as=font; crossorigin";
    case PreloadAs::kImage:
      return "; rel=preload; as=image";
    case PreloadAs::kAuto:
    case PreloadAs::kFetch:
      break;
  }
  return "; rel=preload; as=fetch; crossorigin";
}

}  // namespace

std::string PreloadLink(const Manifest& manifest, std::string_view path, PreloadOptions options) {
  const Asset* asset = manifest.Find(path);
  if (asset == nullptr) return "";
  const PreloadAs as = options.as == PreloadAs::kAuto ? AsFor(*asset) : options.as;
  bool integrity_applies = false;
  const std::string_view attributes = Attributes(as, integrity_applies);
  std::string out;
  out.reserve(asset->url().size() + attributes.size() + asset->integrity().size() + 16);
  out.append("<").append(asset->url()).append(">").append(attributes);
  if (options.integrity && integrity_applies && !asset->integrity().empty()) {
    out.append("; integrity=\"").append(asset->integrity()).append("\"");
  }
  return out;
}

std::vector<std::string> PreloadLinks(const Manifest& manifest,
                                      std::initializer_list<std::string_view> paths) {
  std::vector<std::string> out;
  for (const std::string_view path : paths) {
    std::string link = PreloadLink(manifest, path);
    if (!link.empty()) out.push_back(std::move(link));
  }
  return out;
}

}  // namespace kv_assets
