#include "generator/emit.h"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "generator/content_type.h"
#include "generator/file_util.h"
#include "generator/manifest_json.h"
#include "generator/status_macros.h"
#include "kv_assets/http_date.h"
#include "kv_assets/manifest.h"

namespace kv_assets::gen {
namespace {

constexpr std::size_t kLiteralPiece = 16000;  // MSVC's limit is 16380 bytes a literal

// The bodies' symbol. Its name carries a fingerprint of the manifest, so a header and a
// source file left from different runs fail to link instead of serving the wrong bytes.
std::string BlobSymbol(const EmitOptions& options, std::uint64_t fingerprint) {
  return absl::StrCat("kv_assets_blob_", options.name, "_",
                      absl::Hex(fingerprint, absl::kZeroPad16));
}

// The bodies' file carries the same fingerprint (of its own bytes too), so a file of that name
// never changes: a source file always finds the bytes it was generated with, even when a run
// died after writing a new blob (WriteOutputs()).
std::string BlobFileName(const EmitOptions& options, std::uint64_t fingerprint) {
  return absl::StrCat(options.name, ".", absl::Hex(fingerprint, absl::kZeroPad16), ".bin");
}

// Whether every build tool reads `path` back from a depfile as written. Ninja (1.11) ends a
// name at any byte outside [A-Za-z0-9+,/_:.~(){}%=@[]!-] and UTF-8 that is not escaped ("\ "),
// so "it's & more.css" or "a?b.txt" would be read as pieces that never exist, and the build
// would regenerate every time; control characters (a tab, a newline in a folder above the
// assets) split names for every tool (both found with tests/fuzz).
bool DepfileCanName(std::string_view path) {
  return path.find_first_of("\"\\$#&'*;<>?^`|") == std::string_view::npos &&
         std::none_of(path.begin(), path.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

// Make/Ninja depfile escaping: both read "\ " as a space in a name and "$$" as "$".
std::string DepfileEscape(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '#') out.push_back('\\');
    if (c == '$') out.push_back('$');
    out.push_back(c);
  }
  return out;
}

// Whether `file` in the output folder is a blob ("<name>.bin", "<name>.<16 hex>.bin") or a
// temporary file that OutputSet leaves when killed ("<name>.<...>.tmp<pid>", ".old<pid>").
bool IsStaleOutput(std::string_view file, std::string_view name) {
  if (!file.starts_with(name) || !file.substr(name.size()).starts_with('.')) return false;
  std::string_view rest = file.substr(name.size() + 1);
  if (rest == "bin") return true;
  if (rest.size() == 20 && rest.ends_with(".bin") &&
      rest.find_first_not_of("0123456789abcdef") == 16) {
    return true;
  }
  while (!rest.empty() && rest.back() >= '0' && rest.back() <= '9') rest.remove_suffix(1);
  return rest.size() < file.size() - name.size() - 1 &&
         (rest.ends_with(".tmp") || rest.ends_with(".old"));
}

// A string for inside an assembler ".incbin" directive's quotes.
std::string AsmQuoted(std::string_view path) {
  std::string out = "\\\"";
  for (char c : path) {
    // One level for the assembler, one for the C++ literal around it.
    if (c == '"' || c == '\\') out += "\\\\\\";
    out.push_back(c);
  }
  out += "\\\"";
  return out;
}

void AppendEscaped(std::string& out, std::string_view bytes) {
  for (const char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '?':
        out += "\\?";
        break;  // "??=" would be a trigraph for older modes
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          // Always three octal digits, so a following digit is never taken into the escape.
          out.push_back('\\');
          out.push_back(static_cast<char>('0' + (c >> 6)));
          out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
          out.push_back(static_cast<char>('0' + (c & 7)));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

// Strings laid end to end, each stored once.
class StringTable {
 public:
  struct Ref {
    std::size_t offset;
    std::size_t size;
  };
  Ref Add(std::string_view s) {
    const auto [it, inserted] = index_.emplace(std::string(s), data_.size());
    if (inserted) {
      data_.append(s);
      ends_.push_back(data_.size());
    }
    return Ref{it->second, s.size()};
  }
  std::size_t size() const { return data_.size(); }
  std::string_view View(Ref r) const { return std::string_view(data_).substr(r.offset, r.size); }
  // The table as a C++ string literal, in pieces of a line each that never split a string,
  // so a reader (or grep) finds each path, URL and date whole.
  std::string Literal() const {
    if (data_.empty()) return "\n    \"\"";
    std::string out;
    std::size_t start = 0;
    for (std::size_t end : ends_) {
      if (end - start < 64 && end != data_.size()) continue;
      out += "\n    \"";
      AppendEscaped(out, std::string_view(data_).substr(start, end - start));
      out += "\"";
      start = end;
    }
    return out;
  }

 private:
  std::string data_;
  std::vector<std::size_t> ends_;  // where each string ends
  std::map<std::string, std::size_t> index_;
};

// Where each body and each variant lies in the blob.
struct BlobLayout {
  std::vector<std::uint64_t> bodies;    // one per file
  std::vector<std::uint64_t> variants;  // one per variant: files in order, each one's in order
  std::uint64_t size = 0;
  std::uint64_t fingerprint = 0;  // of the manifest's names, tags and layout, and the bytes
  bool page_aligned = false;      // some bytes start on a page: the blob must start on one
};

// Bodies at least this large start on a page of their own in the blob, and the blob on a page
// in the program file. They are the ones an adapter may send with sendfile(2) from that file
// (kv_assets::beast::kDefaultSendfileMin), and Linux sends page-aligned file bytes with less
// work (bench/README.md, "End to end, 2026-12-02"). At most a page of padding each.
constexpr std::size_t kPageAlignedMin = 64 * 1024;
constexpr std::size_t kPage = 4096;

// Lays the bodies end to end, then the variants, storing identical bytes once.
BlobLayout Pack(const std::vector<PreparedFile>& files, std::string& blob) {
  BlobLayout layout;
  std::map<Digest, std::uint64_t> stored;
  const auto store = [&](const Digest& digest, std::string_view bytes) {
    const auto found = stored.find(digest);
    if (found != stored.end()) return found->second;
    if (bytes.size() >= kPageAlignedMin) {
      blob.resize((blob.size() + kPage - 1) / kPage * kPage, '\0');
      layout.page_aligned = true;
    }
    stored.emplace(digest, blob.size());
    const std::uint64_t offset = blob.size();
    blob += bytes;
    return offset;
  };
  std::string fingerprint_input;
  for (const PreparedFile& f : files) {
    layout.bodies.push_back(store(f.digest, f.content));
    absl::StrAppend(&fingerprint_input, f.source.path, "\n", f.etag, "\n", layout.bodies.back(),
                    "\n");
  }
  for (const PreparedFile& f : files) {
    for (const EncodedVariant& v : f.variants) {
      layout.variants.push_back(store(HashBytes(v.bytes), v.bytes));
      absl::StrAppend(&fingerprint_input, static_cast<int>(v.coding), " ", layout.variants.back(),
                      " ", v.bytes.size(), "\n");
    }
  }
  layout.size = blob.size();
  // The bytes themselves too: a variant's offset and size do not say which bytes a compressor
  // made, and a blob's file name must never stand for two contents (WriteOutputs()).
  absl::StrAppend(&fingerprint_input, DigestToBase64Url(HashBytes(blob)));
  layout.fingerprint = HashBytes(fingerprint_input).low;
  return layout;
}

std::string_view CodingEnumerator(Coding coding) {
  switch (coding) {
    case Coding::kGzip:
      return "::kv_assets::Coding::kGzip";
    case Coding::kBrotli:
      return "::kv_assets::Coding::kBrotli";
    case Coding::kZstd:
      return "::kv_assets::Coding::kZstd";
  }
  return "";
}

std::string RefLiteral(StringTable::Ref r) {
  return absl::StrCat("{", r.offset, ", ", r.size, "}");
}

// A static_assert that `type`'s fields are declared in the order the rows spell them. Rows
// are positional, so a reordered struct (two StringRefs, two integers swapped) would compile
// and swap meanings; this makes it a compile error instead. Designated initializers would do
// the same, at the price of every field's name in every row (bench/README.md, "Field order").
std::string FieldOrderCheck(std::string_view type, std::initializer_list<std::string_view> fields) {
  std::string out = "static_assert(";
  const std::string_view* previous = nullptr;
  for (const std::string_view& field : fields) {
    if (previous != nullptr) {
      absl::StrAppend(&out, previous == fields.begin() ? "" : " &&\n              ", "offsetof(",
                      ToAbsl(type), ", ", ToAbsl(*previous), ") < offsetof(", ToAbsl(type), ", ",
                      ToAbsl(field), ")");
    }
    previous = &field;
  }
  absl::StrAppend(&out, ",\n              \"", ToAbsl(type),
                  "'s fields are not in the order kv-assets writes them: the generator and the "
                  "runtime are from different versions\");\n");
  return out;
}

// The kVariants array: each asset's variants, assets in order, `etags` in the same order.
std::string VariantArray(const std::vector<PreparedFile>& files, const BlobLayout& layout,
                         const std::vector<StringTable::Ref>& etags,
                         const std::vector<StringTable::Ref>& keys) {
  std::string out = absl::StrCat(
      FieldOrderCheck("::kv_assets::Variant",
                      {"strings", "etag_ref", "coding", "offset", "size", "key_ref"}),
      "// Fields: strings, etag, coding, offset, size", keys.empty() ? "" : ", key",
      ". Each asset's, smallest first.\n", "inline constexpr std::array<::kv_assets::Variant, ",
      etags.size(), "> kVariants{{\n");
  std::size_t i = 0;
  for (const PreparedFile& f : files) {
    if (!f.variants.empty()) {
      absl::StrAppend(&out, "    // ", CppStringLiteral(f.source.path), "\n");
    }
    for (const EncodedVariant& v : f.variants) {
      absl::StrAppend(&out, "    {kStrings, ", RefLiteral(etags[i]), ", ",
                      ToAbsl(CodingEnumerator(v.coding)), ", ", layout.variants[i], ", ",
                      v.bytes.size(), keys.empty() ? "" : ", " + RefLiteral(keys[i]), "},\n");
      ++i;
    }
  }
  out += "}};\n\n";
  return out;
}

std::size_t CountVariants(const std::vector<PreparedFile>& files) {
  std::size_t n = 0;
  for (const PreparedFile& f : files) n += f.variants.size();
  return n;
}

// Manifest-only builds: where the bodies are, and which manifest this is in the store.
std::string StoreConstants(const EmitOptions& options, std::string_view manifest_id) {
  return absl::StrCat(
      "// The store this build's bodies are uploaded to by `kv-assets sync`\n"
      "// (kv_assets::OpenStore(kStore), kv_assets/key_value_store.h), and the id of this manifest "
      "there.\n"
      "inline constexpr std::string_view kStore = ",
      CppStringLiteral(options.store_url),
      ";\n"
      "inline constexpr std::string_view kManifestId = ",
      CppStringLiteral(manifest_id), ";\n\n");
}

// Every string of the header's tables, and where each row's strings are in it.
struct Strings {
  struct AssetRow {
    StringTable::Ref path, tagged_path, url, etag, type, date, integrity, key;
  };
  StringTable table;
  std::vector<AssetRow> assets;
  std::vector<StringTable::Ref> variant_etags, variant_keys;  // keys: manifest-only builds
};

// Every string lives in one table and entries point into it with explicit lengths: compilers
// then never evaluate a strlen per field, which made a few thousand entries cost seconds in
// GCC and exceed Clang's constexpr step limit. Repeated strings (dates, content types) are
// stored once, and a tagged path is the tail of its URL.
Strings CollectStrings(const std::vector<PreparedFile>& files, const EmitOptions& options) {
  const bool in_store = !options.store_namespace.empty();
  Strings s;
  s.assets.reserve(files.size());
  for (const PreparedFile& f : files) {
    StringTable& t = s.table;
    s.assets.push_back(Strings::AssetRow{
        t.Add(f.source.path), t.Add(f.tagged_path),
        t.Add(UrlEncodePath(absl::StrCat(options.prefix, f.tagged_path))), t.Add(f.etag),
        t.Add(ContentTypeFor(f.source.path)), t.Add(FormatHttpDate(LastModified(f, options))),
        t.Add(f.integrity),
        in_store ? t.Add(AssetKey(options.store_namespace, f.tagged_path)) : StringTable::Ref{}});
  }
  for (const PreparedFile& f : files) {
    for (const EncodedVariant& v : f.variants) {
      s.variant_etags.push_back(s.table.Add(VariantEtag(f.etag, v.coding, v.level)));
      if (in_store) {
        s.variant_keys.push_back(s.table.Add(
            VariantKey(AssetKey(options.store_namespace, f.tagged_path), v.coding, v.bytes)));
      }
    }
  }
  return s;
}

// The banner, the includes and the declaration of the bodies' symbol.
std::string HeaderTop(const std::vector<PreparedFile>& files, const BlobLayout& layout,
                      const EmitOptions& options, std::string_view guard, std::string_view symbol) {
  const bool in_store = !options.store_namespace.empty();
  std::string out = absl::StrCat(
      "// Generated by kv-assets. DO NOT EDIT.\n// clang-format off\n"
      "// ",
      files.size(), " assets, ", CountVariants(files), " variants, ", layout.size,
      " bytes, served under ", options.prefix, in_store ? "; bodies in the store" : "",
      "\n"
      "#ifndef ",
      ToAbsl(guard), "\n#define ", ToAbsl(guard),
      "\n\n"
      "#include <array>\n#include <cstddef>\n#include <cstdint>\n#include <string_view>\n\n"
      "#include \"kv_assets/manifest.h\"\n\n");
  if (!in_store) {
    absl::StrAppend(&out,
                    "// The bodies, defined in the matching .cc, with their exact size (plus a "
                    "NUL).\nextern \"C\" const char ",
                    ToAbsl(symbol), "[", layout.size + 1, "];\n\n");
  }
  return out;
}

// kAssets: one row per file, in path order.
std::string AssetArray(const std::vector<PreparedFile>& files, const Strings& strings,
                       const BlobLayout& layout, const EmitOptions& options) {
  const bool in_store = !options.store_namespace.empty();
  std::string out = absl::StrCat(
      FieldOrderCheck("::kv_assets::Asset", {"strings", "path_ref", "tagged_path_ref", "url_ref",
                                             "etag_ref", "content_type_ref", "last_modified_ref",
                                             "integrity_ref", "last_modified_unix", "offset",
                                             "size", "first_variant", "variant_count", "key_ref"}),
      "// Fields: strings, path, tagged_path, url, etag, content_type, last_modified,\n"
      "//         integrity, last_modified_unix, offset, size, first_variant, variant_count",
      in_store ? ", key" : "",
      ".\n"
      "inline constexpr std::array<::kv_assets::Asset, ",
      files.size(), "> kAssets{{\n");
  const auto ref = RefLiteral;
  std::size_t first_variant = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const PreparedFile& f = files[i];
    const Strings::AssetRow& r = strings.assets[i];
    const std::size_t count = f.variants.size();
    absl::StrAppend(&out, "    // ", CppStringLiteral(f.source.path), "\n    {kStrings, ",
                    ref(r.path), ", ", ref(r.tagged_path), ", ", ref(r.url), ", ", ref(r.etag),
                    ", ", ref(r.type), ", ", ref(r.date), ", ", ref(r.integrity), ", ",
                    LastModified(f, options), ", ", layout.bodies[i], ", ", f.content.size(), ", ",
                    count == 0 ? 0 : first_variant, ", ", count, in_store ? ", " + ref(r.key) : "",
                    "},\n");
    first_variant += count;
  }
  out += "}};\n\n";
  return out;
}

std::string ByTaggedArray(const std::vector<std::uint32_t>& by_tagged) {
  std::string out = absl::StrCat("inline constexpr std::array<std::uint32_t, ", by_tagged.size(),
                                 "> kByTagged{{");
  for (std::size_t i = 0; i < by_tagged.size(); ++i) {
    absl::StrAppend(&out, i % 16 == 0 ? "\n    " : " ", by_tagged[i], ",");
  }
  out += "\n}};\n\n";
  return out;
}

// Whether the import map lists `path`: the scripts a page may load as modules.
bool IsModuleScript(std::string_view path) {
  return path.ends_with(".js") || path.ends_with(".mjs");
}

// kImportMap: a page puts it in <script type="importmap">, so that a module's relative
// imports ("./util.js", resolved against the untagged URL the browser derives from the
// importing module's folder) load tagged, immutable URLs, checked by their integrity.
std::string ImportMap(const std::vector<PreparedFile>& files, const Strings& strings,
                      const EmitOptions& options) {
  std::string imports, integrity;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!IsModuleScript(files[i].source.path)) continue;
    const std::string_view url = strings.table.View(strings.assets[i].url);
    const std::string untagged = UrlEncodePath(absl::StrCat(options.prefix, files[i].source.path));
    absl::StrAppend(&imports, imports.empty() ? "\n" : ",\n", "    \"", untagged, "\": \"",
                    ToAbsl(url), "\"");
    absl::StrAppend(&integrity, integrity.empty() ? "\n" : ",\n", "    \"", ToAbsl(url), "\": \"",
                    files[i].integrity, "\"");
  }
  const std::string json =
      absl::StrCat("{\n  \"imports\": {", imports, imports.empty() ? "" : "\n  ",
                   "},\n  \"integrity\": {", integrity, integrity.empty() ? "" : "\n  ", "}\n}\n");
  return absl::StrCat(
      "// An import map of the JavaScript modules (.js, .mjs): untagged URL -> tagged URL, and\n"
      "// each tagged URL's Subresource Integrity. Put it in <script type=\"importmap\"> before\n"
      "// the first module script.\n"
      "inline constexpr std::string_view kImportMap = ",
      CppStringLiteral(json), ";\n\n");
}

// kManifest, the store's constants, kImportMap and Tag().
std::string HeaderBottom(const std::vector<PreparedFile>& files, const Strings& strings,
                         const EmitOptions& options, std::string_view symbol,
                         std::string_view manifest_id) {
  const bool in_store = !options.store_namespace.empty();
  return absl::StrCat("inline constexpr ::kv_assets::Manifest kManifest{",
                      CppStringLiteral(options.prefix), ", kAssets, kByTagged, ", ToAbsl(symbol),
                      ", kVariants};\n\n", in_store ? StoreConstants(options, manifest_id) : "",
                      ImportMap(files, strings, options),
                      "// The URL to link to for `path`, e.g. Tag(\"css/style.css\") ->\n"
                      "// \"",
                      options.prefix,
                      "css/style.<tag>.css\". A path that is not in the manifest does not\n"
                      "// compile: the error names ::kv_assets::internal::AssetNotInManifest.\n"
                      "consteval std::string_view Tag(std::string_view path) {\n"
                      "  const std::size_t i = kManifest.IndexOf(path);\n"
                      "  if (i == ::kv_assets::Manifest::kNotFound) {\n"
                      "    ::kv_assets::internal::AssetNotInManifest();\n"
                      "  }\n"
                      "  return kManifest.assets[i].url();\n"
                      "}\n\n");
}

std::string Header(const std::vector<PreparedFile>& files, const BlobLayout& layout,
                   const std::vector<std::uint32_t>& by_tagged, const EmitOptions& options,
                   std::string_view manifest_id) {
  const std::string guard = absl::StrCat("KV_ASSETS_GENERATED_", options.name, "_H_");
  // Manifest-only (STORE): keys instead of bodies, and no blob to point at.
  const bool in_store = !options.store_namespace.empty();
  const std::string symbol = in_store ? "nullptr" : BlobSymbol(options, layout.fingerprint);
  const Strings strings = CollectStrings(files, options);
  return absl::StrCat(
      HeaderTop(files, layout, options, guard, symbol), "namespace ", options.cpp_namespace,
      " {\n\n", "inline constexpr char kStrings[", strings.table.size() + 1,
      "] =", strings.table.Literal(), ";\n\n", AssetArray(files, strings, layout, options),
      VariantArray(files, layout, strings.variant_etags, strings.variant_keys),
      ByTaggedArray(by_tagged), HeaderBottom(files, strings, options, symbol, manifest_id),
      "}  // namespace ", options.cpp_namespace, "\n\n#endif  // ", guard, "\n");
}

std::string Source(std::string_view blob, const BlobLayout& layout, const EmitOptions& options) {
  const std::uint64_t fingerprint = layout.fingerprint;
  const std::string align = layout.page_aligned ? "4096" : "16";
  if (!options.store_namespace.empty()) {
    return absl::StrCat(
        "// Generated by kv-assets. DO NOT EDIT.\n// ", options.name,
        ".h's manifest is manifest-only: `kv-assets sync` uploads its bodies to\n// ",
        options.store_url, " under ", options.store_namespace, "/.\n");
  }
  const std::string symbol = BlobSymbol(options, fingerprint);
  const std::string blob_path =
      absl::StrCat(options.out_dir, "/", BlobFileName(options, fingerprint));
  // No #include: this file only places bytes, so it compiles in a fraction of a second.
  std::string out = absl::StrCat(
      "// Generated by kv-assets. DO NOT EDIT.\n// clang-format off\n// The bodies of ",
      options.name, ".h's manifest: ", blob.size(), " bytes.\n\n");
  if (options.bodies == BodyMode::kIncbin) {
    // The assembler copies the file: no C++ parsing of the bytes at all. The size is exact
    // (plus one NUL so an empty folder still has a symbol) for tools that read symbols.
    absl::StrAppend(&out, "__asm__(\n", "    \".pushsection .rodata.", symbol,
                    ",\\\"a\\\",@progbits\\n\"\n", "    \".global ", symbol, "\\n\"\n",
                    "    \".type ", symbol, ", @object\\n\"\n", "    \".balign ", align, "\\n\"\n",
                    "    \"", symbol, ":\\n\"\n", "    \".incbin ", AsmQuoted(blob_path), "\\n\"\n",
                    "    \".byte 0\\n\"\n", "    \".size ", symbol, ", ", blob.size() + 1,
                    "\\n\"\n", "    \".popsection\\n\");\n");
  } else {
    absl::StrAppend(&out, "extern \"C\" ", layout.page_aligned ? "alignas(4096) " : "",
                    "const char ", symbol, "[", blob.size() + 1, "] =");
    if (blob.empty()) out += "\n    \"\"";
    for (std::size_t pos = 0; pos < blob.size(); pos += kLiteralPiece) {
      out += "\n    \"";
      AppendEscaped(out, blob.substr(pos, kLiteralPiece));
      out += "\"";
    }
    out += ";\n";
  }
  return out;
}

}  // namespace

