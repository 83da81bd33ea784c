// References rewritten to tagged names, and tags that follow them (generator/link.h). Each
// test is named after a rule of docs/references.md.

#include "generator/link.h"

#include <map>
#include <string>
#include <vector>

#include "generator/integrity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv_assets::gen {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Folder = std::map<std::string, std::string>;  // path -> content

std::vector<PreparedFile> Hash(const Folder& folder) {
  std::vector<PreparedFile> files;
  for (const auto& [path, content] : folder) {
    files.push_back(HashFile(SourceFile{path, "/src/" + path, 0, content.size()}, content));
  }
  return files;  // a std::map iterates in bytewise path order, as Scan() sorts
}

struct Linked {
  std::vector<PreparedFile> files;
  LinkReport report;
  const PreparedFile& operator[](const std::string& path) const {
    for (const PreparedFile& f : files) {
      if (f.source.path == path) return f;
    }
    ADD_FAILURE() << "no " << path;
    return files.front();
  }
  std::string Tagged(const std::string& path) const { return (*this)[path].tagged_path; }
  std::string Name(const std::string& path) const {  // the tagged file name alone
    const std::string t = Tagged(path);
    return t.substr(t.rfind('/') + 1);
  }
};

Linked LinkFolder(const Folder& folder, LinkOptions options = {}) {
  Linked out{Hash(folder), {}};
  absl::StatusOr<LinkReport> report = Link(out.files, options);
  EXPECT_TRUE(report.ok()) << report.status();
  if (report.ok()) out.report = *report;
  return out;
}

const std::string kFont = "wOF2 font bytes";

TEST(Link, RelativeReferencesStayRelative) {
  const Folder folder = {{"css/site.css", "@font-face{src:url(../fonts/fa.woff2)}"},
                         {"fonts/fa.woff2", kFont}};
  const Linked root = LinkFolder(folder);
  EXPECT_EQ(root["css/site.css"].content,
            "@font-face{src:url(../fonts/" + root.Name("fonts/fa.woff2") + ")}");
  // The bytes do not depend on PREFIX.
  const Linked prefixed = LinkFolder(folder, {.prefix = "/static/"});
  EXPECT_EQ(prefixed["css/site.css"].content, root["css/site.css"].content);
  EXPECT_EQ(root.report.references, 1u);
}

TEST(Link, RootRelativeReferencesUnderThePrefix) {
  const Folder folder = {
      {"css/site.css",
       ".a{b:url(/static/img/a.png)} .c{d:url(/api/img.png)} .e{f:url(/img/a.png)}"},
      {"img/a.png", "png"}};
  const Linked linked = LinkFolder(folder, {.prefix = "/static/"});
  EXPECT_EQ(linked["css/site.css"].content, ".a{b:url(/static/" + linked.Tagged("img/a.png") +
                                                ")} .c{d:url(/api/img.png)} .e{f:url(/img/a.png)}");
  EXPECT_THAT(linked.report.warnings, IsEmpty());  // outside the prefix: the application's
}

TEST(Link, QueryAndFragmentAreKept) {
  const Folder folder = {
      {"css/icons.css",
       "@font-face{src:url(f.eot?#iefix) format('embedded-opentype'),url('f.svg#icons')}"
       ".a{b:url(\"f.eot?v=4.7.0\")}"},
      {"css/f.eot", "eot"},
      {"css/f.svg", "<svg/>"}};
  const Linked l = LinkFolder(folder);
  EXPECT_EQ(l["css/icons.css"].content, "@font-face{src:url(" + l.Name("css/f.eot") +
                                            "?#iefix) format('embedded-opentype'),url('" +
                                            l.Name("css/f.svg") + "#icons')}.a{b:url(\"" +
                                            l.Name("css/f.eot") + "?v=4.7.0\")}");
}

TEST(Link, ForeignReferencesAreLeftAlone) {
  const std::string css =
      ".a{b:url(data:image/svg+xml;utf8,<svg><use href='%23id'/></svg>)}"
      ".c{d:url(\"data:image/svg+xml,%3Csvg%3E%3Cpath fill='url(%23g)'/%3E%3C/svg%3E\")}"
      ".e{f:url(https://cdn.example/x.png)} .g{h:url(//cdn.example/y.png)} .i{j:url(#id)}"
      ".k{l:url(%23id)} .m{n:url()} .o{p:url('')} .q{filter:url(#blur)}";
  const Linked l = LinkFolder({{"a.css", css}});
  EXPECT_EQ(l["a.css"].content, css);
  EXPECT_THAT(l.report.warnings, IsEmpty());
  EXPECT_TRUE(IsForeignReference("mailto:x@y"));
  EXPECT_TRUE(IsForeignReference("C:x"));
  EXPECT_FALSE(IsForeignReference("data/x.png"));
  EXPECT_FALSE(IsForeignReference("http-diagram.jpg"));
  EXPECT_FALSE(IsForeignReference("a.b/c:d"));
}

