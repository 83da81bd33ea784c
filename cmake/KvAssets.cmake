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
                    [BODIES <incbin|literal>]
                    [COMPRESS <gzip|brotli|zstd>... | COMPRESS NONE]
                    [COMPRESS_LEVEL <fast|max>]
                    [LAST_MODIFIED <mtime|git|epoch>]
                    [REWRITE <ALL|NONE>] [STRICT]
                    [STORE <url>])

  At build time, ``kv-assets generate`` walks ``<folder>`` (relative to the current source
  folder), skipping dotfiles (but not ``.well-known/``) and whatever ``.gitignore`` and
  ``.ignore`` files exclude, and writes ``<namespace>.h`` and ``<namespace>.cc`` into
  ``${CMAKE_CURRENT_BINARY_DIR}/kv_assets/<target>/``. They are added to ``<target>`` as
  private sources, that folder as a public include directory, and ``KvAssets::runtime`` is
  linked publicly, so one embed in a library serves every target that links it::

    add_library(site_assets STATIC)
    kv_assets_embed(site_assets public/ NAMESPACE site)
    target_link_libraries(app PRIVATE site_assets)     # #include "site.h" in app and in
    target_link_libraries(admin PRIVATE site_assets)   # admin; the bytes are linked once

  Adding, editing, removing or renaming a file re-runs the generator on the
  next build, without a reconfigure.

  ``NAMESPACE``
    C++ namespace of the generated ``kManifest`` and ``Tag()``; also the header's name
    (``a::b`` gives ``a_b.h``). Default: ``<target>_assets`` with characters that are not
    allowed in an identifier replaced by ``_``.
  ``PREFIX``
    URL path the assets are served under, starting and ending with ``/``. Default ``/``.
    Each segment must be a name the server can match: not empty, ``.`` or ``..``, valid UTF-8
    without control characters (the generator says which is wrong).
  ``EXCLUDE``
    More patterns to skip, with ``.gitignore`` syntax, relative to ``<folder>``.
  ``BODIES``
    How bodies enter the object file: ``incbin`` (an assembler ``.incbin`` of one packed
    file; fastest, GCC and Clang on ELF) or ``literal`` (string literals of at most 16 KB).
    Default: ``incbin`` where it works, else ``literal``.
  ``COMPRESS``
    Content codings to precompress with, any of ``gzip``, ``brotli`` and ``zstd``, or
    ``NONE``. Default: ``gzip brotli``. (zstd is not in the default: every browser that
    accepts zstd accepts br too and gets br, which is smaller; zstd at level 19 would add a
    quarter to a cold build for almost nothing.) Only types that compress (text, JSON, SVG,
    WebAssembly, uncompressed fonts, ...) are, never PNG, JPEG, WOFF2 and the like, and a
    variant is kept only when it saves at least 10 % and 32 bytes.
  ``COMPRESS_LEVEL``
    ``max`` (gzip 9, brotli 11, zstd 19: the smallest bytes, about 1 MB/s per core for
    brotli) or ``fast`` (gzip 6, brotli 5, zstd 3: a few percent larger, more than ten times
    faster). Default: ``fast`` in the ``Debug`` configuration, ``max`` in the others (an
    empty ``CMAKE_BUILD_TYPE`` included, so a build that says nothing ships the smallest). The
    files' ETags and tags do not depend on it; the variants' ETags do (``"...-br-fast"``).

  Compressed variants are cached between builds, shared by every build folder of the
  machine (as ccache does): in ``$KV_ASSETS_CACHE_DIR`` when that is set while the build runs,
  else ``$XDG_CACHE_HOME/kv-assets`` or ``~/.cache/kv-assets``, trimmed to
  ``$KV_ASSETS_CACHE_MAX_SIZE`` (default ``1G``), least recently used first. CI can keep
  that folder between runs. Setting ``KV_ASSETS_CACHE_DIR`` to the empty string, or the
  CMake option ``KV_ASSETS_SHARED_CACHE`` to ``OFF``, keeps a private cache in each build
  folder instead.
  ``LAST_MODIFIED``
    Where each file's ``Last-Modified`` comes from. Default ``mtime``.

    ``mtime``
      The file's modification time; when the environment variable ``SOURCE_DATE_EPOCH`` is
      set while the build runs, that instead, for every file (a checkout's mtimes are the
      time of the checkout, so reproducible builds cannot use them).
    ``git``
      The committer time of the last commit that changed the file, as
      ``git log -1 --format=%ct -- <file>`` prints it: the same for every checkout of a
      commit. Files that are not committed, or whose content differs from ``HEAD``'s, are
      dated as in ``mtime`` mode. ``<folder>`` must be in a git work tree. In a shallow
      clone the oldest fetched commit counts as having changed every file it contains (a
      depth-1 clone dates every file at ``HEAD``'s commit). A commit or checkout re-runs
      the generator on the next build.
    ``epoch``
      ``SOURCE_DATE_EPOCH`` for every file; the build fails when it is not set.

    No file is ever dated later than the moment the generator runs.
  ``REWRITE``
    ``ALL`` (the default): references between files are rewritten to tagged names, so a
    stylesheet's fonts and images, and a script's source map, are served immutable too; a
    file's tag then covers what it references (``docs/references.md``). ``NONE``: every
    file is served as it is in ``<folder>``.
  ``STRICT``
    A reference to a file that is not in ``<folder>`` fails the build. Without it, each is
    a warning in the build output naming the file, the line and the reference, and the
    reference stays as written.
  ``STORE``
    A manifest-only build: the generated header holds the whole manifest and a
    ``kStore`` constant (``<url>``) but no body, so the binary's size does not depend on
    the assets, and ``KvAssets::stores`` is linked too (see ``kv_assets/store.h``). The
    bodies are uploaded by ``kv-assets sync``, which the target ``<target>_kv_assets_sync``
    runs (it builds ``<target>`` first, and is not part of ``all``): ``cmake --build build
    --target app_kv_assets_sync``. Keys are content-addressed, below the header's name
    (``app_assets/css/site.<tag>.css``). ``<url>`` is ``dir:<path>``,
    ``redis://<host>[:<port>][/<db>]`` or ``cloudflare-kv://<account>/<namespace-id>``
    (token from ``CLOUDFLARE_API_TOKEN``). ``<name>.sync-args``, beside the header, holds
    the same command line without ``--store``, one argument a line, for scripts that sync
    to another store (``docs/stores.md``, "Deploying several versions").

  Example:

  .. code-block:: cmake

    find_package(KvAssets REQUIRED)
    add_executable(app main.cc)
    kv_assets_embed(app public/ NAMESPACE app_assets PREFIX /static/)

#]=======================================================================]
include_guard(GLOBAL)

# Functions keep the policies in force where they are defined (CMP0116: Ninja reads the
# generator's depfile with paths relative to the current binary folder, as Makefiles do).
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)