std::string VariantEtag(std::string_view etag, Coding coding, CompressLevel level) {
  return absl::StrCat(ToAbsl(etag.substr(0, etag.size() - 1)), "-", ToAbsl(CodingName(coding)),
                      level == CompressLevel::kFast ? "-fast" : "", "\"");
}

std::string UrlEncodePath(std::string_view path) {
  // RFC 3986 pchar and '/', less what would end an HTML attribute or start an entity
  // ('\'', '&'), so the result can go into a page as is.
  static constexpr std::string_view kSafe =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/!$()*+,;=:@";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : path) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (kSafe.find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::int64_t LastModified(const PreparedFile& file, const EmitOptions& options) {
  return std::min(file.last_modified, options.latest_last_modified);
}

std::string CppStringLiteral(std::string_view bytes) {
  std::string out = "\"";
  AppendEscaped(out, bytes);
  out += "\"";
  return out;
}

absl::StatusOr<GeneratedFiles> Emit(const std::vector<PreparedFile>& files,
                                    const std::vector<std::string>& watched,
                                    const EmitOptions& options) {
  for (const PreparedFile& f : files) {
    if (options.prefix.size() + f.tagged_path.size() > kv_assets::kMaxUrlPath) {
      return absl::InvalidArgumentError(
          absl::StrCat(f.source.abs_path, ": with the prefix and the tag its URL path is ",
                       options.prefix.size() + f.tagged_path.size(), " bytes, more than the ",
                       kv_assets::kMaxUrlPath, " the server accepts; cannot be served"));
    }
  }
  // Every name a request can use must mean one file.
  std::map<std::string_view, std::string_view> names;  // requested name -> file path
  for (const PreparedFile& f : files) names.emplace(f.source.path, f.source.path);
  for (const PreparedFile& f : files) {
    const auto [it, inserted] = names.emplace(f.tagged_path, f.source.path);
    if (!inserted) {
      return absl::AlreadyExistsError(absl::StrCat(f.source.abs_path, ": its tagged name ",
                                                   f.tagged_path, " is also the name of ",
                                                   ToAbsl(it->second), "; rename one of them"));
    }
  }

  GeneratedFiles out;
  const bool in_store = !options.store_namespace.empty();
  std::string laid_out;  // a manifest-only build keeps no bytes: only their layout
  const BlobLayout layout = Pack(files, in_store ? laid_out : out.blob);
  laid_out = std::string();
  if (options.bodies == BodyMode::kIncbin && !in_store) {
    out.blob_name = BlobFileName(options, layout.fingerprint);
  }
  // Every build: `kv-assets dump` and the next run read it; a manifest-only build's header
  // also names it by its id.
  out.manifest_json = ManifestToJson(BuildManifest(files, options));
  const std::string manifest_id = in_store ? ManifestId(out.manifest_json) : "";

  std::vector<std::uint32_t> by_tagged(files.size());
  std::iota(by_tagged.begin(), by_tagged.end(), 0u);
  std::sort(by_tagged.begin(), by_tagged.end(), [&](std::uint32_t a, std::uint32_t b) {
    return files[a].tagged_path < files[b].tagged_path;
  });

  out.header = Header(files, layout, by_tagged, options, manifest_id);
  out.source = Source(out.blob, layout, options);
  if (!options.depfile.empty()) {
    out.depfile = DepfileEscape(absl::StrCat(options.out_dir, "/", options.name, ".h")) + ":";
    // The blob is no declared output (its name changes), so a deleted one is seen here.
    const std::string blob_path = absl::StrCat(options.out_dir, "/", out.blob_name);
    if (!out.blob_name.empty() && DepfileCanName(blob_path)) {
      absl::StrAppend(&out.depfile, " \\\n  ", DepfileEscape(blob_path));
    }
    for (const PreparedFile& f : files) {
      // CMake's depfile handling turns '\\' into '/', splits names at '"', and (rewriting it
      // for Ninja) drops the escapes of '$' and '#', and Ninja splits names at '?', '&' and
      // others, so such a name would never match and the build would regenerate every time
      // (see DepfileCanName). Its folder is listed
      // (every walked folder is), so adding, removing or renaming it is still seen; editing
      // it in place is not (README, "Incremental builds").
      if (!DepfileCanName(f.source.abs_path)) continue;
      absl::StrAppend(&out.depfile, " \\\n  ", DepfileEscape(f.source.abs_path));
    }
    for (const std::string& w : watched) {
      if (!DepfileCanName(w)) continue;
      absl::StrAppend(&out.depfile, " \\\n  ", DepfileEscape(w));
    }
    out.depfile += "\n";
  }
  return out;
}

