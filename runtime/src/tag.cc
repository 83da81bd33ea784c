#include "kv_assets/tag.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kv_assets {

absl::StatusOr<std::string_view> Tag(const Manifest& manifest, std::string_view path) {
  if (const Asset* asset = manifest.Find(path)) return asset->url();
  return absl::NotFoundError(
      absl::StrCat("no asset \"", ToAbsl(path), "\" in the manifest served under ",
                   absl::string_view(manifest.prefix.data(), manifest.prefix.size())));
}

}  // namespace kv_assets
