// kv-assets generate as the build runs it: exit codes, messages, and outputs that survive a
// failed run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "generator/compress_cache.h"
#include "tests/test_util.h"

namespace kv_assets {
namespace {

using ::kv_assets::test_util::CommandResult;
using ::kv_assets::test_util::ReadAll;
using ::kv_assets::test_util::RunCommand;
using ::kv_assets::test_util::TempDir;

// Runs `generate` with a private compression cache in the output folder, unless `env` says
// otherwise, so that tests do not share entries.
CommandResult Generate(const std::vector<std::string>& args,
                       const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {KV_ASSETS_GENERATOR_EXE, "generate"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> full_env = {"KV_ASSETS_CACHE_DIR="};
  full_env.insert(full_env.end(), env.begin(), env.end());
  return RunCommand(argv, full_env);
}

// The one line a successful run prints: "kv-assets: a: 1 files, 6 B; 0 variants, ...".
const std::regex kSummaryLine(
    R"(kv-assets: [a-z_]+: \d+ files, [0-9.]+ [kM]?B; \d+ variants, \d+ % saved; \d+ cached; [0-9.]+ s\n)");

// `generate <t>/site --out-dir=<out> --name=a --depfile=<out>/a.d`.
std::vector<std::string> ArgsFor(const TempDir& t, const std::string& out) {
  return {t.path() + "/site", "--out-dir=" + out, "--name=a", "--depfile=" + out + "/a.d"};
}

// The blob the generator wrote into `out`: a.<fingerprint>.bin, or "" when there is none or
// more than one.
std::string BlobPath(const std::string& out) {
  static const std::regex kBlob(R"(a\.[0-9a-f]{16}\.bin)");
  std::string found;
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    if (std::regex_match(e.path().filename().string(), kBlob)) {
      found = e.path().string();
      ++count;
    }
  }
  return count == 1 ? found : "";
}

struct Outputs {
  std::string header, source, blob_path, blob, depfile;
  std::int64_t header_mtime_ns;
  std::vector<std::string> names;  // every file in the folder
  bool operator==(const Outputs&) const = default;
};

Outputs Snapshot(const std::string& out) {
  struct stat st {};
  ::stat((out + "/a.h").c_str(), &st);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  const std::string blob = BlobPath(out);
  return {ReadAll(out + "/a.h"),
          ReadAll(out + "/a.cc"),
          blob,
          ReadAll(blob),
          ReadAll(out + "/a.d"),
          st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
          names};
}

TEST(Cli, GeneratesHeaderSourceBlobAndDepfile) {
  TempDir t;
  t.Write("site/css/a.css", "body{}");
  const std::string out = t.path() + "/out";
  std::filesystem::create_directories(out);
  const CommandResult r =
      Generate({t.path() + "/site", "--out-dir=" + out, "--name=a", "--namespace=my::assets",
                "--prefix=/s/", "--depfile=" + out + "/a.d"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::regex_match(r.output, kSummaryLine)) << r.output;
  const Outputs o = Snapshot(out);
  EXPECT_NE(o.header.find("namespace my::assets {"), std::string::npos);
  EXPECT_NE(o.header.find("/s/css/a."), std::string::npos);
  ASSERT_NE(o.blob_path, "");
  EXPECT_NE(o.source.find(".incbin \\\"" + o.blob_path + "\\\""), std::string::npos);
  EXPECT_EQ(o.blob, std::string("body{}"));
  EXPECT_NE(o.depfile.find(o.blob_path), std::string::npos);  // deleted, it is made again
  EXPECT_EQ(o.depfile.rfind(out + "/a.h:", 0), 0u) << o.depfile;
  EXPECT_NE(o.depfile.find(t.path() + "/site/css/a.css"), std::string::npos);
  EXPECT_NE(o.depfile.find(t.path() + "/site/css\n"), std::string::npos);
}

TEST(Cli, SecondRunWithSameInputRewritesNothing) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string out = t.Mkdir("out");
  const std::vector<std::string> args = ArgsFor(t, out);
  ASSERT_EQ(Generate(args).exit_code, 0);
  const Outputs before = Snapshot(out);
  ASSERT_EQ(Generate(args).exit_code, 0);
  EXPECT_EQ(Snapshot(out), before);  // same bytes and the same mtime
}

// A stylesheet of `rules` rules, worth compressing with every coding.
std::string Css(int rules) {
  std::string out;
  for (int i = 0; i < rules; ++i) out += ".r" + std::to_string(i) + " { margin: 0 auto; }\n";
  return out;
}

// Name -> modification time (ns) of each file in `dir`.
std::map<std::string, std::int64_t> Entries(const std::string& dir) {
  std::map<std::string, std::int64_t> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    struct stat st {};
    ::stat(e.path().c_str(), &st);
    out[e.path().filename().string()] = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  }
  return out;
}

TEST(Cli, CompressesIntoACacheThatIsReusedAndPruned) {
  TempDir t;
  const std::string css = t.Write("site/a.css", Css(50));
  t.Write("site/b.png", Css(50));
  const std::string out = t.Mkdir("out");
  const std::string cache = out + "/a.compress-cache";
  std::vector<std::string> args = ArgsFor(t, out);
  args.push_back("--compress=gzip,br,zstd");
  ASSERT_EQ(Generate(args).exit_code, 0);
  const std::map<std::string, std::int64_t> first = Entries(cache);
  EXPECT_EQ(first.size(), 3u);  // a.css: gzip, br, zstd; b.png: none
  for (const char* token : {"-gzip\\\"", "-br\\\"", "-zstd\\\""}) {
    EXPECT_NE(ReadAll(out + "/a.h").find(token), std::string::npos) << token;
  }
  // Nothing changed: every entry is read (which re-dates it), none rewritten.
  const auto inodes = [&] {
    std::map<std::string, ino_t> out;
    for (const auto& [name, mtime] : Entries(cache)) {
      struct stat st {};
      ::stat((cache + "/" + name).c_str(), &st);
      out[name] = st.st_ino;
    }
    return out;
  };
  const std::map<std::string, ino_t> first_inodes = inodes();
  ASSERT_EQ(Generate(args).exit_code, 0);
  EXPECT_EQ(inodes(), first_inodes);
  // An edit replaces the file's entries.
  t.Write("site/a.css", Css(51));
  ASSERT_EQ(Generate(args).exit_code, 0);
  const std::map<std::string, std::int64_t> second = Entries(cache);
  EXPECT_EQ(second.size(), 3u);
  for (const auto& [name, mtime] : second) EXPECT_FALSE(first.contains(name)) << name;
  // One coding: one entry.
  std::vector<std::string> gzip_only = args;
  gzip_only.push_back("--compress=gzip");
  ASSERT_EQ(Generate(gzip_only).exit_code, 0);
  EXPECT_EQ(Entries(cache).size(), 1u);
  EXPECT_EQ(ReadAll(out + "/a.h").find("-br\\\""), std::string::npos);
  // None: no variants, and the cache is gone.
  std::vector<std::string> none = args;
  none.push_back("--compress=none");
  ASSERT_EQ(Generate(none).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(cache));
  EXPECT_NE(ReadAll(out + "/a.h").find("std::array<::kv_assets::Variant, 0> kVariants"),
            std::string::npos);
}

TEST(Cli, DamagedCacheEntryIsNotFatal) {
  TempDir t;
  t.Write("site/a.css", Css(50));
  const std::string out = t.Mkdir("out");
  const std::vector<std::string> args = ArgsFor(t, out);
  ASSERT_EQ(Generate(args).exit_code, 0);
  const Outputs good = Snapshot(out);
  for (const auto& [name, mtime] : Entries(out + "/a.compress-cache")) {
    std::ofstream(out + "/a.compress-cache/" + name, std::ios::binary) << "garbage";
  }
  const CommandResult r = Generate(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::regex_match(r.output, kSummaryLine)) << r.output;
  EXPECT_EQ(Snapshot(out), good);
}

// Two builds of one folder into two build folders, at the same time, with one cache: both
// succeed with the same output, and every entry they leave is whole.
TEST(Cli, ConcurrentBuildsShareOneCacheFolder) {
  TempDir t;
  for (int i = 0; i < 40; ++i) t.Write(absl::StrCat("site/f", i, ".css"), Css(200 + i));
  const std::string cache = t.path() + "/cache";
  for (int round = 0; round < 3; ++round) {
    std::filesystem::remove_all(cache);
    CommandResult r[2];
    {
      std::vector<std::jthread> builds;
      for (int b = 0; b < 2; ++b) {
        builds.emplace_back([&, b] {
          const std::string out = t.path() + absl::StrCat("/out", b);
          r[b] = Generate(
              {t.path() + "/site", "--out-dir=" + out, "--name=a", "--compress=gzip,br,zstd"},
              {"KV_ASSETS_CACHE_DIR=" + cache});
        });
      }
    }
    ASSERT_EQ(r[0].exit_code, 0) << r[0].output;
    ASSERT_EQ(r[1].exit_code, 0) << r[1].output;
    EXPECT_EQ(ReadAll(t.path() + "/out0/a.h"), ReadAll(t.path() + "/out1/a.h"));
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(cache)) {
      const std::string name = e.path().filename().string();
      EXPECT_EQ(gen::ReadCacheEntry(cache, name).state, gen::CacheState::kHit) << name;
      ++entries;
    }
    EXPECT_EQ(entries, 120u);  // no temporary file left
    const CommandResult third = Generate({t.path() + "/site", "--out-dir=" + t.path() + "/out2",
                                          "--name=a", "--compress=gzip,br,zstd"},
                                         {"KV_ASSETS_CACHE_DIR=" + cache});
    EXPECT_NE(third.output.find("; 120 cached; "), std::string::npos) << third.output;
  }
}

