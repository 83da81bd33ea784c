# A real icon-font corpus in a real browser: Bootstrap Icons' and Font Awesome's stylesheets
# and fonts from npm, embedded with STRICT (every reference must resolve) by a program built
# against the installed package, then loaded by headless Chromium (browser_check.sh): every
# request a tagged URL, every font family loaded, no integrity failure.
#
#   cmake -DBUILD_DIR=... -DPREFIX=... -DCHROMIUM=... -DNPM_CACHE=... [-DKV_TEST_...=...]
#         -P icon_corpus_test.cmake
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/../cmake/test_util.cmake")
kv_test_require(BUILD_DIR PREFIX CHROMIUM NPM_CACHE)

# Pinned, so the test sees the same bytes on every run; kept in NPM_CACHE between runs.
set(packages "bootstrap-icons@1.13.2|bootstrap-icons-1.13.2.tgz"
             "@fortawesome/fontawesome-free@7.3.1|fortawesome-fontawesome-free-7.3.1.tgz")
find_program(npm npm)
file(MAKE_DIRECTORY "${NPM_CACHE}")
foreach(entry IN LISTS packages)
  string(REPLACE "|" ";" entry "${entry}")
  list(GET entry 0 spec)
  list(GET entry 1 tarball)
  if(NOT EXISTS "${NPM_CACHE}/${tarball}")
    if(NOT npm)
      message(FATAL_ERROR "npm is needed to fetch ${spec} (Node.js's npm)")
    endif()
    kv_test_run("npm pack ${spec}" TIMEOUT 120
                COMMAND "${npm}" pack "${spec}" --pack-destination "${NPM_CACHE}")
  endif()
endforeach()

set(corpus "${BUILD_DIR}/corpus")
file(REMOVE_RECURSE "${corpus}" "${BUILD_DIR}/extract")
file(ARCHIVE_EXTRACT INPUT "${NPM_CACHE}/bootstrap-icons-1.13.2.tgz"
     DESTINATION "${BUILD_DIR}/extract/bi" PATTERNS "package/font/*")
file(ARCHIVE_EXTRACT INPUT "${NPM_CACHE}/fortawesome-fontawesome-free-7.3.1.tgz"
     DESTINATION "${BUILD_DIR}/extract/fa" PATTERNS "package/css/*" "package/webfonts/*")
file(MAKE_DIRECTORY "${corpus}")
file(RENAME "${BUILD_DIR}/extract/bi/package/font" "${corpus}/bootstrap-icons")
file(RENAME "${BUILD_DIR}/extract/fa/package" "${corpus}/fontawesome")

kv_test_configure("${CMAKE_CURRENT_LIST_DIR}/icon_corpus" "${BUILD_DIR}/build"
                  "-DCMAKE_PREFIX_PATH=${PREFIX}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
                  "-DKV_CORPUS_DIR=${corpus}")
kv_test_build("${BUILD_DIR}/build" out)
kv_test_expect_not_in("${out}" "warning:" "the build's output")

kv_test_run("Chromium loads the corpus page" TIMEOUT 180 OUTPUT out
            COMMAND sh "${CMAKE_CURRENT_LIST_DIR}/browser_check.sh" "${CHROMIUM}" 4 "icon corpus"
                    "${BUILD_DIR}/build/icon_app" --port=0)
message(STATUS "${out}")
