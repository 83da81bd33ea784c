#include "generator/manifest_json.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/strings.h"
#include "generator/content_type.h"
#include "kv_assets/http_date.h"

namespace kv_assets::gen {
namespace {

namespace json = ::kv_assets::internal::json;

constexpr std::string_view kFormat = "kv-assets-manifest/1";

std::string Q(std::string_view s) { return json::Quote(s); }

}  // namespace

std::string AssetKey(std::string_view ns, std::string_view tagged_path) {
  return absl::StrCat(ToAbsl(ns), "/", ToAbsl(tagged_path));
}

std::string VariantKey(std::string_view asset_key, Coding coding, std::string_view encoded) {
  const std::string vtag = DigestToBase64Url(HashBytes(encoded)).substr(0, kTagLength);
  return absl::StrCat(ToAbsl(asset_key), ".", vtag, ".", ToAbsl(CodingName(coding)));
}

std::string ManifestKey(std::string_view ns, std::string_view id) {
  return absl::StrCat(ToAbsl(ns), "/.kv-assets/manifests/", ToAbsl(id), ".json");
}

std::string ReleasesKey(std::string_view ns) {
  return absl::StrCat(ToAbsl(ns), "/.kv-assets/releases.json");
}

std::string NamespacePrefix(std::string_view ns) { return absl::StrCat(ToAbsl(ns), "/"); }

absl::StatusOr<Coding> CodingFromName(std::string_view name) {
  for (Coding c : {Coding::kGzip, Coding::kBrotli, Coding::kZstd}) {
    if (CodingName(c) == name) return c;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown coding '", ToAbsl(name), "'"));
}

ManifestData BuildManifest(const std::vector<PreparedFile>& files, const EmitOptions& options) {
  ManifestData m;
  m.name = options.store_namespace;
  m.prefix = options.prefix;
  m.assets.reserve(files.size());
  for (const PreparedFile& f : files) {
    ManifestAsset a;
    a.path = f.source.path;
    a.tagged_path = f.tagged_path;
    a.url = UrlEncodePath(absl::StrCat(options.prefix, f.tagged_path));
    a.etag = f.etag;
    a.content_type = std::string(ContentTypeFor(f.source.path));
    a.last_modified_unix = LastModified(f, options);
    a.last_modified = FormatHttpDate(a.last_modified_unix);
    a.integrity = f.integrity;
    a.size = f.content.size();
    if (!options.store_namespace.empty()) a.key = AssetKey(options.store_namespace, f.tagged_path);
    for (const EncodedVariant& v : f.variants) {
      ManifestVariant mv;
      mv.coding = v.coding;
      mv.etag = VariantEtag(f.etag, v.coding, v.level);
      mv.size = v.bytes.size();
      if (!a.key.empty()) mv.key = VariantKey(a.key, v.coding, v.bytes);
      a.variants.push_back(std::move(mv));
    }
    m.assets.push_back(std::move(a));
  }
  return m;
}

std::vector<StoredBody> BodiesToStore(const std::vector<PreparedFile>& files,
                                      const EmitOptions& options) {
  std::vector<StoredBody> out;
  std::set<std::string> seen;
  for (const PreparedFile& f : files) {
    std::string key = AssetKey(options.store_namespace, f.tagged_path);
    for (const EncodedVariant& v : f.variants) {
      std::string vkey = VariantKey(key, v.coding, v.bytes);
      if (seen.insert(vkey).second) out.push_back(StoredBody{std::move(vkey), v.bytes});
    }
    if (seen.insert(key).second) out.push_back(StoredBody{std::move(key), f.content});
  }
  return out;
}

std::string ManifestToJson(const ManifestData& m) {
  std::string out = absl::StrCat("{\"format\":", Q(kFormat), ",\"name\":", Q(m.name),
                                 ",\"prefix\":", Q(m.prefix), ",\"assets\":[");
  for (std::size_t i = 0; i < m.assets.size(); ++i) {
    const ManifestAsset& a = m.assets[i];
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n", "{\"path\":", Q(a.path),
                    ",\"tagged_path\":", Q(a.tagged_path), ",\"url\":", Q(a.url),
                    ",\"etag\":", Q(a.etag), ",\"content_type\":", Q(a.content_type),
                    ",\"last_modified\":", Q(a.last_modified),
                    ",\"last_modified_unix\":", a.last_modified_unix, ",\"size\":", a.size);
    if (!a.integrity.empty()) absl::StrAppend(&out, ",\"integrity\":", Q(a.integrity));
    if (!a.key.empty()) absl::StrAppend(&out, ",\"key\":", Q(a.key));
    if (!a.variants.empty()) {
      out += ",\"variants\":[";
      for (std::size_t k = 0; k < a.variants.size(); ++k) {
        const ManifestVariant& v = a.variants[k];
        absl::StrAppend(&out, k == 0 ? "" : ",", "{\"coding\":", Q(CodingName(v.coding)),
                        ",\"etag\":", Q(v.etag), ",\"size\":", v.size);
        if (!v.key.empty()) absl::StrAppend(&out, ",\"key\":", Q(v.key));
        out += "}";
      }
      out += "]";
    }
    out += "}";
  }
  out += "\n]}\n";
  return out;
}

absl::StatusOr<ManifestData> ManifestFromJson(std::string_view text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  if (!v.ok()) return v.status();
  if (v->Get("format").string() != kFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a kv-assets manifest (\"format\" is not \"", ToAbsl(kFormat), "\")"));
  }
  ManifestData m;
  m.name = v->Get("name").string();
  m.prefix = v->Get("prefix").string();
  const auto field = [](const json::Value& o, std::string_view name, std::size_t index,
                        bool number) -> absl::Status {
    const json::Value& f = o.Get(name);
    if (number ? f.is_int() : f.is_string()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("asset ", index, ": \"", ToAbsl(name),
                                                   "\" is missing or not a ",
                                                   number ? "whole number" : "string"));
  };
  std::size_t index = 0;
  for (const json::Value& a : v->Get("assets").array()) {
    for (std::string_view s :
         {"path", "tagged_path", "url", "etag", "content_type", "last_modified"}) {
      if (absl::Status st = field(a, s, index, false); !st.ok()) return st;
    }
    for (std::string_view s : {"last_modified_unix", "size"}) {
      if (absl::Status st = field(a, s, index, true); !st.ok()) return st;
    }
    ManifestAsset out;
    out.path = a.Get("path").string();
    out.tagged_path = a.Get("tagged_path").string();
    out.url = a.Get("url").string();
    out.etag = a.Get("etag").string();
    out.content_type = a.Get("content_type").string();
    out.last_modified = a.Get("last_modified").string();
    out.last_modified_unix = a.Get("last_modified_unix").integer();
    out.size = static_cast<std::uint64_t>(a.Get("size").integer());
    out.key = a.Get("key").string();
    out.integrity = a.Get("integrity").string();  // "" in manifests of generators before it
    for (const json::Value& vv : a.Get("variants").array()) {
      absl::StatusOr<Coding> coding = CodingFromName(vv.Get("coding").string());
      if (!coding.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("asset ", index, ": ", coding.status().message()));
      }
      out.variants.push_back(ManifestVariant{*coding, vv.Get("etag").string(),
                                             static_cast<std::uint64_t>(vv.Get("size").integer()),
                                             vv.Get("key").string()});
    }
    m.assets.push_back(std::move(out));
    ++index;
  }
  return m;
}

std::string ManifestId(std::string_view json) { return DigestToBase64Url(HashBytes(json)); }

}  // namespace kv_assets::gen
