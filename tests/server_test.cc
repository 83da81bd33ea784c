// The server's behaviour table (README "Caching strategy", docs/http.md).
#include "kv_assets/server.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kv_assets/http_date.h"
#include "site_assets.h"

namespace kv_assets {
namespace {

const Manifest& kM = site_assets::kManifest;
constexpr std::string_view kShort = "public, max-age=60";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

Response Get(std::string_view target, std::optional<std::string_view> inm = std::nullopt,
             std::optional<std::string_view> ims = std::nullopt, std::string_view method = "GET") {
  static const Server server(kM);
  Request r;
  r.method = method;
  r.target = target;
  r.if_none_match = inm;
  r.if_modified_since = ims;
  return server.Handle(r);
}

const Asset& A(std::string_view path) { return *kM.Find(path); }

std::string Url(std::string_view path) { return std::string(A(path).url()); }

// A Response has one face for programs: they read it; only the server builds one.
template <typename R>
concept CanAddHeader = requires(R r) {
  r.AddHeader("X-A", "b");
};
template <typename R>
concept CanAddBodyPiece = requires(R r) {
  r.AddBodyPiece("b");
};
template <typename R>
concept CanStoreText = requires(R r) {
  r.StoreText({"b"});
};
template <typename R>
concept CanAddBodyFromStore = requires(R r) {
  r.AddBodyFromStore("k", ByteRange{0, 1});
};
// The concepts do see a public builder call (so the assertion after them can fail).
struct PublicBuilder {
  void AddHeader(std::string_view, std::string_view) {}
};
static_assert(CanAddHeader<PublicBuilder>);
static_assert(!CanAddHeader<Response> && !CanAddBodyPiece<Response> && !CanStoreText<Response> &&
              !CanAddBodyFromStore<Response>);

TEST(Response, ProgramsReadItAndOnlyTheServerBuildsIt) {
  const Response r = ErrorResponse(404);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  ASSERT_TRUE(r.has_content_length);
  EXPECT_EQ(r.content_length, r.BodyString().size());
  EXPECT_TRUE(r.body_key().empty());
  EXPECT_TRUE(r.body_ranges().empty());
}

TEST(Server, UntaggedNameIsServedWithShortCaching) {
  const Response r = Get("/static/css/a.css");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.BodyString(), kM.Body(A("css/a.css")));
  EXPECT_TRUE(r.has_content_length);
  EXPECT_EQ(r.content_length, A("css/a.css").size);
  EXPECT_EQ(r.header("Cache-Control"), kShort);
  EXPECT_EQ(r.header("ETag"), A("css/a.css").etag());
  EXPECT_EQ(r.header("Last-Modified"), A("css/a.css").last_modified());
  EXPECT_EQ(r.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.asset, &A("css/a.css"));
}

TEST(Server, TaggedNameIsImmutableForAYear) {
  const Response r = Get(Url("css/a.css"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.BodyString(), kM.Body(A("css/a.css")));
  EXPECT_EQ(r.header("Cache-Control"), kImmutable);
  EXPECT_EQ(r.header("ETag"), A("css/a.css").etag());
}

TEST(Server, StaleTagIsNotFound) {
  std::string stale = Url("css/a.css");
  const std::size_t dot = stale.find('.');
  stale.replace(dot + 1, 10, stale[dot + 1] == 'A' ? "BBBBBBBBBB" : "AAAAAAAAAA");
  const Response r = Get(stale);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.asset, nullptr);
}

TEST(Server, NamesThatMerelyLookTaggedAreServedAsThemselves) {
  EXPECT_EQ(Get("/static/app.properties").status, 200);
  EXPECT_EQ(Get("/static/app.properties").header("Cache-Control"), kShort);
  EXPECT_EQ(Get("/static/config.production.js").status, 200);
  EXPECT_EQ(Get("/static/config.production.js").BodyString(), kM.Body(A("config.production.js")));
}

TEST(Server, HeadIsGetWithoutBody) {
  for (const std::string& target : {std::string("/static/js/app.min.js"), Url("js/app.min.js")}) {
    const Response get = Get(target);
    const Response head = Get(target, {}, {}, "HEAD");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body().empty());
    EXPECT_TRUE(head.has_content_length);
    EXPECT_EQ(head.content_length, get.BodyString().size());
    ASSERT_EQ(head.headers().size(), get.headers().size());
    for (std::size_t i = 0; i < get.headers().size(); ++i) {
      EXPECT_EQ(head.headers()[i].name, get.headers()[i].name);
      EXPECT_EQ(head.headers()[i].value, get.headers()[i].value);
    }
  }
}