TEST(Cli, SharedCacheIsTrimmedToItsMaximumSize) {
  TempDir t;
  for (int i = 0; i < 20; ++i) t.Write(absl::StrCat("site/f", i, ".css"), Css(2000 + i));
  const std::string cache = t.path() + "/cache";
  const auto cache_bytes = [&] {
    std::uintmax_t bytes = 0;
    for (const auto& e : std::filesystem::directory_iterator(cache)) bytes += e.file_size();
    return bytes;
  };
  const std::vector<std::string> args = {t.path() + "/site", "--out-dir=" + t.path() + "/out",
                                         "--name=a"};
  ASSERT_EQ(Generate(args, {"KV_ASSETS_CACHE_DIR=" + cache}).exit_code, 0);
  ASSERT_GT(cache_bytes(), 100u * 1024);  // what the cap below must trim
  // A run that adds an entry trims to 80 % of the cap.
  t.Write("site/f0.css", Css(3000));
  ASSERT_EQ(
      Generate(args, {"KV_ASSETS_CACHE_DIR=" + cache, "KV_ASSETS_CACHE_MAX_SIZE=100k"}).exit_code,
      0);
  EXPECT_GT(cache_bytes(), 0u);
  EXPECT_LE(cache_bytes(), 80u * 1024);
  // The flag wins over the environment.
  t.Write("site/f0.css", Css(3001));
  ASSERT_EQ(Generate({t.path() + "/site", "--out-dir=" + t.path() + "/out", "--name=a",
                      "--cache-max-size=0"},
                     {"KV_ASSETS_CACHE_DIR=" + cache, "KV_ASSETS_CACHE_MAX_SIZE=100k"})
                .exit_code,
            0);
  EXPECT_TRUE(std::filesystem::is_empty(cache));
}

