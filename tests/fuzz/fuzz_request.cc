// Fuzz target: one request through kv_assets::Server::Handle, and every invariant an answer
// must keep, checked on each answer. Runs against the manifest of tests/fuzz/site (some 30
// files: large compressible and incompressible ones, empty and one-byte ones, awkward names)
// and, while the generator makes no precompressed variants, also against a copy of it with
// made-up variants, so that negotiation, Vary and ranges over encoded bytes are reached.
//
// Input: lines separated by '\n'.
//   line 1   the method
//   line 2   the request target
//   then     "<code>:<value>" per request field: e Accept-Encoding, m If-Match, n If-None-Match,
//            s If-Modified-Since, u If-Unmodified-Since, r Range, i If-Range. A code given twice
//            joins the values with ", ", as an adapter joins a field sent on two lines.
// Anywhere, "$<x><n>" is replaced by a property of asset n (modulo the asset count): $p path,
// $t tagged path, $u URL, $e ETag, $v a variant's ETag (the ETag when it has none), $d
// Last-Modified. So a seed like "GET\n/static/$t3\nn:$e3" is a conditional request for a real
// asset, which random bytes would never find.
//
// A broken invariant prints the request and the answer and aborts.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_assets.h"
#include "kv_assets/internal/http_fields.h"
#include "kv_assets/manifest.h"
#include "kv_assets/server.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/serving/content_range.h"

