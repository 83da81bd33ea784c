# kv_assets_embed(... STRICT) and (... REWRITE NONE) in a user's build: a stylesheet that
# references a file the folder lacks builds with a warning naming the file, the line and the
# reference; STRICT fails the build with it; REWRITE NONE builds without it; a REWRITE value
# other than ALL or NONE fails the configure.
#
#   cmake -DBUILD_DIR=... -DPREFIX=... [-DKV_TEST_...=...] -P references_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/test_util.cmake")
kv_test_require(BUILD_DIR PREFIX)

set(source "${BUILD_DIR}/source")
file(REMOVE_RECURSE "${source}")
file(WRITE "${source}/public/css/site.css" "body{margin:0}\n.logo{background:url(../img/gone.png)}\n")
file(WRITE "${source}/public/img/here.png" "png")
file(WRITE "${source}/main.cc" [=[
#include <string_view>
#include "app_assets.h"
int main() { return app_assets::Tag("css/site.css").empty() ? 1 : 0; }
]=])

# The project, with `args` after kv_assets_embed's folder.
function(write_project args)
  file(WRITE "${source}/CMakeLists.txt" "
cmake_minimum_required(VERSION 3.25)
project(references_test CXX)
find_package(KvAssets REQUIRED)
add_executable(app main.cc)
kv_assets_embed(app public NAMESPACE app_assets ${args})
")
endfunction()

set(configure_args "-DCMAKE_PREFIX_PATH=${PREFIX}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
set(warning "site.css:2: warning: ../img/gone.png: no file img/gone.png in the asset folder")

write_project("")
kv_test_configure("${source}" "${BUILD_DIR}/build" ${configure_args})
kv_test_build("${BUILD_DIR}/build" out)
kv_test_expect_in("${out}" "${warning}" "the build's output")
message(STATUS "ok: a missing reference is a warning")

write_project("STRICT")
kv_test_configure("${source}" "${BUILD_DIR}/build" ${configure_args})
kv_test_build("${BUILD_DIR}/build" out EXPECT_FAILURE)
kv_test_expect_in("${out}" "1 reference(s) to files not in the asset folder (STRICT)" "the build's output")
kv_test_expect_in("${out}" "${warning}" "the build's output")
message(STATUS "ok: STRICT fails the build")

write_project("STRICT REWRITE NONE")
kv_test_configure("${source}" "${BUILD_DIR}/build" ${configure_args})
kv_test_build("${BUILD_DIR}/build" out)
kv_test_expect_not_in("${out}" "warning: ../img/gone.png" "the build's output")
message(STATUS "ok: REWRITE NONE leaves references alone")

write_project("REWRITE SOME")
kv_test_run("configure with REWRITE SOME" EXPECT_FAILURE OUTPUT out
            COMMAND "${CMAKE_COMMAND}" -S "${source}" -B "${BUILD_DIR}/bad" ${configure_args})
string(REGEX REPLACE "[ \n]+" " " flat "${out}")
kv_test_expect_in("${flat}" "kv_assets_embed: REWRITE 'SOME' must be ALL or NONE" "configure")
message(STATUS "ok: an invalid REWRITE fails the configure")
