# Configures, builds and runs tests/cmake/consumer in a fresh build folder, getting KvAssets
# either through add_subdirectory() of the source tree or through find_package() of an
# installed copy (with the beast and httplib components), and serves a page through the
# README's two serving programs.
#
#   cmake -DMODE=subdirectory|package -DCONSUMER_DIR=... -DBUILD_DIR=...
#         [-DKV_ASSETS_SOURCE_DIR=... | -DPREFIX=... -DPACKAGE_DIR=...]
#         [-DKV_TEST_GENERATOR=... -DKV_TEST_CMAKE_BUILD_TYPE=... ...] -P consumer_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/test_util.cmake")
kv_test_require(MODE CONSUMER_DIR BUILD_DIR)

if(MODE STREQUAL "subdirectory")
  kv_test_require(KV_ASSETS_SOURCE_DIR)
  kv_test_configure("${CONSUMER_DIR}" "${BUILD_DIR}" -DKV_CONSUMER_SERVE=ON
                    -DKV_CONSUMER_USE=subdirectory "-DKV_ASSETS_SOURCE_DIR=${KV_ASSETS_SOURCE_DIR}")
elseif(MODE STREQUAL "package")
  kv_test_require(PREFIX PACKAGE_DIR)
  kv_test_configure("${CONSUMER_DIR}" "${BUILD_DIR}" -DKV_CONSUMER_SERVE=ON
                    -DKV_CONSUMER_USE=package "-DCMAKE_PREFIX_PATH=${PREFIX}"
                    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  # The package found is the one just installed, not another copy on the machine.
  file(STRINGS "${BUILD_DIR}/CMakeCache.txt" found REGEX "^KvAssets_DIR:")
  if(NOT found STREQUAL "KvAssets_DIR:PATH=${PACKAGE_DIR}")
    message(FATAL_ERROR "find_package(KvAssets) found '${found}', expected ${PACKAGE_DIR}")
  endif()
else()
  message(FATAL_ERROR "MODE=${MODE}: expected subdirectory or package")
endif()

kv_test_build("${BUILD_DIR}" out)
foreach(folder IN ITEMS public more)
  kv_test_count(runs "${out}" "Embedding ${folder} into consumer")
  if(NOT runs EQUAL 1)
    message(FATAL_ERROR "expected the generator to run once for ${folder}/, it ran ${runs} "
                        "times:\n${out}")
  endif()
endforeach()
if(MODE STREQUAL "subdirectory" AND NOT EXISTS "${BUILD_DIR}/kv_assets/generator/kv-assets")
  message(FATAL_ERROR "add_subdirectory(): the generator was not built in the consumer's tree")
endif()
# A second build does nothing: in particular the generator does not run again (with
# add_subdirectory() and Makefiles, the step after the generator once lost the path of the
# script it runs, and every build regenerated).
kv_test_build("${BUILD_DIR}" again)
kv_test_count(runs "${again}" "Embedding ")
if(NOT runs EQUAL 0)
  message(FATAL_ERROR "a build with nothing changed ran the generator again:\n${again}")
endif()
kv_test_check_consumer("${BUILD_DIR}" ${KV_TEST_CONSUMER_ASSETS})
# The README's serving programs: a page and its tagged stylesheet through each component.
foreach(program IN ITEMS beast_app httplib_app)
  kv_test_run("serve through ${program}"
              COMMAND sh "${CMAKE_CURRENT_LIST_DIR}/serve_and_fetch.sh" "${BUILD_DIR}/${program}"
                      "${CONSUMER_DIR}/public/css/site.css")
endforeach()
kv_test_run("serve public/ live through live_app"
            COMMAND "${CMAKE_COMMAND}" -E env "KV_ASSETS_LIVE=${CONSUMER_DIR}/public"
                    "${BUILD_DIR}/live_app")
message(STATUS "ok: ${KV_TEST_LIST}")