namespace {

using kv_assets::Asset;
using kv_assets::Manifest;
using kv_assets::Request;
using kv_assets::Response;
using kv_assets::Variant;
using kv_assets_test::ParseContentRange;

// The manifest with made-up variants: copies of the assets that point at variants whose bytes
// are a prefix of the asset's own (the server never looks inside them).
struct WithVariants {
  std::vector<Asset> assets;
  std::vector<Variant> variants;
  std::string strings;  // the variants' ETags
  Manifest manifest;
};

const WithVariants& MadeUpVariants() {
  static const WithVariants* const made = [] {
    auto* w = new WithVariants;
    const Manifest& m = fuzz_assets::kManifest;
    struct Pending {
      kv_assets::Coding coding;
      std::uint64_t offset, size;
      std::size_t etag_offset, etag_size;
    };
    std::vector<Pending> pending;
    for (std::size_t i = 0; i < m.assets.size(); ++i) {
      Asset a = m.assets[i];
      a.first_variant = static_cast<std::uint32_t>(pending.size());
      a.variant_count = 0;
      if (a.size >= 2 && i % 3 != 2) {
        // Smallest first, as the generator sorts them.
        const kv_assets::Coding codings[] = {kv_assets::Coding::kBrotli, kv_assets::Coding::kGzip,
                                             kv_assets::Coding::kZstd};
        const std::size_t n = i % 3 == 0 ? 2 : 1;
        for (std::size_t k = 0; k < n; ++k) {
          const kv_assets::Coding coding = codings[i % 3 == 0 ? k : 2];
          const std::string etag = std::string(a.etag().substr(0, a.etag().size() - 1)) + "-" +
                                   std::string(kv_assets::CodingName(coding)) + "\"";
          pending.push_back({coding, a.offset, a.size / (3 - k), w->strings.size(), etag.size()});
          w->strings += etag;
        }
        a.variant_count = static_cast<std::uint32_t>(n);
      }
      w->assets.push_back(a);
    }
    for (const Pending& p : pending) {
      Variant v;
      v.strings = w->strings.data();  // final: `strings` does not change from here on
      v.etag_ref = {static_cast<std::uint32_t>(p.etag_offset),
                    static_cast<std::uint32_t>(p.etag_size)};
      v.coding = p.coding;
      v.offset = p.offset;
      v.size = p.size;
      w->variants.push_back(v);
    }
    w->manifest = Manifest{m.prefix, w->assets, m.by_tagged, m.blob, w->variants};
    return w;
  }();
  return *made;
}

// Where the manifest's bytes end: the blob's symbol has no size the runtime can see.
std::uint64_t BlobSize(const Manifest& m) {
  std::uint64_t end = 0;
  for (const Asset& a : m.assets) end = std::max(end, a.offset + a.size);
  for (const Variant& v : m.variants) end = std::max(end, v.offset + v.size);
  return end;
}

bool Inside(std::string_view piece, const void* begin, std::size_t size) {
  const auto p = reinterpret_cast<std::uintptr_t>(piece.data());
  const auto b = reinterpret_cast<std::uintptr_t>(begin);
  return p >= b && p - b <= size && piece.size() <= size - (p - b);
}

// What a report shows of one string: enough to see the request, without flooding the log.
std::string Printable(std::string_view s) { return kv_assets::fuzz::Printable(s, 300); }

void Dump(const char* what, const Request& req, const Response& res) {
  std::fprintf(stderr, "fuzz_request: invariant broken: %s\n", what);
  std::fprintf(stderr, "  request: %s %s\n", Printable(req.method).c_str(),
               Printable(req.target).c_str());
  const auto field = [](const char* name, const std::optional<std::string_view>& v) {
    if (v.has_value()) std::fprintf(stderr, "    %s: %s\n", name, Printable(*v).c_str());
  };
  field("Accept-Encoding", req.accept_encoding);
  field("If-Match", req.if_match);
  field("If-None-Match", req.if_none_match);
  field("If-Modified-Since", req.if_modified_since);
  field("If-Unmodified-Since", req.if_unmodified_since);
  field("Range", req.range);
  field("If-Range", req.if_range);
  std::fprintf(stderr, "  answer: %d, content_length %llu (%s), asset %s, variant %s\n", res.status,
               static_cast<unsigned long long>(res.content_length),
               res.has_content_length ? "set" : "unset",
               res.asset != nullptr ? Printable(res.asset->path()).c_str() : "-",
               res.variant != nullptr ? Printable(res.variant->etag()).c_str() : "-");
  for (const kv_assets::HeaderField& f : res.headers()) {
    std::fprintf(stderr, "    %s: %s\n", Printable(f.name).c_str(), Printable(f.value).c_str());
  }
  std::fprintf(stderr, "  %zu body pieces\n", res.body().size());
}

#define FUZZ_CHECK(cond)     \
  do {                       \
    if (!(cond)) {           \
      Dump(#cond, req, res); \
      std::abort();          \
    }                        \
  } while (0)

std::string_view ErrorText(int status) {
  switch (status) {
    case 400:
      return "400 Bad Request\n";
    case 404:
      return "404 Not Found\n";
    case 405:
      return "405 Method Not Allowed\n";
    case 406:
      return "406 Not Acceptable\n";
    case 412:
      return "412 Precondition Failed\n";
    case 416:
      return "416 Range Not Satisfiable\n";
  }
  return {};
}

// Every check that needs only the request and its answer.
void CheckAnswer(const Manifest& m, const Request& req, const Response& res) {
  const bool head = req.method == "HEAD";
  const bool get = req.method == "GET";
  static constexpr int kStatuses[] = {200, 206, 304, 400, 404, 405, 406, 412, 416};
  FUZZ_CHECK(std::find(std::begin(kStatuses), std::end(kStatuses), res.status) !=
             std::end(kStatuses));
  FUZZ_CHECK(!res.reason.empty());
  FUZZ_CHECK((get || head) || res.status == 405);
  FUZZ_CHECK(res.status != 405 || res.header("Allow") == "GET, HEAD");

  // No field is written twice, and none was dropped for want of room.
  FUZZ_CHECK(res.headers().size() < Response::kMaxHeaders);
  for (std::size_t i = 0; i < res.headers().size(); ++i) {
    for (std::size_t k = i + 1; k < res.headers().size(); ++k) {
      FUZZ_CHECK(res.headers()[i].name != res.headers()[k].name);
    }
  }
  FUZZ_CHECK(res.body().size() < Response::kMaxBodyPieces);

  // Every byte sent is the manifest's, or text the Response formatted itself, or the fixed
  // text of an error.
  const std::uint64_t blob_size = BlobSize(m);
  std::uint64_t total = 0;
  for (const std::string_view piece : res.body()) {
    total += piece.size();
    const bool from_blob = m.blob != nullptr && Inside(piece, m.blob, blob_size);
    const bool from_response = Inside(piece, &res, sizeof res);
    FUZZ_CHECK(from_blob || from_response || piece == ErrorText(res.status));
  }

  // Content-Length and the body.
  if (res.status == 304) {
    FUZZ_CHECK(!res.has_content_length);
    FUZZ_CHECK(res.body().empty());
  } else {
    FUZZ_CHECK(res.has_content_length);
    if (head) {
      FUZZ_CHECK(res.body().empty());
    } else {
      FUZZ_CHECK(res.content_length == total);
    }
  }

  // Errors: a fixed text, never cached, about nothing in particular.
  if (const std::string_view text = ErrorText(res.status); !text.empty()) {
    FUZZ_CHECK(head || res.BodyString() == text);
    FUZZ_CHECK(res.content_length == text.size());
    FUZZ_CHECK(res.header("Cache-Control") == "no-store");
    FUZZ_CHECK(res.header("ETag").empty());
    FUZZ_CHECK(res.header("Content-Encoding").empty());
    // A 412 or 416 still names the representation it is about (a 416's Content-Range gives
    // its length); a 406 found none.
    FUZZ_CHECK(res.status != 406 || res.variant == nullptr);
  }
  FUZZ_CHECK((res.asset != nullptr) ==
             (res.status != 400 && res.status != 404 && res.status != 405));
  FUZZ_CHECK(res.status != 406 || req.accept_encoding.has_value());
  FUZZ_CHECK(res.status != 412 || req.if_match.has_value() || req.if_unmodified_since.has_value());
  FUZZ_CHECK(res.status != 304 || req.if_none_match.has_value() ||
             req.if_modified_since.has_value());
  FUZZ_CHECK((res.status != 206 && res.status != 416) || (get && req.range.has_value()));
  if (res.asset == nullptr) {
    FUZZ_CHECK(res.header("Vary").empty());
    return;
  }

  // About an asset: it is the manifest's, and so is the variant.
  const Asset& asset = *res.asset;
  FUZZ_CHECK(&asset >= m.assets.data() && &asset < m.assets.data() + m.assets.size());
  const std::span<const Variant> variants = m.VariantsOf(asset);
  FUZZ_CHECK(res.variant == nullptr ||
             (res.variant >= variants.data() && res.variant < variants.data() + variants.size()));
  FUZZ_CHECK(res.header("Vary") == (variants.empty() ? "" : "Accept-Encoding"));
  if (res.status == 416) {
    FUZZ_CHECK(res.header("Content-Range").starts_with("bytes */"));
  }
  if (res.status != 200 && res.status != 206 && res.status != 304) return;

  const std::string_view etag = res.variant != nullptr ? res.variant->etag() : asset.etag();
  const std::string_view bytes = res.variant != nullptr ? m.Body(*res.variant) : m.Body(asset);
  FUZZ_CHECK(res.header("ETag") == etag);
  FUZZ_CHECK(res.header("Last-Modified") == asset.last_modified());
  FUZZ_CHECK(!res.header("Cache-Control").empty());
  if (res.status == 304) {
    FUZZ_CHECK(res.header("Content-Type").empty());
    FUZZ_CHECK(res.header("Content-Encoding").empty());
    return;
  }
  FUZZ_CHECK(res.header("Content-Encoding") ==
             (res.variant != nullptr ? res.variant->content_encoding() : ""));
  FUZZ_CHECK(res.header("Accept-Ranges") == "bytes");
  FUZZ_CHECK(res.header("X-Content-Type-Options") == "nosniff");
  if (res.status == 200) {
    FUZZ_CHECK(res.header("Content-Type") == asset.content_type());
    FUZZ_CHECK(res.header("Content-Range").empty());
    FUZZ_CHECK(res.content_length == bytes.size());
    FUZZ_CHECK(head || res.BodyString() == bytes);
    return;
  }

  // 206: each part is exactly the slice its Content-Range names.
  const std::string body = res.BodyString();
  const std::string_view type = res.header("Content-Type");
  if (type == asset.content_type()) {
    std::uint64_t first = 0, last = 0, length = 0;
    FUZZ_CHECK(ParseContentRange(res.header("Content-Range"), first, last, length));
    FUZZ_CHECK(first <= last && last < length && length == bytes.size());
    FUZZ_CHECK(body == bytes.substr(first, last - first + 1));
    return;
  }
  FUZZ_CHECK(res.header("Content-Range").empty());
  constexpr std::string_view kMultipart = "multipart/byteranges; boundary=";
  FUZZ_CHECK(type.starts_with(kMultipart));
  const std::string boundary(type.substr(kMultipart.size()));
  FUZZ_CHECK(!boundary.empty());
  std::string_view rest = body;
  std::size_t parts = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
  for (;;) {
    const std::string lead = (parts == 0 ? "--" : "\r\n--") + boundary;
    FUZZ_CHECK(rest.starts_with(lead));
    rest.remove_prefix(lead.size());
    if (rest == "--\r\n") break;
    const std::string head_start =
        "\r\nContent-Type: " + std::string(asset.content_type()) + "\r\nContent-Range: ";
    FUZZ_CHECK(rest.starts_with(head_start));
    rest.remove_prefix(head_start.size());
    const std::size_t end = rest.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string_view::npos);
    std::uint64_t first = 0, last = 0, length = 0;
    FUZZ_CHECK(ParseContentRange(rest.substr(0, end), first, last, length));
    FUZZ_CHECK(first <= last && last < length && length == bytes.size());
    rest.remove_prefix(end + 4);
    const std::uint64_t n = last - first + 1;
    FUZZ_CHECK(rest.size() >= n && rest.substr(0, n) == bytes.substr(first, n));
    rest.remove_prefix(n);
    // Ranges that overlap or touch were merged.
    for (const auto& [f, l] : seen) FUZZ_CHECK(last + 1 < f || l + 1 < first);
    seen.emplace_back(first, last);
    ++parts;
  }
  FUZZ_CHECK(parts >= 2 && parts <= kv_assets::internal::kMaxRanges);
}

bool SameHeaders(const Response& a, const Response& b) {
  if (a.headers().size() != b.headers().size()) return false;
  for (std::size_t i = 0; i < a.headers().size(); ++i) {
    if (a.headers()[i].name != b.headers()[i].name) return false;
    if (a.headers()[i].value != b.headers()[i].value) return false;
  }
  return true;
}

void CheckOne(const kv_assets::Server& server, const Request& req) {
  const Response res = server.Handle(req);
  CheckAnswer(server.manifest(), req, res);

  // Deterministic, and a copy says the same, pointing into itself.
  const Response again = server.Handle(req);
  FUZZ_CHECK(again.status == res.status && SameHeaders(again, res) &&
             again.BodyString() == res.BodyString());
  const Response copy = res;
  FUZZ_CHECK(copy.status == res.status && SameHeaders(copy, res) &&
             copy.content_length == res.content_length && copy.BodyString() == res.BodyString());
  for (const std::string_view piece : copy.body()) FUZZ_CHECK(!Inside(piece, &res, sizeof res));
  for (const kv_assets::HeaderField& f : copy.headers()) {
    FUZZ_CHECK(!Inside(f.value, &res, sizeof res));
  }

  // HEAD is GET without the body; Range applies to GET alone, so GET without it.
  if (req.method == "GET" || req.method == "HEAD") {
    Request get = req;
    get.method = "GET";
    get.range.reset();
    Request head = req;
    head.method = "HEAD";
    const Response g = server.Handle(get);
    const Response h = server.Handle(head);
    CheckAnswer(server.manifest(), head, h);
    FUZZ_CHECK(g.status == h.status && SameHeaders(g, h) && g.content_length == h.content_length &&
               g.has_content_length == h.has_content_length);
  }
}

// Replaces each "$<x><n>" in `s` (see the top of this file).
std::string Expand(std::string_view s, const Manifest& m) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$' || i + 1 >= s.size() || m.assets.empty()) {
      out.push_back(s[i]);
      continue;
    }
    const char what = s[i + 1];
    std::size_t k = i + 2;
    std::size_t n = 0;
    while (k < s.size() && k < i + 6 && s[k] >= '0' && s[k] <= '9') n = n * 10 + (s[k++] - '0');
    const Asset& a = m.assets[n % m.assets.size()];
    const std::span<const Variant> variants = m.VariantsOf(a);
    std::string_view value;
    switch (what) {
      case 'p':
        value = a.path();
        break;
      case 't':
        value = a.tagged_path();
        break;
      case 'u':
        value = a.url();
        break;
      case 'e':
        value = a.etag();
        break;
      case 'v':
        value = variants.empty() ? a.etag() : variants[n % variants.size()].etag();
        break;
      case 'd':
        value = a.last_modified();
        break;
      default:
        out.push_back(s[i]);
        continue;
    }
    out.append(value);
    i = k - 1;
  }
  return out;
}

