// The HTTP conformance suite: one test per numbered rule of docs/http.md (RFC 9110, 9111, 8246),
// each run against GET and HEAD and against every representation of every asset (identity and
// each precompressed variant), through the runtime API (kv_assets::Server) and over real HTTP
// through each serving component (test_servers.h): AssetServer, AssetServer with sendfile(2)
// for every body, and cpp-httplib with Mount(). Every encoded body is decoded here with zlib,
// brotli and zstd and compared with the file in public/.

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "http_client.h"
#include "kv_assets/http_date.h"
#include "kv_assets/server.h"
#include "public_assets.h"
#include "test_servers.h"

namespace {

namespace ex = kv_assets_test;
using ex::Exchange;
using ex::RequestFields;

// ---------------------------------------------------------------------------------------------
// The two ways in.

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Exchange Send(std::string_view method, std::string_view target,
                        const RequestFields& fields) = 0;
  virtual bool has_date() const = 0;
};

class ApiTransport : public Transport {
 public:
  Exchange Send(std::string_view method, std::string_view target,
                const RequestFields& fields) override {
    return ex::HandleThroughApi(server_, method, target, fields);
  }
  bool has_date() const override { return false; }

 private:
  const kv_assets::Server server_{public_assets::kManifest};
};

// A serving component over a socket, one connection per request.
class HttpTransport : public Transport {
 public:
  HttpTransport(std::string_view kind, const kv_assets::Server& assets)
      : server_(ex::StartTestServer(kind, assets)) {}
  bool started() const { return server_ != nullptr && server_->port() != 0; }

  Exchange Send(std::string_view method, std::string_view target,
                const RequestFields& fields) override {
    return ex::SendOverHttp(server_->port(), method, target, fields);
  }
  bool has_date() const override { return true; }

 private:
  std::unique_ptr<ex::TestServer> server_;
};

// ---------------------------------------------------------------------------------------------
// The representations under test.

std::string Decode(std::string_view coding, std::string_view bytes, std::size_t original_size) {
  std::string out(original_size, '\0');
  if (coding == "identity") return std::string(bytes);
  if (coding == "gzip") {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END) << "gzip body does not inflate";
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
  }
  if (coding == "br") {
    std::size_t size = out.size();
    EXPECT_EQ(BrotliDecoderDecompress(bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data()),
                                      &size, reinterpret_cast<uint8_t*>(out.data())),
              BROTLI_DECODER_RESULT_SUCCESS)
        << "br body does not decode";
    out.resize(size);
    return out;
  }
  if (coding == "zstd") {
    const std::size_t n = ZSTD_decompress(out.data(), out.size(), bytes.data(), bytes.size());
    EXPECT_FALSE(ZSTD_isError(n)) << "zstd body does not decode: " << ZSTD_getErrorName(n);
    out.resize(ZSTD_isError(n) ? 0 : n);
    return out;
  }
  ADD_FAILURE() << "unknown coding " << coding;
  return "";
}

// One representation of one asset: what to ask for it and what must come back.
struct Rep {
  const kv_assets::Asset* asset;
  std::string coding;  // "identity", "gzip", "br", "zstd"
  std::string etag;
  std::uint64_t length;  // of the bytes sent
  std::string encoded;   // the bytes sent (from the manifest, checked against public/)
  std::string original;  // the file in public/
  bool has_variants;

  std::string Label() const { return std::string(asset->path()) + " as " + coding; }
  std::string tagged() const { return std::string(asset->url()); }
  std::string untagged() const {
    return std::string(public_assets::kManifest.prefix) + std::string(asset->path());
  }
  // Request fields that select this representation.
  RequestFields Select() const {
    if (coding == "identity") return {};
    return {{"Accept-Encoding", coding}};
  }
  RequestFields With(RequestFields more) const {
    RequestFields out = Select();
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }
};

std::vector<Rep> AllReps() {
  const kv_assets::Manifest& m = public_assets::kManifest;
  std::vector<Rep> reps;
  for (const kv_assets::Asset& a : m.assets) {
    const std::string original = ex::ReadPublicFile(a.path());
    const bool has_variants = !m.VariantsOf(a).empty();
    reps.push_back({&a, "identity", std::string(a.etag()), a.size, std::string(m.Body(a)), original,
                    has_variants});
    for (const kv_assets::Variant& v : m.VariantsOf(a)) {
      reps.push_back({&a, std::string(v.content_encoding()), std::string(v.etag()), v.size,
                      std::string(m.Body(v)), original, has_variants});
    }
  }
  return reps;
}

const std::vector<Rep>& Reps() {
  static const std::vector<Rep> reps = AllReps();
  return reps;
}

// The representations a byte-range request can be about: identity only (docs/http.md rule 24:
// a GET with a bytes Range is answered from the identity bytes whenever identity is
// acceptable). Rule24RangesUseTheIdentityBytes checks what the encoded ones get.
const std::vector<Rep>& RangeReps() {
  static const std::vector<Rep> reps = [] {
    std::vector<Rep> out;
    for (const Rep& rep : Reps()) {
      if (rep.coding == "identity") out.push_back(rep);
    }
    return out;
  }();
  return reps;
}

