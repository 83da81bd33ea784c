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

TEST(Compressibility, TextFontsAndUncompressedBinariesAreCompressed) {
  const std::pair<const char*, Compressibility> cases[] = {
      {"index.html", Compressibility::kText}, {"a/b.min.css", Compressibility::kText},
      {"app.js", Compressibility::kText},     {"mod.mjs", Compressibility::kText},
      {"data.json", Compressibility::kText},  {"app.js.map", Compressibility::kText},
      {"logo.svg", Compressibility::kText},   {"feed.xml", Compressibility::kText},
      {"r.txt", Compressibility::kText},      {"site.webmanifest", Compressibility::kText},
      {"UPPER.CSS", Compressibility::kText},  {"f.ttf", Compressibility::kFont},
      {"f.otf", Compressibility::kFont},      {"f.eot", Compressibility::kFont},
      {"m.wasm", Compressibility::kGeneric},  {"favicon.ico", Compressibility::kGeneric},
      {"p.bmp", Compressibility::kGeneric},
  };
  for (const auto& [path, kind] : cases) EXPECT_EQ(CompressibilityFor(path), kind) << path;
}

TEST(Compressibility, CompressedFormatsAndUnknownTypesAreNot) {
  for (const char* path :
       {"p.png",   "p.jpg", "p.jpeg", "p.gif",   "p.webp",       "p.avif",   "f.woff",
        "f.woff2", "v.mp4", "v.webm", "a.mp3",   "a.ogg",        "a.zip",    "a.gz",
        "a.br",    "a.zst", "d.pdf",  "LICENSE", "a.unknownext", "trailing."}) {
    EXPECT_EQ(CompressibilityFor(path), Compressibility::kNone) << path;
  }
}

}  // namespace
}  // namespace kv_assets::gen
