// The test client of http_client.h.
#include "http_client.h"

namespace kv_assets_test {

std::size_t PutResponse(http::response_parser<http::string_body>& parser, std::string_view raw,
                        beast::error_code& ec) {
  parser.eager(true);
  std::size_t used = 0;
  while (!ec && !parser.is_done()) {
    const std::size_t n = parser.put(net::buffer(raw.data() + used, raw.size() - used), ec);
    used += n;
    if (n == 0) break;
  }
  return used;
}

HttpClient::HttpClient(std::uint16_t port) {
  const tcp::endpoint server(net::ip::address_v4::loopback(), port);
  Check("connect", Run([&](auto handler) { stream_.async_connect(server, handler); }));
}

void HttpClient::Send(http::request<http::string_body> req) {
  req.prepare_payload();
  Check("write", Run([&](auto handler) { http::async_write(stream_, req, handler); }));
}

void HttpClient::SendRaw(std::string_view bytes) {
  Check("write", Run([&](auto handler) {
          net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), handler);
        }));
}

HttpResponse HttpClient::Receive(bool head) {
  http::response_parser<http::string_body> parser;
  parser.skip(head);
  Check("read", Run([&](auto handler) { http::async_read(stream_, buffer_, parser, handler); }));
  return parser.release();
}

std::string HttpClient::ReceiveRaw(bool head) {
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

std::string HttpClient::ReceiveAll() {
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

void HttpClient::HangUp(bool reset) {
  beast::error_code ignored;
  if (reset) stream_.socket().set_option(net::socket_base::linger(true, 0), ignored);
  stream_.socket().close(ignored);
}

template <class Initiate>
beast::error_code HttpClient::Run(Initiate initiate, std::size_t* bytes) {
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

void HttpClient::Check(std::string_view what, beast::error_code ec) const {
  if (allow_early_close_ && (ec == net::error::broken_pipe || ec == net::error::connection_reset)) {
    return;
  }
  EXPECT_FALSE(ec) << what << ": " << ec.message();
}

http::request<http::string_body> MakeRequest(http::verb method, std::string_view target,
                                             Fields fields) {
  http::request<http::string_body> req(method, std::string(target), 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : fields) req.insert(name, kv_assets::beast::ToBeastView(value));
  return req;
}

Reply ParseReply(std::string_view raw, bool head) {
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

std::vector<Reply> ParseAll(std::string_view raw, bool head) {
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

Reply Fetch(std::uint16_t port, http::verb method, std::string_view target, Fields fields) {
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

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Exchange HandleThroughApi(const kv_assets::Server& server, std::string_view method,
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

Exchange ToExchange(const Reply& reply) {
  Exchange out;
  out.status = reply.response.result_int();
  for (const auto& f : reply.response) {
    out.fields.emplace(Lower(std::string(f.name_string())), std::string(f.value()));
  }
  out.body = reply.response.body();
  out.trailing = reply.trailing;
  return out;
}

Exchange SendOverHttp(std::uint16_t port, std::string_view method, std::string_view target,
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

std::string RawRequest(const std::string& method, const std::string& target,
                       const RequestFields& fields, bool close) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : fields) raw += name + ": " + value + "\r\n";
  if (close) raw += "Connection: close\r\n";
  return raw + "\r\n";
}

std::string SendRaw(std::uint16_t port, std::string_view raw) {
  HttpClient client(port);
  client.AllowEarlyClose();
  client.SendRaw(raw);
  return client.ReceiveAll();
}

}  // namespace kv_assets_test