constexpr const char* kMethods[] = {"GET", "HEAD"};

std::string Http(std::int64_t t) { return kv_assets::FormatHttpDate(t); }

// ---------------------------------------------------------------------------------------------
// The fixture: parameter "api" or a kind of test server.

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "api") {
      transport_ = std::make_unique<ApiTransport>();
    } else {
      auto http = std::make_unique<HttpTransport>(GetParam(), assets_);
      ASSERT_TRUE(http->started()) << GetParam() << " did not start";
      transport_ = std::move(http);
    }
  }

  Exchange Send(std::string_view method, std::string_view target, const RequestFields& f = {}) {
    Exchange e = transport_->Send(method, target, f);
    EXPECT_EQ(e.trailing, "") << method << " " << target << ": bytes after the response";
    return e;
  }

  // Sends `method` for `rep` with its selecting fields plus `more`; checks that a 2xx/304
  // answer is about `rep` (right ETag and coding).
  Exchange SendRep(std::string_view method, const Rep& rep, RequestFields more = {},
                   bool tagged = true) {
    Exchange e = Send(method, tagged ? rep.tagged() : rep.untagged(), rep.With(std::move(more)));
    if (e.status == 200 || e.status == 206 || e.status == 304) {
      EXPECT_EQ(e.Get("ETag"), rep.etag) << rep.Label();
    }
    if ((e.status == 200 || e.status == 206) && rep.coding != "identity") {
      EXPECT_EQ(e.Get("Content-Encoding"), rep.coding) << rep.Label();
    }
    return e;
  }

  const kv_assets::Server assets_{public_assets::kManifest};
  std::unique_ptr<Transport> transport_;
};

INSTANTIATE_TEST_SUITE_P(Transports, Conformance,
                         ::testing::Values("api", "beast", "beast_sendfile", "httplib"),
                         [](const auto& info) { return info.param; });

TEST_P(Conformance, ThePublicFolderHasEncodedAndUnencodedAssets) {
  // Otherwise the per-encoding halves of the rules below test nothing.
  std::set<std::string> codings;
  bool some_without = false;
  for (const Rep& rep : Reps()) {
    codings.insert(rep.coding);
    if (!rep.has_variants) some_without = true;
  }
  EXPECT_EQ(codings, (std::set<std::string>{"identity", "gzip", "br", "zstd"}));
  EXPECT_TRUE(some_without) << "no asset without variants (img/pattern.png should be one)";
}

// B.1 Validators ------------------------------------------------------------------------------

// 1. ETag syntax on every 200/206/304.
TEST_P(Conformance, Rule01EntityTagSyntax) {
  static const std::regex kEtag(R"re((W/)?"[\x21\x23-\x7E\x80-\xFF]*")re");
  for (const Rep& rep : RangeReps()) {
    for (const char* method : kMethods) {
      for (const Exchange& e :
           {SendRep(method, rep), SendRep(method, rep, {{"If-None-Match", rep.etag}}),
            SendRep(method, rep, {{"Range", "bytes=0-0"}})}) {
        EXPECT_TRUE(std::regex_match(e.Get("ETag"), kEtag)) << rep.Label() << ": " << e.Get("ETag");
      }
    }
  }
}

// 2. The tag is strong, and it is a hash of the exact bytes sent: the body matches the file.
TEST_P(Conformance, Rule02StrongTagOfTheBytesSent) {
  for (const Rep& rep : Reps()) {
    const Exchange e = SendRep("GET", rep);
    ASSERT_EQ(e.status, 200) << rep.Label();
    EXPECT_FALSE(e.Get("ETag").starts_with("W/")) << rep.Label();
    EXPECT_EQ(e.body, rep.encoded) << rep.Label();
    EXPECT_EQ(Decode(rep.coding, e.body, rep.original.size()), rep.original) << rep.Label();
  }
}

// 3. Weak comparison for If-None-Match, strong for If-Match.
TEST_P(Conformance, Rule03WeakAndStrongComparison) {
  for (const Rep& rep : Reps()) {
    const std::string weak = "W/" + rep.etag;
    EXPECT_EQ(SendRep("GET", rep, {{"If-None-Match", weak}}).status, 304) << rep.Label();
    EXPECT_EQ(SendRep("GET", rep, {{"If-Match", weak}}).status, 412) << rep.Label();
    EXPECT_EQ(SendRep("GET", rep, {{"If-Match", rep.etag}}).status, 200) << rep.Label();
  }
}

// 4. Each content coding is its own representation with its own tag.
TEST_P(Conformance, Rule04EachCodingHasItsOwnTag) {
  std::map<const kv_assets::Asset*, std::set<std::string>> tags;
  std::map<const kv_assets::Asset*, int> count;
  for (const Rep& rep : Reps()) {
    const Exchange e = SendRep("GET", rep);
    ASSERT_EQ(e.status, 200) << rep.Label();
    EXPECT_EQ(e.Has("Content-Encoding"), rep.coding != "identity") << rep.Label();
    tags[rep.asset].insert(e.Get("ETag"));
    ++count[rep.asset];
  }
  for (const auto& [asset, set] : tags) {
    EXPECT_EQ(static_cast<int>(set.size()), count[asset]) << asset->path();
  }
}

