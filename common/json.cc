#include "common/json.h"

#include <charconv>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kv_assets::internal::json {
namespace {

const Value& Null() {
  static const Value* const kNull = new Value();
  return *kNull;
}

// Nesting deeper than this is refused instead of overflowing the stack on hostile input.
constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  absl::StatusOr<Value> ParseAll() {
    absl::StatusOr<Value> v = ParseValue(0);
    if (!v.ok()) return v;
    SkipSpace();
    if (i_ != s_.size()) return Error("unexpected text after the value");
    return v;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("JSON at byte ", i_, ": ", ToAbsl(what)));
  }

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }

  bool Consume(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  absl::StatusOr<Value> ParseValue(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    SkipSpace();
    if (i_ >= s_.size()) return Error("unexpected end");
    const char c = s_[i_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') {
      absl::StatusOr<std::string> str = ParseString();
      if (!str.ok()) return str.status();
      return Value(*std::move(str));
    }
    if (Consume("true")) return Value(true);
    if (Consume("false")) return Value(false);
    if (Consume("null")) return Value(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
    return Error("unexpected character");
  }

  absl::StatusOr<Value> ParseNumber() {
    const std::size_t start = i_;
    if (s_[i_] == '-') ++i_;
    const auto digits = [&] {
      const std::size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > from;
    };
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      return Error("malformed number");
    }
    bool integral = true;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      integral = false;
      if (!digits()) return Error("malformed number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      integral = false;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return Error("malformed number");
    }
    const std::string_view text = s_.substr(start, i_ - start);
    if (integral) {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && end == text.data() + text.size()) return Value(v);
    }
    return Value(std::strtod(std::string(text).c_str(), nullptr));
  }

  static void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::StatusOr<std::uint32_t> Hex4() {
    if (s_.size() - i_ < 4) return Error("short \\u escape");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return Error("malformed \\u escape");
      }
    }
    return v;
  }

  absl::StatusOr<std::string> ParseString() {
    ++i_;  // the opening quote
    std::string out;
    while (true) {
      if (i_ >= s_.size()) return Error("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return Error("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          absl::StatusOr<std::uint32_t> cp = Hex4();
          if (!cp.ok()) return cp.status();
          std::uint32_t code = *cp;
          if (code >= 0xD800 && code < 0xDC00 && Consume("\\u")) {
            absl::StatusOr<std::uint32_t> low = Hex4();
            if (!low.ok()) return low.status();
            if (*low < 0xDC00 || *low >= 0xE000) return Error("unpaired surrogate");
            code = 0x10000 + ((code - 0xD800) << 10) + (*low - 0xDC00);
          } else if (code >= 0xD800 && code < 0xE000) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(out, code);
          break;
        }
        default:
          return Error("unknown escape");
      }
    }
  }

  absl::StatusOr<Value> ParseArray(int depth) {
    ++i_;
    Value::Array out;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return Value(std::move(out));
    }
    while (true) {
      absl::StatusOr<Value> v = ParseValue(depth + 1);
      if (!v.ok()) return v;
      out.push_back(*std::move(v));
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
      } else if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return Value(std::move(out));
      } else {
        return Error("expected ',' or ']'");
      }
    }
  }

  absl::StatusOr<Value> ParseObject(int depth) {
    ++i_;
    Value::Object out;
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return Value(std::move(out));
    }
    while (true) {
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a member name");
      absl::StatusOr<std::string> name = ParseString();
      if (!name.ok()) return name.status();
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != ':') return Error("expected ':'");
      ++i_;
      absl::StatusOr<Value> v = ParseValue(depth + 1);
      if (!v.ok()) return v;
      out.insert_or_assign(*std::move(name), *std::move(v));
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
      } else if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return Value(std::move(out));
      } else {
        return Error("expected ',' or '}'");
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

const std::string& Value::string() const {
  static const std::string* const kEmpty = new std::string();
  return is_string() ? std::get<std::string>(v_) : *kEmpty;
}

const Value::Array& Value::array() const {
  static const Array* const kEmpty = new Array();
  return is_array() ? std::get<Array>(v_) : *kEmpty;
}

const Value::Object& Value::object() const {
  static const Object* const kEmpty = new Object();
  return is_object() ? std::get<Object>(v_) : *kEmpty;
}

const Value& Value::Get(std::string_view name) const {
  const Object& o = object();
  const auto it = o.find(name);
  return it == o.end() ? Null() : it->second;
}

bool Value::Has(std::string_view name) const { return object().contains(name); }

absl::StatusOr<Value> Parse(std::string_view text) { return Parser(text).ParseAll(); }

std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        } else {
          out.push_back(ch);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace kv_assets::internal::json