TEST(Server, OtherMethodsAre405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "get",
                             "head", "BREW", ""}) {
    for (const char* target : {"/static/css/a.css", "/static/nope", "*"}) {
      const Response r = Get(target, {}, {}, method);
      EXPECT_EQ(r.status, 405) << method << " " << target;
      EXPECT_EQ(r.header("Allow"), "GET, HEAD") << method;
      EXPECT_EQ(r.BodyString(), "405 Method Not Allowed\n");
    }
  }
}

TEST(Server, PreconditionsIgnoredForOtherMethods) {
  // RFC 9110 §13.2.1: 405 wins over any precondition.
  const Response r = Get("/static/css/a.css", A("css/a.css").etag(), {}, "POST");
  EXPECT_EQ(r.status, 405);
}

struct InmCase {
  std::string field;
  int status;
};

TEST(Server, IfNoneMatchUsesWeakComparisonListsAndStar) {
  const std::string etag(A("css/a.css").etag());
  const std::vector<InmCase> cases = {
      {etag, 304},
      {"W/" + etag, 304},
      {"\"other\", " + etag, 304},
      {"\"x\",W/\"y\" ,\t" + etag + " , \"z\"", 304},
      {"*", 304},
      {"\"other\"", 200},
      {etag.substr(1, etag.size() - 2), 200},  // unquoted is not an entity-tag
      {"W/\"" + etag.substr(1, 5) + "\"", 200},
      {"\"", 200},
      {",,,", 200},
      {"garbage " + etag, 200},  // malformed member: parsing stops
  };
  for (const InmCase& c : cases) {
    for (const std::string& target : {std::string("/static/css/a.css"), Url("css/a.css")}) {
      for (const char* method : {"GET", "HEAD"}) {
        const Response r = Get(target, c.field, {}, method);
        EXPECT_EQ(r.status, c.status) << c.field << " " << target << " " << method;
      }
    }
  }
}

TEST(Server, NotModifiedCarriesValidatorsAndCachingButNoBody) {
  const Response r = Get(Url("css/a.css"), A("css/a.css").etag());
  ASSERT_EQ(r.status, 304);
  EXPECT_EQ(r.reason, "Not Modified");
  EXPECT_TRUE(r.body().empty());
  EXPECT_FALSE(r.has_content_length);
  EXPECT_EQ(r.header("ETag"), A("css/a.css").etag());
  EXPECT_EQ(r.header("Cache-Control"), kImmutable);
  EXPECT_EQ(r.header("Last-Modified"), A("css/a.css").last_modified());
  EXPECT_EQ(r.header("Content-Type"), "");
  EXPECT_EQ(Get("/static/css/a.css", "*").header("Cache-Control"), kShort);
}

TEST(Server, IfModifiedSinceOnlyWithoutIfNoneMatch) {
  const Asset& a = A("css/a.css");
  const std::string same = std::string(a.last_modified());
  const std::string later = FormatHttpDate(a.last_modified_unix + 1);
  const std::string earlier = FormatHttpDate(a.last_modified_unix - 1);
  EXPECT_EQ(Get("/static/css/a.css", {}, same).status, 304);
  EXPECT_EQ(Get("/static/css/a.css", {}, later).status, 304);
  EXPECT_EQ(Get("/static/css/a.css", {}, earlier).status, 200);
  EXPECT_EQ(Get("/static/css/a.css", {}, "yesterday").status, 200);
  EXPECT_EQ(Get("/static/css/a.css", {}, same + ", " + same).status, 200);
  EXPECT_EQ(Get("/static/css/a.css", {}, same, "HEAD").status, 304);
  // A mismatching If-None-Match decides alone (RFC 9110 §13.1.3).
  EXPECT_EQ(Get("/static/css/a.css", "\"other\"", same).status, 200);
  EXPECT_EQ(Get("/static/css/a.css", a.etag(), earlier).status, 304);
}

