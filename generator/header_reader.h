// generator/header_reader.h — the manifest a generated header compiles in, read back from
// its text, for `kv-assets dump <header>`.
//
// It reads only what Emit() writes: the kStrings literal, the rows of kAssets (and kVariants)
// with their fields named by the "// Fields:" comment above each table, the prefix and, for
// a manifest-only build, kStore and the keys. Fields it does not know are skipped, so a
// header from a generator with more fields still reads.
//
// Example:
//   KV_ASSETS_ASSIGN_OR_RETURN(std::string text, ReadFile("build/kv_assets/app/app_assets.h"));
//   KV_ASSETS_ASSIGN_OR_RETURN(ManifestData m, ReadGeneratedHeader(text));
//   std::cout << ManifestToJson(m);

#ifndef KV_ASSETS_GENERATOR_HEADER_READER_H_
#define KV_ASSETS_GENERATOR_HEADER_READER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "generator/manifest_json.h"

namespace kv_assets::gen {

// InvalidArgumentError saying what it did not find when `text` is not a generated header.
absl::StatusOr<ManifestData> ReadGeneratedHeader(std::string_view text);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_HEADER_READER_H_
