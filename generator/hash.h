// generator/hash.h — step 2 of 6: read each file once, hash it, and name its version.
//
// XXH3-128 of the bytes gives both the strong ETag (all 128 bits, base64url, quoted) and
// the tag in the file name (its first 10 characters: 60 bits, so two versions of one file
// colliding is out of reach in practice). Tags use the URL-safe base64 alphabet, so a
// tagged name never needs escaping.
//
// Example:
//   TaggedPath("css/a.min.css", "EI7Zfw9kFp")  // "css/a.EI7Zfw9kFp.min.css"
//   TaggedPath("LICENSE", "EI7Zfw9kFp")        // "LICENSE.EI7Zfw9kFp"

#ifndef KV_ASSETS_GENERATOR_HASH_H_
#define KV_ASSETS_GENERATOR_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/scan.h"
#include "kv_assets/manifest.h"

namespace kv_assets::gen {

inline constexpr std::size_t kTagLength = ::kv_assets::kTagLength;

struct Digest {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  bool operator==(const Digest&) const = default;
  auto operator<=>(const Digest&) const = default;
};

// How hard the compressors try (generator/compress.h).
enum class CompressLevel { kMax, kFast };

// The content precompressed with one coding (generator/compress.h).
struct EncodedVariant {
  Coding coding = Coding::kGzip;
  std::string bytes;
  // Part of the variant's ETag: the two levels give different bytes for one content.
  CompressLevel level = CompressLevel::kMax;
  bool operator==(const EncodedVariant&) const = default;
};

// A file of the folder as the steps prepare it (generate.h, Prepare()): hashed and named here,
// then dated (last_modified.h), linked (link.h) and compressed (compress.h), then emitted.
struct PreparedFile {
  SourceFile source;
  std::string content;
  Digest digest;
  std::string tag;          // kTagLength characters
  std::string etag;         // "\"<22 characters>\""
  std::string tagged_path;  // TaggedPath(source.path, tag)
  // Empty until Compress() (compress.h) fills it in: smallest first.
  std::vector<EncodedVariant> variants;
  // Seconds since the Unix epoch: the mtime, until generator/last_modified.h says otherwise.
  std::int64_t last_modified = 0;
  // "sha384-<base64>" of `content`, from generator/link.h on (Link() may change `content`).
  std::string integrity;
};

Digest HashBytes(std::string_view bytes);
// The 22-character base64url spelling of all 128 bits; the tag is its first kTagLength.
std::string DigestToBase64Url(const Digest& digest);
// `path` with ".<tag>" inserted before the first dot of the file name (the last component),
// or appended when the name has no dot. A leading dot does not count ("a/.x" -> "a/.x.<tag>").
std::string TaggedPath(std::string_view path, std::string_view tag);

// `content`, the bytes of `file`, hashed and named: digest, tag, ETag and tagged path.
PreparedFile HashFile(SourceFile file, std::string content);

// Reads and hashes every file. Fails with the path when one cannot be read, or when its
// size changed since the scan (it is being written to).
absl::StatusOr<std::vector<PreparedFile>> HashFiles(std::vector<SourceFile> files);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_HASH_H_
