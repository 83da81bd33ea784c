// Fuzz target: the generator's handling of untrusted strings — file and folder names, the URL
// prefix, ignore rules — checked against what the rest of the system will do with its output.
//
// Input: the first byte chooses the check; the rest is lines separated by '\n'.
//   'n' names -> URLs -> the server. Line 1 is the URL prefix, line 2 a file path relative to
//       the asset folder. When the generator would accept both (generator/scan.h's
//       CheckServableName for each name, CheckUrlPrefix for the prefix), the URL that
//       Asset::url() holds must get that file from kv_assets::Server, tagged and untagged:
//       nothing the generator emits may be a URL the server refuses or maps elsewhere.
//       TaggedPath() must only insert ".<tag>", and UrlEncodePath() must decode back exactly.
//   'd' depfile. Line 1 is the asset folder (absolute, any bytes), later lines file paths
//       under it, or "w:<path>" for a watched folder. Emit()'s depfile, read back as Ninja
//       reads one ("\ " is a space, "\#" a '#', "$$" a '$', a byte outside Ninja's plain set
//       ends a name), must list each input it lists exactly, never a piece of one, and leave
//       out only names with a byte the format cannot carry.
//   'i' ignore rules. Line 1 is a folder D inside the work tree, line 2 one ignore rule R as
//       written in D/.gitignore, later lines paths P below D (a trailing '/' for a folder).
//       libgit2 must give the same answer for P under R at the top of a work tree as for D/P
//       under RebaseIgnoreRules(R, D): rebasing moves a rule without changing what it means.
//       (Both through RebaseIgnoreRules, which also makes rules safe for libgit2; a hang is a
//       finding too, reported by libFuzzer's -timeout.)
//   anything else: all three on the same lines.

#include <fcntl.h>
#include <git2.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "generator/emit.h"
#include "generator/hash.h"
#include "generator/ignore.h"
#include "generator/scan.h"
#include "kv_assets/manifest.h"
#include "kv_assets/server.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using kv_assets::gen::CheckServableName;

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz_generator: invariant broken: %s\n  %s\n", what,
               kv_assets::fuzz::Printable(detail, 400).c_str());
  std::abort();
}

