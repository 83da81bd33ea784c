// kv-assets: the build-time generator. Flags and environment in (cli.h parses the flags; each
// command's usage is there), exit code out; the work is in generate.h (scan -> hash -> date -> link
// -> compress -> emit) and sync.h for stores.

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "generator/cli.h"
#include "generator/compress.h"
#include "generator/compress_cache.h"
#include "generator/emit.h"
#include "generator/file_util.h"
#include "generator/generate.h"
#include "generator/hash.h"
#include "generator/manifest_json.h"
#include "generator/scan.h"
#include "generator/serve.h"
#include "generator/status_macros.h"
#include "generator/sync.h"
#include "kv_assets/key_value_store.h"

namespace kv_assets::gen {
namespace {

enum class Command { kGenerate, kSync };

// What sync does besides generating: its own flags.
struct SyncFlags {
  std::string store;
  bool prune = false;
  int keep = 1;
  bool dry_run = false;
};

absl::Status SyncFolder(GenerateConfig& config, const SyncFlags& flags);

// References to missing files (generator/link.h): on stderr even with --quiet, like a
// compiler's warnings, so a build log shows them.
void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << w << "\n";
}
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

// Everything one generate or sync run needs, read from its flags.
struct RunOptions {
  GenerateConfig config;
  SyncFlags sync;
};

// The values of generate's and sync's flags with a fixed set of meanings.
absl::Status ReadEnumFlags(const ParsedArgs& args, RunOptions& o) {
  GenerateConfig& c = o.config;
  KV_ASSETS_RETURN_IF_ERROR(ReadCompressFlag(args.Value("--compress"), c.compress.codings));
  if (std::optional<std::string> value = args.Value("--level")) {
    if (*value != "fast" && *value != "max") {
      return absl::InvalidArgumentError(absl::StrCat("--level=", *value, ": expected fast or max"));
    }
    c.compress.level = *value == "fast" ? CompressLevel::kFast : CompressLevel::kMax;
  }
  if (std::optional<std::string> value = args.Value("--rewrite")) {
    if (*value != "all" && *value != "none") {
      return absl::InvalidArgumentError(
          absl::StrCat("--rewrite=", *value, ": expected all or none"));
    }
    c.link.rewrite = *value == "all";
  }
  if (std::optional<std::string> value = args.Value("--bodies")) {
    if (*value != "incbin" && *value != "literal") {
      return absl::InvalidArgumentError(
          absl::StrCat("--bodies=", *value, ": expected incbin or literal"));
    }
    c.emit.bodies = *value == "incbin" ? BodyMode::kIncbin : BodyMode::kLiteral;
  }
  if (std::optional<std::string> value = args.Value("--last-modified")) {
    if (*value == "mtime") {
      c.dating.source = LastModifiedSource::kMtime;
    } else if (*value == "git") {
      c.dating.source = LastModifiedSource::kGit;
    } else if (*value == "epoch") {
      c.dating.source = LastModifiedSource::kEpoch;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--last-modified=", *value, ": expected mtime, git or epoch"));
    }
  }
  if (std::optional<std::string> value = args.Value("--keep")) {
    if (!absl::SimpleAtoi(*value, &o.sync.keep) || o.sync.keep < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--keep=", *value, ": expected a number of releases, 0 or more"));
    }
  }
  return absl::OkStatus();
}

// What the command needs given, and names it must be able to write.
absl::Status CheckRunOptions(Command command, const RunOptions& o) {
  const EmitOptions& emit = o.config.emit;
  const bool no_folder = o.config.folder.empty();
  if (command == Command::kSync && o.sync.store.empty()) {
    return absl::InvalidArgumentError("no --store given");
  }
  if (command == Command::kSync && no_folder && !o.sync.prune) {
    return absl::InvalidArgumentError("no folder given (without one, sync can only --prune)");
  }
  if (command == Command::kGenerate && no_folder) {
    return absl::InvalidArgumentError("no folder given");
  }
  if (command == Command::kGenerate && emit.out_dir.empty()) {
    return absl::InvalidArgumentError("no --out-dir given");
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
  return absl::OkStatus();
}

// What the environment decides: SOURCE_DATE_EPOCH, and the shared cache's folder and size
// unless the flags name them (compress_cache.h).
absl::Status ReadEnvironment(const ParsedArgs& args, GenerateConfig& c) {
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
    std::int64_t value;
    if (!absl::SimpleAtoi(epoch, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SOURCE_DATE_EPOCH=", epoch, ": not a whole number of seconds"));
    }
    c.dating.source_date_epoch = value;
  }
  c.compress.cache_dir =
      args.Value("--cache-dir")
          .value_or(SharedCacheDir({std::getenv("KV_ASSETS_CACHE_DIR"),
                                    std::getenv("XDG_CACHE_HOME"), std::getenv("HOME")}));
  std::string flag = "--cache-max-size";
  std::optional<std::string> size = args.Value(flag);
  if (const char* env = std::getenv("KV_ASSETS_CACHE_MAX_SIZE"); !size && env && *env != '\0') {
    flag = "KV_ASSETS_CACHE_MAX_SIZE";
    size = env;
  }
  if (size) {
    absl::StatusOr<std::uint64_t> bytes = ParseByteSize(*size);
    if (!bytes.ok())
      return absl::InvalidArgumentError(absl::StrCat(flag, "=", bytes.status().message()));
    c.cache_max_bytes = *bytes;
  }
  return absl::OkStatus();
}

absl::StatusOr<RunOptions> ReadRunOptions(Command command, const ParsedArgs& args) {
  RunOptions o;
  GenerateConfig& c = o.config;
  if (args.positional.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than one folder: ", args.positional[0], ", ", args.positional[1]));
  }
  if (!args.positional.empty()) c.folder = args.positional[0];
  c.emit.out_dir = args.Value("--out-dir").value_or(c.emit.out_dir);
  c.emit.name = args.Value("--name").value_or(c.emit.name);
  c.emit.cpp_namespace = args.Value("--namespace").value_or(c.emit.cpp_namespace);
  c.emit.prefix = args.Value("--prefix").value_or(c.emit.prefix);
  c.emit.depfile = args.Value("--depfile").value_or(c.emit.depfile);
  c.scan.excludes = args.Values("--exclude");
  c.scan.scratch_dir = args.Value("--scratch-dir").value_or(c.scan.scratch_dir);
  o.sync.store = args.Value("--store").value_or("");
  o.sync.prune = args.Has("--prune");
  o.sync.dry_run = args.Has("--dry-run");
  c.link.strict = args.Has("--strict");
  if (!args.Has("--quiet")) c.log = &std::cerr;
  KV_ASSETS_RETURN_IF_ERROR(ReadEnumFlags(args, o));
  KV_ASSETS_RETURN_IF_ERROR(CheckRunOptions(command, o));
  KV_ASSETS_RETURN_IF_ERROR(ReadEnvironment(args, c));
  if (!o.sync.store.empty()) {
    // Bodies go to the store under the manifest's name.
    c.emit.store_url = o.sync.store;
    c.emit.store_namespace = c.emit.name;
  }
  return o;
}

absl::Status Run(Command command, RunOptions o) {
  if (o.config.folder.empty()) return PruneOnly(o.config.emit, o.sync);
  // Sync computes what generate did (the same flags and cache) and uploads it; it leaves the
  // build's outputs alone.
  if (command == Command::kSync) return SyncFolder(o.config, o.sync);
  KV_ASSETS_ASSIGN_OR_RETURN(GenerateReport report, Generate(std::move(o.config)));
  PrintWarnings(report.warnings);
  return absl::OkStatus();
}

absl::Status SyncFolder(GenerateConfig& config, const SyncFlags& flags) {
  KV_ASSETS_ASSIGN_OR_RETURN(Prepared prepared, Prepare(config));
  PrintWarnings(prepared.link.warnings);
  const EmitOptions& emit = config.emit;
  const ManifestData manifest = BuildManifest(prepared.files, emit);
  const std::string json = ManifestToJson(manifest);
  // The manifest the build compiled in, when there is one: a folder changed since the build
  // would upload bodies the program never asks for, and not the ones it does.
  if (!emit.out_dir.empty()) {
    const std::string built = absl::StrCat(emit.out_dir, "/", emit.name, ".manifest.json");
    if (std::filesystem::exists(built)) {
      KV_ASSETS_ASSIGN_OR_RETURN(std::string expected, ReadFile(built));
      if (expected != json) {
        return absl::FailedPreconditionError(
            absl::StrCat(config.folder, ": differs from the manifest the build compiled in (",
                         built, "); build again, then sync with the build's flags"));
      }
    }
  }
  KV_ASSETS_ASSIGN_OR_RETURN(std::unique_ptr<KeyValueStore> store, OpenStore(flags.store));
  SyncOptions options;
  options.ns = emit.store_namespace;
  options.dry_run = flags.dry_run;
  options.out = &std::cout;
  options.now_unix = static_cast<std::int64_t>(std::time(nullptr));
  KV_ASSETS_RETURN_IF_ERROR(
      Sync(*store, manifest, BodiesToStore(prepared.files, emit), options).status());
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

// `dump` reads a manifest file, or a generated header through the manifest its build wrote
// beside it (<name>.h → <name>.manifest.json): the header's comments are not a file format.
absl::StatusOr<ManifestData> ReadManifestFile(const std::string& source) {
  std::string json_path = source;
  if (source.ends_with(".h")) {
    json_path = absl::StrCat(ToAbsl(source).substr(0, source.size() - 2), ".manifest.json");
  } else if (!source.ends_with(".json")) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": dump reads a generated header (<name>.h), a manifest (.json) or a store URL"));
  }
  absl::StatusOr<std::string> text = ReadFile(json_path);
  if (!text.ok() && json_path != source) {
    return absl::Status(
        text.status().code(),
        absl::StrCat(source, ": dump reads the manifest its build writes beside it: ",
                     text.status().message()));
  }
  if (!text.ok()) return text.status();
  absl::StatusOr<ManifestData> read = ManifestFromJson(*text);
  if (!read.ok()) {
    return absl::Status(read.status().code(),
                        absl::StrCat(json_path, ": ", read.status().message()));
  }
  return read;
}

