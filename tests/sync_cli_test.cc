// kv-assets sync and dump as a user runs them: progress, idempotence, error messages that
// name the store, and the forms dump reads.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/store_test_util.h"
#include "tests/test_util.h"

namespace kv_assets {
namespace {

using ::kv_assets::test_util::CommandResult;
using ::kv_assets::test_util::FakeCloudflare;
using ::kv_assets::test_util::ReadAll;
using ::kv_assets::test_util::RunCommand;
using ::kv_assets::test_util::TempDir;

CommandResult Kv(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {KV_ASSETS_GENERATOR_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, env);
}

class SyncCli : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("site/css/a.css", "a{}");
    t_.Write("site/js/b.js", "b()");
    out_ = t_.Mkdir("out");
    store_ = "dir:" + t_.path() + "/store";
  }
  // generate/sync with the same flags, as kv_assets_embed(... STORE) runs them.
  std::vector<std::string> Args(const std::string& command) const {
    return {command,      t_.path() + "/site", "--out-dir=" + out_,
            "--name=app", "--prefix=/s/",      "--store=" + store_};
  }
  TempDir t_;
  std::string out_, store_;
};

TEST_F(SyncCli, SyncsOnceThenFindsNothingToDo) {
  ASSERT_EQ(Kv(Args("generate")).exit_code, 0);
  EXPECT_EQ(ReadAll(out_ + "/app.bin"), "");  // manifest-only: no blob
  CommandResult r = Kv(Args("sync"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 of 2 bodies missing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("uploaded 2/2"), std::string::npos) << r.output;
  r = Kv(Args("sync"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 of 2 bodies missing"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("kv-assets: uploaded"), std::string::npos) << r.output;
}

TEST_F(SyncCli, RefusesAFolderThatChangedSinceTheBuild) {
  ASSERT_EQ(Kv(Args("generate")).exit_code, 0);
  t_.Write("site/css/a.css", "a{color:red}");
  const CommandResult r = Kv(Args("sync"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "kv-assets: error: " + t_.path() +
                          "/site: differs from the manifest the build compiled in (" + out_ +
                          "/app.manifest.json); build again, then sync with the build's flags\n");
  EXPECT_FALSE(std::filesystem::exists(t_.path() + "/store/app"));
}

TEST_F(SyncCli, DumpReadsAHeaderAManifestAndAStore) {
  ASSERT_EQ(Kv(Args("generate")).exit_code, 0);
  ASSERT_EQ(Kv(Args("sync")).exit_code, 0);
  const std::string json = ReadAll(out_ + "/app.manifest.json");
  ASSERT_NE(json.find("\"key\":\"app/css/a."), std::string::npos) << json;
  ASSERT_NE(json.find(",\"integrity\":\"sha384-"), std::string::npos) << json;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"dump", out_ + "/app.h"},
        std::vector<std::string>{"dump", out_ + "/app.manifest.json"},
        std::vector<std::string>{"dump", store_, "--name", "app"}}) {
    const CommandResult r = Kv(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, json) << args[1];
  }
  // An embedded build's header dumps too, without keys.
  const std::string embedded = t_.Mkdir("embedded");
  ASSERT_EQ(Kv({"generate", t_.path() + "/site", "--out-dir=" + embedded, "--name=e"}).exit_code,
            0);
  const CommandResult r = Kv({"dump", embedded + "/e.h"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"path\":\"js/b.js\""), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\"key\""), std::string::npos) << r.output;
}

