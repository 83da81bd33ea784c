// Generated code: golden output, determinism, and that it compiles for awkward inputs.
#include "generator/emit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "generator/compress.h"
#include "generator/link.h"
#include "generator/manifest_json.h"
#include "generator/scan.h"
#include "tests/test_util.h"

namespace kv_assets::gen {
namespace {

using ::kv_assets::test_util::ReadAll;
using ::kv_assets::test_util::RunCommand;
using ::kv_assets::test_util::TempDir;

const std::string kGolden = std::string(KV_ASSETS_TESTDATA_DIR) + "/golden";

// Every coding, so the golden output shows each.
const CompressOptions kAllCodings{.codings = {Coding::kGzip, Coding::kBrotli, Coding::kZstd}};

// Scan, hash, link, compress (without a cache) and emit, as the generator does, with every file
// dated 2023-11-14 22:13:20 UTC so that the output does not depend on mtimes.
absl::StatusOr<GeneratedFiles> Generate(const std::string& root, const EmitOptions& options,
                                        const CompressOptions& compress = kAllCodings) {
  absl::StatusOr<ScanResult> scan = Scan(root, {});
  if (!scan.ok()) return scan.status();
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(scan->files);
  if (!hashed.ok()) return hashed.status();
  for (PreparedFile& f : *hashed) f.last_modified = 1700000000;
  if (absl::StatusOr<LinkReport> linked = Link(*hashed, {.prefix = options.prefix}); !linked.ok()) {
    return linked.status();
  }
  absl::StatusOr<CompressResult> compressed = Compress(*std::move(hashed), compress);
  if (!compressed.ok()) return compressed.status();
  return Emit(compressed->files, scan->watched, options);
}

// A stylesheet that every coding shrinks well.
std::string Css(int rules) {
  std::string out;
  for (int i = 0; i < rules; ++i) {
    out += ".rule-" + std::to_string(i) + " { padding: " + std::to_string(i % 5) + "px; }\n";
  }
  return out;
}

EmitOptions GoldenOptions() {
  EmitOptions o;
  o.out_dir = "/out";
  o.name = "golden_assets";
  o.cpp_namespace = "golden::assets";
  o.prefix = "/static/";
  o.bodies = BodyMode::kLiteral;
  return o;
}

// Set KV_ASSETS_UPDATE_GOLDEN=1 to rewrite the expected files after an intended change.
void CompareWithGolden(const std::string& actual, const std::string& file) {
  const std::string path = kGolden + "/" + file;
  if (std::getenv("KV_ASSETS_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, ReadAll(path)) << "differs from " << path;
}

TEST(Emit, MatchesGoldenOutput) {
  absl::StatusOr<GeneratedFiles> out = Generate(kGolden + "/input", GoldenOptions());
  ASSERT_TRUE(out.ok()) << out.status();
  CompareWithGolden(out->header, "golden_assets.h");
  CompareWithGolden(out->source, "golden_assets.cc");
  CompareWithGolden(out->manifest_json, "golden_assets.manifest.json");
}

// A manifest-only build (STORE): keys instead of bodies, nothing to compile but the manifest.
TEST(Emit, ManifestOnlyMatchesGoldenOutput) {
  EmitOptions o = GoldenOptions();
  o.name = "golden_store_assets";
  o.store_namespace = "golden_store_assets";
  o.store_url = "redis://127.0.0.1:6379/0";
  absl::StatusOr<GeneratedFiles> out = Generate(kGolden + "/input", o);
  ASSERT_TRUE(out.ok()) << out.status();
  CompareWithGolden(out->header, "golden_store_assets.h");
  CompareWithGolden(out->source, "golden_store_assets.cc");
  CompareWithGolden(out->manifest_json, "golden_store_assets.manifest.json");
  EXPECT_EQ(out->blob, "");
  EXPECT_EQ(out->header.find("extern \"C\""), std::string::npos);
  EXPECT_NE(out->header.find("kAssets, kByTagged, nullptr, kVariants}"), std::string::npos);
  EXPECT_NE(out->header.find("kManifestId = \"" + ManifestId(out->manifest_json) + "\""),
            std::string::npos);
  // The embedded build of the same folder is the other golden file: STORE changes nothing else.
  absl::StatusOr<GeneratedFiles> again =
      Generate(kGolden + "/input", o, {.codings = kAllCodings.codings, .threads = 3});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->header, out->header);
  EXPECT_EQ(again->manifest_json, out->manifest_json);
}

TEST(Emit, IsByteIdenticalForIdenticalInput) {
  TempDir a, b;
  for (const TempDir* d : {&a, &b}) {
    d->Write("site/x/y.css", "y");
    d->Write("site/z.js", "z");
    d->Write("site/w", "");
    for (int i = 0; i < 12; ++i) d->Write("site/c/" + std::to_string(i) + ".css", Css(10 + i * 9));
  }
  EmitOptions o = GoldenOptions();
  o.bodies = BodyMode::kIncbin;
  absl::StatusOr<GeneratedFiles> first = Generate(a.path() + "/site", o, {.threads = 1});
  absl::StatusOr<GeneratedFiles> second = Generate(b.path() + "/site", o, {.threads = 5});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->header.find("-br\\\""), std::string::npos);  // variants were made
  EXPECT_EQ(first->header, second->header);
  EXPECT_EQ(first->source, second->source);
  EXPECT_EQ(first->blob, second->blob);
}

TEST(Emit, VariantEtagNamesTheCodingAndAFastLevel) {
  EXPECT_EQ(VariantEtag("\"abc\"", Coding::kGzip), "\"abc-gzip\"");
  EXPECT_EQ(VariantEtag("\"abc\"", Coding::kBrotli, CompressLevel::kMax), "\"abc-br\"");
  EXPECT_EQ(VariantEtag("\"abc\"", Coding::kBrotli, CompressLevel::kFast), "\"abc-br-fast\"");
}

TEST(Emit, VariantEtagsAndIdenticalVariantBytesStoredOnce) {
  TempDir t;
  const std::string css = Css(60);
  t.Write("site/a.css", css);
  t.Write("site/b.css", css);
  absl::StatusOr<GeneratedFiles> with = Generate(t.path() + "/site", GoldenOptions());
  absl::StatusOr<GeneratedFiles> without =
      Generate(t.path() + "/site", GoldenOptions(), {.codings = {}});
  ASSERT_TRUE(with.ok() && without.ok());
  const std::string etag = DigestToBase64Url(HashBytes(css));
  for (const char* token : {"gzip", "br", "zstd"}) {
    EXPECT_NE(with->header.find("\\\"" + etag + "-" + token + "\\\""), std::string::npos) << token;
  }
  EXPECT_NE(with->header.find("kVariants{{"), std::string::npos);
  EXPECT_NE(without->header.find("std::array<::kv_assets::Variant, 0> kVariants{{\n}};"),
            std::string::npos);
  EXPECT_EQ(without->blob, css);
  // Each of the three variants is stored once for both files.
  absl::StatusOr<CompressResult> c = Compress(
      {PreparedFile{.source = {.path = "a.css"}, .content = css, .digest = HashBytes(css)}},
      kAllCodings);
  ASSERT_TRUE(c.ok());
  std::size_t variant_bytes = 0;
  for (const EncodedVariant& v : c->files[0].variants) variant_bytes += v.bytes.size();
  EXPECT_EQ(c->files[0].variants.size(), 3u);
  EXPECT_EQ(with->blob.size(), css.size() + variant_bytes);
}

// Bodies of 64 KiB and more start on a 4 KiB page of the blob, and the blob on a page of the
// program (an adapter may sendfile(2) them from the executable); smaller ones are packed.
TEST(Emit, LargeBodiesStartOnAPage) {
  TempDir t;
  const std::string small = "x";
  std::string large(70 * 1024, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 7919 % 251);
  t.Write("site/a.txt", small);
  t.Write("site/b.bin", large);
  absl::StatusOr<GeneratedFiles> out =
      Generate(t.path() + "/site", GoldenOptions(), {.codings = {}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->blob.substr(0, 1), small);
  EXPECT_EQ(out->blob.size(), 4096 + large.size());
  EXPECT_EQ(out->blob.substr(4096), large);
  EXPECT_EQ(out->blob.substr(1, 4095), std::string(4095, '\0'));
  EXPECT_NE(out->source.find("alignas(4096)"), std::string::npos);
  EmitOptions incbin = GoldenOptions();
  incbin.bodies = BodyMode::kIncbin;
  absl::StatusOr<GeneratedFiles> asm_out = Generate(t.path() + "/site", incbin, {.codings = {}});
  ASSERT_TRUE(asm_out.ok()) << asm_out.status();
  EXPECT_NE(asm_out->source.find(".balign 4096"), std::string::npos);
}

TEST(Emit, HeaderSaysGeneratedAndHasNoMachineSpecificContent) {
  TempDir t;
  t.Write("site/a.css", "a");
  EmitOptions o = GoldenOptions();
  o.out_dir = t.path() + "/out";
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", o);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->header.rfind("// Generated by kv-assets. DO NOT EDIT.\n", 0), 0u);
  EXPECT_EQ(out->source.rfind("// Generated by kv-assets. DO NOT EDIT.\n", 0), 0u);
  EXPECT_EQ(out->header.find(t.path()), std::string::npos);
}

TEST(Emit, TaggedNameCollidingWithAnotherFileIsAnError) {
  TempDir t;
  t.Write("site/a.js", "content");
  const std::string tag = DigestToBase64Url(HashBytes("content")).substr(0, kTagLength);
  t.Write("site/a." + tag + ".js", "other");
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", GoldenOptions());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(out.status().message(), t.path() + "/site/a.js: its tagged name a." + tag +
                                        ".js is also the name of a." + tag +
                                        ".js; rename one of them");
}

TEST(Emit, UrlPathsLongerThanTheServerAcceptsAreAnError) {
  TempDir t;
  const std::string file = t.Write("site/css/a.css", "a");
  EmitOptions o = GoldenOptions();
  o.prefix = "/" + std::string(4070, 'p') + "/";
  EXPECT_TRUE(Generate(t.path() + "/site", o).ok());  // 4072 + 20 bytes: fits
  o.prefix = "/" + std::string(4075, 'p') + "/";
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", o);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            file +
                ": with the prefix and the tag its URL path is 4097 bytes, more than the 4096 "
                "the server accepts; cannot be served");
}

// Found by tests/fuzz (fuzz_generator): a control character in a path above the assets (a
// watched folder, the folder itself) split the name in the depfile, so the build depended on
// files that do not exist and regenerated every time.
TEST(Emit, DepfileLeavesOutNamesWithControlCharacters) {
  TempDir t;
  t.Write("we\tird/site/a.css", "a");
  EmitOptions o = GoldenOptions();
  o.depfile = "/out/golden_assets.d";
  absl::StatusOr<ScanResult> scan = Scan(t.path() + "/we\tird/site", {});
  ASSERT_TRUE(scan.ok()) << scan.status();
  absl::StatusOr<std::vector<PreparedFile>> hashed = HashFiles(scan->files);
  ASSERT_TRUE(hashed.ok()) << hashed.status();
  std::vector<std::string> watched = scan->watched;
  watched.push_back("/src/new\nline");
  watched.push_back("/src/carriage\rreturn");
  watched.push_back("/src/plain");
  absl::StatusOr<GeneratedFiles> out = Emit(*hashed, watched, o);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->depfile, "/out/golden_assets.h: \\\n  /src/plain\n");
}

