#[=======================================================================[.rst:
KvAssets
--------

Embed a folder of web assets into a target and serve it with ``KvAssets::runtime``.

.. command:: kv_assets_embed

  .. code-block:: cmake

    kv_assets_embed(<target> <folder>
                    [NAMESPACE <namespace>]
                    [PREFIX <url-prefix>]
                    [EXCLUDE <pattern>...]
                    [BODIES <incbin|literal>])

  At build time, ``kv-assets generate`` walks ``<folder>`` (relative to the current source
  folder), skipping dotfiles (but not ``.well-known/``) and whatever ``.gitignore`` and
  ``.ignore`` files exclude, and writes ``<namespace>.h`` and ``<namespace>.cc`` into
  ``${CMAKE_CURRENT_BINARY_DIR}/kv_assets/<target>/``. They are added to ``<target>`` as
  private sources, that folder as a private include directory, and ``KvAssets::runtime`` is
  linked publicly. Adding, editing, removing or renaming a file re-runs the generator on the
  next build, without a reconfigure.

  ``NAMESPACE``
    C++ namespace of the generated ``kManifest`` and ``Tag()``; also the header's name
    (``a::b`` gives ``a_b.h``). Default: ``<target>_assets`` with characters that are not
    allowed in an identifier replaced by ``_``.
  ``PREFIX``
    URL path the assets are served under, starting and ending with ``/``. Default ``/``.
  ``EXCLUDE``
    More patterns to skip, with ``.gitignore`` syntax, relative to ``<folder>``.
  ``BODIES``
    How bodies enter the object file: ``incbin`` (an assembler ``.incbin`` of one packed
    file; fastest, GCC and Clang on ELF) or ``literal`` (string literals of at most 16 KB).
    Default: ``incbin`` where it works, else ``literal``.

  Example:

  .. code-block:: cmake

    find_package(KvAssets REQUIRED)
    add_executable(app main.cc)
    kv_assets_embed(app public/ NAMESPACE app_assets PREFIX /static/)

#]=======================================================================]
include_guard(GLOBAL)

# Functions keep the policies in force where they are defined: CMP0116 makes Ninja and
# Makefiles read the generator's depfile the same way.
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)

function(kv_assets_embed target folder)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "NAMESPACE;PREFIX;BODIES" "EXCLUDE")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kv_assets_embed: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(arg_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "kv_assets_embed: missing value for: ${arg_KEYWORDS_MISSING_VALUES}")
  endif()
  if(NOT TARGET "${target}")
    message(FATAL_ERROR "kv_assets_embed: '${target}' is not a target")
  endif()
  if(NOT TARGET KvAssets::kv-assets)
    message(FATAL_ERROR "kv_assets_embed: the generator KvAssets::kv-assets is not available "
                        "(find_package(KvAssets) or add_subdirectory() the project first)")
  endif()

  cmake_path(ABSOLUTE_PATH folder BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
             NORMALIZE OUTPUT_VARIABLE abs_folder)
  if(NOT IS_DIRECTORY "${abs_folder}")
    message(FATAL_ERROR "kv_assets_embed: ${abs_folder}: not a folder")
  endif()

  if(DEFINED arg_NAMESPACE)
    set(namespace "${arg_NAMESPACE}")
  else()
    string(MAKE_C_IDENTIFIER "${target}_assets" namespace)
  endif()
  if(NOT namespace MATCHES "^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$")
    message(FATAL_ERROR "kv_assets_embed: NAMESPACE '${namespace}' is not a C++ namespace name")
  endif()
  string(REPLACE "::" "_" name "${namespace}")

  set(prefix "/")
  if(DEFINED arg_PREFIX)
    set(prefix "${arg_PREFIX}")
  endif()
  if(NOT prefix MATCHES "^/(.*/)?$")
    message(FATAL_ERROR "kv_assets_embed: PREFIX '${prefix}' must start and end with '/'")
  endif()

  if(DEFINED arg_BODIES)
    set(bodies "${arg_BODIES}")
    if(NOT bodies MATCHES "^(incbin|literal)$")
      message(FATAL_ERROR "kv_assets_embed: BODIES '${bodies}' must be incbin or literal")
    endif()
  elseif(CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang)$" AND NOT APPLE AND NOT WIN32)
    set(bodies incbin)
  else()
    set(bodies literal)
  endif()

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/kv_assets/${target}")
  set(header "${out_dir}/${name}.h")
  set(source "${out_dir}/${name}.cc")
  set(blob "${out_dir}/${name}.bin")
  set(depfile "${out_dir}/${name}.d")
  file(MAKE_DIRECTORY "${out_dir}")

  set(excludes "")
  foreach(pattern IN LISTS arg_EXCLUDE)
    list(APPEND excludes "--exclude=${pattern}")
  endforeach()

  add_custom_command(
    OUTPUT "${header}" "${source}"
    BYPRODUCTS "${blob}"
    COMMAND KvAssets::kv-assets generate "${abs_folder}"
            "--out-dir=${out_dir}" "--name=${name}" "--namespace=${namespace}"
            "--prefix=${prefix}" "--bodies=${bodies}" "--depfile=${depfile}"
            ${excludes}
    DEPENDS "$<TARGET_FILE:KvAssets::kv-assets>"
    DEPFILE "${depfile}"
    COMMENT "Embedding ${folder} into ${target}"
    VERBATIM)

  if(bodies STREQUAL "incbin")
    # The compiler's own dependency scan does not see .incbin.
    set_source_files_properties("${source}" PROPERTIES OBJECT_DEPENDS "${blob}")
  endif()
  target_sources("${target}" PRIVATE "${header}" "${source}")
  target_include_directories("${target}" PRIVATE "${out_dir}")
  target_link_libraries("${target}" PUBLIC KvAssets::runtime)
endfunction()

cmake_policy(POP)
