# Installs the project's build tree into a fresh prefix for the find_package() tests (a
# ctest fixture), and checks that the package files are where find_package() looks.
#
#   cmake -DBUILD_DIR=... -DPREFIX=... -DLIBDIR=lib -DSOURCE_DIR=... [-DCONFIG=...]
#         -P install_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/test_util.cmake")
kv_test_require(BUILD_DIR PREFIX LIBDIR SOURCE_DIR)

file(REMOVE_RECURSE "${PREFIX}")
set(config "")
if(CONFIG)
  set(config --config "${CONFIG}")
endif()
kv_test_run("cmake --install" TIMEOUT 120
            COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config})

foreach(file IN ITEMS
    "${LIBDIR}/cmake/KvAssets/KvAssetsConfig.cmake"
    "${LIBDIR}/cmake/KvAssets/KvAssetsConfigVersion.cmake"
    "${LIBDIR}/cmake/KvAssets/KvAssetsTargets.cmake"
    "${LIBDIR}/cmake/KvAssets/KvAssets.cmake"
    "include/kv_assets/manifest.h"
    "include/kv_assets/server.h"
    "include/kv_assets/store.h"
    "include/kv_assets/key_value_store.h"
    "bin/kv-assets")
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "not installed: ${PREFIX}/${file}")
  endif()
endforeach()
# Headers only the library's own sources include stay out of the package.
foreach(file IN ITEMS "include/kv_assets/internal/json.h" "include/kv_assets/internal/stores.h")
  if(EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "installed, but not part of the API: ${PREFIX}/${file}")
  endif()
endforeach()
# The tests that use the package test this tree's KvAssets.cmake, not an older one.
file(SHA256 "${SOURCE_DIR}/cmake/KvAssets.cmake" want)
file(SHA256 "${PREFIX}/${LIBDIR}/cmake/KvAssets/KvAssets.cmake" have)
if(NOT want STREQUAL have)
  message(FATAL_ERROR "installed KvAssets.cmake differs from ${SOURCE_DIR}/cmake/KvAssets.cmake")
endif()