TEST(Server, ConditionalsDoNotTurn404Into304) {
  EXPECT_EQ(Get("/static/nope.css", "*").status, 404);
  EXPECT_EQ(
      Get("/static/nope.css", {}, FormatHttpDate(A("css/a.css").last_modified_unix + 60)).status,
      404);
}

TEST(Server, DirectoriesAreNeverListed) {
  for (const char* target : {"/static/", "/static/css/", "/static/css", "/static//css/a.css",
                             "/static/css//a.css", "/static/index.html/", "/"}) {
    const Response r = Get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.BodyString(), "404 Not Found\n") << target;
  }
}

TEST(Server, QueryAndFragmentAreIgnored) {
  EXPECT_EQ(Get("/static/css/a.css?v=1").status, 200);
  EXPECT_EQ(Get("/static/css/a.css?").status, 200);
  // '#' never belongs in a request-target (RFC 9112 §3.2): a client that sends one is broken.
  EXPECT_EQ(Get("/static/css/a.css#x").status, 400);
  EXPECT_EQ(Get(Url("css/a.css") + "?x=/../../etc/passwd").status, 200);
}

// docs/http.md rule 34: bytes RFC 9112 §3 does not allow in a request-target are a 400, never
// looked up; their percent-encoded forms are ordinary bytes of a name.
TEST(Server, Rule34TargetBytesOutsideTheGrammarAreRejected) {
  for (const char* target :
       {"/static/css\\a.css", "/static/..\\css/a.css", "/static/a b.txt", "/static/a\"b",
        "/static/<x>", "/static/a^b", "/static/a`b", "/static/{a}", "/static/a|b", "/static/a#b",
        "/static/\xC3\xBC.txt", "/static/a\x7F", "/static/a\tb", "http://h\\x/static/css/a.css",
        "http:///static/css/a.css", "http://h/static/a b"}) {
    EXPECT_EQ(Get(target).status, 400) << target;
  }
  EXPECT_EQ(Get("/static/with%20space.txt").status, 200);
  EXPECT_EQ(Get("/static/css/a.css?q=a'b(c)*d+e,f;g=h:i@j!$&").status, 200);
}

// docs/http.md rule 33: absolute-form targets, with or without a path.
TEST(Server, Rule33AbsoluteFormIsAccepted) {
  EXPECT_EQ(Get("http://127.0.0.1:8080/static/css/a.css").status, 200);
  EXPECT_EQ(Get("HTTP://[::1]:8080/static/css/a.css?x").status, 200);
  EXPECT_EQ(Get("http://127.0.0.1:8080").status, 404);  // "/": not an asset
  const std::optional<kv_assets::TargetParts> parts = kv_assets::ParseTarget("http://h:1?q=1");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->authority, "h:1");
  EXPECT_EQ(kv_assets::OriginForm(*parts), "/?q=1");
  EXPECT_EQ(kv_assets::OriginForm(*kv_assets::ParseTarget("https://h/a/b?c")), "/a/b?c");
  EXPECT_EQ(kv_assets::OriginForm(*kv_assets::ParseTarget("/a?b")), "/a?b");
  EXPECT_FALSE(kv_assets::ParseTarget("*").has_value());
  EXPECT_FALSE(kv_assets::ParseTarget("h:443").has_value());
  EXPECT_FALSE(kv_assets::ParseTarget("ftp://h/a").has_value());
}

TEST(Server, ErrorResponseIsAFixedText) {
  const kv_assets::Response get = kv_assets::ErrorResponse(405);
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("Allow"), "GET, HEAD");
  EXPECT_EQ(get.header("Cache-Control"), "no-store");
  EXPECT_EQ(get.BodyString(), "405 Method Not Allowed\n");
  const kv_assets::Response head = kv_assets::ErrorResponse(413, "HEAD");
  EXPECT_EQ(head.reason, "Content Too Large");
  EXPECT_EQ(head.BodyString(), "");
  EXPECT_EQ(head.content_length, std::string_view("413 Content Too Large\n").size());
  EXPECT_EQ(kv_assets::ErrorResponse(299).status, 500);
}

