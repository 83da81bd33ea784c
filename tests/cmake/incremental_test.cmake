# Incremental builds of a copy of tests/cmake/consumer that uses the installed package, with
# one generator (Ninja or Unix Makefiles): after each change to public/ the generator must run
# exactly once and the program must serve the change; the build after that must do nothing.
#
#   cmake -DKV_TEST_GENERATOR=Ninja|"Unix Makefiles" -DKV_TEST_CMAKE_MAKE_PROGRAM=...
#         -DCONSUMER_DIR=... -DPREFIX=... -DWORK_DIR=... [-DGIT_EXECUTABLE=...]
#         [-DKV_TEST_...=...] -P incremental_test.cmake
#
# With GIT_EXECUTABLE, the copy then becomes a git repository and public/ is embedded with
# LAST_MODIFIED git: commits and checkouts that change no file must re-run the generator too.
#
# WORK_DIR is removed and made anew; it is removed again when the test passes. It must lie
# outside any git work tree whose ignore rules cover it (the generator applies them).
cmake_minimum_required(VERSION 3.25)
include("${CMAKE_CURRENT_LIST_DIR}/test_util.cmake")
kv_test_require(KV_TEST_GENERATOR CONSUMER_DIR PREFIX WORK_DIR)
set(KV_TEST_STEP_TIMEOUT 60)

set(src "${WORK_DIR}/src")
set(public "${src}/public")
set(build "${WORK_DIR}/build")
set(embedding "Embedding public into consumer")
set(assets ${KV_TEST_CONSUMER_ASSETS})

# A change must be seen even where file times have whole seconds only, and even within one
# tick of the kernel's clock. Where times have fractions of a second, a short pause after a
# build is enough; otherwise wait for the next second (at most one second per change).
function(wait_before_change)
  if(fine_mtimes)
    execute_process(COMMAND "${CMAKE_COMMAND}" -E sleep 0.05)
    return()
  endif()
  string(TIMESTAMP start "%s" UTC)
  foreach(i RANGE 30)
    execute_process(COMMAND "${CMAKE_COMMAND}" -E sleep 0.05)
    string(TIMESTAMP now "%s" UTC)
    if(now GREATER start)
      return()
    endif()
  endforeach()
endfunction()

# A build that must do nothing: no generator, no compile, no link.
function(expect_noop what)
  kv_test_build("${build}" out)
  kv_test_expect_not_in("${out}" "${embedding}" "${what}: the no-op build")
  kv_test_expect_not_in("${out}" "Building CXX" "${what}: the no-op build")
  kv_test_expect_not_in("${out}" "Linking CXX" "${what}: the no-op build")
  if(KV_TEST_GENERATOR MATCHES "Ninja")
    kv_test_expect_in("${out}" "ninja: no work to do" "${what}: the no-op build")
  endif()
endfunction()

# A build after a change to public/: the generator runs exactly once.
function(expect_one_run what out_var)
  kv_test_build("${build}" out)
  kv_test_count(runs "${out}" "${embedding}")
  if(NOT runs EQUAL 1)
    message(FATAL_ERROR "${what}: expected the generator to run once, it ran ${runs} times:\n${out}")
  endif()
  set("${out_var}" "${out}" PARENT_SCOPE)
endfunction()

# The URL `consumer --list` gave for `path` in the last check.
function(url_of var path)
  foreach(line IN LISTS KV_TEST_LIST)
    if(line MATCHES "^([^\t]*)\t(.*)$" AND CMAKE_MATCH_1 STREQUAL path)
      set("${var}" "${CMAKE_MATCH_2}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "no ${path} in consumer --list:\n${KV_TEST_LIST}")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(COPY "${CONSUMER_DIR}/" DESTINATION "${src}")

set(fine_mtimes OFF)
if(NOT KV_TEST_WHOLE_SECOND_MTIMES)  # set it to try the slow path on any machine
  file(WRITE "${WORK_DIR}/probe1" "")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E sleep 0.01)
  file(WRITE "${WORK_DIR}/probe2" "")
  execute_process(COMMAND stat -c %y "${WORK_DIR}/probe1" "${WORK_DIR}/probe2"
                  OUTPUT_VARIABLE times RESULT_VARIABLE rc ERROR_QUIET TIMEOUT 10)
  if(rc EQUAL 0 AND times MATCHES "\\.[0-9]*[1-9]")
    set(fine_mtimes ON)
  endif()
endif()
message(STATUS "${KV_TEST_GENERATOR}: file times with fractions of a second: ${fine_mtimes}")

