#include "generator/cli.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kv_assets::gen {
namespace {

constexpr std::string_view kGenerateUsage =
    "usage: kv-assets generate <folder> --out-dir=DIR [--name=NAME] [--namespace=NS]\n"
    "           [--prefix=/url/] [--bodies=incbin|literal] [--compress=gzip,br,zstd|none]\n"
    "           [--level=max|fast] [--last-modified=mtime|git|epoch] [--depfile=FILE]\n"
    "           [--exclude=PATTERN]... [--scratch-dir=DIR] [--store=URL]\n"
    "           [--cache-dir=DIR] [--cache-max-size=SIZE] [--rewrite=all|none] [--strict]\n"
    "           [--quiet]\n"
    "  Writes <out-dir>/<name>.h and .cc (and the bodies' .bin) embedding <folder>, and\n"
    "  prints one summary line (and, while compressing takes long, progress) on stderr.\n"
    "  --compress: default gzip,br. --level: max (default; gzip 9, brotli 11, zstd 19) or\n"
    "  fast (gzip 6, brotli 5, zstd 3). Compressed variants are cached in --cache-dir,\n"
    "  default $KV_ASSETS_CACHE_DIR, else $XDG_CACHE_HOME/kv-assets, else\n"
    "  ~/.cache/kv-assets; \"\" keeps a private cache in <out-dir> instead. The cache is\n"
    "  trimmed to --cache-max-size (default $KV_ASSETS_CACHE_MAX_SIZE, else 1G).\n"
    "  References between files (CSS url() and @import, sourceMappingURL, a source map's\n"
    "  \"file\") are rewritten to tagged names (docs/references.md); --rewrite=none leaves\n"
    "  every file as it is. A reference to a file not in <folder> is a warning, printed\n"
    "  even with --quiet; --strict makes it an error.\n";
constexpr std::string_view kSyncUsage =
    "usage: kv-assets sync <folder> --store=URL [generate's flags] [--prune [--keep=N]]\n"
    "           [--dry-run]\n"
    "       kv-assets sync --store=URL --name=NAME --prune [--keep=N] [--dry-run]\n"
    "  Uploads the bodies a manifest-only build needs; --prune removes what no kept release\n"
    "  (the newest N, default 1) references.\n";
constexpr std::string_view kServeUsage =
    "usage: kv-assets serve <folder> [--address=127.0.0.1] [--port=8080] [--prefix=/]\n"
    "           [--exclude=PATTERN]... [--compress=gzip,br,zstd|none]\n"
    "  Serves <folder> from disk with the rules of an embedded build (docs/live.md): edits\n"
    "  show on the next request. Prints \"serving <folder> on <url>\" once it listens;\n"
    "  --port=0 picks a free port. SIGINT or SIGTERM stops it.\n";
constexpr std::string_view kDumpUsage =
    "usage: kv-assets dump <generated .h | manifest .json | store URL> [--name=NAME]\n"
    "           [--manifest=ID]\n"
    "  Prints a manifest as JSON.\n";
constexpr std::string_view kHelpUsage =
    "usage: kv-assets help <command>\n"
    "  Prints the command's usage, as kv-assets <command> --help does.\n";

std::vector<FlagSpec> GenerateFlags() {
  return {{"--out-dir", true},       {"--name", true},           {"--namespace", true},
          {"--prefix", true},        {"--bodies", true},         {"--compress", true},
          {"--last-modified", true}, {"--depfile", true},        {"--exclude", true},
          {"--scratch-dir", true},   {"--store", true},          {"--level", true},
          {"--cache-dir", true},     {"--cache-max-size", true}, {"--quiet", false},
          {"--rewrite", true},       {"--strict", false}};
}

std::vector<FlagSpec> SyncFlags() {
  std::vector<FlagSpec> flags = GenerateFlags();
  flags.insert(flags.end(), {{"--prune", false}, {"--keep", true}, {"--dry-run", false}});
  return flags;
}

const FlagSpec* FindFlag(const CommandSpec& spec, std::string_view name) {
  for (const FlagSpec& f : spec.flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status Misuse(const CommandSpec& spec, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(ToAbsl(what), "; see kv-assets ", ToAbsl(spec.name), " --help"));
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec>* const commands = new std::vector<CommandSpec>{
      {"generate", kGenerateUsage, GenerateFlags()},
      {"sync", kSyncUsage, SyncFlags()},
      {"serve",
       kServeUsage,
       {{"--address", true},
        {"--port", true},
        {"--prefix", true},
        {"--exclude", true},
        {"--compress", true}}},
      {"dump", kDumpUsage, {{"--name", true}, {"--manifest", true}}},
      {"help", kHelpUsage, {}},
  };
  return *commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string OverallUsage() {
  std::string out =
      "kv-assets: embeds a folder of web assets in a C++ program (kv_assets_embed() runs it).\n"
      "kv-assets --version prints the version; kv-assets <command> --help, its usage.\n\n";
  for (const CommandSpec& c : Commands()) absl::StrAppend(&out, ToAbsl(c.usage));
  return out;
}

bool ParsedArgs::Has(std::string_view flag) const { return Value(flag).has_value(); }

std::optional<std::string> ParsedArgs::Value(std::string_view flag) const {
  std::optional<std::string> out;
  for (const auto& [name, value] : flags) {
    if (name == flag) out = value;
  }
  return out;
}

std::vector<std::string> ParsedArgs::Values(std::string_view flag) const {
  std::vector<std::string> out;
  for (const auto& [name, value] : flags) {
    if (name == flag) out.push_back(value);
  }
  return out;
}

absl::StatusOr<ParsedArgs> ParseArgs(const CommandSpec& spec,
                                     std::span<const std::string_view> args) {
  ParsedArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      out.positional.emplace_back(arg);
      continue;
    }
    const std::size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const FlagSpec* flag = FindFlag(spec, name);
    if (flag == nullptr) {
      return Misuse(spec,
                    absl::StrCat(ToAbsl(name), ": not a flag of kv-assets ", ToAbsl(spec.name)));
    }
    if (!flag->takes_value) {
      if (eq != std::string_view::npos) {
        return Misuse(spec, absl::StrCat(ToAbsl(name), ": takes no value"));
      }
      out.flags.emplace_back(std::string(name), "");
    } else if (eq != std::string_view::npos) {
      out.flags.emplace_back(std::string(name), std::string(arg.substr(eq + 1)));
    } else if (i + 1 < args.size() && !args[i + 1].starts_with("--")) {
      out.flags.emplace_back(std::string(name), std::string(args[++i]));
    } else {
      return Misuse(spec, absl::StrCat(ToAbsl(name), ": needs a value (", ToAbsl(name),
                                       "=VALUE or ", ToAbsl(name), " VALUE)"));
    }
  }
  return out;
}

}  // namespace kv_assets::gen
