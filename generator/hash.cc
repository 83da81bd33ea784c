#include "generator/hash.h"

#include <xxhash.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "generator/file_util.h"
#include "generator/parallel.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {

Digest HashBytes(std::string_view bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return Digest{h.high64, h.low64};
}

std::string DigestToBase64Url(const Digest& digest) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // 128 bits, most significant first, six at a time; the last character holds 2 bits.
  std::string out;
  out.reserve(22);
  for (int bit = 0; bit < 128; bit += 6) {
    unsigned value = 0;
    for (int k = 0; k < 6; ++k) {
      const int b = bit + k;
      unsigned v = 0;
      if (b < 64) {
        v = static_cast<unsigned>((digest.high >> (63 - b)) & 1u);
      } else if (b < 128) {
        v = static_cast<unsigned>((digest.low >> (127 - b)) & 1u);
      }
      value = (value << 1) | v;
    }
    out.push_back(kAlphabet[value]);
  }
  return out;
}

std::string TaggedPath(std::string_view path, std::string_view tag) {
  const std::size_t slash = path.rfind('/');
  const std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  // Skip leading dots so ".well-known/x" style names keep their leading dot.
  std::size_t search_from = name_start;
  while (search_from < path.size() && path[search_from] == '.') ++search_from;
  const std::size_t dot = path.find('.', search_from);
  const absl::string_view p(path.data(), path.size());
  const absl::string_view t(tag.data(), tag.size());
  if (dot == std::string_view::npos) return absl::StrCat(p, ".", t);
  return absl::StrCat(p.substr(0, dot), ".", t, p.substr(dot));
}

PreparedFile HashFile(SourceFile file, std::string content) {
  PreparedFile h;
  h.digest = HashBytes(content);
  const std::string b64 = DigestToBase64Url(h.digest);
  h.tag = b64.substr(0, kTagLength);
  h.etag = absl::StrCat("\"", b64, "\"");
  h.tagged_path = TaggedPath(file.path, h.tag);
  h.last_modified = file.mtime;
  h.content = std::move(content);
  h.source = std::move(file);
  return h;
}

absl::StatusOr<std::vector<PreparedFile>> HashFiles(std::vector<SourceFile> files) {
  // Reading is mostly the kernel copying bytes: on every core, it takes a fraction of the time.
  std::vector<PreparedFile> out(files.size());
  std::vector<absl::Status> errors(files.size());
  ParallelFor(files.size(), 0, [&](std::size_t i) {
    SourceFile& file = files[i];
    absl::StatusOr<std::string> content = ReadFile(file.abs_path);
    if (!content.ok()) {
      errors[i] = content.status();
    } else if (content->size() != file.size) {
      errors[i] = absl::AbortedError(absl::StrCat(file.abs_path, ": size changed from ", file.size,
                                                  " to ", content->size(),
                                                  " bytes while generating; run the build again"));
    } else {
      out[i] = HashFile(std::move(file), *std::move(content));
    }
  });
  for (absl::Status& error : errors) {  // the first in path order, whatever the threads did
    if (!error.ok()) return error;
  }
  return out;
}

}  // namespace kv_assets::gen
