# Manifest-only builds through find_package(KvAssets): the binary's size does not grow with
# the assets, the sync target is not part of a normal build, and after it the program serves
# every asset from the store.
#
#   cmake -DCONSUMER_DIR=... -DPREFIX=... -DBUILD_DIR=... -DWORK_DIR=... [-DKV_TEST_...]
#         -P store_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/test_util.cmake")
kv_test_require(CONSUMER_DIR PREFIX BUILD_DIR WORK_DIR)

# Outside any git work tree (see tests/cmake/CMakeLists.txt).
set(assets "${WORK_DIR}/assets")
set(store "${WORK_DIR}/store")
file(REMOVE_RECURSE "${assets}" "${store}")
foreach(size IN ITEMS small large)
  file(WRITE "${assets}/${size}/css/site.css" "body { margin: 0 }\n")
  file(WRITE "${assets}/${size}/js/app.js" "console.log('hi');\n")
endforeach()
# 4 MiB more in the large folder, in files the compiler would otherwise have to carry.
string(RANDOM LENGTH 4096 block)
string(REPEAT "${block}" 256 mebibyte)
foreach(i RANGE 1 4)
  file(WRITE "${assets}/large/media/blob${i}.bin" "${i}${mebibyte}")
endforeach()

kv_test_configure("${CONSUMER_DIR}" "${BUILD_DIR}" "-DCMAKE_PREFIX_PATH=${PREFIX}"
                  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "-DKV_TEST_ASSETS_DIR=${assets}"
                  "-DKV_TEST_STORE_DIR=${store}")
kv_test_build("${BUILD_DIR}" out)
if(EXISTS "${store}")
  message(FATAL_ERROR "a normal build wrote to the store ${store}; only the sync target may")
endif()

# The programs' sizes on disk (RelWithDebInfo: debug information included).
foreach(name IN ITEMS small large embedded_small embedded_large)
  file(GLOB_RECURSE found LIST_DIRECTORIES false "${BUILD_DIR}/${name}" "${BUILD_DIR}/*/${name}")
  list(GET found 0 ${name}_bin)
  file(SIZE "${${name}_bin}" ${name}_size)
endforeach()
math(EXPR growth "${large_size} - ${small_size}")
math(EXPR embedded_growth "${embedded_large_size} - ${embedded_small_size}")
message(STATUS "manifest-only: small ${small_size} bytes, large ${large_size} bytes "
               "(+4 MiB of assets: +${growth}); embedded: +${embedded_growth}")
# Four more manifest rows and their strings, and the code that walks them: kilobytes, where
# the same assets embedded add their 4 MiB.
if(growth GREATER 65536)
  message(FATAL_ERROR "the manifest-only binary grew by ${growth} bytes with 4 MiB more assets")
endif()
if(embedded_growth LESS 4194304)
  message(FATAL_ERROR "the embedded build grew by only ${embedded_growth} bytes: is it embedding?")
endif()

set(config "")
if(KV_TEST_CMAKE_BUILD_TYPE)
  set(config --config "${KV_TEST_CMAKE_BUILD_TYPE}")
endif()
kv_test_run("sync" OUTPUT synced
            COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target large_kv_assets_sync ${config})
kv_test_expect_in("${synced}" "6 of 6 bodies missing" "the first sync")
kv_test_run("sync again" OUTPUT synced
            COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target large_kv_assets_sync ${config})
kv_test_expect_in("${synced}" "0 of 6 bodies missing" "the second sync")
kv_test_run("serve the large build" COMMAND "${large_bin}" "${assets}/large")
# The small build's bodies are a subset: same namespace, same content, same keys.
kv_test_run("serve the small build" COMMAND "${small_bin}" "${assets}/small")

# A file changed since the build: the sync target builds first, so it uploads the new body.
file(WRITE "${assets}/large/css/site.css" "body { margin: 1px }\n")
kv_test_run("sync after an edit" OUTPUT synced
            COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target large_kv_assets_sync ${config})
kv_test_expect_in("${synced}" "1 of 6 bodies missing" "the sync after an edit")
kv_test_run("serve the rebuilt large build" COMMAND "${large_bin}" "${assets}/large")
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "ok")
