#include "generator/link.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "generator/css.h"
#include "generator/emit.h"
#include "generator/integrity.h"
#include "generator/parallel.h"
#include "kv_assets/server.h"

namespace kv_assets::gen {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Part of every cycle's tag seed: a generator that rewrites differently must name the same
// inputs differently, or one tagged name would stand for two byte strings.
constexpr std::string_view kCycleSeedVersion = "kv-assets link 1";

// One reference in a file: where it stands, what it says, what it names.
struct Ref {
  CssReference at;
  bool json = false;  // a JSON string ("file" of a source map), not CSS
  std::size_t target = kNone;
  bool root_relative = false;
};

bool EndsWithAny(std::string_view path, std::initializer_list<std::string_view> suffixes) {
  return std::any_of(suffixes.begin(), suffixes.end(),
                     [&](std::string_view s) { return path.ends_with(s); });
}

bool IsLineSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The last `//# sourceMappingURL=` line of a script, when only blank lines follow it (the
// source map specification reads the last such comment; one in the middle of a file is
// more likely a string that mentions it).
std::vector<CssReference> ScriptReferences(std::string_view js) {
  std::size_t end = js.size();
  while (end > 0 && (IsLineSpace(js[end - 1]) || js[end - 1] == '\n')) --end;
  const std::size_t line_start = js.rfind('\n', end == 0 ? 0 : end - 1);
  const std::size_t begin = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::string_view line = js.substr(begin, end - begin);
  std::size_t lead = 0;
  while (lead < line.size() && IsLineSpace(line[lead])) ++lead;
  line.remove_prefix(lead);
  if (!line.starts_with("//# sourceMappingURL=") && !line.starts_with("//@ sourceMappingURL=")) {
    return {};
  }
  const std::size_t value = begin + lead + 21;
  if (value >= end) return {};
  const std::size_t lines =
      static_cast<std::size_t>(std::count(js.begin(), js.begin() + value, '\n'));
  return {CssReference{CssReference::Form::kComment, value, end,
                       std::string(js.substr(value, end - value)), lines + 1}};
}

// Skips one JSON string starting at `pos` (its opening quote); returns its decoded value when
// it holds only escapes this reader needs (\" \\ \/ and \uXXXX of ASCII), or nullopt.
std::optional<std::string> JsonString(std::string_view s, std::size_t& pos) {
  std::string value;
  bool plain = true;
  for (++pos; pos < s.size(); ++pos) {
    const char c = s[pos];
    if (c == '"') {
      ++pos;
      return plain ? std::optional<std::string>(std::move(value)) : std::nullopt;
    }
    if (c != '\\') {
      value += c;
      continue;
    }
    if (++pos >= s.size()) break;
    if (s[pos] == '"' || s[pos] == '\\' || s[pos] == '/') {
      value += s[pos];
    } else {
      plain = false;  // a name with control characters or \u escapes: left alone
    }
  }
  pos = s.size();
  return std::nullopt;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Skips one JSON value (object, array, string or scalar) starting at `pos`.
void SkipJsonValue(std::string_view s, std::size_t& pos) {
  if (pos < s.size() && s[pos] == '"') {
    (void)JsonString(s, pos);
    return;
  }
  if (pos < s.size() && (s[pos] == '{' || s[pos] == '[')) {
    int depth = 0;
    while (pos < s.size()) {
      const char c = s[pos];
      if (c == '"') {
        (void)JsonString(s, pos);
        continue;
      }
      ++pos;
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return;
      }
    }
    return;
  }
  while (pos < s.size() && s[pos] != ',' && s[pos] != '}' && !IsJsonSpace(s[pos])) ++pos;
}

void SkipJsonSpace(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && IsJsonSpace(s[pos])) ++pos;
}

// The top-level "file" member of a source map (ECMA-426): the file the map describes.
std::vector<CssReference> SourceMapReferences(std::string_view map) {
  std::size_t pos = 0;
  if (map.starts_with("\xEF\xBB\xBF")) pos = 3;
  SkipJsonSpace(map, pos);
  if (pos >= map.size() || map[pos] != '{') return {};
  ++pos;
  while (true) {
    SkipJsonSpace(map, pos);
    if (pos >= map.size() || map[pos] != '"') return {};
    const std::optional<std::string> key = JsonString(map, pos);
    SkipJsonSpace(map, pos);
    if (pos >= map.size() || map[pos] != ':') return {};
    ++pos;
    SkipJsonSpace(map, pos);
    const std::size_t value = pos;
    if (key == "file" && pos < map.size() && map[pos] == '"') {
      std::optional<std::string> file = JsonString(map, pos);
      if (!file) return {};
      const std::size_t lines =
          static_cast<std::size_t>(std::count(map.begin(), map.begin() + value, '\n'));
      return {CssReference{CssReference::Form::kString, value, pos, std::move(*file), lines + 1}};
    }
    SkipJsonValue(map, pos);
    SkipJsonSpace(map, pos);
    if (pos >= map.size() || map[pos] != ',') return {};
    ++pos;
  }
}

// `written` (a reference's path, as the stylesheet spells it after CSS escapes) as a browser
// sends it: what may not stand in a URL path is percent-encoded, escapes already there stay.
std::string EncodeLikeABrowser(std::string_view written) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : written) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F || ch == '"' || ch == '<' || ch == '>' || ch == '`' || ch == '{' ||
        ch == '}' || ch == '\\' || ch == '^' || ch == '|') {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    } else {
      out += ch;
    }
  }
  return out;
}

