// kv-assets: the build-time generator. Flags in, exit code out; the work is in
// scan.h -> hash.h -> last_modified.h -> compress.h -> emit.h.
//
//   kv-assets generate <folder> --out-dir=DIR [--name=assets] [--namespace=assets]
//       [--prefix=/] [--bodies=incbin|literal] [--compress=gzip,br,zstd|none]
//       [--last-modified=mtime|git|epoch] [--depfile=FILE] [--exclude=PATTERN]...

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
#include "generator/hash.h"
#include "generator/last_modified.h"
#include "generator/scan.h"
#include "generator/status_macros.h"
#include "generator/strings.h"

namespace kv_assets::gen {
namespace {

constexpr std::string_view kUsage =
    "usage: kv-assets generate <folder> --out-dir=DIR [--name=NAME] [--namespace=NS]\n"
    "           [--prefix=/url/] [--bodies=incbin|literal] [--compress=gzip,br,zstd|none]\n"
    "           [--last-modified=mtime|git|epoch] [--depfile=FILE] [--exclude=PATTERN]...\n"
    "           [--scratch-dir=DIR]\n";

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

absl::Status Generate(const std::vector<std::string_view>& args) {
  std::string folder;
  EmitOptions emit;
  ScanOptions scan;
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
    } else if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(Sv(arg), ": expected ", Sv(arg), "=VALUE"));
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
  if (folder.empty()) return absl::InvalidArgumentError("no folder given");
  if (emit.out_dir.empty()) return absl::InvalidArgumentError("no --out-dir given");
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
  // Absolute paths: the depfile and the .incbin directive are read from other folders.
  folder = std::filesystem::absolute(folder).lexically_normal().string();
  emit.out_dir = std::filesystem::absolute(emit.out_dir).lexically_normal().string();
  while (emit.out_dir.size() > 1 && emit.out_dir.back() == '/') emit.out_dir.pop_back();
  if (!emit.depfile.empty()) emit.depfile = std::filesystem::absolute(emit.depfile).string();
  // One per manifest: several embeds into one target share the output folder and run in
  // parallel, and libgit2 locks a repository's config while it initialises it.
  if (scan.scratch_dir.empty()) {
    scan.scratch_dir = emit.out_dir + "/" + emit.name + ".ignore-scratch.git";
  }
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
  KV_ASSETS_ASSIGN_OR_RETURN(GeneratedFiles files, Emit(compressed.files, scanned.watched, emit));
  KV_ASSETS_RETURN_IF_ERROR(WriteOutputs(files, emit));
  // Only after a run that succeeded: a failed one says nothing about what the next needs.
  PruneCompressCache(compress.cache_dir, compressed.cache_entries);
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
  if (args[0] == "generate") {
    status = kv_assets::gen::Generate({args.begin() + 1, args.end()});
  } else {
    status =
        absl::InvalidArgumentError(absl::StrCat(kv_assets::gen::Sv(args[0]), ": unknown command"));
  }
  if (!status.ok()) {
    std::cerr << "kv-assets: error: " << status.message() << "\n";
    if (status.code() == absl::StatusCode::kInvalidArgument && args[0] != "generate") {
      std::cerr << kv_assets::gen::kUsage;
    }
    return 1;
  }
  return 0;
}
