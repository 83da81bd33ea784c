// kv-assets-example: a small HTTP/1.1 server on Boost.Beast that serves a home page and the
// files embedded from public/ by kv_assets_embed().
//
// One request, from socket to bytes:
//   Listener::OnAccept()   a client connects; a Connection takes the socket
//   Connection::Read()     Beast parses one request (size limits, idle timeout)
//   Route()                "/" -> the home page; /static/... -> the kv_assets::Server;
//                          anything else -> 404
//   Connection::Write()    adds Date; FormatHead() writes the status line and fields into a
//                          reused buffer, sent with the body pieces in one gather write,
//                          asset bytes straight from the program image (see kv_assets/beast.h);
//                          a body of 64 KiB or more goes by SendLarge() (sendfile(2),
//                          image_file.h); then Read() again (keep-alive)
//
// SIGINT/SIGTERM: stop accepting, let responses in flight finish, close idle connections, exit 0.
//
//   kv-assets-example [--address=127.0.0.1] [--port=8080]   (--port=0 picks a free port)
//                     [--threads=N] [--sendfile-min=BYTES]

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <exception>
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sys/sendfile.h>
#include <sys/socket.h>
#endif

#include "example_assets.h"
#include "image_file.h"
#include "kv_assets/beast.h"
#include "kv_assets/http_date.h"
#include "kv_assets/server.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using HttpRequest = http::request<http::string_body>;
using kv_assets::BeastResponse;

// A keep-alive connection that sends nothing for this long is closed; so is a slow reader.
constexpr std::chrono::seconds kIdleTimeout(30);
// Nothing here takes a request body, so there is no reason to buffer a large one.
constexpr std::uint64_t kMaxRequestBody = 64 * 1024;

// Bodies of at least this many bytes go by sendfile(2) (image_file.h); 0: never. Set once by
// main() before any connection exists. Small bodies gain little: their copy is cheap next to
// the rest of a request (11 us of CPU in all for a 2 KB one, bench/e2e.sh), and sendfile sends
// the head as a segment of its own.
std::size_t sendfile_min = 64 * 1024;
// Cleared, for good, the first time sendfile(2) fails in a way that says it cannot work here.
std::atomic<bool> sendfile_works{true};
// SendLarge() yields the thread to other connections after sending this much in one go.
constexpr std::size_t kMaxSendPerTurn = 1024 * 1024;

// Checked at compile time: renaming or deleting one of these files breaks the build, not the
// page. The URLs carry a content tag, so browsers may cache them for a year.
constexpr std::string_view kStylesheet = example_assets::Tag("css/site.css");
constexpr std::string_view kScript = example_assets::Tag("js/app.js");
constexpr std::string_view kLogo = example_assets::Tag("img/logo.svg");
constexpr std::string_view kFavicon = example_assets::Tag("favicon.ico");

// One instance answers /static/ on every thread: it holds only immutable data.
const kv_assets::Server kAssets(example_assets::kManifest);

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The home page: the compile-time checked links above, and a list of every embedded file
// with the URL the manifest gives it.
std::string BuildHomePage() {
  std::string html;
  for (std::string_view piece : std::initializer_list<std::string_view>{
           "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>KvAssets example</title>\n<link rel=\"icon\" href=\"",
           kFavicon, "\">\n<link rel=\"stylesheet\" href=\"", kStylesheet, "\">\n<script src=\"",
           kScript, "\" defer></script>\n</head>\n<body>\n<main>\n<header><img src=\"", kLogo,
           "\" alt=\"\"><h1>KvAssets example</h1></header>\n"
           "<p>These files are compiled into the server. Each has a tagged URL, cached for a "
           "year, and an untagged one, revalidated after a minute:</p>\n"
           "<ul class=\"assets\">\n"}) {
    html.append(piece);
  }
  for (const kv_assets::Asset& asset : example_assets::kManifest.assets) {
    const std::string url = HtmlEscape(asset.url());
    html += "<li><code>" + HtmlEscape(asset.path()) + "</code> &rarr; <a href=\"" + url +
            "\"><code>" + url + "</code></a></li>\n";
  }
  html += "</ul>\n<p id=\"status\" class=\"muted\"></p>\n</main>\n</body>\n</html>\n";
  return html;
}

