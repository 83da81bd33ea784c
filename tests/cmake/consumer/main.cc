// A KvAssets consumer: embeds public/ with kv_assets_embed() and checks what it serves.
//
//   consumer          compares every served asset with its file in public/ (bytes and
//                     headers) and the manifest's list with the folder's; exit 1 on any mismatch
//   consumer --list   prints "<path>\t<url>" for every asset, in manifest order
//
// The tests in tests/cmake/ build it in several ways (add_subdirectory, find_package,
// Ninja, Makefiles, after edits to public/) and run it.

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "app_assets.h"
#include "kv_assets/manifest.h"
#include "kv_assets/server.h"
#include "kv_assets/tag.h"
#include "more_assets.h"

namespace {

// Tag() is consteval: each of these is evaluated by the compiler, so a wrong manifest (or a
// Tag() that is not usable in constant expressions) fails the build, not the run.
constexpr std::size_t kTagLength = 10;
constexpr std::string_view kIndexUrl = app_assets::Tag("index.html");
static_assert(kIndexUrl.starts_with("/static/index.") && kIndexUrl.ends_with(".html"));
static_assert(kIndexUrl.size() == std::string_view("/static/index..html").size() + kTagLength);
constexpr std::string_view kCssUrl = app_assets::Tag("css/site.css");
static_assert(kCssUrl.starts_with("/static/css/site.") && kCssUrl.ends_with(".css"));
// A name with a space, and a non-ASCII (UTF-8) name: URLs are percent-encoded.
constexpr std::string_view kSpacedUrl = app_assets::Tag("docs/read me.txt");
static_assert(kSpacedUrl.starts_with("/static/docs/read%20me.") && kSpacedUrl.ends_with(".txt"));
constexpr std::string_view kUnicodePath =
    "i18n/gr\xC3\xBC\xC3\x9F"
    "e.txt";  // grüße.txt
constexpr std::string_view kUnicodeUrl = app_assets::Tag(kUnicodePath);
static_assert(kUnicodeUrl.starts_with("/static/i18n/gr%C3%BC%C3%9Fe."));
static_assert(kUnicodeUrl.size() ==
              std::string_view("/static/i18n/gr%C3%BC%C3%9Fe..txt").size() + kTagLength);
static_assert(app_assets::kManifest.IndexOf(".draft.txt") == kv_assets::Manifest::kNotFound,
              "dotfiles are not embedded");
static_assert(app_assets::kManifest.prefix == "/static/");
// The second manifest of this target.
static_assert(more_assets::Tag("theme.css").starts_with("/more/theme."));
static_assert(more_assets::kManifest.assets.size() == 1);
// Precompressed variants: public/ has the default COMPRESS (gzip, brotli, zstd), more/ has
// COMPRESS NONE. PNG is never compressed. The incremental tests delete js/ and rename the PNG
// (the list of assets is checked separately), so those two may be missing.
constexpr std::size_t kMissing = static_cast<std::size_t>(-1);
constexpr std::size_t VariantCount(std::string_view path) {
  const kv_assets::Manifest& m = app_assets::kManifest;
  const std::size_t i = m.IndexOf(path);
  return i == kv_assets::Manifest::kNotFound ? kMissing : m.VariantsOf(m.assets[i]).size();
}
static_assert(VariantCount("css/site.css") == 2);  // the default COMPRESS: gzip, brotli
static_assert(VariantCount("js/app.js") == 2 || VariantCount("js/app.js") == kMissing);
static_assert(VariantCount("img/logo.png") == 0 || VariantCount("img/logo.png") == kMissing);
static_assert(more_assets::kManifest.variants.empty());

#ifdef KV_CONSUMER_MISSING_TAG
// Must not compile: the error names kv_assets::internal::AssetNotInManifest.
constexpr std::string_view kMissingUrl = app_assets::Tag("no/such.css");
#endif

int failures = 0;

void Fail(std::string_view what, std::string_view path, std::string_view detail = {}) {
  ++failures;
  std::cerr << "FAIL: " << what << ": \"" << path << "\"";
  if (!detail.empty()) std::cerr << ": " << detail;
  std::cerr << "\n";
}

void Expect(bool ok, std::string_view what, std::string_view path, std::string_view detail = {}) {
  if (!ok) Fail(what, path, detail);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// What a browser sends for a path: bytes outside the unreserved set (and '/') as %XX.
std::string PercentEncode(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : path) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(ch);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Regular files under `root` that are not dotfiles or inside dot-folders, '/'-separated.
std::set<std::string> FilesOnDisk(const std::filesystem::path& root) {
  std::set<std::string> files;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->path().filename().string().starts_with('.')) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) {
      files.insert(std::filesystem::relative(it->path(), root).generic_string());
    }
  }
  return files;
}

