// Starts kv-assets-example on a free port and checks, over real HTTP, what browsers and caches
// see: the home page and its tagged links, the caching headers of tagged and untagged URLs,
// conditional requests, HEAD, methods, path traversal, keep-alive and a clean shutdown.
// tests/serving walks the HTTP rules through the serving components; this file is about the
// example itself.

#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "example_process.h"
#include "gtest/gtest.h"
#include "kv_assets/http_date.h"

namespace {

using namespace kv_assets_test;  // NOLINT: the test support is this file's vocabulary

constexpr std::string_view kTaggedCacheControl = "public, max-age=31536000, immutable";
constexpr std::string_view kUntaggedCacheControl = "public, max-age=60";

// The files in public/, with what the server must say about them.
struct AssetCase {
  std::string_view path;  // under public/ and /static/
  std::string_view stem;  // the path up to the tag
  std::string_view extension;
  std::string_view content_type;
};
constexpr AssetCase kAssets[] = {
    {"css/site.css", "css/site", "css", "text/css; charset=utf-8"},
    {"js/app.js", "js/app", "js", "text/javascript; charset=utf-8"},
    {"img/logo.svg", "img/logo", "svg", "image/svg+xml"},
    {"favicon.ico", "favicon", "ico", "image/x-icon"},
};

// The tagged URL the home page links for `asset`, e.g. "/static/css/site.Ab3dEf9hIj.css".
std::string TaggedUrlIn(const std::string& page, const AssetCase& asset) {
  const std::regex link("\"(/static/" + std::string(asset.stem) + "\\.[A-Za-z0-9_-]+\\." +
                        std::string(asset.extension) + ")\"");
  std::smatch match;
  if (!std::regex_search(page, match, link)) return "";
  return match[1].str();
}

// A server started once per test suite (gtest_discover_tests runs each test in its own
// process, so in practice once per test).
class ExampleServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess;
    server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(server_->port(), 0) << "the example did not start"; }

  static std::uint16_t port() { return server_->port(); }

  static Reply Get(std::string_view target, Fields fields = {}) {
    return Fetch(port(), http::verb::get, target, fields);
  }

  // The tagged URL of `asset`, as the home page links it.
  static std::string TaggedUrl(const AssetCase& asset) {
    const std::string url = TaggedUrlIn(Get("/").response.body(), asset);
    EXPECT_FALSE(url.empty()) << "the home page does not link " << asset.path;
    return url;
  }

  // The bytes the server sends for `path`: the file, but for the stylesheet's reference to the
  // background image, which the generator rewrote to the image's tagged name.
  static std::string ServedBytes(std::string_view path) {
    std::string bytes = ReadPublicFile(path);
    if (path != "css/site.css") return bytes;
    const std::string image =
        TaggedUrlIn(Get("/").response.body(), {"img/pattern.png", "img/pattern", "png", ""});
    const std::size_t at = bytes.find("url(../img/pattern.png)");
    EXPECT_TRUE(at != std::string::npos && !image.empty());
    if (at == std::string::npos || image.empty()) return bytes;
    return bytes.replace(at, 23, "url(../img/" + image.substr(image.rfind('/') + 1) + ")");
  }

  static ServerProcess* server_;
};

ServerProcess* ExampleServer::server_ = nullptr;

TEST(ExampleServerProcess, PrintsItsUrlAndServes) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  EXPECT_EQ(Fetch(server.port(), http::verb::get, "/").response.result_int(), 200);
}

TEST(ExampleServerProcess, ExitsCleanlyOnSigtermWithAnIdleConnectionOpen) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  HttpClient idle(server.port());
  idle.Send(MakeRequest(http::verb::get, "/"));
  EXPECT_EQ(idle.Receive().result_int(), 200);  // the connection stays open: keep-alive
  // Give the server time to finish that response and wait for the next request, so that the
  // signal finds the connection idle (the case that needs the server's help to end).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  const std::optional<int> status = server.SignalAndWait(SIGTERM);
  ASSERT_TRUE(status.has_value()) << "still running " << kTimeout.count() << " s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "wait status " << *status;
  EXPECT_EQ(idle.ReceiveAll(), "");  // closed without another byte
}

