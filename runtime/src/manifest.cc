#include "kv_assets/manifest.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kv_assets {

namespace internal {
void AssetNotInManifest() {}
}  // namespace internal

absl::StatusOr<std::string_view> Manifest::Tag(std::string_view path) const {
  if (const Asset* asset = Find(path)) return asset->url;
  return absl::NotFoundError(absl::StrCat("no asset \"", absl::string_view(path.data(), path.size()),
                                          "\" in the manifest served under ",
                                          absl::string_view(prefix.data(), prefix.size())));
}

}  // namespace kv_assets
