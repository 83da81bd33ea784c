#include "generator/content_type.h"

#include <gtest/gtest.h>

namespace kv_assets::gen {
namespace {

TEST(ContentType, WebAssetsGetTheirRegisteredTypes) {
  const std::pair<const char*, const char*> cases[] = {
      {"index.html", "text/html; charset=utf-8"},
      {"a/b.min.css", "text/css; charset=utf-8"},
      {"app.js", "text/javascript; charset=utf-8"},
      {"mod.mjs", "text/javascript; charset=utf-8"},
      {"data.json", "application/json"},
      {"app.js.map", "application/json"},
      {"logo.svg", "image/svg+xml"},
      {"f.woff", "font/woff"},
      {"f.woff2", "font/woff2"},
      {"f.ttf", "font/ttf"},
      {"f.otf", "font/otf"},
      {"p.png", "image/png"},
      {"p.jpg", "image/jpeg"},
      {"p.jpeg", "image/jpeg"},
      {"p.gif", "image/gif"},
      {"p.webp", "image/webp"},
      {"p.avif", "image/avif"},
      {"favicon.ico", "image/x-icon"},
      {"m.wasm", "application/wasm"},
      {"r.txt", "text/plain; charset=utf-8"},
      {"f.xml", "application/xml; charset=utf-8"},
      {"d.pdf", "application/pdf"},
      {"v.mp4", "video/mp4"},
      {"v.webm", "video/webm"},
      {"site.webmanifest", "application/manifest+json"},
      {"UPPER.CSS", "text/css; charset=utf-8"},
  };
  for (const auto& [path, type] : cases) EXPECT_EQ(ContentTypeFor(path), type) << path;
}

TEST(ContentType, UnknownOrMissingExtensionsAreOctetStream) {
  for (const char* path : {"LICENSE", "a.unknownext", "dir.css/file", "trailing.", ".hidden",
                           "x.averyveryverylongextension"}) {
    EXPECT_EQ(ContentTypeFor(path), "application/octet-stream") << path;
  }
}

}  // namespace
}  // namespace kv_assets::gen