TEST(ExampleServerProcess, ExitsCleanlyOnSigint) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  const std::optional<int> status = server.SignalAndWait(SIGINT);
  ASSERT_TRUE(status.has_value()) << "still running " << kTimeout.count() << " s after SIGINT";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "wait status " << *status;
}

TEST_F(ExampleServer, HomePageLinksEveryAssetByItsTaggedUrl) {
  const Reply reply = Get("/");
  const HttpResponse& res = reply.response;
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(Field(res, http::field::content_type), "text/html; charset=utf-8");
  EXPECT_EQ(Field(res, http::field::cache_control), "no-cache");
  EXPECT_EQ(Field(res, http::field::content_length), std::to_string(res.body().size()));
  EXPECT_TRUE(res.body().starts_with("<!doctype html>"));
  for (const AssetCase& asset : kAssets) {
    const std::string url = TaggedUrlIn(res.body(), asset);
    EXPECT_FALSE(url.empty()) << "no tagged link to " << asset.path << " in:\n" << res.body();
  }
  // The module's import of ./status.js resolves through the import map to a tagged URL, and
  // the stylesheet and the module are preloaded with their integrity.
  EXPECT_TRUE(std::regex_search(
      res.body(),
      std::regex(R"("/static/js/status\.js": "/static/js/status\.[A-Za-z0-9_-]{10}\.js")")))
      << res.body();
  EXPECT_TRUE(std::regex_match(
      Field(res, http::field::link),
      std::regex(R"(</static/css/site\.[A-Za-z0-9_-]{10}\.css>; rel=preload; as=style; )"
                 R"(integrity="sha384-[A-Za-z0-9+/]{64}", )"
                 R"(</static/js/app\.[A-Za-z0-9_-]{10}\.js>; rel=modulepreload; )"
                 R"(integrity="sha384-[A-Za-z0-9+/]{64}")")))
      << Field(res, http::field::link);
  EXPECT_EQ(Get("/?utm_source=test").response.result_int(), 200);
}

TEST_F(ExampleServer, AnythingElseIsNotFound) {
  for (const std::string_view target :
       {"/index.html", "/missing", "//", "/static", "/static/", "/static/css/", "/css/site.css"}) {
    const Reply reply = Get(target);
    EXPECT_EQ(reply.response.result_int(), 404) << target;
    EXPECT_EQ(Field(reply.response, http::field::content_type), "text/plain; charset=utf-8")
        << target;
    EXPECT_EQ(reply.response.body(), "404 Not Found\n") << target;
  }
}

TEST_F(ExampleServer, TaggedUrlServesTheFileForAYear) {
  for (const AssetCase& asset : kAssets) {
    SCOPED_TRACE(asset.path);
    const std::string url = TaggedUrl(asset);
    const Reply reply = Get(url);
    const HttpResponse& res = reply.response;
    const std::string file = ServedBytes(asset.path);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(Field(res, http::field::cache_control), kTaggedCacheControl);
    EXPECT_EQ(Field(res, http::field::content_type), asset.content_type);
    EXPECT_EQ(Field(res, http::field::content_length), std::to_string(file.size()));
    EXPECT_EQ(res.body(), file);
    EXPECT_EQ(reply.trailing, "");
    // A strong entity-tag (RFC 9110 §8.8.3): quoted, no W/.
    static const std::regex kStrongEtag(R"re("[\x21\x23-\x7E]+")re");
    EXPECT_TRUE(std::regex_match(Field(res, http::field::etag), kStrongEtag))
        << Field(res, http::field::etag);
    // Last-Modified is an HTTP-date no later than Date (§8.8.2.1).
    const auto last_modified = kv_assets::ParseHttpDate(Field(res, http::field::last_modified));
    const auto date = kv_assets::ParseHttpDate(Field(res, http::field::date));
    ASSERT_TRUE(last_modified.has_value()) << Field(res, http::field::last_modified);
    ASSERT_TRUE(date.has_value());
    EXPECT_LE(*last_modified, *date);
    EXPECT_EQ(Field(res, "X-Content-Type-Options"), "nosniff");
  }
}

