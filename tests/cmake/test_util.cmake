# Helpers for the `cmake -P` test drivers in this folder. Every command runs with a timeout;
# any failure is a FATAL_ERROR (exit code 1) that shows the command's output.

if(NOT DEFINED KV_TEST_STEP_TIMEOUT)
  set(KV_TEST_STEP_TIMEOUT 240)  # seconds for one configure or build
endif()
cmake_host_system_information(RESULT kv_test_jobs QUERY NUMBER_OF_LOGICAL_CORES)

# Fails unless every named variable was given with -D.
function(kv_test_require)
  foreach(var IN LISTS ARGN)
    if(NOT DEFINED "${var}")
      message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE}: needs -D${var}=...")
    endif()
  endforeach()
endfunction()

# kv_test_run(<what> [EXPECT_FAILURE] [TIMEOUT <s>] [OUTPUT <var>] COMMAND <command>...)
# Runs the command (stdout and stderr merged into <var>) and fails with <what> unless it exits
# with 0 (or, with EXPECT_FAILURE, unless it exits with something else, in time).
function(kv_test_run what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "EXPECT_FAILURE" "TIMEOUT;OUTPUT" "COMMAND")
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT ${KV_TEST_STEP_TIMEOUT})
  endif()
  execute_process(COMMAND ${arg_COMMAND}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out
                  TIMEOUT ${arg_TIMEOUT})
  string(JOIN " " shown ${arg_COMMAND})
  if(NOT rc MATCHES "^-?[0-9]+$")  # "Process terminated due to timeout" and the like
    message(FATAL_ERROR "${what}: ${rc} (${arg_TIMEOUT} s)\n  ${shown}\n${out}")
  elseif(arg_EXPECT_FAILURE AND rc EQUAL 0)
    message(FATAL_ERROR "${what}: succeeded, but it must fail\n  ${shown}\n${out}")
  elseif(NOT arg_EXPECT_FAILURE AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: exit code ${rc}\n  ${shown}\n${out}")
  endif()
  if(arg_OUTPUT)
    set("${arg_OUTPUT}" "${out}" PARENT_SCOPE)
  endif()
endfunction()

# kv_test_configure(<source> <build> [<cmake args>...]): a fresh configure of <source> in
# <build> with the compiler, build type and dependencies of the project under test.
function(kv_test_configure source build)
  file(REMOVE_RECURSE "${build}")
  set(args -S "${source}" -B "${build}" -Wno-dev)
  if(KV_TEST_GENERATOR)
    list(APPEND args -G "${KV_TEST_GENERATOR}")
  endif()
  foreach(var IN ITEMS CMAKE_MAKE_PROGRAM CMAKE_CXX_COMPILER CMAKE_BUILD_TYPE absl_DIR
                       CMAKE_CXX_FLAGS CMAKE_EXE_LINKER_FLAGS)
    if(KV_TEST_${var})
      list(APPEND args "-D${var}=${KV_TEST_${var}}")
    endif()
  endforeach()
  # These tests check what CMake does, not what the optimizer does: without optimization or
  # debug information their builds take half the time. The build type, and so the folders
  # multi-config generators use, stays the same.
  if(KV_TEST_QUICK_COMPILE)
    foreach(config IN ITEMS DEBUG RELEASE RELWITHDEBINFO MINSIZEREL)
      list(APPEND args "-DCMAKE_CXX_FLAGS_${config}=-O0")
    endforeach()
  endif()
  kv_test_run("configure ${source} in ${build}" COMMAND "${CMAKE_COMMAND}" ${args} ${ARGN})
endfunction()

# kv_test_build(<build> <output var> [EXPECT_FAILURE]): builds everything in <build>.
function(kv_test_build build out_var)
  set(config "")
  if(KV_TEST_CMAKE_BUILD_TYPE)
    set(config --config "${KV_TEST_CMAKE_BUILD_TYPE}")
  endif()
  kv_test_run("build ${build}" ${ARGN} OUTPUT out
              COMMAND "${CMAKE_COMMAND}" --build "${build}" ${config} --parallel ${kv_test_jobs})
  set("${out_var}" "${out}" PARENT_SCOPE)
endfunction()

# kv_test_count(<var> <text> <literal>): how often <literal> occurs in <text>.
function(kv_test_count var text literal)
  string(LENGTH "${text}" before)
  string(REPLACE "${literal}" "" rest "${text}")
  string(LENGTH "${rest}" after)
  string(LENGTH "${literal}" length)
  math(EXPR n "(${before} - ${after}) / ${length}")
  set("${var}" ${n} PARENT_SCOPE)
endfunction()

# kv_test_expect_in(<text> <literal> <what>) / kv_test_expect_not_in(...)
function(kv_test_expect_in text literal what)
  string(FIND "${text}" "${literal}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what}: expected \"${literal}\" in:\n${text}")
  endif()
endfunction()
function(kv_test_expect_not_in text literal what)
  string(FIND "${text}" "${literal}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "${what}: did not expect \"${literal}\" in:\n${text}")
  endif()
endfunction()

# kv_test_check_consumer(<build> <expected paths...>): runs the consumer's own checks (every
# asset served with the bytes and headers of its file) and compares `consumer --list`'s
# paths with the expected ones. Sets KV_TEST_LIST in the caller to the list's lines.
function(kv_test_check_consumer build)
  set(exe "${build}/consumer")
  if(KV_TEST_CMAKE_BUILD_TYPE AND EXISTS "${build}/${KV_TEST_CMAKE_BUILD_TYPE}/consumer")
    set(exe "${build}/${KV_TEST_CMAKE_BUILD_TYPE}/consumer")  # multi-config generators
  endif()
  kv_test_run("consumer's checks" TIMEOUT 30 OUTPUT out COMMAND "${exe}")
  kv_test_expect_in("${out}" "ok: " "consumer's checks")
  kv_test_run("consumer --list" TIMEOUT 30 OUTPUT out COMMAND "${exe}" --list)
  string(REGEX REPLACE "\n$" "" out "${out}")
  string(REPLACE "\n" ";" lines "${out}")
  set(paths "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "\t.*" "" path "${line}")
    list(APPEND paths "${path}")
  endforeach()
  set(expected "${ARGN}")
  list(SORT expected)
  if(NOT paths STREQUAL expected)
    string(REPLACE ";" "\n  " paths "${paths}")
    string(REPLACE ";" "\n  " expected "${expected}")
    message(FATAL_ERROR "consumer --list: expected\n  ${expected}\nbut got\n  ${paths}")
  endif()
  set(KV_TEST_LIST "${lines}" PARENT_SCOPE)
endfunction()

# The assets of consumer/public/, sorted bytewise like the manifest.
set(KV_TEST_CONSUMER_ASSETS
  "css/site.css" "docs/read me.txt" "i18n/grüße.txt" "img/logo.png" "index.html" "js/app.js")