// dump: a generated header, a manifest's JSON, or a store's current (or given) manifest.
absl::Status Dump(const ParsedArgs& args) {
  if (args.positional.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than one source: ", args.positional[0], ", ", args.positional[1]));
  }
  const std::string source = args.positional.empty() ? "" : args.positional[0];
  const bool name_given = args.Has("--name");
  const std::string name = args.Value("--name").value_or("assets");
  std::string id = args.Value("--manifest").value_or("");
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
    KV_ASSETS_ASSIGN_OR_RETURN(manifest, ReadManifestFile(source));
  }
  std::cout << ManifestToJson(manifest);
  return absl::OkStatus();
}

}  // namespace
}  // namespace kv_assets::gen

namespace kv_assets::gen {
namespace {

// The command named by args[0], run on the rest. Help and version print and succeed.
absl::Status Dispatch(std::span<const std::string_view> args) {
  const CommandSpec* spec = FindCommand(args[0]);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(args[0]), ": unknown command"));
  }
  KV_ASSETS_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseArgs(*spec, args.subspan(1)));
  if (parsed.help) {
    std::cout << spec->usage;
    return absl::OkStatus();
  }
  if (spec->name == "help") {
    if (parsed.positional.empty()) {
      std::cout << OverallUsage();
      return absl::OkStatus();
    }
    const CommandSpec* about = FindCommand(parsed.positional[0]);
    if (about == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(parsed.positional[0], ": unknown command"));
    }
    std::cout << about->usage;
    return absl::OkStatus();
  }
  if (spec->name == "dump") return Dump(parsed);
  if (spec->name == "serve") {
#ifdef KV_ASSETS_HAVE_SERVE
    return Serve(parsed);
#else
    return absl::UnimplementedError("serve: this kv-assets was built without Boost.Beast");
#endif
  }
  const Command command = spec->name == "sync" ? Command::kSync : Command::kGenerate;
  KV_ASSETS_ASSIGN_OR_RETURN(RunOptions options, ReadRunOptions(command, parsed));
  return Run(command, std::move(options));
}

}  // namespace
}  // namespace kv_assets::gen

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kv_assets::gen::OverallUsage();
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::cout << kv_assets::gen::OverallUsage();
    return 0;
  }
  if (args[0] == "--version") {
    std::cout << "kv-assets " << KV_ASSETS_VERSION << "\n";
    return 0;
  }
  const absl::Status status = kv_assets::gen::Dispatch(args);
  if (!status.ok()) {
    std::cerr << "kv-assets: error: " << status.message() << "\n";
    if (kv_assets::gen::FindCommand(args[0]) == nullptr) {
      std::cerr << kv_assets::gen::OverallUsage();
    }
    return 1;
  }
  return 0;
}
