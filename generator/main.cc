// kv-assets: the build-time generator. Flags in, exit code out; the work is in
// scan.h -> hash.h -> last_modified.h -> compress.h -> emit.h, and sync.h for stores.
//
//   kv-assets generate <folder> --out-dir=DIR [--name=assets] [--namespace=assets]
//       [--prefix=/] [--bodies=incbin|literal] [--compress=gzip,br,zstd|none]
//       [--last-modified=mtime|git|epoch] [--depfile=FILE] [--exclude=PATTERN]...
//       [--store=URL]
//   kv-assets sync <folder> --store=URL [the generate flags] [--prune [--keep=N]] [--dry-run]
//   kv-assets sync --store=URL --name=NAME --prune [--keep=N] [--dry-run]
//   kv-assets dump <generated header | manifest .json | store URL> [--name=NAME] [--manifest=ID]

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "generator/compress.h"
#include "generator/emit.h"
#include "generator/file_util.h"
#include "generator/hash.h"
#include "generator/header_reader.h"
#include "generator/last_modified.h"
#include "generator/manifest_json.h"
#include "generator/scan.h"
#include "generator/status_macros.h"
#include "generator/strings.h"
#include "generator/sync.h"
#include "kv_assets/stores.h"

namespace kv_assets::gen {
namespace {

constexpr std::string_view kUsage =
    "usage: kv-assets generate <folder> --out-dir=DIR [--name=NAME] [--namespace=NS]\n"
    "           [--prefix=/url/] [--bodies=incbin|literal] [--compress=gzip,br,zstd|none]\n"
    "           [--last-modified=mtime|git|epoch] [--depfile=FILE] [--exclude=PATTERN]...\n"
    "           [--scratch-dir=DIR] [--store=URL]\n"
    "       kv-assets sync <folder> --store=URL [generate's flags] [--prune [--keep=N]]\n"
    "           [--dry-run]\n"
    "       kv-assets sync --store=URL --name=NAME --prune [--keep=N] [--dry-run]\n"
    "       kv-assets dump <generated .h | manifest .json | store URL> [--name=NAME]\n"
    "           [--manifest=ID]\n";

enum class Command { kGenerate, kSync };

// What sync does besides generating: its own flags.
struct SyncFlags {
  std::string store;
  bool prune = false;
  int keep = 1;
  bool dry_run = false;
};

absl::Status SyncFolder(const std::string& folder, const std::vector<HashedFile>& hashed,
                        const EmitOptions& emit, const SyncFlags& flags);
absl::Status PruneOnly(const EmitOptions& emit, const SyncFlags& flags);

bool IsIdentifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

bool IsNamespace(std::string_view s) {
  while (true) {
    const std::size_t sep = s.find("::");
    if (!IsIdentifier(s.substr(0, sep))) return false;
    if (sep == std::string_view::npos) return true;
    s.remove_prefix(sep + 2);
  }
}

absl::Status Run(Command command, const std::vector<std::string_view>& args) {
  std::string folder;
  EmitOptions emit;
  ScanOptions scan;
  SyncFlags sync;
  CompressOptions compress;
  LastModifiedOptions dating;
  for (std::string_view arg : args) {
    const std::size_t eq = arg.find('=');
    const std::string_view key = arg.substr(0, eq);
    const std::string value(eq == std::string_view::npos ? "" : arg.substr(eq + 1));
    if (!arg.starts_with("--")) {
      if (!folder.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than one folder: ", folder, ", ", Sv(arg)));
      }
      folder = std::string(arg);
    } else if (command == Command::kSync && arg == "--prune") {
      sync.prune = true;
    } else if (command == Command::kSync && arg == "--dry-run") {
      sync.dry_run = true;
    } else if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(Sv(arg), ": expected ", Sv(arg), "=VALUE"));
    } else if (key == "--store") {
      sync.store = value;
    } else if (command == Command::kSync && key == "--keep") {
      if (!absl::SimpleAtoi(value, &sync.keep) || sync.keep < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--keep=", value, ": expected a number of releases, 0 or more"));
      }
    } else if (key == "--out-dir") {
      emit.out_dir = value;
    } else if (key == "--name") {
      emit.name = value;
    } else if (key == "--namespace") {
      emit.cpp_namespace = value;
    } else if (key == "--prefix") {
      emit.prefix = value;
    } else if (key == "--depfile") {
      emit.depfile = value;
    } else if (key == "--exclude") {
      scan.excludes.push_back(value);
    } else if (key == "--scratch-dir") {
      scan.scratch_dir = value;
    } else if (key == "--compress") {
      absl::StatusOr<std::vector<Coding>> codings = ParseCodings(value);
      if (!codings.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--compress=", value, ": ", codings.status().message()));
      }
      compress.codings = *std::move(codings);
    } else if (key == "--bodies") {
      if (value == "incbin") {
        emit.bodies = BodyMode::kIncbin;
      } else if (value == "literal") {
        emit.bodies = BodyMode::kLiteral;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--bodies=", value, ": expected incbin or literal"));
      }
    } else if (key == "--last-modified") {
      if (value == "mtime") {
        dating.source = LastModifiedSource::kMtime;
      } else if (value == "git") {
        dating.source = LastModifiedSource::kGit;
      } else if (value == "epoch") {
        dating.source = LastModifiedSource::kEpoch;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--last-modified=", value, ": expected mtime, git or epoch"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(Sv(arg), ": unknown option"));
    }
  }
  if (command == Command::kSync && sync.store.empty()) {
    return absl::InvalidArgumentError("no --store given");
  }
  if (command == Command::kSync && folder.empty() && !sync.prune) {
    return absl::InvalidArgumentError("no folder given (without one, sync can only --prune)");
  }
  if (command == Command::kGenerate && folder.empty()) {
    return absl::InvalidArgumentError("no folder given");
  }
  if (command == Command::kGenerate && emit.out_dir.empty()) {
    return absl::InvalidArgumentError("no --out-dir given");
  }
  if (!sync.store.empty()) {
    // Bodies go to the store under the manifest's name.
    emit.store_url = sync.store;
    emit.store_namespace = emit.name;
  }
  if (!IsIdentifier(emit.name)) {
    return absl::InvalidArgumentError(absl::StrCat("--name=", emit.name, ": not a C identifier"));
  }
  if (!IsNamespace(emit.cpp_namespace)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--namespace=", emit.cpp_namespace, ": not a C++ namespace name"));
  }
  if (absl::Status s = CheckUrlPrefix(emit.prefix); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--prefix=", emit.prefix, ": ", s.message()));
  }
  if (folder.empty()) return PruneOnly(emit, sync);
  // Absolute paths: the depfile and the .incbin directive are read from other folders.
  folder = std::filesystem::absolute(folder).lexically_normal().string();
  if (!emit.out_dir.empty()) {
    emit.out_dir = std::filesystem::absolute(emit.out_dir).lexically_normal().string();
  }
  while (emit.out_dir.size() > 1 && emit.out_dir.back() == '/') emit.out_dir.pop_back();
  if (!emit.depfile.empty()) emit.depfile = std::filesystem::absolute(emit.depfile).string();
  // One per manifest: several embeds into one target share the output folder and run in
  // parallel, and libgit2 locks a repository's config while it initialises it.
  if (scan.scratch_dir.empty() && !emit.out_dir.empty()) {
    scan.scratch_dir = emit.out_dir + "/" + emit.name + ".ignore-scratch.git";
  }
  if (!emit.out_dir.empty())
    compress.cache_dir = emit.out_dir + "/" + emit.name + ".compress-cache";
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
    std::int64_t value;
    if (!absl::SimpleAtoi(epoch, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SOURCE_DATE_EPOCH=", epoch, ": not a whole number of seconds"));
    }
    dating.source_date_epoch = value;
  }