TEST(Emit, StringLiteralsEscapeEverythingAmbiguous) {
  EXPECT_EQ(CppStringLiteral("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(CppStringLiteral("??="), "\"\\?\\?=\"");
  EXPECT_EQ(CppStringLiteral(std::string("\0"
                                         "1",
                                         2)),
            "\"\\0001\"");
  EXPECT_EQ(CppStringLiteral("\xE6\x97\xA5"), "\"\\346\\227\\245\"");
  EXPECT_EQ(CppStringLiteral("\n\t\x7f"), "\"\\n\\t\\177\"");
}

TEST(Emit, LiteralBodiesAreSplitIntoPiecesOfAtMost16KB) {
  TempDir t;
  t.Write("site/big.txt", std::string(40000, 'a'));
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", GoldenOptions());
  ASSERT_TRUE(out.ok());
  std::size_t pieces = 0, pos = 0;
  while ((pos = out->source.find("\n    \"", pos)) != std::string::npos) {
    const std::size_t end = out->source.find('"', pos + 6);
    EXPECT_LE(end - (pos + 6), 16380u);
    ++pieces;
    pos = end;
  }
  EXPECT_EQ(pieces, 3u);
}

// Builds `out_dir`/main.cc with the generated `source` (using the compiler that builds this
// project, warnings as errors) and expects the program to exit 0.
void CompileAndRun(const std::string& out_dir, const std::string& source) {
  const test_util::CommandResult build =
      test_util::RunCommand({KV_ASSETS_CXX_COMPILER, "-std=c++20", "-Wall", "-Werror", "-I",
                             out_dir, "-I", KV_ASSETS_RUNTIME_INCLUDE_DIR, out_dir + "/main.cc",
                             out_dir + "/" + source, "-o", out_dir + "/main"},
                            {}, out_dir, 120);
  ASSERT_EQ(build.exit_code, 0) << build.output;
  const test_util::CommandResult run = test_util::RunCommand({out_dir + "/main"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

// Rows are positional: a runtime whose Asset declares two fields in another order than the
// generator writes them must not compile the header (it would swap their meanings).
TEST(Emit, ReorderedFieldsFailToCompile) {
  TempDir t;
  t.Write("site/a.css", "a");
  const std::string out_dir = t.Mkdir("out");
  EmitOptions o = GoldenOptions();
  o.out_dir = out_dir;
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", o);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(WriteOutputs(*out, o).ok());
  const std::string fake = t.Mkdir("include");
  std::filesystem::copy(KV_ASSETS_RUNTIME_INCLUDE_DIR, fake,
                        std::filesystem::copy_options::recursive);
  std::string manifest_h = ReadAll(fake + "/kv_assets/manifest.h");
  const std::string declared = "path_ref{}, tagged_path_ref{}";
  const std::size_t at = manifest_h.find(declared);
  ASSERT_NE(at, std::string::npos) << "update this test with Asset's declaration";
  manifest_h.replace(at, declared.size(), "tagged_path_ref{}, path_ref{}");
  t.Write("include/kv_assets/manifest.h", manifest_h);
  const auto compile = [&](const std::string& include) {
    return test_util::RunCommand({KV_ASSETS_CXX_COMPILER, "-std=c++20", "-fsyntax-only", "-x",
                                  "c++", "-I", include, out_dir + "/golden_assets.h"},
                                 {}, out_dir, 120);
  };
  EXPECT_EQ(compile(KV_ASSETS_RUNTIME_INCLUDE_DIR).exit_code, 0);
  const test_util::CommandResult reordered = compile(fake);
  EXPECT_NE(reordered.exit_code, 0);
  EXPECT_NE(reordered.output.find("::kv_assets::Asset's fields are not in the order kv-assets "
                                  "writes them"),
            std::string::npos)
      << reordered.output;
}

// Compiles and runs the generated code for awkward inputs in both body modes, with the
// compiler that builds this project.
class EmitCompiles : public ::testing::TestWithParam<BodyMode> {};

TEST_P(EmitCompiles, ForAwkwardNamesAndContents) {
  TempDir t;
  std::string binary_content;
  for (int i = 0; i < 256; ++i) binary_content.push_back(static_cast<char>(i));
  t.Write("site/with space.txt", "spaces");
  t.Write("site/q\"uote\\back'slash.txt", "quotes");
  t.Write("site/\xE6\x97\xA5\xE6\x9C\xAC/\xC3\xA9.css", "??= ??/ ??' trigraphs");
  t.Write("site/empty", "");
  t.Write("site/all-bytes.bin", binary_content);
  t.Write("site/big.js", std::string(70000, 'j'));
  const std::string out_dir = t.Mkdir("out");
  EmitOptions o = GoldenOptions();
  o.out_dir = out_dir;
  o.name = "awkward_assets";
  o.cpp_namespace = "awkward::assets";
  o.bodies = GetParam();
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", o);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(WriteOutputs(*out, o).ok());
  t.Write("out/main.cc", R"cc(
#include <cstdio>
#include <string>
#include <string_view>
#include "awkward_assets.h"
    static_assert(awkward::assets::kManifest.assets.size() == 6);
    constexpr std::string_view kUrl = awkward::assets::Tag("q\"uote\\back'slash.txt");
    int main() {
      const auto& m = awkward::assets::kManifest;
      std::string_view all = m.Body(*m.Find("all-bytes.bin"));
      if (all.size() != 256) return 1;
      for (int i = 0; i < 256; ++i)
        if (static_cast<unsigned char>(all[i]) != i) return 2;
      if (m.Body(*m.Find("with space.txt")) != "spaces") return 3;
      if (m.Body(*m.Find("\xE6\x97\xA5\xE6\x9C\xAC/\xC3\xA9.css")) != "?\?= ?\?/ ?\?' trigraphs")
        return 4;
      if (!m.Body(*m.Find("empty")).empty()) return 5;
      if (m.Body(*m.Find("big.js")) != std::string_view(std::string(70000, 'j'))) return 6;
      if (!kUrl.starts_with("/static/q%22uote%5Cback%27slash.")) return 7;
      return 0;
    }
  )cc");
  CompileAndRun(out_dir, "awkward_assets.cc");
}

// The variants' bytes, ETags and order as a compiled program sees them, against what
// Compress() makes of the same files (written beside main.cc as <path with '_'>.<token>).
TEST_P(EmitCompiles, WithVariants) {
  TempDir t;
  const std::map<std::string, std::string> files = {
      {"app.js", Css(200)},
      {"img/logo.svg", "<svg>" + Css(40) + "</svg>"},
      {"copy.js", Css(200)},  // the same bytes as app.js: stored once
      {"pic.png", Css(50)},   // never compressed
  };
  const std::string out_dir = t.Mkdir("out");
  for (const auto& [path, content] : files) {
    t.Write("site/" + path, content);
    absl::StatusOr<CompressResult> c = Compress(
        {PreparedFile{.source = {.path = path}, .content = content, .digest = HashBytes(content)}},
        kAllCodings);
    ASSERT_TRUE(c.ok());
    std::string flat = path;
    std::replace(flat.begin(), flat.end(), '/', '_');
    for (const EncodedVariant& v : c->files[0].variants) {
      t.Write("out/" + flat + "." + std::string(CodingName(v.coding)), v.bytes);
    }
  }
  EmitOptions o = GoldenOptions();
  o.out_dir = out_dir;
  o.bodies = GetParam();
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", o);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(WriteOutputs(*out, o).ok());
  t.Write("out/main.cc", "#define OUT_DIR \"" + out_dir + "\"\n" + R"cc(
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include "golden_assets.h"
    constexpr const auto& kM = golden::assets::kManifest;
    static_assert(kM.variants.size() == 9);
    static_assert(kM.VariantsOf(kM.assets[kM.IndexOf("app.js")]).size() == 3);
    static_assert(kM.VariantsOf(kM.assets[kM.IndexOf("pic.png")]).empty());

    std::string Read(std::string path) {
      std::ifstream in(OUT_DIR "/" + path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    int Check(std::string_view path, std::string flat) {
      const kv_assets::Asset& a = *kM.Find(path);
      if (kM.Body(a).size() != a.size) return 10;
      const auto variants = kM.VariantsOf(a);
      if (variants.size() != 3) return 11;
      for (std::size_t i = 0; i < variants.size(); ++i) {
        const kv_assets::Variant& v = variants[i];
        const std::string token(v.content_encoding());
        if (i > 0 && v.size < variants[i - 1].size) return 12;
        const std::string expected = Read(flat + "." + token);
        if (expected.empty() || kM.Body(v) != expected) return 13;
        std::string etag(a.etag());
        etag.insert(etag.size() - 1, "-" + token);
        if (v.etag() != etag) return 14;
      }
      return 0;
    }

    int main() {
      if (int rc = Check("app.js", "app.js")) return rc;
      if (int rc = Check("copy.js", "copy.js")) return rc;
      if (int rc = Check("img/logo.svg", "img_logo.svg")) return 20 + rc;
      if (kM.VariantsOf(*kM.Find("copy.js"))[0].offset != kM.VariantsOf(*kM.Find("app.js"))[0].offset)
        return 30;
      return 0;
    }
  )cc");
  CompileAndRun(out_dir, "golden_assets.cc");
}

TEST_P(EmitCompiles, ForAnEmptyFolder) {
  TempDir t;
  t.Mkdir("site");
  const std::string out_dir = t.Mkdir("out");
  EmitOptions o = GoldenOptions();
  o.out_dir = out_dir;
  o.bodies = GetParam();
  absl::StatusOr<GeneratedFiles> out = Generate(t.path() + "/site", o);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(WriteOutputs(*out, o).ok());
  t.Write(
      "out/main.cc",
      "#include \"golden_assets.h\"\n"
      "static_assert(golden::assets::kManifest.assets.empty());\n"
      "static_assert(golden::assets::kManifest.IndexOf(\"x\") == kv_assets::Manifest::kNotFound);\n"
      "int main() { return golden::assets::kManifest.FindTagged(\"x\") != nullptr; }\n");
  CompileAndRun(out_dir, "golden_assets.cc");
}

INSTANTIATE_TEST_SUITE_P(BodyModes, EmitCompiles,
                         ::testing::Values(BodyMode::kIncbin, BodyMode::kLiteral),
                         [](const auto& info) {
                           return info.param == BodyMode::kIncbin ? "Incbin" : "Literal";
                         });

}  // namespace
}  // namespace kv_assets::gen
