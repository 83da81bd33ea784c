// The large folder embedded, to show what the manifest-only build leaves out.
#include <iostream>

#include "app_assets.h"

int main() {
  std::cout << app_assets::kManifest.Body(app_assets::kManifest.assets[0]).size() << "\n";
  return 0;
}
