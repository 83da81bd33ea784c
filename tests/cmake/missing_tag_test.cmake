# Tag() of a path that is not in the asset folder must be a compile error that names
# kv_assets::internal::AssetNotInManifest. The same consumer without that line must build, so
# that the failure is known to come from it.
#
#   cmake -DCONSUMER_DIR=... -DBUILD_DIR=... -DPREFIX=... [-DKV_TEST_...=...]
#         -P missing_tag_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/test_util.cmake")
kv_test_require(CONSUMER_DIR BUILD_DIR PREFIX)

kv_test_configure("${CONSUMER_DIR}" "${BUILD_DIR}" -DKV_CONSUMER_USE=package
                  "-DCMAKE_PREFIX_PATH=${PREFIX}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
                  -DKV_CONSUMER_MISSING_TAG=OFF)
kv_test_build("${BUILD_DIR}" out)

kv_test_run("reconfigure with KV_CONSUMER_MISSING_TAG=ON"
            COMMAND "${CMAKE_COMMAND}" "${BUILD_DIR}" -DKV_CONSUMER_MISSING_TAG=ON)
kv_test_build("${BUILD_DIR}" out EXPECT_FAILURE)
# What failed is the compile of main.cc (Ninja: "FAILED: .../main.cc.o", Make: "... main.cc.o]
# Error 1"), with a compiler error that names the function and, in the context, the path.
if(NOT out MATCHES "FAILED: [^\n]*main\\.cc\\.o|main\\.cc\\.o\\] Error")
  message(FATAL_ERROR "the build failed, but not in compiling main.cc:\n${out}")
endif()
kv_test_expect_in("${out}" "error:" "the compiler's output")
kv_test_expect_in("${out}" "AssetNotInManifest" "the compiler's output")
kv_test_expect_in("${out}" "no/such.css" "the compiler's output")
string(REGEX MATCH "[^\n]*error:[^\n]*" error "${out}")
message(STATUS "fails as it should: ${error}")