// 5. Last-Modified is an HTTP-date no later than Date.
TEST_P(Conformance, Rule05LastModifiedNotAfterDate) {
  for (const Rep& rep : Reps()) {
    for (const char* method : kMethods) {
      const Exchange e = SendRep(method, rep);
      const auto lm = kv_assets::ParseHttpDate(e.Get("Last-Modified"));
      ASSERT_TRUE(lm.has_value()) << rep.Label() << ": " << e.Get("Last-Modified");
      const auto date = transport_->has_date() ? kv_assets::ParseHttpDate(e.Get("Date"))
                                               : std::optional<std::int64_t>(std::time(nullptr));
      ASSERT_TRUE(date.has_value()) << e.Get("Date");
      EXPECT_LE(*lm, *date) << rep.Label();
    }
  }
}

// B.2 Conditional requests --------------------------------------------------------------------

// 6. If-None-Match: exact, W/, list, * -> 304; mismatch -> 200.
TEST_P(Conformance, Rule06IfNoneMatch) {
  for (const Rep& rep : Reps()) {
    for (const char* method : kMethods) {
      for (const std::string& inm :
           {rep.etag, "W/" + rep.etag, "\"x\", " + rep.etag, std::string("*")}) {
        EXPECT_EQ(SendRep(method, rep, {{"If-None-Match", inm}}).status, 304)
            << method << " " << rep.Label() << " INM " << inm;
      }
      EXPECT_EQ(SendRep(method, rep, {{"If-None-Match", "\"x\""}}).status, 200) << rep.Label();
      // The tag of another representation of the same asset is not this one's.
      for (const Rep& other : Reps()) {
        if (other.asset != rep.asset || other.coding == rep.coding) continue;
        EXPECT_EQ(SendRep(method, rep, {{"If-None-Match", other.etag}}).status, 200)
            << rep.Label() << " with the tag of " << other.coding;
      }
    }
  }
}

// 7. If-Modified-Since: only without If-None-Match, only a valid single date, only GET/HEAD.
TEST_P(Conformance, Rule07IfModifiedSince) {
  for (const Rep& rep : Reps()) {
    const std::int64_t lm = rep.asset->last_modified_unix;
    for (const char* method : kMethods) {
      EXPECT_EQ(SendRep(method, rep, {{"If-Modified-Since", Http(lm)}}).status, 304);
      EXPECT_EQ(SendRep(method, rep, {{"If-Modified-Since", Http(lm + 3600)}}).status, 304);
      EXPECT_EQ(SendRep(method, rep, {{"If-Modified-Since", Http(lm - 1)}}).status, 200);
      EXPECT_EQ(SendRep(method, rep, {{"If-Modified-Since", "yesterday"}}).status, 200);
      EXPECT_EQ(SendRep(method, rep, {{"If-Modified-Since", Http(lm) + ", " + Http(lm)}}).status,
                200);
      EXPECT_EQ(SendRep(method, rep, {{"If-None-Match", "\"x\""}, {"If-Modified-Since", Http(lm)}})
                    .status,
                200)
          << rep.Label() << ": INM mismatch + IMS match";
    }
    EXPECT_EQ(Send("POST", rep.tagged(), {{"If-Modified-Since", Http(lm)}}).status, 405);
  }
}

// 8. If-Match: strong; * true; false -> 412.
TEST_P(Conformance, Rule08IfMatch) {
  for (const Rep& rep : Reps()) {
    for (const char* method : kMethods) {
      EXPECT_EQ(SendRep(method, rep, {{"If-Match", "\"x\""}}).status, 412) << rep.Label();
      EXPECT_EQ(SendRep(method, rep, {{"If-Match", "W/" + rep.etag}}).status, 412);
      EXPECT_EQ(SendRep(method, rep, {{"If-Match", "*"}}).status, 200);
      EXPECT_EQ(SendRep(method, rep, {{"If-Match", "\"x\", " + rep.etag}}).status, 200);
    }
  }
}

// 9. If-Unmodified-Since: 412 when modified after the date; ignored with If-Match or when
// invalid.
TEST_P(Conformance, Rule09IfUnmodifiedSince) {
  for (const Rep& rep : Reps()) {
    const std::int64_t lm = rep.asset->last_modified_unix;
    for (const char* method : kMethods) {
      EXPECT_EQ(SendRep(method, rep, {{"If-Unmodified-Since", Http(lm - 1)}}).status, 412);
      EXPECT_EQ(SendRep(method, rep, {{"If-Unmodified-Since", Http(lm)}}).status, 200);
      EXPECT_EQ(SendRep(method, rep, {{"If-Unmodified-Since", "not a date"}}).status, 200);
      EXPECT_EQ(
          SendRep(method, rep, {{"If-Match", rep.etag}, {"If-Unmodified-Since", Http(lm - 1)}})
              .status,
          200)
          << rep.Label() << ": If-Match present, so If-Unmodified-Since is ignored";
    }
  }
}