# A path as the generator writes it in a depfile: "\ " for a space, "\#" for '#', "$$" for '$'.
function(_kv_assets_depfile_escape out path)
  string(REPLACE "$" "$$" path "${path}")
  string(REPLACE " " "\\ " path "${path}")
  string(REPLACE "#" "\\#" path "${path}")
  set("${out}" "${path}" PARENT_SCOPE)
endfunction()

# Makefile generators only: the step after the generator (`cmake -P KvAssets.cmake`; see
# kv_assets_embed()). It rewrites the generator's depfile for a stamp, the rule's one output:
#  - The generator writes a file only when its content changed, but Make has no "restat":
#    after a run that changed nothing (say a dotfile was added, which changes the folder's
#    mtime) the header would stay older than its inputs and the generator would run on every
#    build. The stamp is touched on every run.
#  - When the list of inputs changed, CMake's merged copy of the target's depfiles
#    (CMakeFiles/<target>.dir/compiler_depend.internal) is removed. CMake 3.25's Makefile
#    generators add a custom command's new depfile entries to the old ones instead of
#    replacing them, so a deleted asset would stay a prerequisite forever, and Make runs a
#    rule with a missing prerequisite on every build. Without that file, CMake reads every
#    depfile of the target afresh, before anything of the target is compiled. Where the file
#    does not exist (another CMake), removing it does nothing.
function(_kv_assets_after_generate)
  foreach(var IN ITEMS GENERATED_DEPFILE DEPFILE STAMP HEADER SOURCE MANIFEST_JSON MERGED_DEPENDS)
    if(NOT DEFINED "KV_ASSETS_${var}")
      message(FATAL_ERROR "KvAssets.cmake: script mode needs -DKV_ASSETS_${var}=...")
    endif()
  endforeach()

  file(READ "${KV_ASSETS_GENERATED_DEPFILE}" deps)
  _kv_assets_depfile_escape(header_target "${KV_ASSETS_HEADER}")
  string(LENGTH "${header_target}:" target_length)
  string(SUBSTRING "${deps}" 0 ${target_length} target)
  if(NOT target STREQUAL "${header_target}:")
    message(FATAL_ERROR "kv-assets: ${KV_ASSETS_GENERATED_DEPFILE}: expected it to begin with "
                        "'${header_target}:'")
  endif()
  string(SUBSTRING "${deps}" ${target_length} -1 inputs)
  string(REGEX REPLACE "\n+$" "" inputs "${inputs}")
  _kv_assets_depfile_escape(stamp "${KV_ASSETS_STAMP}")
  set(content "${stamp}:${inputs}")
  # The outputs too: one that was deleted by hand is made again.
  foreach(output IN ITEMS "${KV_ASSETS_HEADER}" "${KV_ASSETS_SOURCE}" "${KV_ASSETS_MANIFEST_JSON}")
    if(output)
      _kv_assets_depfile_escape(output "${output}")
      string(APPEND content " \\\n  ${output}")
    endif()
  endforeach()
  string(APPEND content "\n")

  set(old "")
  if(EXISTS "${KV_ASSETS_DEPFILE}")
    file(READ "${KV_ASSETS_DEPFILE}" old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE "${KV_ASSETS_DEPFILE}" "${content}")
    file(REMOVE "${KV_ASSETS_MERGED_DEPENDS}")
  endif()
  file(TOUCH "${KV_ASSETS_STAMP}")