// Built once, on first use: the manifest cannot change while the program runs. Never freed,
// so responses may point into it until the very end.
const std::string& HomePage() {
  static const std::string* const page = new std::string(BuildHomePage());
  return *page;
}

// The Date field (RFC 9110 §6.6.1), which every response carries. Each thread formats it at
// most once a second instead of once a request.
std::string_view CurrentHttpDate() {
  thread_local std::time_t formatted_at = -1;
  thread_local std::string formatted;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_at) {
    formatted = kv_assets::FormatHttpDate(now);
    formatted_at = now;
  }
  return formatted;
}

// A response whose body lives in static storage, like every body this program sends.
BeastResponse MakeResponse(const HttpRequest& req, http::status status,
                           std::string_view content_type, std::string_view cache_control,
                           std::string_view body) {
  BeastResponse res;
  res.version(req.version());
  res.result(status);
  res.set(http::field::content_type, kv_assets::ToBeastView(content_type));
  res.set(http::field::cache_control, kv_assets::ToBeastView(cache_control));
  res.content_length(body.size());
  if (req.method() != http::verb::head) res.body().AddBodyPiece(body);
  res.keep_alive(req.keep_alive());
  return res;
}

// Error bodies are fixed strings: whatever went wrong stays in the server's log.
BeastResponse ErrorResponse(const HttpRequest& req, http::status status, std::string_view body) {
  return MakeResponse(req, status, "text/plain; charset=utf-8", "no-store", body);
}

BeastResponse Route(const HttpRequest& req) {
  const std::string_view target = kv_assets::ToStdView(req.target());
  // Targets that are not a plain path ("*", "http://host/...") go to the asset server too,
  // which answers them as RFC 9112 says (absolute-form) or with 400.
  if (kAssets.Owns(target) || !target.starts_with('/')) {
    kv_assets::JoinedFields joined;  // outlives `request`, as FromBeastRequest requires
    const kv_assets::Request request = kv_assets::FromBeastRequest(req, joined);
    return kv_assets::ToBeastResponse(kAssets.Handle(request), req);
  }
  if (target == "/" || target.starts_with("/?")) {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      BeastResponse res =
          ErrorResponse(req, http::status::method_not_allowed, "405 Method Not Allowed\n");
      res.set(http::field::allow, "GET, HEAD");
      return res;
    }
    // no-cache: the page names the current asset URLs, so it must be fetched after a deploy.
    return MakeResponse(req, http::status::ok, "text/html; charset=utf-8", "no-cache", HomePage());
  }
  return ErrorResponse(req, http::status::not_found, "404 Not Found\n");
}

class Connection;

// Every open connection, so that shutdown can reach the idle ones.
class ConnectionSet {
 public:
  // Returns false once shutdown has begun: the caller drops the connection instead.
  bool Add(const std::shared_ptr<Connection>& connection);
  void Remove(const Connection* connection);
  // Asks every connection to finish its current response and close.
  void StopAll();

 private:
  std::mutex mu_;
  bool stopping_ = false;
  std::map<const Connection*, std::weak_ptr<Connection>> open_;
};