// RFC 3986 §5.2.4 on a URL path that starts with '/', with "%2e" counting as "." as browsers
// count it (WHATWG URL): "/a/b/../%2E/c" -> "/a/c"; ".." at the root stays at the root.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> kept;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    const bool last = slash == std::string_view::npos;
    const std::string_view segment =
        path.substr(start, last ? std::string_view::npos : slash - start);
    std::string lower(segment);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    if (lower == ".." || lower == ".%2e" || lower == "%2e." || lower == "%2e%2e") {
      if (!kept.empty()) kept.pop_back();
      if (last) kept.emplace_back();  // "a/.." names a folder
    } else if (lower == "." || lower == "%2e") {
      if (last) kept.emplace_back();
    } else {
      kept.push_back(segment);
    }
    if (last) break;
    start = slash + 1;
  }
  std::string out;
  for (const std::string_view segment : kept) absl::StrAppend(&out, "/", ToAbsl(segment));
  return out.empty() ? "/" : out;
}

std::string_view Folder(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash + 1);
}

std::string_view FileName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::size_t IndexOf(const std::vector<PreparedFile>& files, std::string_view path) {
  const auto it =
      std::lower_bound(files.begin(), files.end(), path,
                       [](const PreparedFile& f, std::string_view p) { return f.source.path < p; });
  return it != files.end() && it->source.path == path ? static_cast<std::size_t>(it - files.begin())
                                                      : kNone;
}

}  // namespace