// 10. If-Range: ignored without Range; strong tag or exact date -> 206; else the whole body.
TEST_P(Conformance, Rule10IfRange) {
  for (const Rep& rep : RangeReps()) {
    const std::string lm(rep.asset->last_modified());
    const auto range = [&](std::string if_range) {
      return SendRep("GET", rep, {{"Range", "bytes=0-0"}, {"If-Range", std::move(if_range)}});
    };
    EXPECT_EQ(SendRep("GET", rep, {{"If-Range", "\"x\""}}).status, 200) << rep.Label();
    EXPECT_EQ(range(rep.etag).status, 206) << rep.Label();
    EXPECT_EQ(range(lm).status, 206) << rep.Label();
    const Exchange mismatch = range("\"x\"");
    EXPECT_EQ(mismatch.status, 200) << rep.Label();
    EXPECT_EQ(mismatch.body, rep.encoded) << rep.Label();
    EXPECT_EQ(range("W/" + rep.etag).status, 200) << rep.Label();
    EXPECT_EQ(range(Http(rep.asset->last_modified_unix + 1)).status, 200) << rep.Label();
    EXPECT_EQ(range("garbage").status, 200) << rep.Label();
  }
}

// 11. The order of §13.2.2.
TEST_P(Conformance, Rule11PreconditionOrder) {
  for (const Rep& rep : RangeReps()) {
    const std::int64_t lm = rep.asset->last_modified_unix;
    for (const char* method : kMethods) {
      EXPECT_EQ(SendRep(method, rep, {{"If-Match", "\"x\""}, {"If-None-Match", rep.etag}}).status,
                412);
      EXPECT_EQ(
          SendRep(method, rep, {{"If-Unmodified-Since", Http(lm - 1)}, {"If-None-Match", rep.etag}})
              .status,
          412);
      EXPECT_EQ(SendRep(method, rep, {{"If-Match", rep.etag}, {"If-None-Match", rep.etag}}).status,
                304);
      EXPECT_EQ(SendRep(method, rep, {{"If-None-Match", rep.etag}, {"Range", "bytes=0-0"}}).status,
                304);
    }
    EXPECT_EQ(SendRep("GET", rep, {{"If-None-Match", "\"x\""}, {"Range", "bytes=0-0"}}).status,
              206);
  }
}

// 12. Preconditions are ignored when the answer would not be 2xx: 404, 405, 400.
TEST_P(Conformance, Rule12PreconditionsIgnoredOnErrors) {
  const Rep& rep = Reps().front();
  const std::string stale =
      std::string(public_assets::kManifest.prefix) + "css/site.AAAAAAAAAA.css";
  for (const RequestFields& f :
       {RequestFields{{"If-Match", "\"x\""}}, RequestFields{{"If-None-Match", "*"}},
        RequestFields{{"If-Unmodified-Since", Http(0)}}}) {
    EXPECT_EQ(Send("GET", stale, f).status, 404);
    EXPECT_EQ(Send("GET", "/static/missing.css", f).status, 404);
    EXPECT_EQ(Send("GET", "/static/%2e%2e/x", f).status, 400);
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"}) {
      EXPECT_EQ(Send(method, rep.tagged(), f).status, 405) << method;
    }
  }
}

// 13. What a 304 carries: validators and caching fields, no content metadata, no body.
TEST_P(Conformance, Rule13NotModifiedContent) {
  for (const Rep& rep : Reps()) {
    for (const char* method : kMethods) {
      const Exchange full = SendRep(method, rep);
      const Exchange e = SendRep(method, rep, {{"If-None-Match", rep.etag}});
      ASSERT_EQ(e.status, 304) << rep.Label();
      for (const char* name : {"ETag", "Cache-Control", "Vary"}) {
        EXPECT_EQ(e.Get(name), full.Get(name)) << rep.Label() << " " << name;
      }
      EXPECT_TRUE(e.Has("ETag"));
      EXPECT_TRUE(e.Has("Cache-Control"));
      EXPECT_FALSE(e.Has("Content-Type")) << rep.Label();
      EXPECT_FALSE(e.Has("Content-Encoding")) << rep.Label();
      EXPECT_FALSE(e.Has("Content-Range")) << rep.Label();
      if (e.Has("Content-Length")) EXPECT_EQ(e.Get("Content-Length"), full.Get("Content-Length"));
      EXPECT_EQ(e.body, "") << rep.Label();
    }
  }
}

// 14. HEAD: GET's fields, GET's Content-Length, no content; conditionals apply.
TEST_P(Conformance, Rule14HeadMatchesGet) {
  for (const Rep& rep : Reps()) {
    for (const RequestFields& extra :
         {RequestFields{}, RequestFields{{"If-None-Match", rep.etag}},
          RequestFields{{"If-Modified-Since", std::string(rep.asset->last_modified())}}}) {
      Exchange get = SendRep("GET", rep, extra);
      Exchange head = SendRep("HEAD", rep, extra);
      EXPECT_EQ(head.status, get.status) << rep.Label();
      EXPECT_EQ(head.body, "") << rep.Label();
      get.fields.erase("date");
      head.fields.erase("date");
      EXPECT_EQ(head.fields, get.fields) << rep.Label();
      if (get.status == 200) EXPECT_EQ(get.Get("Content-Length"), std::to_string(rep.length));
    }
  }
}

