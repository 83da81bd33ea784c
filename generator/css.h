// generator/css.h — the URLs a stylesheet refers to, found by tokenizing it as a browser does.
//
// FindCssReferences() follows the tokenizer of CSS Syntax Level 3 (§4): comments, strings
// with their escapes and line continuations, numbers (so `10url(x)` is a dimension, not a
// URL), identifiers with escapes (`u\rl(x)` is a URL), url-tokens, bad strings and bad URLs.
// Regexes get these wrong in ways the Django, Propshaft and Sprockets trackers record: a
// `url()` inside a comment, an escaped parenthesis, a data: URI that nests `url(%23id)`.
//
// A reference is
//   - a url-token or a string inside `url(` / `src(`, in any property or at-rule;
//   - the string of `@import "x.css"` (its `url()` form is the rule above);
//   - a string directly inside `image-set()` / `-webkit-image-set()`, which CSS Images 4
//     reads as a URL;
//   - the value of a `/*# sourceMappingURL=… */` comment (also the older `/*@ …`).
// Not a reference: the URL of `@namespace` (a name, never fetched), and anything in a
// bad-url or bad-string token (the browser drops those too).
//
// The text is bytes: any encoding that is ASCII-compatible works (UTF-8, Latin-1), a UTF-8
// byte-order mark is skipped, and CR LF, CR and form feed count as one line break each.
//
// Example:
//   for (const CssReference& r : FindCssReferences("a{background:url( \"i.png\" )}")) {
//     // r.url == "i.png", r.form == kString, css.substr(r.begin, r.end - r.begin) == "\"i.png\""
//     std::string text = CssReferenceText(r, "i.EI7Zfw9kFp.png");  // "\"i.EI7Zfw9kFp.png\""
//   }

#ifndef KV_ASSETS_GENERATOR_CSS_H_
#define KV_ASSETS_GENERATOR_CSS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kv_assets::gen {

struct CssReference {
  enum class Form {
    kUrlToken,  // url(x.png): [begin, end) is the whole token, "url(" to ")"
    kString,    // "x.png": [begin, end) is the string, quotes included
    kComment,   // sourceMappingURL=x.css.map: [begin, end) is the value only
  };
  Form form = Form::kUrlToken;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string url;       // what the browser reads: escapes decoded, outer whitespace removed
  std::size_t line = 0;  // 1-based line of `begin`
};

// Every reference in `css`, in order of position.
std::vector<CssReference> FindCssReferences(std::string_view css);

// Text to put in place of `ref`'s bytes so that it reads `url` instead: a url-token or
// a string of the same quote, escaped where CSS needs it, or the bare value in a comment.
// `quote` is the string's quote character (the byte at ref.begin) for Form::kString.
std::string CssReferenceText(const CssReference& ref, std::string_view url, char quote = '"');

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_CSS_H_