TEST_F(ExampleServer, UntaggedUrlServesTheSameFileForAMinute) {
  for (const AssetCase& asset : kAssets) {
    SCOPED_TRACE(asset.path);
    const HttpResponse tagged = Get(TaggedUrl(asset)).response;
    const Reply reply = Get("/static/" + std::string(asset.path));
    const HttpResponse& res = reply.response;
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(Field(res, http::field::cache_control), kUntaggedCacheControl);
    EXPECT_EQ(Field(res, http::field::content_type), asset.content_type);
    EXPECT_EQ(Field(res, http::field::etag), Field(tagged, http::field::etag));
    EXPECT_EQ(res.body(), ServedBytes(asset.path));
  }
}

// RFC 9110 §13.1.2 (weak comparison) and §15.4.5 (what a 304 carries).
TEST_F(ExampleServer, IfNoneMatchWithTheEtagIsNotModified) {
  const AssetCase& asset = kAssets[0];
  const std::string url = TaggedUrl(asset);
  const HttpResponse full = Get(url).response;
  const std::string etag = Field(full, http::field::etag);
  ASSERT_FALSE(etag.empty());

  struct Case {
    http::verb method;
    std::string target;
    std::string if_none_match;
    std::string_view cache_control;
  };
  const Case cases[] = {
      {http::verb::get, url, etag, kTaggedCacheControl},
      {http::verb::get, url, "W/" + etag, kTaggedCacheControl},
      {http::verb::get, url, "\"nope\", " + etag, kTaggedCacheControl},
      {http::verb::get, url, "*", kTaggedCacheControl},
      {http::verb::head, url, etag, kTaggedCacheControl},
      {http::verb::get, "/static/" + std::string(asset.path), etag, kUntaggedCacheControl},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(http::to_string(c.method)) + " " + c.target +
                 ", If-None-Match: " + c.if_none_match);
    const Reply reply =
        Fetch(port(), c.method, c.target, {{http::field::if_none_match, c.if_none_match}});
    const HttpResponse& res = reply.response;
    EXPECT_EQ(res.result_int(), 304);
    EXPECT_EQ(Field(res, http::field::etag), etag);
    EXPECT_EQ(Field(res, http::field::cache_control), c.cache_control);
    EXPECT_EQ(Field(res, http::field::last_modified), Field(full, http::field::last_modified));
    EXPECT_EQ(res.count(http::field::content_length), 0u);
    EXPECT_EQ(res.count(http::field::content_type), 0u);
    EXPECT_EQ(res.body(), "");
    EXPECT_EQ(reply.trailing, "");
  }
}

// RFC 9110 §5.3: a field sent on several lines is one comma-separated list, whichever line
// holds the match.
TEST_F(ExampleServer, IfNoneMatchOnSeveralLinesIsOneList) {
  const std::string url = TaggedUrl(kAssets[0]);
  const std::string etag = Field(Get(url).response, http::field::etag);
  EXPECT_EQ(Get(url, {{http::field::if_none_match, etag}, {http::field::if_none_match, "\"x\""}})
                .response.result_int(),
            304);
  EXPECT_EQ(Get(url, {{http::field::if_none_match, "\"x\""}, {http::field::if_none_match, etag}})
                .response.result_int(),
            304);
}

TEST_F(ExampleServer, IfNoneMatchWithAnotherTagServesTheFile) {
  const std::string url = TaggedUrl(kAssets[0]);
  const HttpResponse full = Get(url).response;
  // If-None-Match decides alone, even when If-Modified-Since would say 304 (§13.1.3).
  const Reply reply =
      Get(url, {{http::field::if_none_match, "\"other\""},
                {http::field::if_modified_since, Field(full, http::field::last_modified)}});
  EXPECT_EQ(reply.response.result_int(), 200);
  EXPECT_EQ(reply.response.body(), ServedBytes(kAssets[0].path));
}

