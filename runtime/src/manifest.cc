#include "kv_assets/manifest.h"

namespace kv_assets::internal {

// Defined so that the declaration links if someone calls it outside a constant expression;
// in the generated consteval Tag() it only ever turns a missing path into a compile error.
void AssetNotInManifest() {}

}  // namespace kv_assets::internal