TEST(Cli, ServeErrorsNameTheFlagOrTheFolder) {
  TempDir t;
  const std::string site = t.Mkdir("site");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{t.path() + "/missing"}, t.path() + "/missing: not a folder"},
      {{site, "--port=99999"}, "--port=99999: expected a port number, 0 to 65535"},
      {{site, "--address=banana"}, "--address=banana: not an IP address"},
      {{site, "--prefix=static/"}, "--prefix=static/: must start and end with '/'"},
      {{site, "--compress=lzma"},
       "--compress=lzma: expected none or a comma-separated list of gzip, br, zstd"},
      {{}, "no folder given"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> argv = {KV_ASSETS_GENERATOR_EXE, "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 1) << message;
    EXPECT_EQ(r.output, "kv-assets: error: " + message + "\n");
  }
}

TEST(Cli, DepfileEscapesSpaces) {
  TempDir t;
  t.Write("my site/a b.css", "a");
  const std::string out = t.Mkdir("out");
  ASSERT_EQ(
      Generate({t.path() + "/my site", "--out-dir=" + out, "--name=a", "--depfile=" + out + "/a.d"})
          .exit_code,
      0);
  EXPECT_NE(ReadAll(out + "/a.d").find("my\\ site/a\\ b.css"), std::string::npos);
}

