// An HTTP/1.1 client for tests: talk to a server on 127.0.0.1 with Beast or in raw bytes, and
// parse what comes back byte for byte; or ask kv_assets::Server directly and see the answer
// the same way (Exchange). Used by the serving components' tests (tests/serving) and by the
// example's (examples/beast_server). Every wait is bounded (kTimeout).
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

// The bytes of public/<path> (KV_ASSETS_PUBLIC_DIR, the folder the test embeds), to compare
// with what is served.
inline std::string ReadPublicFile(std::string_view path) {
  std::ifstream in(std::string(KV_ASSETS_PUBLIC_DIR) + "/" + std::string(path), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read public/" << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::string Field(const HttpResponse& res, http::field name) {
  return std::string(res[name]);
}
inline std::string Field(const HttpResponse& res, std::string_view name) {
  return std::string(res[beast::string_view(name.data(), name.size())]);
}

// Feeds the start of `raw` to `parser`, body included (eager), until it holds one whole
// response, wants more bytes than there are (`ec` is http::error::need_more), or fails;
// returns how many bytes it took.
inline std::size_t PutResponse(http::response_parser<http::string_body>& parser,
                               std::string_view raw, beast::error_code& ec) {
  parser.eager(true);
  std::size_t used = 0;
  while (!ec && !parser.is_done()) {
    const std::size_t n = parser.put(net::buffer(raw.data() + used, raw.size() - used), ec);
    used += n;
    if (n == 0) break;
  }
  return used;
}

// One client connection. Each operation runs the client's own io_context until it completes
// or kTimeout passes; failures are reported as test failures, never as a hang.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port) {
    const tcp::endpoint server(net::ip::address_v4::loopback(), port);
    Check("connect", Run([&](auto handler) { stream_.async_connect(server, handler); }));
  }

  void Send(http::request<http::string_body> req) {
    req.prepare_payload();
    Check("write", Run([&](auto handler) { http::async_write(stream_, req, handler); }));
  }

  // From here on, a server that closes the connection while the client still writes, or that
  // resets it after answering, is no failure: it rejected the request before reading it all
  // (a header over its limit, say). What it sent before is still read.
  void AllowEarlyClose() { allow_early_close_ = true; }

  void SendRaw(std::string_view bytes) {
    Check("write", Run([&](auto handler) {
            net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), handler);
          }));
  }

  // Reads one response. `head`: it answers a HEAD request, so it has no body whatever its
  // Content-Length says.
  HttpResponse Receive(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    Check("read", Run([&](auto handler) { http::async_read(stream_, buffer_, parser, handler); }));
    return parser.release();
  }

  // Reads one response and returns its bytes as sent (or, if the server closes first, what it
  // sent); `head` as for Receive. What follows it stays for the next read.
  std::string ReceiveRaw(bool head = false) {
    std::string raw = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    for (;;) {
      http::response_parser<http::string_body> parser;
      parser.skip(head);
      beast::error_code ec;
      const std::size_t used = PutResponse(parser, raw, ec);
      if (!ec && parser.is_done()) {
        const std::string rest = raw.substr(used);
        buffer_.commit(net::buffer_copy(buffer_.prepare(rest.size()), net::buffer(rest)));
        return raw.substr(0, used);
      }
      if (ec && ec != http::error::need_more) return raw;
      char chunk[4096];
      std::size_t n = 0;
      const beast::error_code read_ec =
          Run([&](auto handler) { stream_.async_read_some(net::buffer(chunk), handler); }, &n);
      raw.append(chunk, n);
      if (read_ec) return raw;
    }
  }

  // Reads until the server closes the connection; returns every byte it sent.
  std::string ReceiveAll() {
    std::string raw = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    for (;;) {
      char chunk[4096];
      std::size_t n = 0;
      const beast::error_code ec =
          Run([&](auto handler) { stream_.async_read_some(net::buffer(chunk), handler); }, &n);
      raw.append(chunk, n);
      if (ec == net::error::eof) return raw;
      if (ec) {
        Check("read to end", ec);
        return raw;
      }
    }
  }

  // Hangs up at once, with a reset rather than an orderly close if `reset`, whatever the
  // server is still sending.
  void HangUp(bool reset) {
    beast::error_code ignored;
    if (reset) stream_.socket().set_option(net::socket_base::linger(true, 0), ignored);
    stream_.socket().close(ignored);
  }

 private:
  template <class Initiate>
  beast::error_code Run(Initiate initiate, std::size_t* bytes = nullptr) {
    std::optional<beast::error_code> result;
    stream_.expires_after(kTimeout);
    initiate([&result, bytes](beast::error_code ec, std::size_t n = 0) {
      result = ec;
      if (bytes != nullptr) *bytes = n;
    });
    ioc_.restart();
    ioc_.run_for(kTimeout + std::chrono::seconds(1));
    return result.value_or(net::error::timed_out);
  }

  void Check(std::string_view what, beast::error_code ec) const {
    if (allow_early_close_ &&
        (ec == net::error::broken_pipe || ec == net::error::connection_reset)) {
      return;
    }
    EXPECT_FALSE(ec) << what << ": " << ec.message();
  }

  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  bool allow_early_close_ = false;
};

inline http::request<http::string_body> MakeRequest(http::verb method, std::string_view target,
                                                    Fields fields = {}) {
  http::request<http::string_body> req(method, std::string(target), 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : fields) req.insert(name, kv_assets::beast::ToBeastView(value));
  return req;
}