// One client connection. Its handlers run on its own strand, one at a time, so its members
// need no lock; it lives as long as a pending operation holds a shared_ptr to it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ConnectionSet& all) : stream_(std::move(socket)), all_(all) {}
  ~Connection() { all_.Remove(this); }

  void Start() {
    // SendLarge() calls sendfile(2), which must not block the thread.
    beast::error_code ec;
    stream_.socket().native_non_blocking(true, ec);
    sendfile_ok_ = !ec;
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Callable from any thread.
  void Stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      // A read may wait for a request that never comes; a write in flight is left to finish.
      if (self->reading_) self->stream_.cancel();
    });
  }

 private:
  void Read() {
    if (stopping_) return Close();
    parser_.emplace();  // a fresh parser per request, as Beast requires
    parser_->body_limit(kMaxRequestBody);
    stream_.expires_after(kIdleTimeout);
    reading_ = true;
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->reading_ = false;
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Close();
    const HttpRequest& req = parser_->get();
    if (ec == http::error::header_limit) {
      // More than 8 KiB of request line and fields (Beast's limit): say so once, hang up.
      BeastResponse res = ErrorResponse(req, http::status::request_header_fields_too_large,
                                        "431 Request Header Fields Too Large\n");
      res.keep_alive(false);
      return Write(std::move(res));
    }
    if (ec == http::error::body_limit) {
      // A body larger than anything here accepts (RFC 9110 §15.5.14): say so, then hang up
      // rather than read the rest of it.
      BeastResponse res =
          ErrorResponse(req, http::status::payload_too_large, "413 Content Too Large\n");
      res.reason("Content Too Large");  // RFC 9110's name; Beast still has the older one
      res.keep_alive(false);
      return Write(std::move(res));
    }
    // RFC 9112 §6.3: when chunked is not the final transfer coding of a request, its length
    // cannot be known, and the server MUST answer 400 and close. Beast reads such a request as
    // having no body, so what a proxy took for its body would be read as the next request.
    const bool unframed =
        !ec && req.count(http::field::transfer_encoding) > 0 && !parser_->chunked();
    if (unframed || ec.category() == http::make_error_code(http::error::bad_target).category()) {
      // Not HTTP we accept (bad syntax, too large): say so once, then hang up.
      BeastResponse res = ErrorResponse(req, http::status::bad_request, "400 Bad Request\n");
      res.keep_alive(false);
      return Write(std::move(res));
    }
    if (ec) return Close();  // timeout, reset, shutdown

    BeastResponse res;
    try {
      res = Route(req);
    } catch (const std::exception& e) {
      std::cerr << "kv-assets example: internal error: " << e.what() << std::endl;
      res = ErrorResponse(req, http::status::internal_server_error, "500 Internal Server Error\n");
      res.keep_alive(false);
    }
    Write(std::move(res));
  }

  void Write(BeastResponse res) {
    response_ = std::move(res);  // must stay alive until the write completes
    response_.set(http::field::date, kv_assets::ToBeastView(CurrentHttpDate()));
    FormatHead();
    // One deadline for the whole response, however it is sent: a client that reads a few
    // bytes now and then cannot hold a connection (or a shutdown) open for ever.
    deadline_ = std::chrono::steady_clock::now() + kIdleTimeout;
    stream_.expires_at(deadline_);
#ifdef __linux__
    const std::span<const std::string_view> body = response_.body().body();
    if (sendfile_ok_ && sendfile_min != 0 && body.size() == 1 && body[0].size() >= sendfile_min &&
        sendfile_works.load(std::memory_order_relaxed)) {
      if (const std::optional<off_t> at =
              ImageFile::Get().OffsetOf(body[0].data(), body[0].size())) {
        head_sent_ = 0;
        return SendLarge(*at, body[0].size());
      }
    }
#endif
    WriteFromMemory(0);
  }

  // Writes head_ from `head_from` on, then the body pieces where they lie, in one gather write.
  void WriteFromMemory(std::size_t head_from) {
    buffers_.clear();
    if (head_from < head_.size()) {
      buffers_.emplace_back(head_.data() + head_from, head_.size() - head_from);
    }
    for (const std::string_view piece : response_.body().body()) {
      if (!piece.empty()) buffers_.emplace_back(piece.data(), piece.size());
    }
    // A span, not the vector: Asio copies the buffer sequence into the operation, and a copied
    // vector would allocate on every response.
    net::async_write(
        stream_, std::span<const net::const_buffer>(buffers_),
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->AfterWrite(ec); });
  }

  // The status line and header fields of response_, into head_. Beast's serializer would do
  // the same, but it walks the fields and body pieces as a chain of buffer views several
  // times per write; on a 2 KB asset that walk was a sixth of the server's CPU time
  // (bench/e2e.sh, perf). head_ keeps its capacity, so a keep-alive connection stops
  // allocating here after its first response.
  void FormatHead() {
    const unsigned version = response_.version();
    const unsigned status = response_.result_int();
    const std::string_view reason = kv_assets::ToStdView(response_.reason());
    char line[] = "HTTP/1.1 200 ";
    line[5] = static_cast<char>('0' + version / 10);
    line[7] = static_cast<char>('0' + version % 10);
    line[9] = static_cast<char>('0' + status / 100 % 10);
    line[10] = static_cast<char>('0' + status / 10 % 10);
    line[11] = static_cast<char>('0' + status % 10);
    head_.assign(line, sizeof line - 1);
    head_.append(reason).append("\r\n");
    for (const auto& field : response_) {
      head_.append(kv_assets::ToStdView(field.name_string())).append(": ");
      head_.append(kv_assets::ToStdView(field.value())).append("\r\n");
    }
    head_.append("\r\n");
  }

  void AfterWrite(beast::error_code ec) {
    if (ec || response_.need_eof()) return Close();
    Read();
  }