endfunction()

# STORE <url>: the generator's command with --store, in `out`, and the target that uploads
# the bodies. Sync runs the generator's own command line with `sync` for `generate`, so both
# see the same folder with the same options, and sync refuses a folder whose manifest
# differs from the one the build compiled in (<out-dir>/<name>.manifest.json).
function(_kv_assets_store out target url generate)
  if(NOT url MATCHES "^(dir:.+|redis://.+|cloudflare-kv://[^/]+/[^/]+)$")
    message(FATAL_ERROR "kv_assets_embed: STORE '${url}' must be dir:<path>, "
                        "redis://<host>[:<port>][/<db>] or cloudflare-kv://<account>/<namespace>")
  endif()
  if(url MATCHES "^dir:" AND NOT url MATCHES "^dir:/")
    # Relative to the build folder, where the sync target runs.
    string(SUBSTRING "${url}" 4 -1 path)
    cmake_path(ABSOLUTE_PATH path BASE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}" NORMALIZE)
    set(url "dir:${path}")
  endif()
  list(APPEND generate "--store=${url}")
  set(sync ${generate})
  set(result ${generate})
  list(TRANSFORM sync REPLACE "^generate$" "sync")
  # One target per embed, and <target>_kv_assets_sync for all of a target's.
  list(FILTER generate INCLUDE REGEX "^--name=")
  string(REPLACE "--name=" "" name "${generate}")
  set(one "${target}_${name}_kv_assets_sync")
  add_custom_target("${one}"
    COMMAND ${sync}
    COMMENT "Uploading the bodies of ${target}'s ${name} to ${url}"
    VERBATIM)
  add_dependencies("${one}" "${target}")
  if(NOT TARGET "${target}_kv_assets_sync")
    add_custom_target("${target}_kv_assets_sync")
  endif()
  add_dependencies("${target}_kv_assets_sync" "${one}")
  # The same command line, one argument a line and without --store, for scripts that upload
  # elsewhere (a staging store, a test's redis-server): append --store=<url> and run it.
  list(FILTER sync EXCLUDE REGEX "^--store=")
  list(TRANSFORM sync REPLACE "^KvAssets::kv-assets$" "$<TARGET_FILE:KvAssets::kv-assets>")
  set(out_dir ${result})
  list(FILTER out_dir INCLUDE REGEX "^--out-dir=")
  string(REPLACE "--out-dir=" "" out_dir "${out_dir}")
  get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  set(args_file "${out_dir}/${name}.sync-args")
  if(multi_config)
    set(args_file "${out_dir}/${name}.$<CONFIG>.sync-args")
  endif()
  file(GENERATE OUTPUT "${args_file}" CONTENT "$<JOIN:${sync},\n>\n")
  target_link_libraries("${target}" PUBLIC KvAssets::stores)
  set("${out}" "${result}" PARENT_SCOPE)
