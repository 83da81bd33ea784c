// The command line of kv-assets: one parser for every command, so that each accepts
// "--flag=value" and "--flag value" alike, answers "--help", and names the command and the
// flag when something is wrong.
//
// Example:
//   absl::StatusOr<ParsedArgs> parsed = ParseArgs(FindCommand("sync"), {"site", "--store",
//   "dir:/s"});
//   // parsed->positional == {"site"}; parsed->Value("--store") == "dir:/s"
//
// Decision: Abseil's flags library is not used. Its flags are process-wide globals defined
// once per binary, with no notion of a subcommand, so "--keep" could not mean something to
// sync only, and each command's --help could not list its own flags.

#ifndef KV_ASSETS_GENERATOR_CLI_H_
#define KV_ASSETS_GENERATOR_CLI_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kv_assets::gen {

struct FlagSpec {
  std::string_view name;  // "--out-dir"
  bool takes_value;       // false: a switch ("--prune")
};

struct CommandSpec {
  std::string_view name;   // "generate"
  std::string_view usage;  // printed by --help, "usage: kv-assets generate ..."
  std::vector<FlagSpec> flags;
};

// The commands, in the order the overall usage lists them.
const std::vector<CommandSpec>& Commands();
// The command called `name`, or nullptr.
const CommandSpec* FindCommand(std::string_view name);
// Every command's usage, for "kv-assets --help".
std::string OverallUsage();

struct ParsedArgs {
  bool help = false;  // --help or -h: print spec.usage, do nothing else
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;  // in order; a switch has ""

  bool Has(std::string_view flag) const;
  // The last value given for `flag`, or nullopt.
  std::optional<std::string> Value(std::string_view flag) const;
  // Every value given for `flag`, in order (--exclude may repeat).
  std::vector<std::string> Values(std::string_view flag) const;
};

// Reads `args` (what follows the command's name). An unknown flag, a switch given a value,
// or a flag without one is an InvalidArgument error naming the flag and the command and
// pointing to its --help.
absl::StatusOr<ParsedArgs> ParseArgs(const CommandSpec& spec,
                                     std::span<const std::string_view> args);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_CLI_H_