TEST(Cli, DepfileListsNamesCMakeCannotReadOnlyThroughTheirFolder) {
  TempDir t;
  t.Write("site/q/q\"uote.css", "a");
  t.Write("site/q/back\\slash.css", "b");
  t.Write("site/q/it's & more.css", "d");  // Ninja splits names at ', &, ? (found by tests/fuzz)
  t.Write("site/q/a?b.css", "e");
  t.Write("site/q/plain.css", "c");
  const std::string out = t.Mkdir("out");
  ASSERT_EQ(
      Generate({t.path() + "/site", "--out-dir=" + out, "--name=a", "--depfile=" + out + "/a.d"})
          .exit_code,
      0);
  const std::string depfile = ReadAll(out + "/a.d");
  EXPECT_EQ(depfile.find("uote.css"), std::string::npos) << depfile;
  EXPECT_EQ(depfile.find("slash.css"), std::string::npos) << depfile;
  EXPECT_EQ(depfile.find("more.css"), std::string::npos) << depfile;
  EXPECT_EQ(depfile.find("a?b.css"), std::string::npos) << depfile;
  EXPECT_NE(depfile.find(t.path() + "/site/q/plain.css"), std::string::npos) << depfile;
  EXPECT_NE(depfile.find(t.path() + "/site/q\n"), std::string::npos) << depfile;
  EXPECT_NE(ReadAll(out + "/a.h").find("q/q\\\"uote.css"), std::string::npos);
}

TEST(Cli, LastModifiedIsNeverInTheFuture) {
  TempDir t;
  const std::string file = t.Write("site/a.css", "a");
  const std::filesystem::file_time_type future =
      std::filesystem::file_time_type::clock::now() + std::chrono::hours(24 * 365);
  std::filesystem::last_write_time(file, future);
  const std::string out = t.Mkdir("out");
  const std::int64_t before = std::time(nullptr);
  ASSERT_EQ(Generate({t.path() + "/site", "--out-dir=" + out, "--name=a"}).exit_code, 0);
  const std::string header = ReadAll(out + "/a.h");
  const std::size_t end = header.find(", 0, 1, 0, 0},");
  ASSERT_NE(end, std::string::npos) << header;
  const std::int64_t served = std::stoll(header.substr(header.rfind(", ", end - 1) + 2));
  EXPECT_GE(served, before);
  EXPECT_LE(served, std::time(nullptr));
}

TEST(Cli, SourceDateEpochSetsLastModified) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string out = t.Mkdir("out");
  ASSERT_EQ(Generate({t.path() + "/site", "--out-dir=" + out, "--name=a"},
                     {"SOURCE_DATE_EPOCH=784111777"})
                .exit_code,
            0);
  const std::string header = ReadAll(out + "/a.h");
  EXPECT_NE(header.find("Sun, 06 Nov 1994 08:49:37 GMT"), std::string::npos);
  EXPECT_NE(header.find(", 784111777, 0, 1, 0, 0},"), std::string::npos) << header;
}

TEST(Cli, GitModeDatesByCommitAndDepfileListsHead) {
  TempDir t;
  const std::string repo = std::filesystem::canonical(t.Mkdir("repo")).string();
  ASSERT_EQ(test_util::RunGit(repo, {"init", "-q", "-b", "main"}).exit_code, 0);
  t.Write("repo/site/a.css", "a");
  ASSERT_EQ(test_util::RunGit(repo, {"add", "-A"}).exit_code, 0);
  const CommandResult commit = test_util::RunGit(repo, {"commit", "-q", "-m", "a"}, 784111777);
  ASSERT_EQ(commit.exit_code, 0) << commit.output;
  const std::string out = t.Mkdir("out");
  const CommandResult r = Generate({repo + "/site", "--out-dir=" + out, "--name=a",
                                    "--depfile=" + out + "/a.d", "--last-modified=git"},
                                   {"SOURCE_DATE_EPOCH="});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(ReadAll(out + "/a.h").find("Sun, 06 Nov 1994 08:49:37 GMT"), std::string::npos);
  const std::string depfile = ReadAll(out + "/a.d");
  EXPECT_NE(depfile.find(" \\\n  " + repo + "/.git/HEAD \\\n"), std::string::npos) << depfile;
  EXPECT_NE(depfile.find(" \\\n  " + repo + "/.git/refs/heads/main"), std::string::npos) << depfile;
}

