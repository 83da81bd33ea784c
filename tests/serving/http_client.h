// An HTTP/1.1 client for tests: talk to a server on 127.0.0.1 with Beast or in raw bytes, and
// parse what comes back byte for byte; or ask kv_assets::Server directly and see the answer
// the same way (Exchange). Used by the serving components' tests (tests/serving), the store
// tests and the example's (examples/beast_server). Every wait is bounded (kTimeout).
//
// Defined in http_client.cc and compiled once (kv_assets_http_test_client): when each test
// file instantiated Beast's client operations itself, they were most of its compile time.
//
// Example:
//   Reply reply = Fetch(port, http::verb::get, "/static/css/site.css",
//                       {{http::field::accept_encoding, "br"}});
//   Exchange e = SendOverHttp(port, "GET", "/static/css/site.css", {{"Accept-Encoding", "br"}});
//   EXPECT_EQ(e.Get("Content-Encoding"), "br");

#ifndef KV_ASSETS_TESTS_SERVING_HTTP_CLIENT_H_
#define KV_ASSETS_TESTS_SERVING_HTTP_CLIENT_H_

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kv_assets/beast.h"
#include "kv_assets/http_date.h"
#include "kv_assets/server.h"

namespace kv_assets_test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using HttpResponse = http::response<http::string_body>;
using Fields = std::initializer_list<std::pair<http::field, std::string_view>>;

constexpr std::chrono::seconds kTimeout(10);

#ifdef KV_ASSETS_PUBLIC_DIR  // defined by each test target, not by the client library
// The bytes of public/<path> (KV_ASSETS_PUBLIC_DIR, the folder the test embeds), to compare
// with what is served.
inline std::string ReadPublicFile(std::string_view path) {
  std::ifstream in(std::string(KV_ASSETS_PUBLIC_DIR) + "/" + std::string(path), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read public/" << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
#endif

inline std::string Field(const HttpResponse& res, http::field name) {
  return std::string(res[name]);
}
inline std::string Field(const HttpResponse& res, std::string_view name) {
  return std::string(res[beast::string_view(name.data(), name.size())]);
}

// Feeds the start of `raw` to `parser`, body included (eager), until it holds one whole
// response, wants more bytes than there are (`ec` is http::error::need_more), or fails;
// returns how many bytes it took.
std::size_t PutResponse(http::response_parser<http::string_body>& parser, std::string_view raw,
                        beast::error_code& ec);

// One client connection. Each operation runs the client's own io_context until it completes
// or kTimeout passes; failures are reported as test failures, never as a hang.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);

  void Send(http::request<http::string_body> req);

  // From here on, a server that closes the connection while the client still writes, or that
  // resets it after answering, is no failure: it rejected the request before reading it all
  // (a header over its limit, say). What it sent before is still read.
  void AllowEarlyClose() { allow_early_close_ = true; }

  void SendRaw(std::string_view bytes);

  // Reads one response. `head`: it answers a HEAD request, so it has no body whatever its
  // Content-Length says.
  HttpResponse Receive(bool head = false);

  // Reads one response and returns its bytes as sent (or, if the server closes first, what it
  // sent); `head` as for Receive. What follows it stays for the next read.
  std::string ReceiveRaw(bool head = false);

  // Reads until the server closes the connection; returns every byte it sent.
  std::string ReceiveAll();

  // Hangs up at once, with a reset rather than an orderly close if `reset`, whatever the
  // server is still sending.
  void HangUp(bool reset);

 private:
  template <class Initiate>
  beast::error_code Run(Initiate initiate, std::size_t* bytes = nullptr);
  void Check(std::string_view what, beast::error_code ec) const;

  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  bool allow_early_close_ = false;
};

http::request<http::string_body> MakeRequest(http::verb method, std::string_view target,
                                             Fields fields = {});

// What one request on its own connection got back.
struct Reply {
  HttpResponse response;
  // Bytes the server sent after the end of the response: always a bug (a body on a 304 or on
  // HEAD, a Content-Length that lies).
  std::string trailing;
};

// Parses `raw` as one response; `head` as for HttpClient::Receive.
Reply ParseReply(std::string_view raw, bool head);

// Splits what a server sent on one connection into its responses; `head` as for
// HttpClient::Receive, for every one of them.
std::vector<Reply> ParseAll(std::string_view raw, bool head);

// Sends one request with "Connection: close" and reads until the server closes, so that
// anything after the response is seen. Every response must carry a valid Date.
Reply Fetch(std::uint16_t port, http::verb method, std::string_view target, Fields fields = {});

// ---------------------------------------------------------------------------------------------
// One request and its answer, through kv_assets::Server or over HTTP, seen the same way.

// `s` in ASCII lower case: field names compare that way (RFC 9110 §5.1).
std::string Lower(std::string_view s);

// Request fields by name, in order; a name may repeat.
using RequestFields = std::vector<std::pair<std::string, std::string>>;

// What a test sees of one exchange, whichever way it went.
struct Exchange {
  int status = 0;
  std::multimap<std::string, std::string> fields;  // names lower-cased
  std::string body;
  std::string trailing;  // bytes after the response (HTTP only): always a bug

  bool Has(std::string_view name) const { return fields.count(Lower(name)) > 0; }
  // The first value of field `name`, or "".
  std::string Get(std::string_view name) const {
    const auto it = fields.find(Lower(name));
    return it == fields.end() ? "" : it->second;
  }
};

// kv_assets::Server::Handle, with fields joined as an adapter must (RFC 9110 §5.3). The
// answer has a content-length field whenever the Response sets one.
Exchange HandleThroughApi(const kv_assets::Server& server, std::string_view method,
                          std::string_view target, const RequestFields& fields);

// `reply` as a test sees it (names lower-cased, as from HandleThroughApi).
Exchange ToExchange(const Reply& reply);

// One request as Beast writes it, with "Connection: close", on a connection of its own; a
// method Beast does not know is sent as spelled.
Exchange SendOverHttp(std::uint16_t port, std::string_view method, std::string_view target,
                      const RequestFields& fields);

// A request as bytes, exactly as given: nothing on the client side cleans it up. `close`
// adds "Connection: close".
std::string RawRequest(const std::string& method, const std::string& target,
                       const RequestFields& fields, bool close = true);

// Sends `raw` on a fresh connection and reads until the server closes it. The server may
// close before it has read everything: it answers a request it rejects, then hangs up.
std::string SendRaw(std::uint16_t port, std::string_view raw);

}  // namespace kv_assets_test

#endif  // KV_ASSETS_TESTS_SERVING_HTTP_CLIENT_H_