TEST(Link, NamesThatLookLikeSchemesAreFiles) {
  const Folder folder = {{"a.css", ".a{b:url(data/x.png)} .c{d:url(http-diagram.jpg)}"},
                         {"data/x.png", "x"},
                         {"http-diagram.jpg", "jpg"}};
  const Linked l = LinkFolder(folder);
  EXPECT_EQ(l["a.css"].content, ".a{b:url(data/" + l.Name("data/x.png") + ")} .c{d:url(" +
                                    l.Name("http-diagram.jpg") + ")}");
}

TEST(Link, NamesAreLookedUpDecodedAndWrittenEncoded) {
  const Folder folder = {{"a.css",
                          ".a{b:url(my%20font.woff2)} .c{d:url('my font.woff2')}"
                          " .e{f:url(\xC3\xBC.png)} .g{h:url(\\fc.png)}"},
                         {"my font.woff2", kFont},
                         {"\xC3\xBC.png", "png"}};
  const Linked l = LinkFolder(folder);
  const std::string font = "my%20font." + l["my font.woff2"].tag + ".woff2";
  const std::string u = "%C3%BC." + l["\xC3\xBC.png"].tag + ".png";
  EXPECT_EQ(l["a.css"].content, ".a{b:url(" + font + ")} .c{d:url('" + font + "')} .e{f:url(" + u +
                                    ")} .g{h:url(" + u + ")}");
}

TEST(Link, SourceMapsNameTaggedFiles) {
  const Folder folder = {
      {"css/site.css", ".a{}\n/*# sourceMappingURL=site.css.map */\n"},
      {"css/site.css.map",
       R"({"version":3,"file":"site.css","sources":["site.scss"],"mappings":""})"},
      {"js/app.js", "let a = 1;\n//# sourceMappingURL=app.js.map\n\n"},
      {"js/app.js.map",
       "{\"version\": 3, \"names\": [\"x\"],\n \"file\": \"app.js\", \"mappings\": \"\"}"}};
  const Linked l = LinkFolder(folder);
  EXPECT_EQ(l["css/site.css"].content,
            ".a{}\n/*# sourceMappingURL=" + l.Name("css/site.css.map") + " */\n");
  EXPECT_EQ(l["css/site.css.map"].content, R"({"version":3,"file":")" + l.Name("css/site.css") +
                                               R"(","sources":["site.scss"],"mappings":""})");
  EXPECT_EQ(l["js/app.js"].content,
            "let a = 1;\n//# sourceMappingURL=" + l.Name("js/app.js.map") + "\n\n");
  EXPECT_EQ(l["js/app.js.map"].content, "{\"version\": 3, \"names\": [\"x\"],\n \"file\": \"" +
                                            l.Name("js/app.js") + "\", \"mappings\": \"\"}");
  // A script and its map name each other: a cycle each.
  EXPECT_EQ(l.report.cycles, 2u);
}

TEST(Link, OnlyTheLastSourceMappingUrlOfAScriptCounts) {
  const std::string js =
      "const s = '//# sourceMappingURL=fake.map';\n//# sourceMappingURL=missing.map\nrun();\n";
  const Linked l = LinkFolder({{"a.js", js}, {"fake.map", "{}"}});
  EXPECT_EQ(l["a.js"].content, js);  // the comment is not the last line, the string no comment
  EXPECT_THAT(l.report.warnings, IsEmpty());
}

TEST(Link, TagsFollowTheGraph) {
  Folder folder = {{"index.css", "@import 'theme.css';"},
                   {"theme.css", "@font-face{src:url(fonts/a.woff2)}"},
                   {"fonts/a.woff2", kFont},
                   {"other.css", ".x{}"}};
  const Linked before = LinkFolder(folder);
  folder["fonts/a.woff2"] = kFont + " v2";
  const Linked after = LinkFolder(folder);
  // A new font: new URLs for everything that references it, transitively.
  EXPECT_NE(after.Tagged("fonts/a.woff2"), before.Tagged("fonts/a.woff2"));
  EXPECT_NE(after.Tagged("theme.css"), before.Tagged("theme.css"));
  EXPECT_NE(after.Tagged("index.css"), before.Tagged("index.css"));
  EXPECT_EQ(after["index.css"].content, "@import '" + after.Tagged("theme.css") + "';");
  // A file whose references did not change keeps its tag.
  EXPECT_EQ(after.Tagged("other.css"), before.Tagged("other.css"));
  // Outside cycles a tag is still the hash of the bytes served, as the ETag is.
  for (const PreparedFile& f : after.files) {
    EXPECT_EQ(f.digest, HashBytes(f.content)) << f.source.path;
    EXPECT_EQ(f.etag.substr(1, kTagLength), f.tag) << f.source.path;
  }
}