struct ErrorCase {
  std::vector<std::string> args;  // "{site}" and "{out}" are replaced
  std::string message;            // after "kv-assets: error: "; "{site}" replaced
  std::vector<std::string> env;
};

TEST(Cli, EachErrorIsOneLineNamingTheValue) {
  const std::vector<ErrorCase> cases = {
      {{"{site}/missing", "--out-dir={out}"},
       "{site}/missing: cannot open folder: No such file or directory"},
      {{"{site}/a.css", "--out-dir={out}"}, "{site}/a.css: not a folder"},
      {{"{site}"}, "no --out-dir given"},
      {{"--out-dir={out}"}, "no folder given"},
      {{"{site}", "{site}", "--out-dir={out}"}, "more than one folder: {site}, {site}"},
      {{"{site}", "--out-dir={out}", "--bodies=hex"}, "--bodies=hex: expected incbin or literal"},
      {{"{site}", "--out-dir={out}", "--rewrite=some"}, "--rewrite=some: expected all or none"},
      {{"{site}", "--out-dir={out}", "--compress=lzma"},
       "--compress=lzma: expected none or a comma-separated list of gzip, br, zstd"},
      {{"{site}", "--out-dir={out}", "--compress=gzip,brotli"},
       "--compress=gzip,brotli: expected none or a comma-separated list of gzip, br, zstd"},
      {{"{site}", "--out-dir={out}", "--compress="},
       "--compress=: expected none or a comma-separated list of gzip, br, zstd"},
      {{"{site}", "--out-dir={out}", "--name=a-b"}, "--name=a-b: not a C identifier"},
      {{"{site}", "--out-dir={out}", "--namespace=a::2b"},
       "--namespace=a::2b: not a C++ namespace name"},
      {{"{site}", "--out-dir={out}", "--namespace=a:::b"},
       "--namespace=a:::b: not a C++ namespace name"},
      {{"{site}", "--out-dir={out}", "--prefix=static/"},
       "--prefix=static/: must start and end with '/'"},
      {{"{site}", "--out-dir={out}", "--prefix=/static"},
       "--prefix=/static: must start and end with '/'"},
      // Prefixes whose URLs the server would refuse, or that browsers read as a host (found
      // by tests/fuzz, fuzz_generator).
      {{"{site}", "--out-dir={out}", "--prefix=/a/../"},
       "--prefix=/a/../: has a \"..\" segment, which the server refuses"},
      {{"{site}", "--out-dir={out}", "--prefix=/./"},
       "--prefix=/./: has a \".\" segment, which the server refuses"},
      {{"{site}", "--out-dir={out}", "--prefix=//cdn/"},
       "--prefix=//cdn/: has an empty segment (\"//\")"},
      {{"{site}", "--out-dir={out}", "--prefix=/a\x7F/"},
       "--prefix=/a\x7F/: segment \"a\x7F\": name contains control character 0x7F; cannot be "
       "served"},
      {{"{site}", "--out-dir={out}", "--frobnicate=1"},
       "--frobnicate: not a flag of kv-assets generate; see kv-assets generate --help"},
      {{"{site}", "--out-dir"},
       "--out-dir: needs a value (--out-dir=VALUE or --out-dir VALUE); see kv-assets generate "
       "--help"},
      {{"{site}", "--out-dir", "--name=x"},
       "--out-dir: needs a value (--out-dir=VALUE or --out-dir VALUE); see kv-assets generate "
       "--help"},
      {{"{site}", "--out-dir={out}", "--prune"},
       "--prune: not a flag of kv-assets generate; see kv-assets generate --help"},
      {{"{site}", "--out-dir={out}"},
       "SOURCE_DATE_EPOCH=yesterday: not a whole number of seconds",
       {"SOURCE_DATE_EPOCH=yesterday"}},
      {{"{site}", "--out-dir={out}", "--level=slow"}, "--level=slow: expected fast or max"},
      {{"{site}", "--out-dir={out}", "--cache-max-size=lots"},
       "--cache-max-size=lots: expected a size in bytes, such as 1073741824, 512M or 2G"},
      {{"{site}", "--out-dir={out}"},
       "KV_ASSETS_CACHE_MAX_SIZE=1T: expected a size in bytes, such as 1073741824, 512M or 2G",
       {"KV_ASSETS_CACHE_MAX_SIZE=1T"}},
      {{"{site}", "--out-dir={out}", "--last-modified=ctime"},
       "--last-modified=ctime: expected mtime, git or epoch"},
      {{"{site}", "--out-dir={out}", "--last-modified="},
       "--last-modified=: expected mtime, git or epoch"},
      {{"{site}", "--out-dir={out}", "--last-modified=epoch"},
       "--last-modified=epoch: SOURCE_DATE_EPOCH is not set in the build's environment",
       {"SOURCE_DATE_EPOCH="}},
      {{"{site}", "--out-dir={out}", "--last-modified=git"},
       "{site}: not in a git work tree, so --last-modified=git cannot date it"},
  };
  for (const ErrorCase& c : cases) {
    TempDir t;
    t.Write("site/a.css", "a");
    const std::string site = t.path() + "/site";
    const std::string out = t.Mkdir("out");
    std::vector<std::string> args;
    for (std::string a : c.args) {
      for (const auto& [key, value] : {std::pair{"{site}", site}, std::pair{"{out}", out}}) {
        const std::string_view k = key;
        for (std::size_t p; (p = a.find(k)) != std::string::npos;) a.replace(p, k.size(), value);
      }
      args.push_back(a);
    }
    std::string message = c.message;
    for (std::size_t p; (p = message.find("{site}")) != std::string::npos;) {
      message.replace(p, 6, site);
    }
    const CommandResult r = Generate(args, c.env);
    EXPECT_EQ(r.exit_code, 1) << c.message;
    EXPECT_EQ(r.output, "kv-assets: error: " + message + "\n");
  }
}