  emit.latest_last_modified = static_cast<std::int64_t>(std::time(nullptr));

  KV_ASSETS_ASSIGN_OR_RETURN(ScanResult scanned, Scan(folder, scan));
  KV_ASSETS_ASSIGN_OR_RETURN(std::vector<HashedFile> hashed, HashFiles(std::move(scanned.files)));
  KV_ASSETS_ASSIGN_OR_RETURN(FileTimes times, LastModifiedTimes(folder, hashed, dating));
  for (std::size_t i = 0; i < hashed.size(); ++i) hashed[i].last_modified = times.times[i];
  scanned.watched.insert(scanned.watched.end(), times.watched.begin(), times.watched.end());
  KV_ASSETS_ASSIGN_OR_RETURN(CompressResult compressed, Compress(std::move(hashed), compress));
  // Sync computes what generate did (the same flags, and the build's compression cache) and
  // uploads it; it leaves the build's outputs and cache alone.
  if (command == Command::kSync) return SyncFolder(folder, compressed.files, emit, sync);
  KV_ASSETS_ASSIGN_OR_RETURN(GeneratedFiles files, Emit(compressed.files, scanned.watched, emit));
  KV_ASSETS_RETURN_IF_ERROR(WriteOutputs(files, emit));
  // Only after a run that succeeded: a failed one says nothing about what the next needs.
  PruneCompressCache(compress.cache_dir, compressed.cache_entries);
  return absl::OkStatus();
}

absl::Status SyncFolder(const std::string& folder, const std::vector<HashedFile>& hashed,
                        const EmitOptions& emit, const SyncFlags& flags) {
  const ManifestData manifest = BuildManifest(hashed, emit);
  const std::string json = ManifestToJson(manifest);
  // The manifest the build compiled in, when there is one: a folder changed since the build
  // would upload bodies the program never asks for, and not the ones it does.
  if (!emit.out_dir.empty()) {
    const std::string built = absl::StrCat(emit.out_dir, "/", emit.name, ".manifest.json");
    if (std::filesystem::exists(built)) {
      KV_ASSETS_ASSIGN_OR_RETURN(std::string expected, ReadFile(built));
      if (expected != json) {
        return absl::FailedPreconditionError(
            absl::StrCat(folder, ": differs from the manifest the build compiled in (", built,
                         "); build again, then sync"));
      }
    }
  }
  KV_ASSETS_ASSIGN_OR_RETURN(std::unique_ptr<KeyValueStore> store, OpenStore(flags.store));
  SyncOptions options;
  options.ns = emit.store_namespace;
  options.dry_run = flags.dry_run;
  options.out = &std::cout;
  options.now_unix = static_cast<std::int64_t>(std::time(nullptr));
  KV_ASSETS_RETURN_IF_ERROR(Sync(*store, manifest, BodiesToStore(hashed, emit), options).status());
  if (!flags.prune) return absl::OkStatus();
  PruneOptions prune;
  prune.ns = emit.store_namespace;
  prune.keep = flags.keep;
  prune.dry_run = flags.dry_run;
  prune.out = &std::cout;
  prune.also_keep = &manifest;
  return Prune(*store, prune).status();
}

absl::Status PruneOnly(const EmitOptions& emit, const SyncFlags& flags) {
  KV_ASSETS_ASSIGN_OR_RETURN(std::unique_ptr<KeyValueStore> store, OpenStore(flags.store));
  PruneOptions prune;
  prune.ns = emit.store_namespace;
  prune.keep = flags.keep;
  prune.dry_run = flags.dry_run;
  prune.out = &std::cout;
  return Prune(*store, prune).status();
}

// dump: a generated header, a manifest's JSON, or a store's current (or given) manifest.
absl::Status Dump(const std::vector<std::string_view>& args) {
  std::string source, name = "assets", id;
  bool name_given = false;
  for (std::string_view arg : args) {
    const std::size_t eq = arg.find('=');
    const std::string value(eq == std::string_view::npos ? "" : arg.substr(eq + 1));
    if (!arg.starts_with("--")) {
      if (!source.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("more than one source: ", source, ", ", Sv(arg)));
      }
      source = std::string(arg);
    } else if (arg.starts_with("--name=")) {
      name = value;
      name_given = true;
    } else if (arg.starts_with("--manifest=")) {
      id = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(Sv(arg), ": unknown option"));
    }
  }
  if (source.empty()) return absl::InvalidArgumentError("nothing to dump");
  const bool is_url = source.starts_with("dir:") || source.find("://") != std::string::npos;
  ManifestData manifest;
  if (is_url) {
    if (!IsIdentifier(name)) {
      return absl::InvalidArgumentError(absl::StrCat("--name=", name, ": not a C identifier"));
    }
    KV_ASSETS_ASSIGN_OR_RETURN(std::unique_ptr<KeyValueStore> store, OpenStore(source));
    if (id.empty()) {
      KV_ASSETS_ASSIGN_OR_RETURN(std::vector<Release> releases, ReadReleases(*store, name));
      if (releases.empty()) {
        return absl::NotFoundError(absl::StrCat(source, ": no release of ", name, " is recorded",
                                                name_given ? "" : " (--name=?)"));
      }
      id = releases.back().manifest_id;
    }
    KV_ASSETS_ASSIGN_OR_RETURN(manifest, ReadManifest(*store, name, id));
  } else {
    KV_ASSETS_ASSIGN_OR_RETURN(std::string text, ReadFile(source));
    absl::StatusOr<ManifestData> read =
        source.ends_with(".json") ? ManifestFromJson(text) : ReadGeneratedHeader(text);
    if (!read.ok()) {
      return absl::Status(read.status().code(),
                          absl::StrCat(source, ": ", read.status().message()));
    }
    manifest = *std::move(read);
  }
  std::cout << ManifestToJson(manifest);
  return absl::OkStatus();
}

}  // namespace
}  // namespace kv_assets::gen

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kv_assets::gen::kUsage;
    return args.empty() ? 2 : 0;
  }
  absl::Status status;
  // "--store URL" reads as "--store=URL", as for the other flags that take a value.
  std::vector<std::string> joined;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[0] != "generate" &&
        (args[i] == "--store" || args[i] == "--keep" || args[i] == "--name" ||
         args[i] == "--manifest") &&
        i + 1 < args.size()) {
      joined.push_back(std::string(args[i]) + "=" + std::string(args[i + 1]));
      ++i;
    } else {
      joined.emplace_back(args[i]);
    }
  }
  const std::vector<std::string_view> rest(joined.begin(), joined.end());
  if (args[0] == "generate") {
    status = kv_assets::gen::Run(kv_assets::gen::Command::kGenerate, rest);
  } else if (args[0] == "sync") {
    status = kv_assets::gen::Run(kv_assets::gen::Command::kSync, rest);
  } else if (args[0] == "dump") {
    status = kv_assets::gen::Dump(rest);
  } else {
    status =
        absl::InvalidArgumentError(absl::StrCat(kv_assets::gen::Sv(args[0]), ": unknown command"));
  }
  if (!status.ok()) {
    std::cerr << "kv-assets: error: " << status.message() << "\n";
    if (status.code() == absl::StatusCode::kInvalidArgument && args[0] != "generate" &&
        args[0] != "sync" && args[0] != "dump") {
      std::cerr << kv_assets::gen::kUsage;
    }
    return 1;
  }
  return 0;
}
