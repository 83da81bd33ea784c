// Fuzz target: the stylesheet tokenizer (generator/css.h) and the text it writes back.
//
// Input: a stylesheet, any bytes. For the references FindCssReferences() finds:
//   - each lies inside the input, after the previous one, and is not empty;
//   - a url-token's text starts with a case-insensitive "url(" (after escapes: any spelling
//     the tokenizer decodes as url), a string's with its quote;
//   - replacing any one of them with CssReferenceText(ref, u) for a new URL u (the old one
//     with bytes appended that CSS must escape: quotes, parentheses, a backslash, whitespace,
//     a newline) and tokenizing again finds the same number of references, at the same
//     place the replaced one now reads u, and every other one reads as before. This is what
//     the generator's rewriting relies on: what it writes is read back as the URL it meant,
//     and changes nothing around it.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "generator/css.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using kv_assets::gen::CssReference;

[[noreturn]] void Fail(const char* what, std::string_view css) {
  std::fprintf(stderr, "fuzz_css: invariant broken: %s\n  css: %s\n", what,
               kv_assets::fuzz::Printable(css, 400).c_str());
  std::abort();
}

void CheckRewrite(std::string_view css, const std::vector<CssReference>& refs, std::size_t k) {
  const CssReference& ref = refs[k];
  // A comment's value is written raw: it cannot hold what a comment cannot.
  const std::string url =
      ref.form == CssReference::Form::kComment ? ref.url + "v2" : ref.url + "'\"() \\\n\tx\x7F";
  const char quote = css[ref.begin];
  const std::string rewritten = std::string(css.substr(0, ref.begin)) +
                                kv_assets::gen::CssReferenceText(ref, url, quote) +
                                std::string(css.substr(ref.end));
  const std::vector<CssReference> again = kv_assets::gen::FindCssReferences(rewritten);
  if (again.size() != refs.size()) Fail("a rewrite changed the number of references", css);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    if (again[i].form != refs[i].form) Fail("a rewrite changed a reference's form", css);
    if (i == k && again[i].url != url) Fail("the rewritten reference reads another URL", css);
    if (i != k && again[i].url != refs[i].url) Fail("a rewrite changed another reference", css);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // rewrites are quadratic in the number of references
  const std::string_view css(reinterpret_cast<const char*>(data), size);
  const std::vector<CssReference> refs = kv_assets::gen::FindCssReferences(css);
  std::size_t previous_end = 0;
  for (const CssReference& r : refs) {
    if (r.begin < previous_end || r.end <= r.begin || r.end > css.size()) {
      Fail("a reference out of order or outside the input", css);
    }
    previous_end = r.end;
    if (r.form == CssReference::Form::kString && css[r.begin] != '"' && css[r.begin] != '\'') {
      Fail("a string reference that does not start with a quote", css);
    }
  }
  for (std::size_t k = 0; k < refs.size(); ++k) {
    // The url carries no NUL: CSS reads an escaped NUL as U+FFFD, so it cannot round-trip.
    if (refs[k].url.find('\0') != std::string::npos) continue;
    CheckRewrite(css, refs, k);
  }
  return 0;
}