// A reference to a missing file: a compiler-style warning even with --quiet, and the run
// succeeds; --strict fails it with the same lines and keeps the previous outputs.
TEST(Cli, MissingReferenceWarnsEvenQuietAndFailsWithStrict) {
  TempDir t;
  t.Write("site/css/a.css", "a{}\n.b{background:url(gone.png)}\n");
  const std::string out = t.path() + "/out";
  const std::string warning = t.path() + "/site/css/a.css:2: warning: gone.png: no file " +
                              "css/gone.png in the asset folder; left as written\n";
  std::vector<std::string> args = ArgsFor(t, out);
  args.push_back("--quiet");
  const CommandResult quiet = Generate(args);
  EXPECT_EQ(quiet.exit_code, 0) << quiet.output;
  EXPECT_EQ(quiet.output, warning);
  const std::string header = ReadAll(out + "/a.h");
  t.Write("site/css/a.css", "a{}\n.b{background:url(gone.png)}\n.c{}");
  args.push_back("--strict");
  const CommandResult strict = Generate(args);
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_EQ(strict.output,
            "kv-assets: error: 1 reference(s) to files not in the asset folder "
            "(STRICT):\n" +
                warning);
  EXPECT_EQ(ReadAll(out + "/a.h"), header);
  // --rewrite=none: no references, so no warning either.
  args.back() = "--rewrite=none";
  const CommandResult none = Generate(args);
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_EQ(none.output, "");
}

