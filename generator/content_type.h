// generator/content_type.h — the Content-Type a web asset is served with, from its name.

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

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_CONTENT_TYPE_H_
