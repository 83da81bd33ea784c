// generator/manifest_json.h — a manifest as data and as JSON, and the store keys it names.
//
// A manifest-only build (kv_assets_embed(... STORE <url>)) compiles the manifest into the
// program and keeps each body in a store. `kv-assets sync` uploads the bodies and then the
// manifest itself, as this JSON, so that prune knows which keys recent releases use and
// `kv-assets dump` can show what a store holds. The JSON is canonical: members in a fixed
// order, one asset a line, so equal manifests are equal bytes and its XXH3-128 (ManifestId)
// names it.
//
// Keys in a store, for the store namespace `ns` (the manifest's name, "app_assets"):
//   ns/<tagged path>                        an asset's body: "ns/css/site.EI7Zfw9kFp.css"
//   ns/<tagged path>.<vtag>.<coding>        a precompressed variant; <vtag> is the first 10
//                                           characters of the encoded bytes' own hash, so a
//                                           new compressor that encodes differently never
//                                           reuses a key
//   ns/.kv-assets/manifests/<id>.json       a manifest (this JSON); <id> is ManifestId()
//   ns/.kv-assets/releases.json             the manifests synced, oldest first
// Asset names never begin with '.', so ns/.kv-assets/ never collides with an asset.
//
// Example:
//   ManifestData m = BuildManifest(hashed, emit_options);   // emit_options.store_namespace set
//   std::string json = ManifestToJson(m);
//   std::string key = ManifestKey(m.name, ManifestId(json));

#ifndef KV_ASSETS_GENERATOR_MANIFEST_JSON_H_
#define KV_ASSETS_GENERATOR_MANIFEST_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/emit.h"
#include "generator/hash.h"
#include "kv_assets/manifest.h"

namespace kv_assets::gen {

struct ManifestVariant {
  Coding coding = Coding::kGzip;
  std::string etag;
  std::uint64_t size = 0;
  std::string key;  // "" when the body is embedded
};

struct ManifestAsset {
  std::string path;
  std::string tagged_path;
  std::string url;
  std::string etag;
  std::string content_type;
  std::string last_modified;  // IMF-fixdate
  std::int64_t last_modified_unix = 0;
  std::uint64_t size = 0;
  std::string key;        // "" when the body is embedded
  std::string integrity;  // "sha384-…"; "" when read from an older generator's output
  std::vector<ManifestVariant> variants;
};

struct ManifestData {
  std::string name;    // the store namespace; "" for an embedded manifest read from a header
  std::string prefix;  // URL prefix
  std::vector<ManifestAsset> assets;  // sorted by path
};

// One stored body: its key and its bytes (a view into the PreparedFile that holds them).
struct StoredBody {
  std::string key;
  std::string_view bytes;
};

// The manifest `files` make under `options`, with keys when options.store_namespace is set.
ManifestData BuildManifest(const std::vector<PreparedFile>& files, const EmitOptions& options);

// Every body the manifest built from `files` references, once per key, in manifest order.
std::vector<StoredBody> BodiesToStore(const std::vector<PreparedFile>& files,
                                      const EmitOptions& options);

std::string ManifestToJson(const ManifestData& manifest);
// Parses what ManifestToJson() writes. InvalidArgumentError saying what is missing or wrong.
absl::StatusOr<ManifestData> ManifestFromJson(std::string_view json);

// The 22-character base64url XXH3-128 of a manifest's JSON.
std::string ManifestId(std::string_view json);

// Keys (see the top of this file).
std::string AssetKey(std::string_view ns, std::string_view tagged_path);
std::string VariantKey(std::string_view asset_key, Coding coding, std::string_view encoded);
std::string ManifestKey(std::string_view ns, std::string_view id);
std::string ReleasesKey(std::string_view ns);
// Every key of the namespace begins with this: "ns/".
std::string NamespacePrefix(std::string_view ns);

// "gzip", "br", "zstd" <-> Coding.
absl::StatusOr<Coding> CodingFromName(std::string_view name);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_MANIFEST_JSON_H_
