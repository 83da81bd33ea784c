// common/json.h — the little JSON that KvAssets::stores and the generator need:
// Cloudflare API replies, the serialized manifest, the store's list of releases.
//
// Not a general-purpose library: values are kept as parsed (integers exactly as int64,
// other numbers as double), objects as sorted maps, and Parse() rejects anything RFC 8259
// does not allow. A library of its own (kv_assets_json), linked by both and not installed
// as a header: not a public API.
//
// Example:
//   absl::StatusOr<json::Value> v = json::Parse(R"({"result": [{"name": "a"}]})");
//   for (const json::Value& k : v->Get("result").array()) use(k.Get("name").string());
//   std::string out = json::Quote("a \"b\"");  // "\"a \\\"b\\\"\""

#ifndef KV_ASSETS_COMMON_JSON_H_
#define KV_ASSETS_COMMON_JSON_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace kv_assets::internal::json {

class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::map<std::string, Value, std::less<>>;

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(std::int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(v_); }
  bool is_number() const { return is_int() || std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  // Each accessor returns an empty/zero value when the type differs, so a reader checks the
  // type where it matters and otherwise reads on.
  bool boolean() const { return is_bool() && std::get<bool>(v_); }
  std::int64_t integer() const { return is_int() ? std::get<std::int64_t>(v_) : 0; }
  const std::string& string() const;
  const Array& array() const;
  const Object& object() const;
  // The member `name` of an object, or a null Value.
  const Value& Get(std::string_view name) const;
  bool Has(std::string_view name) const;

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> v_;
};

// Parses one JSON text. InvalidArgumentError naming the byte offset on malformed input.
absl::StatusOr<Value> Parse(std::string_view text);

// `s` as a JSON string literal, quotes included. Bytes that are not valid UTF-8 are kept
// as they are (callers only pass UTF-8); control characters are escaped.
std::string Quote(std::string_view s);

}  // namespace kv_assets::internal::json

#endif  // KV_ASSETS_COMMON_JSON_H_
