// The stylesheet tokenizer (generator/css.h): which text is a reference, per CSS Syntax
// Level 3. Each test is named after a rule of docs/references.md.

#include "generator/css.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv_assets::gen {
namespace {

using ::testing::ElementsAre;
using Form = CssReference::Form;

std::vector<std::string> Urls(std::string_view css) {
  std::vector<std::string> out;
  for (const CssReference& r : FindCssReferences(css)) out.push_back(r.url);
  return out;
}

// The exact text each reference covers.
std::vector<std::string> Spans(std::string_view css) {
  std::vector<std::string> out;
  for (const CssReference& r : FindCssReferences(css)) {
    out.emplace_back(css.substr(r.begin, r.end - r.begin));
  }
  return out;
}

TEST(Css, UrlsInAnyProperty) {
  const std::string css =
      "@font-face{font-family:x;src:url(f.woff2) format('woff2'),url('f.woff') format('woff'),"
      "local(\"Arial\")}\n"
      ".a{background:url( \"b.png\" ) no-repeat,url(c.png);mask-image:url(m.svg#shape);"
      "cursor:url(cur.cur),auto;content:\"d.png\"}\n"
      ".b{background-image:image-set(\"i1.png\" 1x,url(i2.png) 2x,'i3.avif' type(\"image/avif\"))}"
      ".c{background-image:-webkit-image-set('w.png' 1x)}"
      ".d{background:src(\"s.png\")}";
  EXPECT_THAT(Urls(css), ElementsAre("f.woff2", "f.woff", "b.png", "c.png", "m.svg#shape",
                                     "cur.cur", "i1.png", "i2.png", "i3.avif", "w.png", "s.png"));
  EXPECT_THAT(Spans(".a{background:url( \"b.png\" )}"), ElementsAre("\"b.png\""));
  EXPECT_THAT(Spans(".a{background:url( b.png )}"), ElementsAre("url( b.png )"));
}

TEST(Css, ImportInBothForms) {
  EXPECT_THAT(Urls("@import \"a.css\";@import url(b.css) screen;@import 'c.css' layer(x);"
                   "@IMPORT url(\"d.css\");.x{content:'not.css'}"),
              ElementsAre("a.css", "b.css", "c.css", "d.css"));
  // Only the token right after @import: a string later in the prelude is a media query's.
  EXPECT_THAT(Urls("@import \"a.css\" supports(display:grid) \"x\";"), ElementsAre("a.css"));
}

TEST(Css, CommentsAreNotReferences) {
  EXPECT_THAT(Urls("/* background: url(old.png) */ .a{/*url(x.png)*/color:red}"
                   "/* unterminated url(y.png)"),
              ::testing::IsEmpty());
  // A comment inside a url() token is part of the URL, as in browsers.
  EXPECT_THAT(Urls(".a{b:url(a/*b*/c.png)}"), ElementsAre("a/*b*/c.png"));
}

TEST(Css, EscapesAreDecoded) {
  EXPECT_THAT(Urls(".a{b:url(a\\).png)} .b{c:u\\72l(b.png)} .c{d:url(\"c\\\"q.png\")}"
                   ".d{e:url(\\31 .png)} .e{f:url('line\\\ncontinued.png')}"),
              ElementsAre("a).png", "b.png", "c\"q.png", "1.png", "linecontinued.png"));
  // An escaped selector is no reference, and its parenthesis does not open one.
  EXPECT_THAT(Urls(".url\\(x\\) { background: url(real.png) }"), ElementsAre("real.png"));
}

TEST(Css, BadUrlsAndBadStringsAreLeftAlone) {
  EXPECT_THAT(Urls(".a{b:url(a b.png)} .c{d:url(x\"y.png)} .e{f:url(ok.png)}"),
              ElementsAre("ok.png"));
  // After a bad string the next quote opens a string, as in browsers: no quote here.
  EXPECT_THAT(Urls(".a{b:url(\"broken\n.png)} .c{d:url(ok.png)}"), ElementsAre("ok.png"));
}

TEST(Css, NumbersAreNotUrls) {
  EXPECT_THAT(Urls(".a{width:10url(x.png)} .b{c:1e3url(y.png)} .c{d:url(z.png)}"),
              ElementsAre("z.png"));
}

TEST(Css, NamespaceUrlIsNotAReference) {
  EXPECT_THAT(Urls("@namespace svg url(svg.xml); @namespace \"x\"; .a{b:url(a.png)}"),
              ElementsAre("a.png"));
}

TEST(Css, SourceMappingUrlComment) {
  const std::string css = ".a{}\n/*# sourceMappingURL=site.css.map */\n";
  const std::vector<CssReference> refs = FindCssReferences(css);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].form, Form::kComment);
  EXPECT_EQ(refs[0].url, "site.css.map");
  EXPECT_EQ(refs[0].line, 2u);
  EXPECT_EQ(css.substr(refs[0].begin, refs[0].end - refs[0].begin), "site.css.map");
  EXPECT_THAT(Urls("/*@ sourceMappingURL=old.map*/"), ElementsAre("old.map"));
}

TEST(Css, ByteOrderMarkAndLineBreaks) {
  // CR LF, CR and FF each end one line; a BOM is no character of the first line.
  const std::string css = "\xEF\xBB\xBF.a{}\r\n.b{}\r.c{}\f.d{b:url(x.png)}\n.e{b:url(\xE9.png)}";
  const std::vector<CssReference> refs = FindCssReferences(css);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].line, 4u);
  EXPECT_EQ(refs[1].line, 5u);
  EXPECT_EQ(refs[1].url, "\xE9.png");  // Latin-1 bytes come through as they are
}

TEST(Css, ReplacementTextKeepsTheForm) {
  const std::string css = ".a{b:url('x.png')} .c{d:url(y.png)}";
  const std::vector<CssReference> refs = FindCssReferences(css);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(CssReferenceText(refs[0], "x.T.png?a='b'", '\''), "'x.T.png?a=\\27 b\\27 '");
  EXPECT_EQ(CssReferenceText(refs[1], "y.T.png#a(b c)"), "url(y.T.png#a\\28 b\\20 c\\29 )");
  // What was written reads back as the URL it stands for.
  const std::string rewritten = "a{b:" + CssReferenceText(refs[1], "y.T.png#a(b c)\\") + "}";
  EXPECT_THAT(Urls(rewritten), ElementsAre("y.T.png#a(b c)\\"));
}

}  // namespace
}  // namespace kv_assets::gen
