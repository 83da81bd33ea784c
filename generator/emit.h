// generator/emit.h — step 6 of 6: the C++ a build compiles, and the files it writes.
//
// Emit() is pure: from the hashed (and compressed) files it makes the text of a header (the
// constexpr manifest with its precompressed variants, and Tag()), a source file (the bodies),
// the packed blob of bodies and variants and a depfile. A variant's ETag is its file's with
// "-" and the coding's token before the closing quote: "\"AgAqgKEUbDbzTgz9Ul-B8A-br\"".
// WriteOutputs() then replaces the outputs whose content changed, all or none (a failed run
// leaves the previous outputs in place), blob first and header last. The blob's file name and
// symbol carry a fingerprint of the manifest and the bytes, so even a run killed between two
// renames cannot leave a header and source that agree with each other but not with the bytes:
// the old source still names the old blob, and a new source with an old header fails to link.
//
// Example:
//   GeneratedFiles out = *Emit(hashed, scan.watched, options);
//   KV_ASSETS_RETURN_IF_ERROR(WriteOutputs(out, options));

#ifndef KV_ASSETS_GENERATOR_EMIT_H_
#define KV_ASSETS_GENERATOR_EMIT_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "generator/hash.h"

namespace kv_assets::gen {

enum class BodyMode {
  kIncbin,   // assembler .incbin of the blob file: fast, GCC/Clang on ELF
  kLiteral,  // string-literal pieces of at most 16 KB: any compiler
};

struct EmitOptions {
  std::string out_dir;          // where <name>.h, .cc and .bin go
  std::string name = "assets";  // file base name and blob symbol suffix
  std::string cpp_namespace = "assets";
  std::string prefix = "/";  // URL prefix, starts and ends with '/'
  BodyMode bodies = BodyMode::kIncbin;
  std::string depfile;  // "" for none
  // No Last-Modified is later than this (the generator's clock): RFC 9110 §8.8.2.1 forbids a
  // Last-Modified later than the response's Date, and a file can carry a future mtime.
  std::int64_t latest_last_modified = std::numeric_limits<std::int64_t>::max();
  // Manifest-only build (kv_assets_embed(... STORE)): when set, the header holds store keys
  // below this namespace (generator/manifest_json.h) instead of bodies, the source file
  // holds no bytes and no blob is written.
  std::string store_namespace;
  std::string store_url;  // the header's kStore: where the program finds the bodies
};

struct GeneratedFiles {
  std::string header;
  std::string source;
  std::string blob;
  // The blob's file name in out_dir, "<name>.<fingerprint>.bin", for BodyMode::kIncbin;
  // empty otherwise (the blob is then in `source`, or in a store).
  std::string blob_name;
  std::string depfile;  // empty when options.depfile is ""
  // <name>.manifest.json: the manifest as data (generator/manifest_json.h), for `kv-assets
  // dump`, the next run's checks and, in a manifest-only build, what `kv-assets sync` stores.
  std::string manifest_json;
};

// Fails, naming both paths, when a tagged name equals another file's name, since a request
// for it would then be ambiguous; or when the options cannot form valid C++.
absl::StatusOr<GeneratedFiles> Emit(const std::vector<PreparedFile>& files,
                                    const std::vector<std::string>& watched,
                                    const EmitOptions& options);

// A variant's ETag: `etag` with "-<coding>" before its closing quote: "\"abc\"" -> "\"abc-br\"",
// and "-fast" after it for CompressLevel::kFast ("\"abc-br-fast\""): a strong ETag names one
// byte string, and the two levels give two for one content.
std::string VariantEtag(std::string_view etag, Coding coding,
                        CompressLevel level = CompressLevel::kMax);

// `path` percent-encoded for a URL that is also safe inside an HTML attribute:
// "a b/ü.css" -> "a%20b/%C3%BC.css". '/' stays.
std::string UrlEncodePath(std::string_view path);

// The Last-Modified time `file` is served with under `options`: its last_modified, capped.
std::int64_t LastModified(const PreparedFile& file, const EmitOptions& options);

// Writes `files` into options.out_dir (and the depfile), then removes blobs of earlier runs.
// Errors name the file: "<path>: cannot write: No space left on device".
absl::Status WriteOutputs(const GeneratedFiles& files, const EmitOptions& options);

// A C++ string literal (quotes included) with `bytes` escaped so that any compiler reads
// them back exactly: no trigraphs, no raw bytes above 0x7E.
std::string CppStringLiteral(std::string_view bytes);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_EMIT_H_