TEST(Link, TagsFollowADeepChain) {
  // c0.css imports c1.css ... imports c9.css, which names the font: ten levels.
  Folder folder;
  for (int i = 0; i < 10; ++i) {
    folder["c" + std::to_string(i) + ".css"] = "@import url(c" + std::to_string(i + 1) + ".css);";
  }
  folder["c10.css"] = "@font-face{src:url(f.woff2)}";
  folder["f.woff2"] = kFont;
  const Linked before = LinkFolder(folder);
  folder["f.woff2"] = kFont + "!";
  const Linked after = LinkFolder(folder);
  for (int i = 0; i <= 10; ++i) {
    const std::string path = "c" + std::to_string(i) + ".css";
    EXPECT_NE(after.Tagged(path), before.Tagged(path)) << path;
    if (i < 10) {
      EXPECT_EQ(after[path].content,
                "@import url(" + after.Tagged("c" + std::to_string(i + 1) + ".css") + ");");
    }
  }
  EXPECT_EQ(after.report.cycles, 0u);
}

TEST(Link, TwoReferencesOnOneLine) {
  const Linked l = LinkFolder(
      {{"a.css", ".a{background:url(x.png),url('y.png')}"}, {"x.png", "x"}, {"y.png", "y"}});
  EXPECT_EQ(l["a.css"].content,
            ".a{background:url(" + l.Tagged("x.png") + "),url('" + l.Tagged("y.png") + "')}");
}

TEST(Link, CyclesGetTagsFromTheirWholeComponent) {
  Folder folder = {{"a.css", "@import 'b.css'; .a{background:url(img.png)}"},
                   {"b.css", "@import 'a.css';"},
                   {"img.png", "png"},
                   {"c.css", "@import 'a.css';"}};
  const Linked one = LinkFolder(folder);
  const Linked two = LinkFolder(folder);
  EXPECT_EQ(one.report.cycles, 1u);
  EXPECT_EQ(one["a.css"].content, "@import '" + one.Tagged("b.css") + "'; .a{background:url(" +
                                      one.Tagged("img.png") + ")}");
  EXPECT_EQ(one["b.css"].content, "@import '" + one.Tagged("a.css") + "';");
  EXPECT_EQ(one["c.css"].content, "@import '" + one.Tagged("a.css") + "';");
  // Deterministic, and every ETag is the hash of the final bytes.
  for (const PreparedFile& f : one.files) {
    EXPECT_EQ(f.tagged_path, two[f.source.path].tagged_path);
    EXPECT_EQ(f.content, two[f.source.path].content);
    EXPECT_EQ(f.digest, HashBytes(f.content));
  }
  // A change anywhere in the cycle, or below it, renames every member.
  folder["img.png"] = "png v2";
  const Linked changed = LinkFolder(folder);
  EXPECT_NE(changed.Tagged("a.css"), one.Tagged("a.css"));
  EXPECT_NE(changed.Tagged("b.css"), one.Tagged("b.css"));
  EXPECT_NE(changed.Tagged("c.css"), one.Tagged("c.css"));
  // Relative references only: the bytes (tags included) do not depend on PREFIX.
  const Linked prefixed = LinkFolder(folder, {.prefix = "/static/"});
  for (const PreparedFile& f : changed.files) {
    EXPECT_EQ(f.content, prefixed[f.source.path].content) << f.source.path;
  }
}

TEST(Link, LongCyclesNeedNoPassLimit) {
  Folder folder;
  const int n = 60;  // Django gives up after 5 passes
  for (int i = 0; i < n; ++i) {
    folder["f" + std::to_string(1000 + i) + ".css"] =
        "@import 'f" + std::to_string(1000 + (i + 1) % n) + ".css';";
  }
  const Linked l = LinkFolder(folder);
  EXPECT_EQ(l.report.cycles, 1u);
  for (int i = 0; i < n; ++i) {
    const std::string next = "f" + std::to_string(1000 + (i + 1) % n) + ".css";
    EXPECT_EQ(l["f" + std::to_string(1000 + i) + ".css"].content,
              "@import '" + l.Tagged(next) + "';");
  }
}

TEST(Link, SelfReferenceIsACycleOfOne) {
  const Linked l = LinkFolder({{"a.css", ".a{b:url(a.css#x)}"}});
  EXPECT_EQ(l["a.css"].content, ".a{b:url(" + l.Tagged("a.css") + "#x)}");
  EXPECT_EQ(l.report.cycles, 1u);
}