// B.3 Range requests --------------------------------------------------------------------------

// 15. Range is for GET only; unknown units are ignored.
TEST_P(Conformance, Rule15RangeOnlyForGet) {
  for (const Rep& rep : Reps()) {
    const Exchange head = SendRep("HEAD", rep, {{"Range", "bytes=0-0"}});
    EXPECT_EQ(head.status, 200) << rep.Label();
    EXPECT_EQ(head.Get("Content-Length"), std::to_string(rep.length));
    EXPECT_FALSE(head.Has("Content-Range"));
    EXPECT_EQ(SendRep("GET", rep, {{"Range", "items=0-1"}}).status, 200) << rep.Label();
    EXPECT_EQ(Send("POST", rep.tagged(), {{"Range", "bytes=0-0"}}).status, 405);
  }
}

// 16. Range after preconditions: a 304 or 412 wins.
TEST_P(Conformance, Rule16RangeAfterPreconditions) {
  for (const Rep& rep : RangeReps()) {
    EXPECT_EQ(SendRep("GET", rep, {{"Range", "bytes=0-0"}, {"If-None-Match", rep.etag}}).status,
              304);
    EXPECT_EQ(SendRep("GET", rep, {{"Range", "bytes=0-0"}, {"If-Match", "\"x\""}}).status, 412);
    EXPECT_EQ(SendRep("GET", rep, {{"Range", "bytes=0-0"}, {"If-Match", rep.etag}}).status, 206);
  }
}

std::string ContentRange(std::uint64_t first, std::uint64_t last, std::uint64_t length) {
  return "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
         std::to_string(length);
}

// 17. The three forms, clamping, and numbers too large for 64 bits.
TEST_P(Conformance, Rule17RangeSyntax) {
  for (const Rep& rep : RangeReps()) {
    const std::uint64_t n = rep.length;
    ASSERT_GE(n, 10u) << rep.Label();
    const struct {
      std::string range;
      std::uint64_t first, last;
    } cases[] = {
        {"bytes=0-9", 0, 9},
        {"bytes=-10", n - 10, n - 1},
        {"bytes=" + std::to_string(n - 5) + "-", n - 5, n - 1},
        {"bytes=5-" + std::to_string(n + 1000), 5, n - 1},
        {"bytes=-" + std::to_string(n + 1000), 0, n - 1},
        {"bytes=3-99999999999999999999999999", 3, n - 1},
        {"bytes=-99999999999999999999999999", 0, n - 1},
    };
    for (const auto& c : cases) {
      const Exchange e = SendRep("GET", rep, {{"Range", c.range}});
      ASSERT_EQ(e.status, 206) << rep.Label() << " " << c.range;
      EXPECT_EQ(e.Get("Content-Range"), ContentRange(c.first, c.last, n)) << c.range;
      EXPECT_EQ(e.body, rep.encoded.substr(c.first, c.last - c.first + 1)) << c.range;
    }
    for (const char* ignored : {"bytes=9-0", "bytes=abc", "bytes=1-2-3", "bytes="}) {
      const Exchange e = SendRep("GET", rep, {{"Range", ignored}});
      EXPECT_EQ(e.status, 200) << rep.Label() << " " << ignored;
      EXPECT_EQ(e.body, rep.encoded) << ignored;
    }
  }
}

// 18 and 23. Unsatisfiable: 416 with the length of the representation that would be sent.
TEST_P(Conformance, Rule18And23Unsatisfiable) {
  for (const Rep& rep : RangeReps()) {
    const std::string past = std::to_string(rep.length);
    for (const std::string& range : {"bytes=" + past + "-", "bytes=" + past + "-" + past + "0",
                                     std::string("bytes=-0"), "bytes=-0, " + past + "-"}) {
      const Exchange e = SendRep("GET", rep, {{"Range", range}});
      EXPECT_EQ(e.status, 416) << rep.Label() << " " << range;
      EXPECT_EQ(e.Get("Content-Range"), "bytes */" + past) << rep.Label();
    }
    EXPECT_EQ(SendRep("GET", rep, {{"Range", "bytes=" + past + "-, 0-0"}}).status, 206);
  }
}

// 19. Too many ranges: the whole body; overlapping ranges: merged.
TEST_P(Conformance, Rule19ManyOrOverlappingRanges) {
  for (const Rep& rep : RangeReps()) {
    std::string many = "bytes=";
    for (int i = 0; i < 9; ++i) many += std::to_string(i) + "-" + std::to_string(i) + ",";
    many.pop_back();
    const Exchange e = SendRep("GET", rep, {{"Range", many}});
    EXPECT_EQ(e.status, 200) << rep.Label();
    EXPECT_EQ(e.body, rep.encoded);
    const Exchange merged = SendRep("GET", rep, {{"Range", "bytes=0-4,2-6,7-9"}});
    EXPECT_EQ(merged.status, 206);
    EXPECT_EQ(merged.Get("Content-Range"), ContentRange(0, 9, rep.length)) << rep.Label();
  }
}