TEST(Server, PercentDecodingIsDoneOnceAndSafely) {
  struct Case {
    const char* target;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"/static/with%20space.txt", 200},
           {"/static/%E6%97%A5%E6%9C%AC.txt", 200},
           {"/static/%e6%97%a5%e6%9c%ac.txt", 200},
           {"/static/sub/q%22uote%5Cback.txt", 200},
           {"/static/sub/q\"uote\\back.txt", 400},  // raw '"' and '\\': not a target
           {"/static/css/%61.css", 200},
           {"/static/css%2Fa.css", 400},
           {"/static/css%2fa.css", 400},
           {"/static/../static/css/a.css", 400},
           {"/static/css/../css/a.css", 400},
           {"/static/./css/a.css", 400},
           {"/static/%2e%2e/secret", 400},
           {"/static/%2E%2E/secret", 400},
           {"/static/.%2e/secret", 400},
           {"/static/%2e/css/a.css", 400},
           {"/static/..", 400},
           {"/static/css/a.css%00", 400},
           {"/static/css/a.css%00.png", 400},
           {"/static/css/a.css%", 400},
           {"/static/css/a.css%4", 400},
           {"/static/css/a.css%zz", 400},
           {"/static/%0d%0aSet-Cookie:x", 400},
           {"/static/css/a.css%2500", 404},  // decodes once, to "a.css%00": no such file
           {"/static/css\\a.css", 400},
           {"/static/css%5Ca.css", 404},
           {"/static/%C0%AE%C0%AE/secret", 404},  // overlong UTF-8 is just bytes here
           {"/static/.well-known/security.txt", 200},
           {"/static/.env", 404},
       }) {
    EXPECT_EQ(Get(c.target).status, c.status) << c.target;
  }
}

// "." and ".." are dot segments (400, above). Longer names of dots alone are no asset's name:
// the scan skips every name that begins with a dot but .well-known. So neither they nor what
// TaggedPath() makes of one ("..." -> "....<tag>", the tag appended after the dots) may be
// looked up as a tagged name, even in a manifest made by hand to hold one.
TEST(Server, NamesOfDotsAloneAreNotFound) {
  const std::string tag(
      A("css/a.css").tagged_path().substr(std::string_view("css/a.").size(), kTagLength));
  for (const std::string& target :
       {std::string("/static/..."), std::string("/static/...."), std::string("/static/css/..."),
        "/static/...." + tag, "/static/css/...." + tag, "/static/..." + tag}) {
    const Response r = Get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.asset, nullptr) << target;
  }

  static constexpr char kStrings[] = "....AAAAAAAAAA\"e\"text/plain";
  Asset dots;
  dots.strings = kStrings;
  dots.path_ref = {0, 3};          // "..."
  dots.tagged_path_ref = {0, 14};  // "....AAAAAAAAAA"
  dots.etag_ref = {14, 3};
  dots.content_type_ref = {17, 10};
  static constexpr std::uint32_t kByTagged[] = {0};
  const Manifest m{"/static/", std::span<const Asset>(&dots, 1), kByTagged, kStrings, {}};
  ASSERT_EQ(m.FindTagged("....AAAAAAAAAA"), &dots);
  Request r;
  r.method = "GET";
  r.target = "/static/....AAAAAAAAAA";
  const Response res = Server(m).Handle(r);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.asset, nullptr);
}

TEST(Server, RequestTargetForms) {
  EXPECT_EQ(Get("http://example.com/static/css/a.css").status, 200);
  EXPECT_EQ(Get("HTTPS://example.com:443/static/css/a.css?q").status, 200);
  EXPECT_EQ(Get("http://example.com").status, 404);
  EXPECT_EQ(Get("http://example.com?x").status, 404);
  EXPECT_EQ(Get("*").status, 400);
  EXPECT_EQ(Get("example.com:443").status, 400);
  EXPECT_EQ(Get("").status, 400);
  EXPECT_EQ(Get("static/css/a.css").status, 400);
}