# First build.
kv_test_configure("${src}" "${build}" -DKV_CONSUMER_USE=package "-DCMAKE_PREFIX_PATH=${PREFIX}"
                  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
expect_one_run("first build" out)
kv_test_check_consumer("${build}" ${assets})

# (i) Nothing changed.
expect_noop("unchanged")
expect_noop("unchanged, again")

# (ii) A new file.
wait_before_change()
file(WRITE "${public}/js/added.js" "export const added = true;\n")
expect_one_run("added js/added.js" out)
list(APPEND assets "js/added.js")
kv_test_check_consumer("${build}" ${assets})
expect_noop("after adding")

# (iii) An edited file gets a new tag; the others keep theirs.
url_of(old_url "js/app.js")
url_of(old_index_url "index.html")
wait_before_change()
file(APPEND "${public}/js/app.js" "export const edited = true;\n")
expect_one_run("edited js/app.js" out)
kv_test_check_consumer("${build}" ${assets})
url_of(new_url "js/app.js")
url_of(new_index_url "index.html")
if(new_url STREQUAL old_url)
  message(FATAL_ERROR "js/app.js was edited but its URL is still ${old_url}")
endif()
if(NOT new_index_url STREQUAL old_index_url)
  message(FATAL_ERROR "index.html did not change, but its URL did: ${old_index_url} -> ${new_index_url}")
endif()
expect_noop("after editing")

# (iv) A deleted file is gone, and the build neither fails nor keeps running the generator
# (Makefiles keep stale depfile entries).
wait_before_change()
file(REMOVE "${public}/js/added.js")
expect_one_run("deleted js/added.js" out)
list(REMOVE_ITEM assets "js/added.js")
kv_test_check_consumer("${build}" ${assets})
expect_noop("after deleting")

# (v) A renamed file: served under its new name only, with the same tag.
url_of(old_url "img/logo.png")
wait_before_change()
file(RENAME "${public}/img/logo.png" "${public}/img/brand.png")
expect_one_run("renamed img/logo.png to img/brand.png" out)
list(REMOVE_ITEM assets "img/logo.png")
list(APPEND assets "img/brand.png")
kv_test_check_consumer("${build}" ${assets})
url_of(new_url "img/brand.png")
string(REPLACE "/logo." "/brand." old_url "${old_url}")
if(NOT new_url STREQUAL old_url)
  message(FATAL_ERROR "img/brand.png: expected ${old_url} (same bytes, same tag), got ${new_url}")
endif()
expect_noop("after renaming")

# A file the generator skips (an editor's swap file) changes only the folder's time: the
# generator may run once, but writes nothing, so nothing is compiled, now or later.
wait_before_change()
file(WRITE "${public}/js/.app.js.swp" "not an asset\n")
kv_test_build("${build}" out)
kv_test_expect_not_in("${out}" "Building CXX" "added a dotfile")
kv_test_expect_not_in("${out}" "Linking CXX" "added a dotfile")
kv_test_check_consumer("${build}" ${assets})
expect_noop("after adding a dotfile")

# A deleted folder: its files are gone and the build does not fail.
wait_before_change()
file(REMOVE_RECURSE "${public}/js")
expect_one_run("deleted js/" out)
list(FILTER assets EXCLUDE REGEX "^js/")
kv_test_check_consumer("${build}" ${assets})
expect_noop("after deleting a folder")

# (vi) References (docs/references.md): a stylesheet that names an image is renamed when the
# image changes, and only what references the image is; then the build does nothing.
# The tagged name of `stem`.<tag>.`ext` in the generated header's string table.
function(tagged_name var stem ext)
  file(READ "${build}/kv_assets/consumer/app_assets.h" header)
  string(REPLACE "." "\\." stem_re "${stem}")
  if(NOT header MATCHES "${stem_re}\\.([A-Za-z0-9_-]+)\\.${ext}")
    message(FATAL_ERROR "no tagged ${stem}.${ext} in the header")
  endif()
  set("${var}" "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()
wait_before_change()
file(WRITE "${public}/css/hero.css" ".hero { background: url(../img/brand.png); }\n")
expect_one_run("added css/hero.css, which names img/brand.png" out)
kv_test_expect_not_in("${out}" "warning:" "added css/hero.css")
tagged_name(hero_before "css/hero" "css")
tagged_name(image_before "img/brand" "png")
tagged_name(site_before "css/site" "css")
expect_noop("after adding a reference")
wait_before_change()
file(APPEND "${public}/img/brand.png" "edited")
expect_one_run("edited img/brand.png" out)
tagged_name(hero_after "css/hero" "css")
tagged_name(image_after "img/brand" "png")
tagged_name(site_after "css/site" "css")
if(image_after STREQUAL image_before OR hero_after STREQUAL hero_before)
  message(FATAL_ERROR "img/brand.png changed: its tag (${image_before} -> ${image_after}) and "
                      "that of css/hero.css, which names it (${hero_before} -> ${hero_after}), "
                      "must both change")
endif()
if(NOT site_after STREQUAL site_before)
  message(FATAL_ERROR "css/site.css names no image, but its tag changed: ${site_before} -> ${site_after}")
endif()
expect_noop("after editing a referenced file")
wait_before_change()
file(REMOVE "${public}/css/hero.css")
expect_one_run("deleted css/hero.css" out)
kv_test_check_consumer("${build}" ${assets})
expect_noop("after deleting css/hero.css")

if(NOT GIT_EXECUTABLE)
  message(STATUS "${KV_TEST_GENERATOR}: no GIT_EXECUTABLE; LAST_MODIFIED git not tried")
  file(REMOVE_RECURSE "${WORK_DIR}")
  return()
endif()

# LAST_MODIFIED git. Commits are dated t0 + n seconds.
set(t0 1600000000)
# git(<seconds> <args>...): git in src/, without the user's configuration; what it commits is
# dated <seconds> since the Unix epoch ("-": now).
function(git seconds)
  set(env GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null)
  if(NOT seconds STREQUAL "-")
    list(APPEND env "GIT_AUTHOR_DATE=@${seconds} +0000" "GIT_COMMITTER_DATE=@${seconds} +0000")
  endif()
  kv_test_run("git ${ARGN}"
              COMMAND "${CMAKE_COMMAND}" -E env ${env} "${GIT_EXECUTABLE}" -C "${src}"
                      -c user.name=KvAssets -c user.email=test@example.com
                      -c commit.gpgsign=false ${ARGN})
endfunction()
# Fails unless the generated header serves `path` with Last-Modified `seconds`.
function(expect_last_modified path seconds what)
  file(READ "${build}/kv_assets/consumer/app_assets.h" header)
  # The row: ..., last_modified_unix, offset, size, first_variant, variant_count},
  string(REPLACE "." "\\." pattern
         "// \"${path}\"\n    {[^\n]*, ${seconds}, [0-9]+, [0-9]+, [0-9]+, [0-9]+},")
  if(NOT header MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: expected ${path} to be dated ${seconds}:\n${header}")
  endif()
endfunction()

git(- init -q -b main)
git(- add -A)
git(${t0} commit -q -m first)
kv_test_run("LAST_MODIFIED ctime" EXPECT_FAILURE OUTPUT out
            COMMAND "${CMAKE_COMMAND}" "${build}" -DKV_CONSUMER_LAST_MODIFIED=ctime)
kv_test_expect_in("${out}" "kv_assets_embed: LAST_MODIFIED 'ctime' must be mtime, git or epoch"
                  "LAST_MODIFIED ctime")
kv_test_run("LAST_MODIFIED git"
            COMMAND "${CMAKE_COMMAND}" "${build}" -DKV_CONSUMER_LAST_MODIFIED=git)
expect_one_run("LAST_MODIFIED git" out)
expect_last_modified("css/site.css" ${t0} "LAST_MODIFIED git")
kv_test_check_consumer("${build}" ${assets})
expect_noop("LAST_MODIFIED git")

# An edit is dated by its mtime until it is committed; the commit changes only HEAD.
math(EXPR t1 "${t0} + 100")
wait_before_change()
file(APPEND "${public}/css/site.css" "/* edited */\n")
expect_one_run("edited css/site.css" out)
expect_noop("after editing css/site.css")
wait_before_change()
git(${t1} commit -q -a -m "edit css")
expect_one_run("committed css/site.css" out)
expect_last_modified("css/site.css" ${t1} "committed css/site.css")
expect_last_modified("index.html" ${t0} "committed css/site.css")
expect_noop("after committing")

# With the branch's ref packed (git gc, a fresh clone) the next commit is seen too, even
# without a reflog (logs/HEAD, which a commit appends to).
wait_before_change()
file(APPEND "${public}/index.html" "<!-- edited -->\n")
expect_one_run("edited index.html" out)
git(- pack-refs --all)
git(- config core.logAllRefUpdates false)
file(REMOVE_RECURSE "${src}/.git/logs")
kv_test_build("${build}" out)  # files it watched are gone: may run, must not fail
expect_noop("after packing refs")
math(EXPR t2 "${t0} + 200")
wait_before_change()
git(${t2} commit -q -a -m "edit index")
expect_one_run("committed index.html onto packed refs" out)
expect_last_modified("index.html" ${t2} "committed index.html")
expect_noop("after committing onto packed refs")

# A checkout of an older commit.
wait_before_change()
git(- checkout -q HEAD~1)
expect_one_run("checked out HEAD~1" out)
expect_last_modified("index.html" ${t0} "checked out HEAD~1")
expect_last_modified("css/site.css" ${t1} "checked out HEAD~1")
kv_test_check_consumer("${build}" ${assets})
expect_noop("after the checkout")

file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "${KV_TEST_GENERATOR}: every change seen once, every other build a no-op")