#ifdef __linux__
  // Sends head_ (from head_sent_ on) and then `left` bytes of the executable file from
  // `offset`: the large body goes from the page cache to the socket without being copied
  // through this process, as nginx sends files. While the socket's buffer is full it waits,
  // until the response's deadline at most; after kMaxSendPerTurn bytes it lets the thread's
  // other connections have a turn.
  //
  // The head goes out as a segment of its own. Holding it back to share the body's first
  // segment (MSG_MORE, or TCP_CORK as nginx does) cost more CPU per 200 KB response on
  // loopback, not less: 53 and 64 us against 40 us (bench/e2e.sh's server, perf, 2026-11-25).
  void SendLarge(off_t offset, std::size_t left) {
    const int socket = stream_.socket().native_handle();
    const std::size_t body_size = response_.body().body()[0].size();
    std::size_t sent_this_turn = 0;
    for (;;) {
      ssize_t n = 0;
      if (sent_this_turn >= kMaxSendPerTurn) {
        net::post(stream_.get_executor(),
                  [self = shared_from_this(), offset, left] { self->SendLarge(offset, left); });
        return;
      }
      if (head_sent_ < head_.size()) {
        n = ::send(socket, head_.data() + head_sent_, head_.size() - head_sent_,
                   MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) head_sent_ += static_cast<std::size_t>(n);
      } else if (left > 0) {
        n = ::sendfile(socket, ImageFile::Get().fd(), &offset, left);
        if (n > 0) left -= static_cast<std::size_t>(n);
      } else {
        return AfterWrite({});
      }
      if (n > 0) sent_this_turn += static_cast<std::size_t>(n);
      if (n > 0 || (n < 0 && errno == EINTR)) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && left == body_size &&
          (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        // This file system or kernel cannot sendfile from the executable; nothing of the body
        // has gone yet, so send it from memory, and stop trying for every connection.
        sendfile_works.store(false, std::memory_order_relaxed);
        std::cerr << "kv-assets example: sendfile(2) failed (" << std::strerror(errno)
                  << "); large bodies are copied from memory from now on" << std::endl;
        return WriteFromMemory(head_sent_);
      }
      return Close();  // the peer went away, or the file is shorter than the manifest says
    }
    wait_timer_.expires_at(deadline_);
    wait_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->stream_.socket().cancel();  // a client that stopped reading
    });
    stream_.socket().async_wait(tcp::socket::wait_write,
                                [self = shared_from_this(), offset, left](beast::error_code ec) {
                                  // 0: the timer had already fired, and its handler, queued behind
                                  // this one, would cancel whatever this connection does next.
                                  // Treat it as the timeout it is.
                                  const bool timed_out = self->wait_timer_.cancel() == 0;
                                  if (ec || timed_out) return self->Close();
                                  self->SendLarge(offset, left);
                                });
  }
