#include "generator/css.h"

#include <cstdint>

namespace kv_assets::gen {
namespace {

bool IsNewline(char c) { return c == '\n' || c == '\r' || c == '\f'; }
bool IsWhitespace(char c) { return IsNewline(c) || c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsNameStart(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IsName(char c) { return IsNameStart(c) || IsDigit(c) || c == '-'; }
bool IsNonPrintable(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F;
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
  } else if (cp < 0x10000) {
    out += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<char>(0x80 | (cp & 0x3F))};
  } else {
    out += {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
            static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
  }
}

// One pass of CSS Syntax Level 3's tokenizer (§4.3) that keeps only what references need:
// the tokens that can hold a URL, and the little context that decides whether one does.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view css) : s_(css) {
    if (s_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }

  std::vector<CssReference> Run() {
    while (pos_ < s_.size()) Token();
    NumberLines();
    return std::move(refs_);
  }

 private:
  bool Has(std::size_t i) const { return pos_ + i < s_.size(); }
  char At(std::size_t i) const { return Has(i) ? s_[pos_ + i] : '\0'; }
  bool ValidEscapeAt(std::size_t i) const {
    return At(i) == '\\' && Has(i + 1) && !IsNewline(At(i + 1));
  }
  bool StartsIdentAt(std::size_t i) const {
    if (At(i) == '-')
      return (Has(i + 1) && (IsNameStart(At(i + 1)) || At(i + 1) == '-')) || ValidEscapeAt(i + 1);
    if (Has(i) && IsNameStart(At(i))) return true;
    return ValidEscapeAt(i);
  }
  bool StartsNumberAt(std::size_t i) const {
    const char c = At(i);
    if (c == '+' || c == '-') return IsDigit(At(i + 1)) || (At(i + 1) == '.' && IsDigit(At(i + 2)));
    if (c == '.') return IsDigit(At(i + 1));
    return IsDigit(c);
  }
  void SkipNewline() { pos_ += (At(0) == '\r' && At(1) == '\n') ? 2 : 1; }

  void Token() {
    const char c = At(0);
    if (c == '/' && At(1) == '*') return Comment();
    if (IsWhitespace(c)) {
      ++pos_;
      return;
    }
    const bool after_import = after_import_;
    after_import_ = false;
    if (c == '"' || c == '\'') return String(after_import);
    if (IsDigit(c) || ((c == '+' || c == '-' || c == '.') && StartsNumberAt(0))) return Numeric();
    if (c == '<' && s_.substr(pos_, 4) == "<!--") {
      pos_ += 4;
      return;
    }
    if (c == '-' && s_.substr(pos_, 3) == "-->") {
      pos_ += 3;
      return;
    }
    if (StartsIdentAt(0)) return IdentLike();
    ++pos_;
    if (c == '@' && StartsIdentAt(0)) return AtKeyword();
    if (c == '#' && (IsName(At(0)) || ValidEscapeAt(0))) {
      Name();
      return;
    }
    if (c == '(') functions_.emplace_back();
    if (c == ')' && !functions_.empty()) functions_.pop_back();
    if (c == ';' || c == '{' || c == '}') {
      functions_.clear();
      in_namespace_ = false;
    }
  }

  void Comment() {
    const std::size_t start = pos_ + 2;
    const std::size_t close = s_.find("*/", start);
    const std::size_t end = close == std::string_view::npos ? s_.size() : close;
    pos_ = close == std::string_view::npos ? s_.size() : close + 2;
    std::string_view body = s_.substr(start, end - start);
    if (!body.starts_with("# sourceMappingURL=") && !body.starts_with("@ sourceMappingURL=")) {
      return;
    }
    const std::size_t value = start + 19;
    std::size_t value_end = value;
    while (value_end < end && !IsWhitespace(s_[value_end])) ++value_end;
    if (value_end == value) return;
    refs_.push_back(CssReference{CssReference::Form::kComment, value, value_end,
                                 std::string(s_.substr(value, value_end - value))});
  }

  // After the backslash of a valid escape: appends the code point it stands for.
  void Escape(std::string& out) {
    if (!Has(0)) {
      AppendUtf8(out, 0xFFFD);
      return;
    }
    if (IsHex(At(0))) {
      std::uint32_t cp = 0;
      for (int i = 0; i < 6 && IsHex(At(0)); ++i, ++pos_) {
        const char h = At(0);
        cp = cp * 16 + static_cast<std::uint32_t>(IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
      }
      if (IsWhitespace(At(0))) SkipNewline();
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
      AppendUtf8(out, cp);
      return;
    }
    // Any other code point stands for itself: copy a UTF-8 sequence whole.
    out += s_[pos_++];
    while (Has(0) && (static_cast<unsigned char>(At(0)) & 0xC0) == 0x80) out += s_[pos_++];
  }

  std::string Name() {
    std::string name;
    while (Has(0)) {
      if (IsName(At(0))) {
        name += s_[pos_++];
      } else if (ValidEscapeAt(0)) {
        ++pos_;
        Escape(name);
      } else {
        break;
      }
    }
    return name;
  }

  void Numeric() {
    if (At(0) == '+' || At(0) == '-') ++pos_;
    while (IsDigit(At(0))) ++pos_;
    if (At(0) == '.' && IsDigit(At(1))) {
      ++pos_;
      while (IsDigit(At(0))) ++pos_;
    }
    if ((At(0) == 'e' || At(0) == 'E') &&
        (IsDigit(At(1)) || ((At(1) == '+' || At(1) == '-') && IsDigit(At(2))))) {
      pos_ += 2;
      while (IsDigit(At(0))) ++pos_;
    }
    if (StartsIdentAt(0)) {
      Name();  // a dimension's unit: `10url(x)` is no URL
    } else if (At(0) == '%') {
      ++pos_;
    }
  }

  void AtKeyword() {
    const std::string name = AsciiLower(Name());
    after_import_ = name == "import";
    in_namespace_ = name == "namespace";
  }

  void IdentLike() {
    const std::size_t start = pos_;
    const std::string name = AsciiLower(Name());
    if (At(0) != '(') return;
    ++pos_;
    if (name == "url") {
      while (IsWhitespace(At(0)) && IsWhitespace(At(1))) ++pos_;
      const bool quoted =
          At(0) == '"' || At(0) == '\'' || (IsWhitespace(At(0)) && (At(1) == '"' || At(1) == '\''));
      if (!quoted) return UrlToken(start);
    }
    functions_.push_back(name);
  }

  // Whether a string token here is a URL.
  bool StringIsUrl(bool after_import) const {
    if (in_namespace_) return false;
    if (after_import) return true;
    if (functions_.empty()) return false;
    const std::string& f = functions_.back();
    return f == "url" || f == "src" || f == "image-set" || f == "-webkit-image-set";
  }

  void String(bool after_import) {
    const std::size_t start = pos_;
    const char quote = s_[pos_++];
    std::string value;
    while (Has(0)) {
      const char c = At(0);
      if (c == quote) {
        ++pos_;
        break;
      }
      if (IsNewline(c)) return;  // a bad string: the browser drops it, and so do we
      if (c != '\\') {
        value += c;
        ++pos_;
      } else if (!Has(1)) {
        ++pos_;
      } else if (IsNewline(At(1))) {
        ++pos_;
        SkipNewline();  // an escaped line break continues the string
      } else {
        ++pos_;
        Escape(value);
      }
    }
    if (StringIsUrl(after_import)) {
      refs_.push_back(CssReference{CssReference::Form::kString, start, pos_, std::move(value)});
    }
  }

  // After "url(" and whitespace: the rest of a url-token (§4.3.6), or a bad URL.
  void UrlToken(std::size_t start) {
    std::string value;
    while (IsWhitespace(At(0))) ++pos_;
    while (true) {
      if (!Has(0)) break;
      const char c = At(0);
      if (c == ')') {
        ++pos_;
        break;
      }
      if (IsWhitespace(c)) {
        while (IsWhitespace(At(0))) ++pos_;
        if (!Has(0)) break;
        if (At(0) == ')') {
          ++pos_;
          break;
        }
        return BadUrlRemnants();
      }
      if (c == '"' || c == '\'' || c == '(' || IsNonPrintable(c)) return BadUrlRemnants();
      if (c == '\\') {
        if (!ValidEscapeAt(0)) return BadUrlRemnants();
        ++pos_;
        Escape(value);
        continue;
      }
      value += c;
      ++pos_;
    }
    if (in_namespace_) return;
    refs_.push_back(CssReference{CssReference::Form::kUrlToken, start, pos_, std::move(value)});
  }

  void BadUrlRemnants() {
    std::string ignored;
    while (Has(0)) {
      if (At(0) == ')') {
        ++pos_;
        return;
      }
      if (ValidEscapeAt(0)) {
        ++pos_;
        Escape(ignored);
      } else {
        ++pos_;
      }
    }
  }

  // CR LF, CR and FF each end one line.
  void NumberLines() {
    std::size_t line = 1, at = 0;
    for (CssReference& r : refs_) {
      for (; at < r.begin; ++at) {
        const char c = s_[at];
        if (c == '\n' || c == '\f' || (c == '\r' && (at + 1 >= s_.size() || s_[at + 1] != '\n'))) {
          ++line;
        }
      }
      r.line = line;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::vector<CssReference> refs_;
  std::vector<std::string> functions_;  // open functions, lowercased; "" for a plain '('
  bool after_import_ = false;           // the last token was @import
  bool in_namespace_ = false;           // inside @namespace's prelude
};

void AppendHexEscape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '\\';
  if (c >= 16) out += kHex[c >> 4];
  out += kHex[c & 15];
  out += ' ';
}

}  // namespace

std::vector<CssReference> FindCssReferences(std::string_view css) { return Tokenizer(css).Run(); }

std::string CssReferenceText(const CssReference& ref, std::string_view url, char quote) {
  if (ref.form == CssReference::Form::kComment) return std::string(url);
  std::string out = ref.form == CssReference::Form::kUrlToken ? "url(" : std::string(1, quote);
  for (const char c : url) {
    const bool special = ref.form == CssReference::Form::kUrlToken
                             ? (IsWhitespace(c) || c == '"' || c == '\'' || c == '(' || c == ')' ||
                                IsNonPrintable(c))
                             : (c == quote || IsNewline(c) || IsNonPrintable(c));
    if (c == '\\' || special) {
      AppendHexEscape(out, static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += ref.form == CssReference::Form::kUrlToken ? ')' : quote;
  return out;
}

}  // namespace kv_assets::gen