#define GEN_CHECK(cond, detail)       \
  do {                                \
    if (!(cond)) Fail(#cond, detail); \
  } while (0)

std::vector<std::string_view> Lines(std::string_view in) {
  std::vector<std::string_view> out;
  while (!in.empty() && out.size() < 32) {
    const std::size_t nl = in.find('\n');
    out.push_back(in.substr(0, nl));
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// What the scanner could produce: '/'-separated names, none empty, "." or "..".
bool IsScannablePath(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return false;
  for (const std::string_view name : Split(path, '/')) {
    if (name.empty() || name == "." || name == "..") return false;
  }
  return true;
}

// What the scan keeps: servable names, none beginning with '.' but a top-level ".well-known".
bool IsServablePath(std::string_view path) {
  if (!IsScannablePath(path)) return false;
  bool top = true;
  for (const std::string_view name : Split(path, '/')) {
    if (!CheckServableName(name).ok()) return false;
    if (name.starts_with('.') && !(top && name == ".well-known")) return false;
    top = false;
  }
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // UrlEncodePath writes upper case
}

// ---------------------------------------------------------------------------------------------
// 'n': names -> URLs -> the server.

void CheckNames(std::string_view prefix, std::string_view path) {
  // Never crashes, whatever it is given.
  const std::string encoded_any = kv_assets::gen::UrlEncodePath(path);
  (void)kv_assets::gen::TaggedPath(path, "AbCdEfGhIj");
  if (!kv_assets::gen::CheckUrlPrefix(prefix).ok() || !IsServablePath(path)) return;

  constexpr std::string_view kTag = "AbCdEf-_90";
  const std::string tagged = kv_assets::gen::TaggedPath(path, kTag);
  // ".<tag>" inserted once, in the file name: removing one occurrence there gives the path.
  const std::string dot_tag = std::string(".") + std::string(kTag);
  GEN_CHECK(tagged.size() == path.size() + dot_tag.size(), tagged);
  GEN_CHECK(tagged.rfind('/') == std::string_view(path).rfind('/'), tagged);
  bool found = false;
  for (std::size_t at = tagged.find(dot_tag); at != std::string::npos && !found;
       at = tagged.find(dot_tag, at + 1)) {
    const std::size_t slash = tagged.rfind('/');
    found = (slash == std::string::npos || at > slash) &&
            tagged.substr(0, at) + tagged.substr(at + dot_tag.size()) == path;
  }
  GEN_CHECK(found, tagged);

  const std::string decoded = std::string(prefix) + tagged;
  const std::string url = kv_assets::gen::UrlEncodePath(decoded);
  std::string back;
  for (std::size_t i = 0; i < url.size(); ++i) {
    const char c = url[i];
    if (c == '%') {
      GEN_CHECK(i + 2 < url.size() && Hex(url[i + 1]) >= 0 && Hex(url[i + 2]) >= 0, url);
      back.push_back(static_cast<char>(Hex(url[i + 1]) * 16 + Hex(url[i + 2])));
      i += 2;
    } else {
      // Safe in a URL path and inside an HTML attribute, quoted either way.
      GEN_CHECK(c > 0x20 && c < 0x7F && c != '"' && c != '\'' && c != '<' && c != '>' && c != '&' &&
                    c != '?' && c != '#' && c != '\\',
                url);
      back.push_back(c);
    }
  }
  GEN_CHECK(back == decoded, url);
  if (decoded.size() > kv_assets::kMaxUrlPath) return;  // Emit() refuses it

  // A manifest of this one file, as the generator would lay it out.
  const std::string untagged_url =
      kv_assets::gen::UrlEncodePath(std::string(prefix) + std::string(path));
  std::string strings;
  const auto add = [&strings](std::string_view s) {
    const kv_assets::internal::StringRef ref{static_cast<std::uint32_t>(strings.size()),
                                             static_cast<std::uint32_t>(s.size())};
    strings.append(s);
    return ref;
  };
  kv_assets::Asset asset;
  asset.path_ref = add(path);
  asset.tagged_path_ref = add(tagged);
  asset.url_ref = add(url);
  asset.etag_ref = add("\"AbCdEf-_90xxxxxxxxxxxx\"");
  asset.content_type_ref = add("text/plain; charset=utf-8");
  asset.last_modified_ref = add("Sun, 06 Nov 1994 08:49:37 GMT");
  asset.strings = strings.data();
  asset.last_modified_unix = 784111777;
  asset.size = 5;
  const std::uint32_t by_tagged[] = {0};
  static const char kBlob[] = "hello";
  const kv_assets::Manifest manifest{prefix, {&asset, 1}, by_tagged, kBlob, {}};
  GEN_CHECK(manifest.Find(path) == &asset, path);
  GEN_CHECK(manifest.FindTagged(tagged) == &asset, tagged);
  const kv_assets::Server server(manifest);
  for (const std::string& target : {url, untagged_url}) {
    GEN_CHECK(server.HandlesTarget(target), target);
    for (const char* method : {"GET", "HEAD"}) {
      const kv_assets::Response res = server.Handle({.method = method, .target = target});
      GEN_CHECK(res.status == 200 && res.asset == &asset, std::to_string(res.status) + " " +
                                                              std::string(prefix) + " | " +
                                                              std::string(path) + " | " + target);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 'd': the depfile, read back.

// The bytes Ninja (1.11) reads as part of a name in a depfile: anything else ends the name.
bool NinjaPlain(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("+,/_:.~(){}%=@[]!-").find(ch) != std::string_view::npos;
}

// Reads a depfile as Ninja and Make do: "target: prereq prereq ...", with "\ ", "\#", "$$" and
// backslash-newline continuations. Returns the prerequisites of the one rule.
bool ReadDepfile(std::string_view text, std::string& target, std::vector<std::string>& prereqs) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      if (in_word) words.push_back(word), word.clear(), in_word = false;
    } else if (c == '\\' && i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '#')) {
      word.push_back(text[++i]);
      in_word = true;
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      word.push_back(text[++i]);
      in_word = true;
    } else if (!NinjaPlain(c)) {
      // Whitespace, and for Ninja anything else outside its plain set, ends a name.
      if (in_word) words.push_back(word), word.clear(), in_word = false;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  if (words.empty() || words[0].empty() || words[0].back() != ':') return false;
  target = words[0].substr(0, words[0].size() - 1);
  prereqs.assign(words.begin() + 1, words.end());
  return true;
}

// Names a depfile can carry: Ninja's plain bytes and an escaped space ('$' and '#' have
// escapes too, but CMake's rewrite of the depfile for Ninja drops them).
bool DepfileCanCarry(std::string_view path) {
  for (const char c : path) {
    if (c != ' ' && !NinjaPlain(c)) return false;
  }
  return true;
}

void CheckDepfile(const std::vector<std::string_view>& lines) {
  if (lines.empty() || !lines[0].starts_with('/')) return;
  std::string root(lines[0]);
  if (root.find('\0') != std::string::npos) return;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::vector<kv_assets::gen::PreparedFile> files;
  std::vector<std::string> watched;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.starts_with("w:")) {
      if (line.size() > 2 && line.find('\0') == std::string_view::npos) {
        watched.emplace_back(line.substr(2));
      }
      continue;
    }
    if (!IsServablePath(line)) continue;
    kv_assets::gen::PreparedFile f;
    f.source.path = std::string(line);
    f.source.abs_path = root + "/" + f.source.path;
    f.content = f.source.path;
    f.digest = kv_assets::gen::HashBytes(f.content);
    const std::string b64 = kv_assets::gen::DigestToBase64Url(f.digest);
    f.tag = b64.substr(0, kv_assets::gen::kTagLength);
    f.etag = "\"" + b64 + "\"";
    f.tagged_path = kv_assets::gen::TaggedPath(f.source.path, f.tag);
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.source.path < b.source.path; });
  files.erase(
      std::unique(files.begin(), files.end(),
                  [](const auto& a, const auto& b) { return a.source.path == b.source.path; }),
      files.end());
  std::sort(watched.begin(), watched.end());
  watched.erase(std::unique(watched.begin(), watched.end()), watched.end());

  kv_assets::gen::EmitOptions options;
  options.out_dir = "/build dir/kv_assets/app";
  options.name = "app_assets";
  options.depfile = options.out_dir + "/app_assets.d";
  const absl::StatusOr<kv_assets::gen::GeneratedFiles> out =
      kv_assets::gen::Emit(files, watched, options);
  if (!out.ok()) return;  // a tagged name equal to another file's name

  std::string target;
  std::vector<std::string> prereqs;
  GEN_CHECK(ReadDepfile(out->depfile, target, prereqs), out->depfile);
  GEN_CHECK(target == options.out_dir + "/app_assets.h", target);
  std::vector<std::string> inputs;
  if (!out->blob_name.empty()) inputs.push_back(options.out_dir + "/" + out->blob_name);
  for (const auto& f : files) inputs.push_back(f.source.abs_path);
  inputs.insert(inputs.end(), watched.begin(), watched.end());
  for (const std::string& p : prereqs) {
    GEN_CHECK(std::find(inputs.begin(), inputs.end(), p) != inputs.end(),
              "read back a name that is not an input: " + p + "\n  depfile: " + out->depfile);
  }
  for (const std::string& in : inputs) {
    if (!DepfileCanCarry(in)) continue;
    GEN_CHECK(std::find(prereqs.begin(), prereqs.end(), in) != prereqs.end(),
              "left out: " + in + "\n  depfile: " + out->depfile);
  }
}

// ---------------------------------------------------------------------------------------------
// 'i': ignore rules, rebased.

struct Scratch {
  git_repository* plain = nullptr;    // R at the top
  git_repository* rebased = nullptr;  // RebaseIgnoreRules(R, D)
};

git_repository* OpenScratchRepository(const std::string& dir) {
  git_repository* repo = nullptr;
  if (git_repository_init(&repo, dir.c_str(), /*is_bare=*/1) != 0) return nullptr;
  const std::string empty = dir + "/empty-worktree";
  std::filesystem::create_directories(empty);
  if (git_repository_set_workdir(repo, empty.c_str(), /*update_gitlink=*/0) != 0) return nullptr;
  return repo;
}

const Scratch& ScratchRepositories() {
  static const Scratch* const scratch = [] {
    git_libgit2_init();
    // As generator/ignore.cc: no configuration from outside.
    for (int level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                      GIT_CONFIG_LEVEL_PROGRAMDATA}) {
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "kv-fuzz-ignore-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    auto* s = new Scratch;
    s->plain = OpenScratchRepository(tmpl + "/plain.git");
    s->rebased = OpenScratchRepository(tmpl + "/rebased.git");
    if (s->plain == nullptr || s->rebased == nullptr) std::abort();
    static const std::string remove = tmpl;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(remove, ignored);
    });
    return s;
  }();
  return *scratch;
}