#endif

  void Close() {
    // Half-close, so the client reads everything sent before it sees the end.
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  ConnectionSet& all_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  BeastResponse response_;
  std::string head_;                                // FormatHead()
  std::vector<net::const_buffer> buffers_;          // head_ and the body pieces, for one write
  std::size_t head_sent_ = 0;                       // SendLarge()
  std::chrono::steady_clock::time_point deadline_;  // of the response being written
  bool sendfile_ok_ = true;  // false if the socket could not be made non-blocking
  net::steady_timer wait_timer_{stream_.get_executor()};
  bool reading_ = false;
  bool stopping_ = false;
};

bool ConnectionSet::Add(const std::shared_ptr<Connection>& connection) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  open_.emplace(connection.get(), connection);
  return true;
}

void ConnectionSet::Remove(const Connection* connection) {
  const std::lock_guard<std::mutex> lock(mu_);
  open_.erase(connection);
}

void ConnectionSet::StopAll() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (const auto& [ptr, weak] : open_) {
      if (std::shared_ptr<Connection> connection = weak.lock()) open.push_back(connection);
    }
  }
  // Outside the lock: dropping the last reference runs ~Connection, which takes it.
  for (const std::shared_ptr<Connection>& connection : open) connection->Stop();
}

// Accepts connections until Stop(). Accepting and stopping share one strand.
class Listener {
 public:
  Listener(net::io_context& ioc, tcp::acceptor acceptor, ConnectionSet& connections)
      : ioc_(ioc),
        acceptor_(std::move(acceptor)),
        retry_(acceptor_.get_executor()),
        connections_(connections) {}

  void Accept() {
    // Each connection gets its own strand, so its handlers never run concurrently.
    acceptor_.async_accept(
        net::make_strand(ioc_),
        [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
  }

  // Callable from any thread.
  void Stop() {
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      retry_.cancel();
      connections_.StopAll();
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // stopped
    if (!ec) {
      // Nagle's algorithm would hold back the last, partial segment of a body that
      // SendLarge() sends after the head, until the client acknowledged the segment before;
      // clients delay that acknowledgement (40 ms on Linux): 4x fewer requests/s on a 200 KB
      // file (bench/e2e.sh). Every response here is written whole, so nothing gains by waiting.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket), connections_);
      if (connections_.Add(connection)) connection->Start();
    } else if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
               ec == net::error::no_memory ||
               ec == beast::error_code(ENFILE, beast::system_category())) {
      // Out of file descriptors or memory: the connection stays queued, and accepting again
      // at once would fail at once, spinning a core. Wait for connections to close.
      retry_.expires_after(kAcceptBackoff);
      retry_.async_wait([this](beast::error_code error) {
        if (!error && acceptor_.is_open()) Accept();
      });
      return;
    }
    Accept();
  }

  // How long to wait before accepting again when the process is out of descriptors.
  static constexpr std::chrono::milliseconds kAcceptBackoff{50};

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  ConnectionSet& connections_;
};

struct Flags {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  // 0: one per core, at most 4. bench/e2e.sh sets 1 to compare with one nginx worker.
  unsigned threads = 0;
  std::size_t sendfile_min = 64 * 1024;
};

constexpr std::string_view kUsage =
    "usage: kv-assets-example [--address=127.0.0.1] [--port=8080] [--threads=N]\n"
    "  --port=0 picks a free port; the line printed on stdout names it.\n"
    "  --threads=N serves on N threads (default: one per core, at most 4).\n"
    "  --sendfile-min=BYTES sends bodies at least this large with sendfile(2) (default 65536;\n"
    "    0: never).\n";

// Accepts "--name=value" and "--name value". Returns nullopt after printing what is wrong.
std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value_of = [&](std::string_view name) -> std::optional<std::string_view> {
      if (!arg.starts_with(name)) return std::nullopt;
      const std::string_view rest = arg.substr(name.size());
      if (rest.starts_with('=')) return rest.substr(1);
      if (rest.empty() && i + 1 < argc) return argv[++i];
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (const auto address = value_of("--address")) {
      flags.address = std::string(*address);
    } else if (const auto port = value_of("--port")) {
      unsigned value = 0;
      const auto [end, err] = std::from_chars(port->data(), port->data() + port->size(), value);
      if (err != std::errc() || end != port->data() + port->size() || value > 65535) {
        std::cerr << "kv-assets example: error: --port=" << *port << ": not a port number\n";
        return std::nullopt;
      }
      flags.port = static_cast<std::uint16_t>(value);
    } else if (const auto threads = value_of("--threads")) {
      unsigned value = 0;
      const auto [end, err] =
          std::from_chars(threads->data(), threads->data() + threads->size(), value);
      if (err != std::errc() || end != threads->data() + threads->size() || value == 0 ||
          value > 256) {
        std::cerr << "kv-assets example: error: --threads=" << *threads
                  << ": not a thread count from 1 to 256\n";
        return std::nullopt;
      }
      flags.threads = value;
    } else if (const auto bytes = value_of("--sendfile-min")) {
      std::size_t value = 0;
      const auto [end, err] = std::from_chars(bytes->data(), bytes->data() + bytes->size(), value);
      if (err != std::errc() || end != bytes->data() + bytes->size()) {
        std::cerr << "kv-assets example: error: --sendfile-min=" << *bytes
                  << ": not a number of bytes\n";
        return std::nullopt;
      }
      flags.sendfile_min = value;
    } else {
      std::cerr << "kv-assets example: error: unknown flag or missing value: " << arg << "\n"
                << kUsage;
      return std::nullopt;
    }
  }
  return flags;
}