TEST_F(ExampleServer, IfModifiedSinceLastModifiedIsNotModified) {
  const std::string url = TaggedUrl(kAssets[0]);
  const HttpResponse full = Get(url).response;
  const std::string last_modified = Field(full, http::field::last_modified);
  const std::optional<std::int64_t> lm = kv_assets::ParseHttpDate(last_modified);
  ASSERT_TRUE(lm.has_value()) << last_modified;

  const Reply same = Get(url, {{http::field::if_modified_since, last_modified}});
  EXPECT_EQ(same.response.result_int(), 304);
  EXPECT_EQ(Field(same.response, http::field::etag), Field(full, http::field::etag));
  EXPECT_EQ(same.response.count(http::field::content_length), 0u);
  EXPECT_EQ(same.trailing, "");

  const std::string earlier = kv_assets::FormatHttpDate(*lm - 86400);
  EXPECT_EQ(Get(url, {{http::field::if_modified_since, earlier}}).response.result_int(), 200);
  EXPECT_EQ(Get(url, {{http::field::if_modified_since, "yesterday"}}).response.result_int(), 200);
}

// §13.1.3: an If-Modified-Since with more than one member is ignored; two lines are two members.
TEST_F(ExampleServer, IfModifiedSinceSentTwiceIsIgnored) {
  const std::string url = TaggedUrl(kAssets[0]);
  const std::string last_modified = Field(Get(url).response, http::field::last_modified);
  const Reply reply = Get(url, {{http::field::if_modified_since, last_modified},
                                {http::field::if_modified_since, last_modified}});
  EXPECT_EQ(reply.response.result_int(), 200);
}

TEST_F(ExampleServer, StaleTagIsNotFound) {
  const std::string url = TaggedUrl(kAssets[0]);  // "/static/css/site.<tag>.css"
  const std::size_t tag_start = url.find('.') + 1;
  std::string stale = url;
  stale[tag_start] = stale[tag_start] == 'A' ? 'B' : 'A';  // same shape, another tag
  const Reply reply = Get(stale);
  EXPECT_EQ(reply.response.result_int(), 404) << stale;
  EXPECT_EQ(Field(reply.response, http::field::cache_control), "no-store");
}

// §15.5.6: a 405 names the methods that would work.
TEST_F(ExampleServer, OtherMethodsAreNotAllowed) {
  const std::string url = TaggedUrl(kAssets[0]);
  for (const http::verb method : {http::verb::post, http::verb::put, http::verb::delete_}) {
    for (const std::string& target : {url, std::string("/")}) {
      SCOPED_TRACE(std::string(http::to_string(method)) + " " + target);
      http::request<http::string_body> req = MakeRequest(method, target);
      req.keep_alive(false);
      req.body() = "name=value";
      HttpClient client(port());
      client.Send(std::move(req));
      const Reply reply = ParseReply(client.ReceiveAll(), false);
      EXPECT_EQ(reply.response.result_int(), 405);
      EXPECT_EQ(Field(reply.response, http::field::allow), "GET, HEAD");
      EXPECT_FALSE(Field(reply.response, http::field::date).empty());
    }
  }
}

// §9.3.2: HEAD gets the fields GET would, with GET's Content-Length, and no content.
TEST_F(ExampleServer, HeadHasTheHeadersOfGetAndNoBody) {
  std::vector<std::string> targets = {"/"};
  for (const AssetCase& asset : kAssets) {
    targets.push_back(TaggedUrl(asset));
    targets.push_back("/static/" + std::string(asset.path));
  }
  const auto without_date = [](const HttpResponse& res) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& field : res) {
      if (field.name() != http::field::date) {
        fields.emplace_back(field.name_string(), field.value());
      }
    }
    return fields;
  };
  for (const std::string& target : targets) {
    SCOPED_TRACE(target);
    const Reply get = Get(target);
    const Reply head = Fetch(port(), http::verb::head, target);
    EXPECT_EQ(head.response.result_int(), get.response.result_int());
    EXPECT_EQ(without_date(head.response), without_date(get.response));
    EXPECT_EQ(Field(head.response, http::field::content_length),
              std::to_string(get.response.body().size()));
    EXPECT_EQ(head.trailing, "");  // no body, although Content-Length is not 0
  }
}