// Paths libgit2 1.5 treats specially, which generator/ignore.cc never shows it: one starting
// "c:/" is read as a drive root even on Linux (ignore.cc puts everything one folder down),
// and anything in a ".git" folder is ignored whatever the rules say (the scan skips dotfiles).
bool LibgitSpecial(std::string_view path) {
  if (path.size() >= 2 && path[1] == ':') return true;
  for (const std::string_view name : Split(path, '/')) {
    if (name == ".git") return true;
  }
  return false;
}

bool IsIgnored(git_repository* repo, const std::string& path, bool& ignored) {
  int result = 0;
  if (git_ignore_path_is_ignored(&result, repo, path.c_str()) != 0) return false;
  ignored = result != 0;
  return true;
}

void CheckIgnore(const std::vector<std::string_view>& lines) {
  if (lines.size() < 3) return;
  const std::string_view dir = lines[0];
  const std::string_view rule = lines[1];
  if (!IsScannablePath(dir) || LibgitSpecial(dir) || rule.find('\0') != std::string_view::npos) {
    return;
  }
  const std::string rebased = kv_assets::gen::RebaseIgnoreRules(rule, dir);
  GEN_CHECK(rebased.empty() || rebased.back() == '\n', rebased);
  GEN_CHECK(rebased.find('\n') == rebased.size() - 1 || rebased.empty(), rebased);

  const Scratch& s = ScratchRepositories();
  if (git_ignore_clear_internal_rules(s.plain) != 0 ||
      git_ignore_clear_internal_rules(s.rebased) != 0) {
    std::abort();
  }
  // The rule at the top, as the generator hands it to libgit2 (raw, some rules make libgit2
  // 1.5 loop forever; see RebaseIgnoreRules).
  const std::string plain_rule = kv_assets::gen::RebaseIgnoreRules(rule, "");
  const bool plain_ok = plain_rule.empty() || git_ignore_add_rule(s.plain, plain_rule.c_str()) == 0;
  const bool rebased_ok = rebased.empty() || git_ignore_add_rule(s.rebased, rebased.c_str()) == 0;
  if (!plain_ok || !rebased_ok) return;  // libgit2 refused the pattern itself
  for (std::size_t i = 2; i < lines.size(); ++i) {
    std::string_view path = lines[i];
    const bool is_dir = path.ends_with('/');
    if (is_dir) path.remove_suffix(1);
    if (!IsServablePath(path) || LibgitSpecial(path)) continue;
    const std::string suffix = is_dir ? "/" : "";
    bool plain = false, moved = false;
    if (!IsIgnored(s.plain, std::string(path) + suffix, plain)) continue;
    if (!IsIgnored(s.rebased, std::string(dir) + "/" + std::string(path) + suffix, moved)) {
      continue;
    }
    GEN_CHECK(plain == moved, "D=" + std::string(dir) + " R=" + std::string(rule) +
                                  " P=" + std::string(path) + suffix + " rebased=" + rebased +
                                  (plain ? " ignored at the top only" : " ignored rebased only"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) return 0;
  const char mode = input[0];
  const std::vector<std::string_view> lines = Lines(input.substr(1));
  const auto names = [&] {
    if (lines.size() >= 2) CheckNames(lines[0], lines[1]);
  };
  switch (mode) {
    case 'n':
      names();
      break;
    case 'd':
      CheckDepfile(lines);
      break;
    case 'i':
      CheckIgnore(lines);
      break;
    default:
      names();
      CheckDepfile(lines);
      CheckIgnore(lines);
  }
  return 0;
}