absl::Status WriteOutputs(const GeneratedFiles& files, const EmitOptions& options) {
  const std::string base = absl::StrCat(options.out_dir, "/", options.name);
  // All or nothing; and in this order, so that even a crash between two renames leaves no
  // header and source that agree with each other but not with the bytes (the blob's name is
  // new; a new source with an old header fails to link on the blob's symbol).
  OutputSet outputs;
  if (!files.blob_name.empty()) {
    KV_ASSETS_RETURN_IF_ERROR(
        outputs.Stage(absl::StrCat(options.out_dir, "/", files.blob_name), files.blob));
  }
  KV_ASSETS_RETURN_IF_ERROR(outputs.Stage(base + ".manifest.json", files.manifest_json));
  KV_ASSETS_RETURN_IF_ERROR(outputs.Stage(base + ".cc", files.source));
  KV_ASSETS_RETURN_IF_ERROR(outputs.Stage(base + ".h", files.header));
  if (!options.depfile.empty()) {
    KV_ASSETS_RETURN_IF_ERROR(outputs.Stage(options.depfile, files.depfile));
  }
  KV_ASSETS_RETURN_IF_ERROR(outputs.Commit());
  // Blobs of earlier runs (and the unfingerprinted one of older versions) are no longer read,
  // and temporary files of a run that was killed are of no use.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options.out_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != files.blob_name && IsStaleOutput(name, options.name)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  return absl::OkStatus();
}

}  // namespace kv_assets::gen