TEST(Cli, UnknownCommandPrintsUsage) {
  const CommandResult r = RunCommand({KV_ASSETS_GENERATOR_EXE, "frobnicate"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output.rfind("kv-assets: error: frobnicate: unknown command\n", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("\nusage: kv-assets generate"), std::string::npos) << r.output;
  EXPECT_EQ(RunCommand({KV_ASSETS_GENERATOR_EXE}).exit_code, 2);
  EXPECT_EQ(RunCommand({KV_ASSETS_GENERATOR_EXE, "--help"}).exit_code, 0);
}

// Every command answers --help, "kv-assets help <command>" says the same, and both exit 0.
TEST(Cli, EveryCommandPrintsItsUsage) {
  for (const char* command : {"generate", "sync", "dump", "help"}) {
    const CommandResult flag = RunCommand({KV_ASSETS_GENERATOR_EXE, command, "--help"});
    EXPECT_EQ(flag.exit_code, 0) << command;
    EXPECT_EQ(flag.output.rfind(std::string("usage: kv-assets ") + command, 0), 0u) << flag.output;
    const CommandResult help = RunCommand({KV_ASSETS_GENERATOR_EXE, "help", command});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_EQ(help.output, flag.output) << command;
  }
  const CommandResult version = RunCommand({KV_ASSETS_GENERATOR_EXE, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output.rfind("kv-assets 0.", 0), 0u) << version.output;
  const CommandResult unknown = RunCommand({KV_ASSETS_GENERATOR_EXE, "help", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.output, "kv-assets: error: frobnicate: unknown command\n");
}

// "--flag value" and "--flag=value" mean the same for every flag that takes a value.
TEST(Cli, FlagValuesMayFollowAsTheNextArgument) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string site = t.path() + "/site";
  const std::string joined = t.Mkdir("joined"), split = t.Mkdir("split");
  ASSERT_EQ(Generate({site, "--out-dir=" + joined, "--name=x", "--prefix=/p/"}).exit_code, 0);
  ASSERT_EQ(Generate({site, "--out-dir", split, "--name", "x", "--prefix", "/p/"}).exit_code, 0);
  EXPECT_EQ(ReadAll(joined + "/x.h"), ReadAll(split + "/x.h"));
}

TEST(Cli, FailedRunLeavesPreviousOutputsIntact) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string out = t.Mkdir("out");
  const std::vector<std::string> args = ArgsFor(t, out);
  ASSERT_EQ(Generate(args).exit_code, 0);
  const Outputs good = Snapshot(out);
  // Now make the folder bad in several ways; each run must fail and change nothing.
  t.Write("site/b.css", "new content that must not appear");
  std::filesystem::create_symlink("missing", t.path() + "/site/dangling.css");
  CommandResult r = Generate(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "kv-assets: error: " + t.path() +
                          "/site/dangling.css: symbolic link to a file that does not exist\n");
  EXPECT_EQ(Snapshot(out), good);
  std::filesystem::remove(t.path() + "/site/dangling.css");
  t.Write("site/bad\xff.css");
  EXPECT_EQ(Generate(args).exit_code, 1);
  EXPECT_EQ(Snapshot(out), good);
  std::filesystem::remove(t.path() + "/site/bad\xff.css");
  // And once the problem is gone, the new file arrives.
  ASSERT_EQ(Generate(args).exit_code, 0);
  EXPECT_NE(ReadAll(BlobPath(out)).find("new content"), std::string::npos);
  // No temporary files are left behind in the output folder.
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

// A disk that fills up while the outputs are written: a limit on file size makes the blob's
// write fail for real (EFBIG, as ENOSPC would), in the generator process itself.
void LimitFileSizeTo4KiB() {
  const rlimit limit{4096, 4096};
  ::setrlimit(RLIMIT_FSIZE, &limit);
  ::signal(SIGXFSZ, SIG_IGN);  // a failed write() instead of a signal
}

TEST(Cli, DiskFullFailsNamingTheFileAndKeepsThePreviousOutputs) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string out = t.Mkdir("out");
  const std::vector<std::string> args = ArgsFor(t, out);
  ASSERT_EQ(Generate(args).exit_code, 0);
  const Outputs good = Snapshot(out);
  t.Write("site/big.js", std::string(64 * 1024, 'x'));
  const CommandResult r =
      RunCommand({KV_ASSETS_GENERATOR_EXE, "generate", args[0], args[1], args[2], args[3]}, {}, "",
                 60, &LimitFileSizeTo4KiB);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(std::regex_match(
      r.output, std::regex("kv-assets: error: " + out +
                           R"(/a\.[0-9a-f]{16}\.bin: cannot write: File too large\n)")))
      << r.output;
  // No new blob, no temporary file (the compression cache may have grown).
  Outputs after = Snapshot(out);
  std::erase(after.names, "a.compress-cache");
  Outputs expected = good;
  std::erase(expected.names, "a.compress-cache");
  EXPECT_EQ(after, expected);
  ASSERT_EQ(Generate(args).exit_code, 0);
  // One blob, the new one: the old is gone (BlobPath() finds none when there are two).
  EXPECT_NE(Snapshot(out).blob.find(std::string(64 * 1024, 'x')), std::string::npos);
}

TEST(Cli, UnwritableOutputFolderFailsCleanly) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string blocker = t.Write("file");  // a file where the output folder should be
  const CommandResult r =
      Generate({t.path() + "/site", "--out-dir=" + blocker + "/out", "--name=a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output.rfind("kv-assets: error: " + blocker + "/out/", 0), 0u) << r.output;
}

}  // namespace
}  // namespace kv_assets