TEST(Link, MissingReferencesWarnAndStayAsWritten) {
  const std::string css = ".a{}\r\n.b{background:url(../img/missing.png)}\n@import 'gone.css';";
  const Folder folder = {{"css/site.css", css}, {"css/x.map", R"({"file":"nothing.js"})"}};
  const Linked l = LinkFolder(folder);
  EXPECT_EQ(l["css/site.css"].content, css);
  EXPECT_THAT(l.report.warnings,
              ElementsAre("/src/css/site.css:2: warning: ../img/missing.png: no file "
                          "img/missing.png in the asset folder; left as written",
                          "/src/css/site.css:3: warning: gone.css: no file css/gone.css in the "
                          "asset folder; left as written"));
  // STRICT: every warning, as one error.
  std::vector<PreparedFile> files = Hash(folder);
  absl::StatusOr<LinkReport> strict = Link(files, {.strict = true});
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(strict.status().message(), HasSubstr("2 reference(s)"));
  EXPECT_THAT(strict.status().message(), HasSubstr("site.css:2: warning: ../img/missing.png"));
  EXPECT_THAT(strict.status().message(), HasSubstr("site.css:3: warning: gone.css"));
}

TEST(Link, ReferencesOutsideTheFolderAreTheApplications) {
  // From /static/css/a.css, ../../x.png is /x.png (a browser stops at the root): not ours.
  const std::string css = ".a{b:url(../../x.png)} .c{d:url(../y.png)} .e{f:url(../../../z.png)}";
  const Linked l = LinkFolder({{"css/a.css", css}}, {.prefix = "/static/"});
  EXPECT_EQ(l["css/a.css"].content, css);
  ASSERT_EQ(l.report.warnings.size(), 1u);  // ../y.png is inside the folder: missing
  EXPECT_THAT(l.report.warnings[0], HasSubstr("no file y.png"));
}

TEST(Link, ReferencesAreResolvedAsTheBrowserAndTheServerResolveThem) {
  const Folder folder = {{"css/a.css",
                          ".a{b:url(./img/../img/%2E/x.png)} .c{d:url(%2e%2e/css/img/x.png)}"
                          " .e{f:url(img%2Fx.png)} .g{h:url(/static/css/img/x.png)}"},
                         {"css/img/x.png", "x"},
                         {"100%/b.css", ".a{b:url(c.png)}"},
                         {"100%/c.png", "c"}};
  const Linked l = LinkFolder(folder, {.prefix = "/static/"});
  const std::string x = l.Name("css/img/x.png");
  EXPECT_EQ(l["css/a.css"].content,
            ".a{b:url(./img/../img/%2E/" + x + ")} .c{d:url(%2e%2e/css/img/" + x +
                ")} .e{f:url(img%2Fx.png)} .g{h:url(/static/css/img/" + x + ")}");
  // An encoded '/' is a request the server refuses: a warning that says so.
  ASSERT_EQ(l.report.warnings.size(), 1u);
  EXPECT_THAT(l.report.warnings[0],
              HasSubstr("img%2Fx.png: the server refuses /static/css/img%2Fx.png (400)"));
  // A folder whose name needs escaping in a URL.
  EXPECT_EQ(l["100%/b.css"].content, ".a{b:url(" + l.Name("100%/c.png") + ")}");
}

TEST(Link, RewriteNoneLeavesFilesAlone) {
  const Folder folder = {{"a.css", ".a{b:url(b.png)} .c{d:url(missing.png)}"}, {"b.png", "png"}};
  std::vector<PreparedFile> files = Hash(folder);
  const std::vector<PreparedFile> hashed = files;
  absl::StatusOr<LinkReport> report = Link(files, {.rewrite = false, .strict = true});
  ASSERT_TRUE(report.ok()) << report.status();
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].content, hashed[i].content);
    EXPECT_EQ(files[i].tagged_path, hashed[i].tagged_path);
    EXPECT_EQ(files[i].integrity, Integrity(files[i].content));
  }
}

TEST(Link, ByteOrderMarkLineBreaksAndLatin1AreKept) {
  const std::string css = "\xEF\xBB\xBF.a{content:'\xE9'}\r\n.b{b:url(b.png)}\r\n";
  const Linked l = LinkFolder({{"a.css", css}, {"b.png", "png"}});
  EXPECT_EQ(l["a.css"].content,
            "\xEF\xBB\xBF.a{content:'\xE9'}\r\n.b{b:url(" + l.Tagged("b.png") + ")}\r\n");
}

TEST(Link, IntegrityIsSha384OfTheBytesServed) {
  // The SRI specification's own example.
  EXPECT_EQ(Integrity("alert('Hello, world.');"),
            "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO");
  const Linked l = LinkFolder({{"a.css", ".a{b:url(b.png)}"}, {"b.png", "png"}});
  EXPECT_EQ(l["a.css"].integrity, Integrity(l["a.css"].content));
  EXPECT_NE(l["a.css"].integrity, Integrity(".a{b:url(b.png)}"));
}

}  // namespace
}  // namespace kv_assets::gen