kv_assets::Response Get(const kv_assets::Server& server, std::string_view target,
                        std::optional<std::string_view> if_none_match = std::nullopt,
                        std::string_view method = "GET") {
  kv_assets::Request request;
  request.method = method;
  request.target = target;
  request.if_none_match = if_none_match;
  return server.Handle(request);
}

// Each variant: smaller than the body, smallest first, in the blob, with the asset's ETag
// plus the coding, and the coding's magic number where it has one.
void CheckVariants(const kv_assets::Asset& asset) {
  const std::string_view path = asset.path();
  std::uint64_t previous = 0;
  for (const kv_assets::Variant& v : app_assets::kManifest.VariantsOf(asset)) {
    const std::string_view bytes = app_assets::kManifest.Body(v);
    const std::string coding(v.content_encoding());
    Expect(bytes.size() == v.size && v.size < asset.size, "variant size", path, coding);
    Expect(v.size >= previous, "variants not smallest first", path, coding);
    previous = v.size;
    std::string etag(asset.etag());
    etag.insert(etag.size() - 1, "-" + coding);
    Expect(v.etag() == etag, "variant ETag", path, v.etag());
    if (coding == "gzip") Expect(bytes.starts_with("\x1f\x8b"), "not gzip", path);
    if (coding == "zstd") Expect(bytes.starts_with("\x28\xb5\x2f\xfd"), "not zstd", path);
  }
}

void CheckAsset(const kv_assets::Server& server, const kv_assets::Asset& asset,
                const std::string& on_disk) {
  const std::string_view path = asset.path();
  Expect(app_assets::kManifest.Body(asset) == on_disk, "Body() differs from the file", path);
  Expect(asset.size == on_disk.size(), "size differs from the file", path);
  Expect(asset.etag().size() > 2 && asset.etag().starts_with('"') && asset.etag().ends_with('"'),
         "ETag is not a quoted strong entity tag", path, asset.etag());

  // The tagged URL, already percent-encoded by the generator: immutable.
  const std::string tagged_target(asset.url());
  kv_assets::Response res = Get(server, tagged_target);
  Expect(res.status == 200, "GET of the tagged URL is not 200", tagged_target);
  Expect(res.BodyString() == on_disk, "tagged URL serves other bytes than the file", tagged_target);
  Expect(res.has_content_length && res.content_length == on_disk.size(), "wrong Content-Length",
         tagged_target);
  Expect(res.header("ETag") == asset.etag(), "wrong ETag", tagged_target, res.header("ETag"));
  Expect(res.header("Content-Type") == asset.content_type(), "wrong Content-Type", tagged_target,
         res.header("Content-Type"));
  Expect(res.header("Cache-Control") == "public, max-age=31536000, immutable",
         "tagged URL is not cached as immutable", tagged_target, res.header("Cache-Control"));
  Expect(!res.header("Last-Modified").empty() && res.header("Last-Modified").ends_with(" GMT"),
         "no Last-Modified", tagged_target, res.header("Last-Modified"));

  // The untagged name: revalidated.
  const std::string untagged_target = PercentEncode(std::string("/static/") + std::string(path));
  res = Get(server, untagged_target);
  Expect(res.status == 200, "GET of the untagged name is not 200", untagged_target);
  Expect(res.BodyString() == on_disk, "untagged name serves other bytes than the file",
         untagged_target);
  Expect(res.header("Cache-Control") == "public, max-age=60", "untagged name's Cache-Control",
         untagged_target, res.header("Cache-Control"));

  // A revalidation with the current ETag: 304 without a body.
  res = Get(server, untagged_target, asset.etag());
  Expect(res.status == 304, "If-None-Match with the ETag is not 304", untagged_target);
  Expect(res.body().empty(), "304 has a body", untagged_target);
  Expect(res.header("ETag") == asset.etag(), "304 without the ETag", untagged_target);

  CheckVariants(asset);

  // HEAD: the GET's length, no body.
  res = Get(server, tagged_target, {}, "HEAD");
  Expect(res.status == 200 && res.body().empty() && res.content_length == on_disk.size(),
         "HEAD is not a bodiless 200 with the GET's length", tagged_target);
}