// 20. One range: 206, Content-Range, exact Content-Length, never multipart.
TEST_P(Conformance, Rule20SingleRange) {
  for (const Rep& rep : RangeReps()) {
    const Exchange e = SendRep("GET", rep, {{"Range", "bytes=2-5"}});
    ASSERT_EQ(e.status, 206) << rep.Label();
    EXPECT_EQ(e.Get("Content-Range"), ContentRange(2, 5, rep.length));
    EXPECT_EQ(e.Get("Content-Length"), "4");
    EXPECT_EQ(e.Get("Content-Type"), rep.asset->content_type());
    EXPECT_EQ(e.body, rep.encoded.substr(2, 4));
  }
}

// A multipart/byteranges body, parsed: each part's fields and bytes.
struct Part {
  std::map<std::string, std::string> fields;
  std::string bytes;
};

std::vector<Part> ParseMultipart(const std::string& body, const std::string& boundary) {
  std::vector<Part> parts;
  const std::string delimiter = "--" + boundary;
  std::size_t pos = body.find(delimiter);
  EXPECT_EQ(pos, 0u) << "body does not start with the boundary";
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.compare(pos, 4, "--\r\n") == 0) {
      EXPECT_EQ(pos + 4, body.size()) << "bytes after the closing delimiter";
      return parts;
    }
    EXPECT_EQ(body.compare(pos, 2, "\r\n"), 0);
    pos += 2;
    Part part;
    for (;;) {
      const std::size_t eol = body.find("\r\n", pos);
      if (eol == std::string::npos) return parts;
      if (eol == pos) {
        pos += 2;
        break;
      }
      const std::string line = body.substr(pos, eol - pos);
      const std::size_t colon = line.find(':');
      part.fields[ex::Lower(line.substr(0, colon))] = line.substr(colon + 2);
      pos = eol + 2;
    }
    const std::size_t next = body.find("\r\n" + delimiter, pos);
    if (next == std::string::npos) break;
    part.bytes = body.substr(pos, next - pos);
    parts.push_back(part);
    pos = next + 2;
  }
  ADD_FAILURE() << "no closing delimiter";
  return parts;
}

// 21. Several ranges: multipart/byteranges in request order, each part with its Content-Range
// and Content-Type, no top-level Content-Range.
TEST_P(Conformance, Rule21MultipleRanges) {
  for (const Rep& rep : RangeReps()) {
    const Exchange e = SendRep("GET", rep, {{"Range", "bytes=8-9, 0-1, -2"}});
    ASSERT_EQ(e.status, 206) << rep.Label();
    const std::string type = e.Get("Content-Type");
    const std::string prefix = "multipart/byteranges; boundary=";
    ASSERT_TRUE(type.starts_with(prefix)) << type;
    EXPECT_FALSE(e.Has("Content-Range"));
    EXPECT_EQ(e.Get("Content-Length"), std::to_string(e.body.size()));
    const std::vector<Part> parts = ParseMultipart(e.body, type.substr(prefix.size()));
    const std::uint64_t n = rep.length;
    const std::pair<std::uint64_t, std::uint64_t> want[] = {{8, 9}, {0, 1}, {n - 2, n - 1}};
    ASSERT_EQ(parts.size(), 3u) << rep.Label();
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(parts[i].fields.at("content-range"),
                ContentRange(want[i].first, want[i].second, n));
      EXPECT_EQ(parts[i].fields.at("content-type"), rep.asset->content_type());
      EXPECT_EQ(parts[i].bytes, rep.encoded.substr(want[i].first, 2)) << rep.Label() << " " << i;
    }
  }
}

// 22. A 206 carries the caching fields a 200 would.
TEST_P(Conformance, Rule22PartialCarriesCachingFields) {
  for (const Rep& rep : RangeReps()) {
    const Exchange full = SendRep("GET", rep);
    for (const char* range : {"bytes=0-0", "bytes=0-0,4-4"}) {
      const Exchange e = SendRep("GET", rep, {{"Range", range}});
      ASSERT_EQ(e.status, 206);
      for (const char* name : {"ETag", "Cache-Control", "Vary", "Last-Modified", "Content-Encoding",
                               "Accept-Ranges"}) {
        EXPECT_EQ(e.Get(name), full.Get(name)) << rep.Label() << " " << name;
      }
    }
  }
}