TEST_F(SyncCli, DumpReadsPrecompressedVariantsBackFromAHeader) {
  t_.Write("site/js/big.js",
           ReadAll(std::string(KV_ASSETS_TESTDATA_DIR) + "/store_site/js/app.js"));
  ASSERT_EQ(Kv(Args("generate")).exit_code, 0);
  const std::string json = ReadAll(out_ + "/app.manifest.json");
  ASSERT_NE(json.find("\"variants\":[{\"coding\":\"br\""), std::string::npos) << json;
  const CommandResult r = Kv({"dump", out_ + "/app.h"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, json);
  // Sync uploads the variants too: 3 files and 2 variants (gzip, br) of one.
  const CommandResult synced = Kv(Args("sync"));
  EXPECT_NE(synced.output.find("5 of 5 bodies missing"), std::string::npos) << synced.output;
}

TEST_F(SyncCli, PruneDryRunListsWhatWouldGo) {
  ASSERT_EQ(Kv(Args("generate")).exit_code, 0);
  ASSERT_EQ(Kv(Args("sync")).exit_code, 0);
  t_.Write(std::string("store/app/old.abc.css"), "old");
  CommandResult r = Kv({"sync", "--store", store_, "--name", "app", "--prune", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("would delete app/old.abc.css\n"), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(t_.path() + "/store/app/old.abc.css"));
  r = Kv({"sync", "--store", store_, "--name", "app", "--prune", "--keep", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists(t_.path() + "/store/app/old.abc.css"));
  EXPECT_EQ(Kv({"dump", store_, "--name=app"}).output, ReadAll(out_ + "/app.manifest.json"));
}

TEST_F(SyncCli, SyncsToCloudflare) {
  FakeCloudflare cf;
  const std::vector<std::string> env = {"CLOUDFLARE_API_TOKEN=test-token",
                                        "KV_ASSETS_CLOUDFLARE_API_URL=" + cf.api_url()};
  CommandResult r = Kv({"sync", t_.path() + "/site", "--name=app", "--store", cf.store_url()}, env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(cf.data().size(), 2u + 2u);
  r = Kv({"dump", cf.store_url(), "--name=app"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"key\":\"app/js/b."), std::string::npos) << r.output;
  EXPECT_TRUE(cf.stats().violations.empty());
}

TEST(SyncCliErrors, NameTheStoreOrTheProblem) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string site = t.path() + "/site";
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string message;
  };
  const Case cases[] = {
      {{"sync", site, "--store=ftp://x"},
       {},
       "kv-assets: error: ftp://x: unknown store (expected dir:<path>, "
       "redis://<host>[:<port>][/<db>] or cloudflare-kv://<account>/<namespace-id>)\n"},
      {{"sync", site}, {}, "kv-assets: error: no --store given\n"},
      {{"sync", "--store=dir:" + t.path() + "/s"},
       {},
       "kv-assets: error: no folder given (without one, sync can only --prune)\n"},
      {{"sync", site, "--store=dir:/x", "--keep=-1"},
       {},
       "kv-assets: error: --keep=-1: expected a number of releases, 0 or more\n"},
      {{"sync", "--store=dir:" + t.path() + "/s", "--prune"},
       {},
       "kv-assets: error: dir:" + t.path() +
           "/s: no release of assets is recorded (assets/.kv-assets/releases.json); nothing "
           "pruned\n"},
      {{"sync", site, "--store=cloudflare-kv://acct/ns"},
       {"CLOUDFLARE_API_TOKEN="},
       "kv-assets: error: cloudflare-kv://acct/ns: set CLOUDFLARE_API_TOKEN to an API token with "
       "Workers KV access\n"},
      {{"dump", t.path() + "/nope.json"},
       {},
       "kv-assets: error: " + t.path() + "/nope.json: cannot open: No such file or directory\n"},
      {{"dump", site + "/a.css"},
       {},
       "kv-assets: error: " + site +
           "/a.css: dump reads a generated header (<name>.h), a manifest (.json) or a store URL\n"},
      {{"dump", t.path() + "/older.h"},
       {},
       "kv-assets: error: " + t.path() +
           "/older.h: dump reads the manifest its build writes beside it: " + t.path() +
           "/older.manifest.json: cannot open: No such file or directory\n"},
  };
  for (const Case& c : cases) {
    const CommandResult r = Kv(c.args, c.env);
    EXPECT_EQ(r.exit_code, 1) << c.args[1];
    EXPECT_EQ(r.output, c.message);
  }
  // An unreachable Redis: the URL and the system's reason.
  const CommandResult r = Kv({"sync", site, "--store=redis://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.output.starts_with("kv-assets: error: redis://127.0.0.1:1: cannot connect: "))
      << r.output;
}

}  // namespace
}  // namespace kv_assets