void Run(const kv_assets::Server& server, std::string_view input) {
  const Manifest& m = server.manifest();
  std::vector<std::string> lines;
  while (!input.empty() && lines.size() < 64) {
    const std::size_t nl = input.find('\n');
    lines.push_back(Expand(input.substr(0, nl), m));
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  }
  if (lines.size() < 2) lines.resize(2);
  // Joined values live here; never resized after the views are taken.
  std::string joined[7];
  bool present[7] = {};
  constexpr std::string_view kCodes = "emnsuri";
  for (std::size_t i = 2; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.size() < 2 || line[1] != ':') continue;
    const std::size_t code = kCodes.find(line[0]);
    if (code == std::string_view::npos) continue;
    if (present[code]) joined[code] += ", ";
    joined[code].append(line, 2);
    present[code] = true;
  }
  const auto field = [&](char code) -> std::optional<std::string_view> {
    const std::size_t i = kCodes.find(code);
    if (!present[i]) return std::nullopt;
    return std::string_view(joined[i]);
  };
  Request req;
  req.method = lines[0];
  req.target = lines[1];
  req.accept_encoding = field('e');
  req.if_match = field('m');
  req.if_none_match = field('n');
  req.if_modified_since = field('s');
  req.if_unmodified_since = field('u');
  req.range = field('r');
  req.if_range = field('i');
  CheckOne(server, req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kv_assets::Server generated(fuzz_assets::kManifest);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Run(generated, input);
  if (fuzz_assets::kManifest.variants.empty()) {
    static const kv_assets::Server made_up(MadeUpVariants().manifest);
    Run(made_up, input);
  }
  return 0;
}