// 24. Under a content coding, ranges address the encoded bytes: slices put together are the
// encoded body, which decodes to the file.
TEST_P(Conformance, Rule24RangesUseTheIdentityBytes) {
  for (const Rep& rep : Reps()) {
    const Rep& identity = *std::find_if(Reps().begin(), Reps().end(), [&](const Rep& r) {
      return r.asset == rep.asset && r.coding == "identity";
    });
    std::string joined;
    const std::uint64_t step = identity.length / 3 + 1;
    for (std::uint64_t first = 0; first < identity.length; first += step) {
      const Exchange e = Send("GET", rep.tagged(),
                              rep.With({{"Range", "bytes=" + std::to_string(first) + "-" +
                                                      std::to_string(first + step - 1)},
                                        {"If-Range", identity.etag}}));
      ASSERT_EQ(e.status, 206) << rep.Label();
      EXPECT_EQ(e.Get("ETag"), identity.etag) << rep.Label();
      EXPECT_EQ(e.Get("Content-Encoding"), "") << rep.Label();
      if (rep.has_variants) EXPECT_EQ(e.Get("Vary"), "Accept-Encoding") << rep.Label();
      joined += e.body;
    }
    EXPECT_EQ(joined, rep.original) << rep.Label();
    // If-Range naming the encoded representation no longer matches: the whole identity body.
    if (rep.coding != "identity") {
      const Exchange e =
          Send("GET", rep.tagged(), rep.With({{"Range", "bytes=0-0"}, {"If-Range", rep.etag}}));
      EXPECT_EQ(e.status, 200) << rep.Label();
      EXPECT_EQ(e.body, rep.original) << rep.Label();
    }
    // With identity excluded, the encoded bytes are the only ones the client takes: the
    // range addresses them.
    if (rep.coding != "identity") {
      const Exchange e =
          Send("GET", rep.tagged(),
               {{"Accept-Encoding", rep.coding + ", identity;q=0"}, {"Range", "bytes=0-0"}});
      EXPECT_EQ(e.status, 206) << rep.Label();
      EXPECT_EQ(e.Get("ETag"), rep.etag) << rep.Label();
      EXPECT_EQ(e.body, rep.encoded.substr(0, 1)) << rep.Label();
    }
  }
}

// 25. Accept-Ranges: bytes on 200 and 206.
TEST_P(Conformance, Rule25AcceptRanges) {
  for (const Rep& rep : RangeReps()) {
    for (const char* method : kMethods)
      EXPECT_EQ(SendRep(method, rep).Get("Accept-Ranges"), "bytes");
    EXPECT_EQ(SendRep("GET", rep, {{"Range", "bytes=0-0"}}).Get("Accept-Ranges"), "bytes");
  }
}

// B.4 Content negotiation ---------------------------------------------------------------------

// The coding chosen for `accept_encoding` (nullopt: no field), as the response says.
std::string Chosen(const Exchange& e) {
  return e.status == 200 ? (e.Has("Content-Encoding") ? e.Get("Content-Encoding") : "identity")
                         : "status " + std::to_string(e.status);
}

// 26. Accept-Encoding as RFC 9110 §12.5.3 reads it, highest weight first, smallest on a tie.
TEST_P(Conformance, Rule26Negotiation) {
  const kv_assets::Manifest& m = public_assets::kManifest;
  for (const kv_assets::Asset& a : m.assets) {
    const std::span<const kv_assets::Variant> variants = m.VariantsOf(a);
    const auto has = [&](std::string_view coding) {
      return std::any_of(variants.begin(), variants.end(),
                         [&](const auto& v) { return v.content_encoding() == coding; });
    };
    const std::string smallest =
        variants.empty() ? "identity" : std::string(variants.front().content_encoding());
    // GET and HEAD must choose alike.
    const auto ask = [&](std::optional<std::string> field) {
      RequestFields f;
      if (field.has_value()) f.push_back({"Accept-Encoding", *field});
      const std::string get = Chosen(Send("GET", a.url(), f));
      EXPECT_EQ(Chosen(Send("HEAD", a.url(), f)), get) << field.value_or("(no field)");
      return get;
    };
    const std::string gzip = has("gzip") ? "gzip" : "identity";
    SCOPED_TRACE(std::string(a.path()));
    EXPECT_EQ(ask(std::nullopt), "identity");
    EXPECT_EQ(ask(""), "identity");
    EXPECT_EQ(ask("gzip"), gzip);
    EXPECT_EQ(ask("GZIP"), gzip);
    EXPECT_EQ(ask("x-gzip"), gzip);
    EXPECT_EQ(ask("br;q=0, gzip"), gzip);
    EXPECT_EQ(ask("gzip;q=1, br;q=0.5"), gzip);
    EXPECT_EQ(ask("gzip;q=0.0"), "identity");
    EXPECT_EQ(ask("compress, deflate"), "identity");
    EXPECT_EQ(ask("*"), smallest);
    EXPECT_EQ(ask("gzip, deflate, br, zstd"), smallest);
    EXPECT_EQ(ask("identity;q=0.5, *"), smallest);
    EXPECT_EQ(ask("identity, *;q=0"), "identity");
    // Unlisted codings are not acceptable without "*" (§12.5.3), so nothing is left.
    EXPECT_EQ(ask("identity;q=0"), "status 406");
    EXPECT_EQ(ask("identity;q=0, gzip"), has("gzip") ? "gzip" : "status 406");
    // Listed codings come before an unlisted identity, whatever their weight.
    EXPECT_EQ(ask("gzip;q=0.001"), gzip);
    EXPECT_EQ(ask("identity;q=0.5, gzip;q=0.4"), "identity");
    EXPECT_EQ(ask("*;q=0"), "status 406");
    if (has("br")) EXPECT_EQ(ask("br;q=0.5, gzip;q=0.4"), "br");
    if (has("zstd")) EXPECT_EQ(ask("zstd, gzip;q=0.9, br;q=0.9"), "zstd");
    EXPECT_EQ(ask("gzip;q=bogus, br;q=2"), "identity");  // malformed members are skipped
  }
}