int Check() {
  const std::filesystem::path root = KV_CONSUMER_PUBLIC_DIR;
  const kv_assets::Server server(app_assets::kManifest);

  // The manifest holds exactly the files of public/.
  const std::set<std::string> on_disk = FilesOnDisk(root);
  std::set<std::string> embedded;
  for (const kv_assets::Asset& asset : app_assets::kManifest.assets) {
    embedded.emplace(asset.path());
  }
  for (const std::string& p : on_disk) Expect(embedded.contains(p), "not embedded", p);
  for (const std::string& p : embedded) Expect(on_disk.contains(p), "embedded, not on disk", p);

  for (const kv_assets::Asset& asset : app_assets::kManifest.assets) {
    CheckAsset(server, asset, ReadFile(root / std::string(asset.path())));
  }

  // Compile-time and run-time lookups agree.
  const kv_assets::Asset* index = app_assets::kManifest.Find("index.html");
  Expect(index != nullptr && index->url() == kIndexUrl, "Tag() and Find() disagree", "index.html");
  Expect(index != nullptr && index->content_type() == "text/html; charset=utf-8", "Content-Type",
         "index.html");
  const kv_assets::Asset* css = app_assets::kManifest.Find("css/site.css");
  Expect(css != nullptr && css->url() == kCssUrl, "Tag() and Find() disagree", "css/site.css");
  Expect(css != nullptr && css->content_type() == "text/css; charset=utf-8", "Content-Type",
         "css/site.css");
  const kv_assets::Asset* spaced = app_assets::kManifest.Find("docs/read me.txt");
  Expect(spaced != nullptr && spaced->url() == kSpacedUrl, "Tag() and Find() disagree",
         "docs/read me.txt");
  Expect(spaced != nullptr &&
             app_assets::kManifest.Body(*spaced) == "Read me, with a space in my name.\n",
         "wrong bytes", "docs/read me.txt");
  const kv_assets::Asset* unicode = app_assets::kManifest.Find(kUnicodePath);
  Expect(unicode != nullptr && unicode->url() == kUnicodeUrl, "Tag() and Find() disagree",
         kUnicodePath);
  Expect(Get(server, "/static/i18n/gr%C3%BC%C3%9Fe.txt").BodyString() ==
             "Gr\xC3\xBC\xC3\x9F"
             "e aus einer Datei mit Umlaut im Namen.\n",
         "wrong bytes for the percent-encoded UTF-8 name", kUnicodePath);

  // Names that are not assets.
  Expect(Get(server, "/static/no/such.css").status == 404, "not 404", "/static/no/such.css");
  Expect(Get(server, "/static/.draft.txt").status == 404, "not 404", "/static/.draft.txt");
  const absl::StatusOr<std::string_view> missing =
      kv_assets::Tag(app_assets::kManifest, "no/such.css");
  Expect(!missing.ok() && missing.status().code() == absl::StatusCode::kNotFound,
         "run-time Tag() of a missing path is not NotFound", "no/such.css");

  if (failures != 0) {
    std::cerr << failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "ok: " << app_assets::kManifest.assets.size() << " assets served as in "
            << root.string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--list") {
    for (const kv_assets::Asset& asset : app_assets::kManifest.assets) {
      std::cout << asset.path() << "\t" << asset.url() << "\n";
    }
    return 0;
  }
  if (argc != 1) {
    std::cerr << "usage: consumer [--list]\n";
    return 2;
  }
  return Check();
}