// Neither the raw nor the percent-encoded form of ".." reaches outside public/.
TEST_F(ExampleServer, PathTraversalIsRejected) {
  for (const std::string_view target : {
           "/static/../CMakeLists.txt",
           "/static/%2e%2e/CMakeLists.txt",
           "/static/%2E%2E/CMakeLists.txt",
           "/static/.%2e/CMakeLists.txt",
           "/static/css/..%2f..%2fCMakeLists.txt",
           "/static/%2e%2e%2fCMakeLists.txt",
           "/static/..%5cCMakeLists.txt",
           "/static/%252e%252e/CMakeLists.txt",
           "/static/css/../../CMakeLists.txt",
           "/../CMakeLists.txt",
           "/static/../main.cc",
       }) {
    const Reply reply = Get(target);
    const int status = reply.response.result_int();
    EXPECT_TRUE(status == 400 || status == 404) << target << " -> " << status;
    EXPECT_EQ(reply.response.body().find("cmake_minimum_required"), std::string::npos) << target;
    EXPECT_EQ(reply.response.body().find("#include"), std::string::npos) << target;
  }
}

TEST_F(ExampleServer, MalformedRequestIsBadRequestWithoutDetails) {
  HttpClient client(port());
  client.SendRaw("GET /static/css/site.css HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  const Reply reply = ParseReply(client.ReceiveAll(), false);
  EXPECT_EQ(reply.response.result_int(), 400);
  EXPECT_EQ(reply.response.body(), "400 Bad Request\n");
  EXPECT_TRUE(kv_assets::ParseHttpDate(Field(reply.response, http::field::date)).has_value());
}

// The status line is written by the example itself (FormatHead), not by Beast: an HTTP/1.0
// request gets an HTTP/1.0 answer, and without keep-alive the connection ends after it.
TEST_F(ExampleServer, Http10RequestGetsAnHttp10Answer) {
  const AssetCase& asset = kAssets[0];
  HttpClient client(port());
  client.SendRaw("GET /static/" + std::string(asset.path) + " HTTP/1.0\r\n\r\n");
  const std::string raw = client.ReceiveAll();
  EXPECT_TRUE(raw.starts_with("HTTP/1.0 200 OK\r\n")) << raw.substr(0, 40);
  EXPECT_TRUE(raw.ends_with("\r\n\r\n" + ServedBytes(asset.path)));
}

TEST_F(ExampleServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  const AssetCase& asset = kAssets[0];
  const std::string url = TaggedUrl(asset);
  const std::string file = ServedBytes(asset.path);
  HttpClient client(port());

  client.Send(MakeRequest(http::verb::get, url));
  const HttpResponse first = client.Receive();
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), file);
  EXPECT_TRUE(first.keep_alive());

  // A HEAD body or a 304 body would corrupt the responses after it.
  client.Send(MakeRequest(http::verb::head, url));
  EXPECT_EQ(client.Receive(/*head=*/true).result_int(), 200);
  client.Send(MakeRequest(http::verb::get, url,
                          {{http::field::if_none_match, Field(first, http::field::etag)}}));
  EXPECT_EQ(client.Receive().result_int(), 304);
  client.Send(MakeRequest(http::verb::get, "/missing"));
  EXPECT_EQ(client.Receive().result_int(), 404);
  client.Send(MakeRequest(http::verb::get, url));
  const HttpResponse last = client.Receive();
  EXPECT_EQ(last.result_int(), 200);
  EXPECT_EQ(last.body(), file);
}

TEST_F(ExampleServer, ServesAnotherClientWhileOneIsIdle) {
  HttpClient idle(port());  // connected, has sent nothing yet
  EXPECT_EQ(Get("/").response.result_int(), 200);
  idle.Send(MakeRequest(http::verb::get, "/"));
  EXPECT_EQ(idle.Receive().result_int(), 200);
}

}  // namespace
