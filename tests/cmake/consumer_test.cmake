# Configures, builds and runs tests/cmake/consumer in a fresh build folder, getting KvAssets
# either through add_subdirectory() of the source tree or through find_package() of an
# installed copy (with the beast and httplib components), and serves a page through the
# README's two serving programs.
#
#   cmake -DMODE=subdirectory|package -DCONSUMER_DIR=... -DBUILD_DIR=...
#         [-DKV_ASSETS_SOURCE_DIR=... | -DPREFIX=... -DPACKAGE_DIR=...
#          | -DMODE=buildtree -DPACKAGE_DIR=<KvAssets build folder> -DGENERATOR=<kv-assets>]
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
elseif(MODE STREQUAL "buildtree")
  # KvAssets' build folder as the package, and KV_ASSETS_GENERATOR (as in a cross build)
  # pointing at a wrapper that logs each run before it runs the real generator.
  kv_test_require(PACKAGE_DIR GENERATOR)
  set(wrapper "${BUILD_DIR}-generator/prebuilt-generator")
  set(log "${wrapper}.log")
  file(REMOVE_RECURSE "${BUILD_DIR}-generator")
  file(WRITE "${wrapper}"
       "#!/bin/sh\necho \"$*\" >> '${log}'\nexec '${GENERATOR}' \"$@\"\n")
  file(CHMOD "${wrapper}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  kv_test_configure("${CONSUMER_DIR}" "${BUILD_DIR}" -DKV_CONSUMER_SERVE=ON
                    -DKV_CONSUMER_USE=package "-DKvAssets_DIR:PATH=${PACKAGE_DIR}"
                    "-DKV_ASSETS_GENERATOR:FILEPATH=${wrapper}")
else()
  message(FATAL_ERROR "MODE=${MODE}: expected subdirectory, package or buildtree")
endif()

kv_test_build("${BUILD_DIR}" out)
# Once per embed: public/ into consumer and, for both serving programs, into the one static
# library they link.
foreach(embed IN ITEMS "public into consumer" "more into consumer" "public into site_assets")
  kv_test_count(runs "${out}" "Embedding ${embed}")
  if(NOT runs EQUAL 1)
    message(FATAL_ERROR "expected the generator to run once embedding ${embed}, it ran "
                        "${runs} times:\n${out}")
  endif()
endforeach()
if(MODE STREQUAL "buildtree")
  file(STRINGS "${log}" generator_runs REGEX "^generate ")
  list(LENGTH generator_runs generator_runs)
  if(NOT generator_runs EQUAL 3)
    message(FATAL_ERROR "KV_ASSETS_GENERATOR: expected 3 runs of the prebuilt generator, "
                        "logged ${generator_runs} in ${log}")
  endif()
endif()
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