// What one request on its own connection got back.
struct Reply {
  HttpResponse response;
  // Bytes the server sent after the end of the response: always a bug (a body on a 304 or on
  // HEAD, a Content-Length that lies).
  std::string trailing;
};

// Parses `raw` as one response; `head` as for HttpClient::Receive.
inline Reply ParseReply(std::string_view raw, bool head) {
  http::response_parser<http::string_body> parser;
  parser.skip(head);
  beast::error_code ec;
  const std::size_t used = PutResponse(parser, raw, ec);
  if (ec == http::error::need_more) {
    ec = {};
    parser.put_eof(ec);  // a body that ends with the connection
  }
  EXPECT_FALSE(ec) << "unparsable response: " << ec.message() << "\n" << raw;
  EXPECT_TRUE(parser.is_done()) << "incomplete response:\n" << raw;
  return Reply{parser.release(), std::string(raw.substr(used))};
}

// Splits what a server sent on one connection into its responses; `head` as for
// HttpClient::Receive, for every one of them.
inline std::vector<Reply> ParseAll(std::string_view raw, bool head) {
  std::vector<Reply> out;
  while (!raw.empty() && out.size() < 100000) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    beast::error_code ec;
    const std::size_t used = PutResponse(parser, raw, ec);
    if (ec || !parser.is_done()) {
      ADD_FAILURE() << "unparsable response: " << ec.message() << "\n" << raw.substr(0, 500);
      break;
    }
    out.push_back(Reply{parser.release(), ""});
    raw.remove_prefix(used);
  }
  return out;
}

// Sends one request with "Connection: close" and reads until the server closes, so that
// anything after the response is seen. Every response must carry a valid Date.
inline Reply Fetch(std::uint16_t port, http::verb method, std::string_view target,
                   Fields fields = {}) {
  http::request<http::string_body> req = MakeRequest(method, target, fields);
  req.keep_alive(false);
  HttpClient client(port);
  client.Send(std::move(req));
  Reply reply = ParseReply(client.ReceiveAll(), method == http::verb::head);
  EXPECT_TRUE(kv_assets::ParseHttpDate(Field(reply.response, http::field::date)).has_value())
      << http::to_string(method) << " " << target << ": Date is \""
      << Field(reply.response, http::field::date) << "\"";
  return reply;
}

// ---------------------------------------------------------------------------------------------
// One request and its answer, through kv_assets::Server or over HTTP, seen the same way.

// `s` in ASCII lower case: field names compare that way (RFC 9110 §5.1).
inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

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
inline Exchange HandleThroughApi(const kv_assets::Server& server, std::string_view method,
                                 std::string_view target, const RequestFields& fields) {
  std::map<std::string, std::string> joined;
  for (const auto& [name, value] : fields) {
    const auto [it, inserted] = joined.try_emplace(Lower(name), value);
    if (!inserted) it->second += ", " + value;
  }
  kv_assets::Request request;
  request.method = method;
  request.target = target;
  const auto field = [&](const char* name) -> std::optional<std::string_view> {
    const auto it = joined.find(name);
    if (it == joined.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  request.accept_encoding = field("accept-encoding");
  request.if_match = field("if-match");
  request.if_none_match = field("if-none-match");
  request.if_modified_since = field("if-modified-since");
  request.if_unmodified_since = field("if-unmodified-since");
  request.range = field("range");
  request.if_range = field("if-range");
  const kv_assets::Response response = server.Handle(request);
  Exchange out;
  out.status = response.status;
  for (const kv_assets::HeaderField& f : response.headers()) {
    out.fields.emplace(Lower(f.name), std::string(f.value));
  }
  if (response.has_content_length) {
    out.fields.emplace("content-length", std::to_string(response.content_length));
  }
  out.body = response.BodyString();
  return out;
}

// `reply` as a test sees it (names lower-cased, as from HandleThroughApi).
inline Exchange ToExchange(const Reply& reply) {
  Exchange out;
  out.status = reply.response.result_int();
  for (const auto& f : reply.response) {
    out.fields.emplace(Lower(std::string(f.name_string())), std::string(f.value()));
  }
  out.body = reply.response.body();
  out.trailing = reply.trailing;
  return out;
}

// One request as Beast writes it, with "Connection: close", on a connection of its own; a
// method Beast does not know is sent as spelled.
inline Exchange SendOverHttp(std::uint16_t port, std::string_view method, std::string_view target,
                             const RequestFields& fields) {
  http::request<http::string_body> req(
      http::string_to_verb(beast::string_view(method.data(), method.size())), std::string(target),
      11);
  if (req.method() == http::verb::unknown) req.method_string(std::string(method));
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : fields) req.insert(name, value);
  req.keep_alive(false);
  HttpClient client(port);
  client.Send(std::move(req));
  return ToExchange(ParseReply(client.ReceiveAll(), method == "HEAD"));
}

// A request as bytes, exactly as given: nothing on the client side cleans it up. `close`
// adds "Connection: close".
inline std::string RawRequest(const std::string& method, const std::string& target,
                              const RequestFields& fields, bool close = true) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : fields) raw += name + ": " + value + "\r\n";
  if (close) raw += "Connection: close\r\n";
  return raw + "\r\n";
}

// Sends `raw` on a fresh connection and reads until the server closes it. The server may
// close before it has read everything: it answers a request it rejects, then hangs up.
inline std::string SendRaw(std::uint16_t port, std::string_view raw) {
  HttpClient client(port);
  client.AllowEarlyClose();
  client.SendRaw(raw);
  return client.ReceiveAll();
}

}  // namespace kv_assets_test

#endif  // KV_ASSETS_TESTS_SERVING_HTTP_CLIENT_H_