std::string UrlFor(const tcp::endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  return "http://" + (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" +
         std::to_string(endpoint.port()) + "/";
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Flags> flags = ParseFlags(argc, argv);
  if (!flags.has_value()) return 2;

  sendfile_min = flags->sendfile_min;
  // sendfile(2) has no MSG_NOSIGNAL: writing to a connection the client has just closed would
  // otherwise kill the whole server with SIGPIPE instead of failing that one write with EPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  // Opened now, not on the first large response: a server short of descriptors then would
  // turn sendfile off for good without a word, and an I/O thread would wait on the disk.
  if (sendfile_min != 0 && ImageFile::Get().fd() < 0) {
    std::cerr << "kv-assets example: cannot send from the executable file; large bodies are "
                 "copied from memory\n";
  }

  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(flags->address, ec);
  if (ec) {
    std::cerr << "kv-assets example: error: --address=" << flags->address
              << ": not an IP address\n";
    return 2;
  }

  // Declared before the io_context, so it outlives every handler that could still refer to it.
  ConnectionSet connections;
  net::io_context ioc;

  const tcp::endpoint endpoint(address, flags->port);
  tcp::acceptor acceptor(net::make_strand(ioc));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "kv-assets example: error: " << endpoint << ": " << ec.message() << "\n";
    return 1;
  }
  const tcp::endpoint local = acceptor.local_endpoint();

  Listener listener(ioc, std::move(acceptor), connections);
  listener.Accept();

  // Registered before the URL is printed: whoever reads it may signal right away.
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&listener](beast::error_code error, int) {
    if (!error) listener.Stop();
  });

  std::cout << "kv-assets example: serving on " << UrlFor(local) << std::endl;

  // run() returns once the listener, the signal wait and every connection are done.
  const unsigned thread_count = flags->threads != 0
                                    ? flags->threads
                                    : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < thread_count; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (std::thread& thread : threads) thread.join();
  return 0;
}
