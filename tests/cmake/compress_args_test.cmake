# kv_assets_embed(... COMPRESS ...): a value other than gzip, brotli, zstd, or NONE alone,
# fails the configure with an error that names the function and the value; valid lists
# configure.
#
#   cmake -DCONSUMER_DIR=... -DBUILD_DIR=... -DPREFIX=... [-DKV_TEST_...=...]
#         -P compress_args_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/test_util.cmake")
kv_test_require(CONSUMER_DIR BUILD_DIR PREFIX)

set(package_args -DKV_CONSUMER_USE=package "-DCMAKE_PREFIX_PATH=${PREFIX}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
kv_test_configure("${CONSUMER_DIR}" "${BUILD_DIR}" ${package_args} "-DKV_CONSUMER_COMPRESS=gzip brotli")
kv_test_configure("${CONSUMER_DIR}" "${BUILD_DIR}" ${package_args} -DKV_CONSUMER_COMPRESS=NONE)

foreach(case IN ITEMS "lzma|COMPRESS 'lzma' must be gzip, brotli or zstd"
                      "gzip,br|COMPRESS 'gzip,br' must be gzip, brotli or zstd"
                      "NONE gzip|COMPRESS 'NONE' must be gzip, brotli or zstd (or NONE alone)")
  string(FIND "${case}" "|" bar)
  string(SUBSTRING "${case}" 0 ${bar} value)
  math(EXPR bar "${bar} + 1")
  string(SUBSTRING "${case}" ${bar} -1 message)
  kv_test_run("reconfigure with COMPRESS ${value}" EXPECT_FAILURE OUTPUT out
              COMMAND "${CMAKE_COMMAND}" "${BUILD_DIR}" "-DKV_CONSUMER_COMPRESS=${value}")
  string(REGEX REPLACE "[ \n]+" " " flat "${out}")
  kv_test_expect_in("${flat}" "kv_assets_embed: ${message}" "COMPRESS ${value}")
endforeach()
message(STATUS "ok: invalid COMPRESS values fail the configure")