TEST(Server, OnlyPathsUnderThePrefix) {
  EXPECT_EQ(Get("/css/a.css").status, 404);
  EXPECT_EQ(Get("/staticcss/a.css").status, 404);
  const Server server(kM);
  EXPECT_TRUE(server.HandlesTarget("/static/css/a.css"));
  EXPECT_TRUE(server.HandlesTarget("/static/"));
  EXPECT_TRUE(server.HandlesTarget("http://h/static/x"));
  EXPECT_FALSE(server.HandlesTarget("/static"));
  EXPECT_FALSE(server.HandlesTarget("/"));
  EXPECT_FALSE(server.HandlesTarget("/api/static/x"));
  EXPECT_FALSE(server.HandlesTarget("*"));
}

// Found by tests/fuzz (fuzz_generator): with a prefix that needs percent-encoding, HandlesTarget()
// compared the encoded URL with the decoded prefix and disowned every URL of the manifest.
TEST(Server, HandlesTargetsWhosePrefixIsPercentEncoded) {
  Manifest m = kM;
  m.prefix = "/my static/\xC3\xBC/";
  const Server server(m);
  EXPECT_TRUE(server.HandlesTarget("/my%20static/%C3%BC/css/a.css"));
  EXPECT_TRUE(server.HandlesTarget("/my%20static/%c3%bc/"));
  EXPECT_TRUE(server.HandlesTarget("/my static/\xC3\xBC/x"));
  EXPECT_FALSE(server.HandlesTarget("/my%20static/%C3%B"));
  EXPECT_FALSE(server.HandlesTarget("/my%2"));
  EXPECT_FALSE(server.HandlesTarget("/my%zzstatic/"));
  EXPECT_FALSE(server.HandlesTarget("/my%20static/%C3%BD/x"));
  Manifest percent = kM;
  percent.prefix = "/a%20b/";  // a literal "%20" in the prefix is "%2520" in a URL
  EXPECT_TRUE(Server(percent).HandlesTarget("/a%2520b/x"));
  EXPECT_FALSE(Server(percent).HandlesTarget("/a%20b/x"));
}

TEST(Server, VeryLongPathsAreNotFound) {
  const std::string long_path = "/static/" + std::string(100000, 'a');
  EXPECT_EQ(Get(long_path).status, 404);
  const std::string long_encoded = "/static/" + std::string(30000, '%');
  EXPECT_EQ(Get(long_encoded).status, 400);
}

TEST(Server, EmptyFileHasZeroLength) {
  const Response r = Get("/static/empty.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.has_content_length);
  EXPECT_EQ(r.content_length, 0u);
  EXPECT_TRUE(r.body().empty());
}

TEST(Server, CacheControlIsConfigurable) {
  ServerOptions options;
  options.untagged_cache_control = "no-cache";
  options.tagged_cache_control = "public, max-age=600";
  options.error_cache_control = "public, max-age=5";
  const Server server(kM, options);
  Request r;
  r.method = "GET";
  r.target = "/static/css/a.css";
  EXPECT_EQ(server.Handle(r).header("Cache-Control"), "no-cache");
  const std::string tagged = Url("css/a.css");
  r.target = tagged;
  EXPECT_EQ(server.Handle(r).header("Cache-Control"), "public, max-age=600");
  r.target = "/static/nope";
  EXPECT_EQ(server.Handle(r).header("Cache-Control"), "public, max-age=5");
}

TEST(Server, EveryAssetIsServedUnderBothNames) {
  for (const Asset& a : kM.assets) {
    // Percent-encode everything but unreserved characters and '/', as a browser would.
    std::string target = "/static/";
    for (const char ch : a.path()) {
      const unsigned char c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
        target.push_back(ch);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        target += {'%', kHex[c >> 4], kHex[c & 15]};
      }
    }
    EXPECT_EQ(Get(target).asset, &a) << target;
    EXPECT_EQ(Get(a.url()).asset, &a) << a.url();
  }
}

}  // namespace
}  // namespace kv_assets