bool IsForeignReference(std::string_view ref) {
  if (ref.empty() || ref.starts_with("//") || ref.starts_with('#')) return true;
  if (ref.size() >= 3 && ref[0] == '%' && ref[1] == '2' && ref[2] == '3') return true;
  // A scheme (RFC 3986 §3.1): a letter, then letters, digits, '+', '-', '.', then ':',
  // before any '/', '?' or '#'. "data/x.png" and "http-diagram.jpg" have none.
  const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!is_alpha(ref[0])) return false;
  for (std::size_t i = 1; i < ref.size(); ++i) {
    const char c = ref[i];
    if (c == ':') return true;
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

namespace {

// The references in `file`, found by its type; `json` tells they are JSON strings.
std::vector<CssReference> ReferencesIn(const PreparedFile& file, bool& json) {
  const std::string_view path = file.source.path;
  json = false;
  if (path.ends_with(".css")) return FindCssReferences(file.content);
  if (EndsWithAny(path, {".js", ".mjs", ".cjs"})) return ScriptReferences(file.content);
  if (!path.ends_with(".map")) return {};
  json = true;
  return SourceMapReferences(file.content);
}

// What a reference names, found as the browser and the server find it: the URL the browser
// resolves it to against the file's own URL, decoded by the server's own rules
// (internal::DecodedTargetPath), then looked up without the prefix.
struct Resolved {
  enum class Kind { kOutside, kRefused, kAsset } kind;
  std::string name;  // kAsset: the path in the folder; kRefused: the URL the server refuses
};
Resolved Resolve(std::string_view from, std::string_view written, std::string_view prefix) {
  const std::string url = RemoveDotSegments(
      written.starts_with('/')
          ? EncodeLikeABrowser(written)
          : absl::StrCat(UrlEncodePath(absl::StrCat(ToAbsl(prefix), ToAbsl(Folder(from)))),
                         EncodeLikeABrowser(written)));
  const std::optional<std::string> decoded = internal::DecodedTargetPath(url);
  if (!decoded.has_value()) return {Resolved::Kind::kRefused, url};
  if (!decoded->starts_with(prefix)) return {Resolved::Kind::kOutside, ""};
  return {Resolved::Kind::kAsset, decoded->substr(prefix.size())};
}

// Finds and resolves the references of one file. Warnings go to `warnings`.
std::vector<Ref> FindReferences(const std::vector<PreparedFile>& files, std::size_t index,
                                const LinkOptions& options, std::vector<std::string>& warnings) {
  const PreparedFile& file = files[index];
  bool json = false;
  std::vector<Ref> refs;
  for (CssReference& at : ReferencesIn(file, json)) {
    Ref ref{std::move(at), json};
    const std::string_view url = ref.at.url;
    if (IsForeignReference(url)) continue;
    const std::string_view written = url.substr(0, url.find_first_of("?#"));
    if (written.empty()) continue;  // "?v=2": this file itself
    ref.root_relative = written.starts_with('/');
    const Resolved r = Resolve(file.source.path, written, options.prefix);
    if (r.kind == Resolved::Kind::kOutside) continue;  // the application's, not ours
    ref.target = r.kind == Resolved::Kind::kAsset ? IndexOf(files, r.name) : kNone;
    if (ref.target != kNone) {
      refs.push_back(std::move(ref));
    } else if (!json) {  // a source map's "file" only describes; it is never fetched
      const std::string what = r.kind == Resolved::Kind::kAsset
                                   ? absl::StrCat("no file ", r.name, " in the asset folder")
                                   : absl::StrCat("the server refuses ", r.name, " (400)");
      warnings.push_back(absl::StrCat(file.source.abs_path, ":", ref.at.line,
                                      ": warning: ", ToAbsl(url), ": ", what, "; left as written"));
    }
  }
  return refs;
}

// The strongly connected components of the graph, each sorted, in reverse topological order:
// a component comes after every component it references (Tarjan, without recursion).
std::vector<std::vector<std::size_t>> Components(const std::vector<std::vector<Ref>>& refs) {
  const std::size_t n = refs.size();
  std::vector<std::size_t> index(n, kNone), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> stack;
  std::vector<std::vector<std::size_t>> out;
  std::size_t next = 0;
  std::vector<std::pair<std::size_t, std::size_t>> calls;  // (node, next edge)
  for (std::size_t root = 0; root < n; ++root) {
    if (index[root] != kNone) continue;
    calls.emplace_back(root, 0);
    while (!calls.empty()) {
      auto& [v, edge] = calls.back();
      if (edge == 0) {
        index[v] = low[v] = next++;
        stack.push_back(v);
        on_stack[v] = true;
      }
      if (edge < refs[v].size()) {
        const std::size_t w = refs[v][edge++].target;
        if (index[w] == kNone) {
          calls.emplace_back(w, 0);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      const std::size_t done = v;
      calls.pop_back();
      if (!calls.empty()) low[calls.back().first] = std::min(low[calls.back().first], low[done]);
      if (low[done] != index[done]) continue;
      std::vector<std::size_t> component;
      std::size_t w = kNone;
      while (w != done) {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component.push_back(w);
      }
      std::sort(component.begin(), component.end());
      out.push_back(std::move(component));
    }
  }
  return out;
}

// The text that now stands for `ref`: the target's tagged name, spelt as `ref` spelt its name.
std::string NewReference(const Ref& ref, const PreparedFile& target, const LinkOptions& options) {
  const std::string_view url = ref.at.url;
  const std::size_t cut = std::min(url.find_first_of("?#"), url.size());
  const std::string_view suffix = url.substr(cut);
  std::string name = ref.root_relative
                         ? UrlEncodePath(absl::StrCat(options.prefix, target.tagged_path))
                         : absl::StrCat(ToAbsl(Folder(url.substr(0, cut))),
                                        UrlEncodePath(FileName(target.tagged_path)));
  return absl::StrCat(name, ToAbsl(suffix));
}

std::string JsonQuoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// `content` with each reference whose target `rewrite` accepts replaced.
std::string Rewrite(const std::string& content, const std::vector<Ref>& refs,
                    const std::vector<PreparedFile>& files, const LinkOptions& options,
                    const std::function<bool(std::size_t)>& rewrite) {
  std::string out;
  std::size_t at = 0;
  for (const Ref& ref : refs) {
    if (!rewrite(ref.target)) continue;
    out.append(content, at, ref.at.begin - at);
    const std::string url = NewReference(ref, files[ref.target], options);
    out += ref.json ? JsonQuoted(url) : CssReferenceText(ref.at, url, content[ref.at.begin]);
    at = ref.at.end;
  }
  out.append(content, at);
  return out;
}

// New bytes for `file`: a new digest and ETag; a new tag and tagged name unless `tag` is
// given (a cycle's member, whose tag comes from the whole cycle).
void Rename(PreparedFile& file, std::string content, std::string_view tag = {}) {
  file.digest = HashBytes(content);
  const std::string b64 = DigestToBase64Url(file.digest);
  file.etag = absl::StrCat("\"", b64, "\"");
  file.tag = tag.empty() ? b64.substr(0, kTagLength) : std::string(tag);
  file.tagged_path = TaggedPath(file.source.path, file.tag);
  file.content = std::move(content);
}

// Tags for the members of a cycle, from the bytes of them all with their references to files
// outside the cycle rewritten (those are final): the same inputs give the same tags and, the
// rewriting being deterministic, the same final bytes.
void TagCycle(const std::vector<std::size_t>& members, std::vector<PreparedFile>& files,
              const std::vector<std::vector<Ref>>& refs, const LinkOptions& options) {
  const auto outside = [&](std::size_t t) {
    return !std::binary_search(members.begin(), members.end(), t);
  };
  // Root-relative references between members are spelt with the prefix: then it is an input
  // too (only then, so that relative cycles keep bytes that do not depend on PREFIX).
  bool rooted = false;
  for (const std::size_t m : members) {
    for (const Ref& r : refs[m]) rooted |= r.root_relative && !outside(r.target);
  }
  std::string seed = absl::StrCat(ToAbsl(kCycleSeedVersion), "\n", rooted ? options.prefix : "");
  for (const std::size_t m : members) {
    const std::string partial = Rewrite(files[m].content, refs[m], files, options, outside);
    absl::StrAppend(&seed, "\n", files[m].source.path, "\n", partial.size(), "\n", partial);
  }
  const std::string cycle = DigestToBase64Url(HashBytes(seed));
  for (const std::size_t m : members) {
    files[m].tag = DigestToBase64Url(HashBytes(absl::StrCat(cycle, "\n", files[m].source.path)))
                       .substr(0, kTagLength);
    files[m].tagged_path = TaggedPath(files[m].source.path, files[m].tag);
  }
  const auto any = [](std::size_t) { return true; };
  for (const std::size_t m : members) {
    const std::string tag = files[m].tag;
    Rename(files[m], Rewrite(files[m].content, refs[m], files, options, any), tag);
  }
}

}  // namespace

absl::StatusOr<LinkReport> Link(std::vector<PreparedFile>& files, const LinkOptions& options) {
  LinkReport report;
  if (options.rewrite) {
    std::vector<std::vector<Ref>> refs(files.size());
    for (std::size_t i = 0; i < files.size(); ++i) {
      refs[i] = FindReferences(files, i, options, report.warnings);
      report.references += refs[i].size();
    }
    if (options.strict && !report.warnings.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          report.warnings.size(), " reference(s) to files not in the asset folder (STRICT):\n",
          absl::StrJoin(report.warnings, "\n")));
    }
    const auto any = [](std::size_t) { return true; };
    for (const std::vector<std::size_t>& component : Components(refs)) {
      const std::size_t first = component[0];
      const bool cycle =
          component.size() > 1 || std::any_of(refs[first].begin(), refs[first].end(),
                                              [&](const Ref& r) { return r.target == first; });
      if (cycle) {
        ++report.cycles;
        TagCycle(component, files, refs, options);
      } else if (!refs[first].empty()) {
        Rename(files[first], Rewrite(files[first].content, refs[first], files, options, any));
      }
      for (const std::size_t m : component) report.files_changed += refs[m].empty() ? 0 : 1;
    }
  }
  ParallelFor(files.size(), 0,
              [&](std::size_t i) { files[i].integrity = Integrity(files[i].content); });
  return report;
}

}  // namespace kv_assets::gen