// 27. Vary: Accept-Encoding on every answer about an asset with variants, and on none other.
TEST_P(Conformance, Rule27Vary) {
  for (const Rep& rep : RangeReps()) {
    const std::string vary = rep.has_variants ? "Accept-Encoding" : "";
    for (const char* method : kMethods) {
      for (const RequestFields& extra :
           {RequestFields{}, RequestFields{{"If-None-Match", rep.etag}},
            RequestFields{{"If-Match", "\"x\""}}, RequestFields{{"Range", "bytes=0-0"}},
            RequestFields{{"Range", "bytes=0-0,2-2"}},
            RequestFields{{"Range", "bytes=" + std::to_string(rep.length) + "-"}}}) {
        const Exchange e = SendRep(method, rep, extra);
        EXPECT_EQ(e.Get("Vary"), vary) << method << " " << rep.Label() << " -> " << e.status;
      }
    }
  }
}

// B.5 Methods ---------------------------------------------------------------------------------

// 28. 405 names the allowed methods.
TEST_P(Conformance, Rule28MethodNotAllowedHasAllow) {
  for (const Rep& rep : Reps()) {
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"}) {
      const Exchange e = Send(method, rep.tagged());
      EXPECT_EQ(e.status, 405) << method;
      EXPECT_EQ(e.Get("Allow"), "GET, HEAD") << method;
    }
  }
}

// B.6 RFC 9111 caching ------------------------------------------------------------------------

// 29 and 30. Explicit freshness in token form on every 200/206/304.
TEST_P(Conformance, Rule29And30CacheControlSyntax) {
  static const std::regex kDirectives(R"(([a-z-]+(=[0-9]+)?)(, [a-z-]+(=[0-9]+)?)*)");
  for (const Rep& rep : RangeReps()) {
    for (bool tagged : {true, false}) {
      for (const RequestFields& extra :
           {RequestFields{}, RequestFields{{"If-None-Match", rep.etag}},
            RequestFields{{"Range", "bytes=0-0"}}}) {
        const Exchange e = SendRep("GET", rep, extra, tagged);
        const std::string cc = e.Get("Cache-Control");
        EXPECT_TRUE(std::regex_match(cc, kDirectives)) << cc;
        EXPECT_NE(cc.find("max-age="), std::string::npos) << cc;
      }
    }
  }
}

// 31. A 304 and a HEAD carry the validators of the 200 they freshen.
TEST_P(Conformance, Rule31FresheningValidators) {
  for (const Rep& rep : Reps()) {
    const Exchange get = SendRep("GET", rep);
    const Exchange not_modified = SendRep("GET", rep, {{"If-None-Match", rep.etag}});
    const Exchange head = SendRep("HEAD", rep);
    EXPECT_EQ(not_modified.Get("ETag"), get.Get("ETag")) << rep.Label();
    EXPECT_EQ(head.Get("ETag"), get.Get("ETag"));
    EXPECT_EQ(head.Get("Content-Length"), get.Get("Content-Length"));
    EXPECT_EQ(not_modified.Get("Last-Modified"), get.Get("Last-Modified"));
  }
}

// B.7 RFC 8246 immutable ----------------------------------------------------------------------

// 32. immutable, with a year's max-age, only on the content-addressed (tagged) URL.
TEST_P(Conformance, Rule32ImmutableOnlyOnTaggedUrls) {
  for (const Rep& rep : Reps()) {
    EXPECT_EQ(SendRep("GET", rep, {}, true).Get("Cache-Control"),
              "public, max-age=31536000, immutable");
    EXPECT_EQ(SendRep("GET", rep, {}, false).Get("Cache-Control"), "public, max-age=60");
  }
}

// B.8: paths that try to leave the asset folder or smuggle bytes.
TEST_P(Conformance, HostilePathsAreRejected) {
  for (const char* target :
       {"/static/../static/css/site.css", "/static/%2e%2e/static/css/site.css",
        "/static/css%2fsite.css", "/static/css\\site.css", "/static/css/site.css%00",
        "/static/./css/site.css", "/static/%2E/css/site.css"}) {
    for (const char* method : kMethods) {
      const Exchange e = Send(method, target);
      EXPECT_TRUE(e.status == 400 || e.status == 404) << target << " -> " << e.status;
      EXPECT_FALSE(e.Has("ETag")) << target;
    }
  }
  // No fallback: a missing script is a 404, never the home page.
  EXPECT_EQ(Send("GET", "/static/js/missing.js").status, 404);
}

}  // namespace