endfunction()

# The generator's --compress= flag for kv_assets_embed()'s COMPRESS values (empty: the default).
function(_kv_assets_compress_flag out codings)
  if(NOT codings)
    set("${out}" "" PARENT_SCOPE)  # the generator's default
    return()
  endif()
  if(codings STREQUAL "NONE")
    set("${out}" "--compress=none" PARENT_SCOPE)
    return()
  endif()
  set(tokens "")
  foreach(coding IN LISTS codings)
    if(coding STREQUAL "gzip" OR coding STREQUAL "zstd")
      list(APPEND tokens "${coding}")
    elseif(coding STREQUAL "brotli")
      list(APPEND tokens br)
    else()
      message(FATAL_ERROR "kv_assets_embed: COMPRESS '${coding}' must be gzip, brotli or zstd "
                          "(or NONE alone)")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES tokens)
  list(JOIN tokens "," tokens)
  set("${out}" "--compress=${tokens}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)  # cmake -P KvAssets.cmake
  _kv_assets_after_generate()
  cmake_policy(POP)
  return()
endif()

option(KV_ASSETS_SHARED_CACHE
       "kv_assets_embed(): share compressed variants between build folders (see KvAssets.cmake)"
       ON)

# KV_ASSETS_GENERATOR (cross builds): KvAssets::kv-assets becomes the prebuilt generator at
# `path`, run on the build machine. The one place that does it, for the source tree
# (CMakeLists.txt, where no generator is built then) and for the installed package
# (KvAssetsConfig.cmake, where it replaces the packaged one in every configuration).
function(_kv_assets_use_prebuilt_generator path)
  if(NOT TARGET KvAssets::kv-assets)
    add_executable(KvAssets::kv-assets IMPORTED GLOBAL)
  endif()
  set_target_properties(KvAssets::kv-assets PROPERTIES IMPORTED_LOCATION "${path}")
  get_target_property(configs KvAssets::kv-assets IMPORTED_CONFIGURATIONS)
  if(configs)
    foreach(config IN LISTS configs)
      set_target_properties(KvAssets::kv-assets PROPERTIES "IMPORTED_LOCATION_${config}" "${path}")
    endforeach()
  endif()
endfunction()

function(kv_assets_embed target folder)
  cmake_parse_arguments(PARSE_ARGV 2 arg "STRICT"
                        "NAMESPACE;PREFIX;BODIES;LAST_MODIFIED;STORE;COMPRESS_LEVEL;REWRITE"
                        "EXCLUDE;COMPRESS")
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

  _kv_assets_compress_flag(compress "${arg_COMPRESS}")
  if(NOT DEFINED arg_COMPRESS_LEVEL)
    set(level "--level=$<IF:$<CONFIG:Debug>,fast,max>")
  elseif(arg_COMPRESS_LEVEL MATCHES "^(fast|max)$")
    set(level "--level=${arg_COMPRESS_LEVEL}")
  else()
    message(FATAL_ERROR "kv_assets_embed: COMPRESS_LEVEL '${arg_COMPRESS_LEVEL}' must be fast or max")
  endif()
  # Ninja's console pool: the generator's progress lines show while it runs, not all at once
  # when it ends. Embeds then run one at a time, each on every core, beside the build's other
  # jobs (bench/README.md, "Cold builds"). KV_ASSETS_EMBED_USES_TERMINAL=OFF runs them in
  # Ninja's normal pool instead.
  set(terminal USES_TERMINAL)
  if(DEFINED KV_ASSETS_EMBED_USES_TERMINAL AND NOT KV_ASSETS_EMBED_USES_TERMINAL)
    set(terminal "")
  endif()
  set(cache "")
  if(NOT KV_ASSETS_SHARED_CACHE)
    set(cache "--cache-dir=")
  endif()

  set(last_modified "mtime")
  if(DEFINED arg_LAST_MODIFIED)
    set(last_modified "${arg_LAST_MODIFIED}")
  endif()
  if(NOT last_modified MATCHES "^(mtime|git|epoch)$")
    message(FATAL_ERROR
            "kv_assets_embed: LAST_MODIFIED '${last_modified}' must be mtime, git or epoch")
  endif()

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/kv_assets/${target}")
  set(header "${out_dir}/${name}.h")
  set(source "${out_dir}/${name}.cc")
  set(depfile "${out_dir}/${name}.d")
  file(MAKE_DIRECTORY "${out_dir}")

  set(rewrite "--rewrite=all")
  if(DEFINED arg_REWRITE)
    string(TOLOWER "${arg_REWRITE}" rewrite_value)
    if(NOT rewrite_value MATCHES "^(all|none)$")
      message(FATAL_ERROR "kv_assets_embed: REWRITE '${arg_REWRITE}' must be ALL or NONE")
    endif()
    set(rewrite "--rewrite=${rewrite_value}")
  endif()
  if(arg_STRICT)
    list(APPEND rewrite "--strict")
  endif()

  set(excludes "")
  foreach(pattern IN LISTS arg_EXCLUDE)
    list(APPEND excludes "--exclude=${pattern}")
  endforeach()

  set(generate
    KvAssets::kv-assets generate "${abs_folder}"
    "--out-dir=${out_dir}" "--name=${name}" "--namespace=${namespace}"
    "--prefix=${prefix}" "--bodies=${bodies}" ${compress} "${level}"
    "--last-modified=${last_modified}" ${rewrite} ${excludes} ${cache})
  if(DEFINED arg_STORE)
    _kv_assets_store(generate "${target}" "${arg_STORE}" "${generate}")
    set(bodies store)
  endif()
  # With BODIES incbin the bytes are in <name>.<fingerprint>.bin, named anew whenever they change
  # (so <name>.cc changes with them and recompiles). Not a declared output, since its name is
  # not known here: the depfile lists it, so deleting it re-runs the generator. Every build also
  # writes <name>.manifest.json beside the header (kv-assets dump and the next run read it).
  set(manifest_json "${out_dir}/${name}.manifest.json")

  if(CMAKE_GENERATOR MATCHES "Makefiles|WMake")
    # Make has no restat and CMake 3.25 keeps stale depfile entries: see
    # _kv_assets_after_generate(). The rule's output is a stamp touched on every run; the
    # files Make compiles are byproducts, compared by their own mtimes.
    set(stamp "${out_dir}/${name}.stamp")
    get_target_property(target_binary_dir "${target}" BINARY_DIR)
    add_custom_command(
      OUTPUT "${stamp}"
      BYPRODUCTS "${header}" "${source}" "${manifest_json}"
      COMMAND ${generate} "--depfile=${out_dir}/${name}.generated.d"
      COMMAND "${CMAKE_COMMAND}"
              "-DKV_ASSETS_GENERATED_DEPFILE=${out_dir}/${name}.generated.d"
              "-DKV_ASSETS_DEPFILE=${depfile}" "-DKV_ASSETS_STAMP=${stamp}"
              "-DKV_ASSETS_HEADER=${header}" "-DKV_ASSETS_SOURCE=${source}"
              "-DKV_ASSETS_MANIFEST_JSON=${manifest_json}"
              "-DKV_ASSETS_MERGED_DEPENDS=${target_binary_dir}/CMakeFiles/${target}.dir/compiler_depend.internal"
              -P "${CMAKE_CURRENT_FUNCTION_LIST_FILE}"
      DEPENDS "$<TARGET_FILE:KvAssets::kv-assets>" "${CMAKE_CURRENT_FUNCTION_LIST_FILE}"
      DEPFILE "${depfile}"
      COMMENT "Embedding ${folder} into ${target}"
      VERBATIM)
    target_sources("${target}" PRIVATE "${stamp}")
  else()
    # Ninja restats the outputs, so one the generator left alone does not cause recompiles.
    add_custom_command(
      OUTPUT "${header}" "${source}"
      BYPRODUCTS "${manifest_json}"
      COMMAND ${generate} "--depfile=${depfile}"
      DEPENDS "$<TARGET_FILE:KvAssets::kv-assets>"
      DEPFILE "${depfile}"
      COMMENT "Embedding ${folder} into ${target}"
      ${terminal}
      VERBATIM)
  endif()
  target_sources("${target}" PRIVATE "${header}" "${source}")
  # PUBLIC: a library that embeds a folder gives its header to whoever links it.
  target_include_directories("${target}" PUBLIC "$<BUILD_INTERFACE:${out_dir}>")
  target_link_libraries("${target}" PUBLIC KvAssets::runtime)
endfunction()

cmake_policy(POP)
