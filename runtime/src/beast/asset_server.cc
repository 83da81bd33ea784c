// AssetServer (kv_assets/beast_server.h). One request, from socket to bytes:
//   Impl::OnAccept()        a client connects; a Connection takes the socket
//   Connection::Read()      Beast parses one request (size limits, idle timeout)
//   Connection::OnRead()    refusals (431, 413, 400), then Route()
//   Connection::Route()     absolute-form to origin-form; the prefix -> Server::Handle(),
//                           anything else -> the fallback
//   ResponseWriter          head and body to the socket (kv_assets/beast.h); then Read()
#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <csignal>
#include <ctime>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kv_assets/beast_server.h"
#include "kv_assets/http_date.h"

namespace kv_assets::beast {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

class Connection;

// Every open connection, so that Stop() can reach the idle ones.
class ConnectionSet {
 public:
  // False once stopping has begun: the caller drops the connection instead.
  bool Add(const std::shared_ptr<Connection>& connection);
  void Remove(const Connection* connection);
  void StopAll();

 private:
  std::mutex mu_;
  bool stopping_ = false;
  std::map<const Connection*, std::weak_ptr<Connection>> open_;
};

// What every connection shares: the server's settings and the set of connections.
struct Shared {
  Shared(const AssetSource& a, Fallback f, AssetServerOptions o)
      : assets(a), fallback(std::move(f)), options(o) {
    if (assets.MayBlock()) {
      blocking = std::make_unique<net::thread_pool>(std::max<std::size_t>(1, o.blocking_threads));
    }
  }
  ~Shared() {
    if (blocking != nullptr) blocking->join();
  }
  // For the constructor taking a Server: the adapter `assets` refers to.
  std::unique_ptr<const EmbeddedSource> embedded;
  const AssetSource& assets;
  Fallback fallback;
  AssetServerOptions options;
  ConnectionSet connections;
  // Runs the answers of a source that may block (AssetServerOptions::blocking_threads).
  std::unique_ptr<net::thread_pool> blocking;
};

// The application's answer, made ready to send as the answer to `req`.
void PrepareFallbackResponse(const HttpRequest& req, HttpResponse& res) {
  res.version(req.version());
  if (res.find(http::field::date) == res.end()) {
    res.set(http::field::date, ToBeastView(CurrentHttpDate()));
  }
  if (res.find(http::field::content_length) == res.end() &&
      res.find(http::field::transfer_encoding) == res.end()) {
    res.prepare_payload();
  }
  // The application may close; it cannot keep open what the client closes.
  res.keep_alive(req.keep_alive() && res.keep_alive());
  // The length stays the GET's (RFC 9110 §9.3.2); the bytes do not go.
  if (req.method() == http::verb::head) res.body().clear();
}

// The sendfile threshold for a connection: see AssetServerOptions::sendfile_to_loopback.
std::size_t SendfileMin(const tcp::socket& socket, const AssetServerOptions& options) {
  error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (!ec && peer.address().is_loopback() && !options.sendfile_to_loopback) return 0;
  return options.sendfile_min;
}

// One client connection. Its handlers run on its own strand, one at a time, so its members
// need no lock; it lives as long as a pending operation holds a shared_ptr to it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)),
        shared_(std::move(shared)),
        writer_(stream_, SendfileMin(stream_.socket(), shared_->options)) {}
  ~Connection() { shared_->connections.Remove(this); }

  void Start() {
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
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    stream_.expires_after(shared_->options.idle_timeout);
    reading_ = true;
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, auto) {
      self->reading_ = false;
      self->OnRead(ec);
    });
  }

  void OnRead(error_code ec) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Close();
    HttpRequest& req = parser_->get();
    // RFC 9112 §6.3: when chunked is not the final transfer coding of a request, its length
    // cannot be known, and the server MUST answer 400 and close. Beast reads such a request as
    // having no body, so what a proxy took for its body would be read as the next request.
    const bool unframed =
        !ec && req.count(http::field::transfer_encoding) > 0 && !parser_->chunked();
    if (ec == http::error::header_limit) return Refuse(req, 431);
    // A body larger than anything here accepts: say so, then hang up rather than read it.
    if (ec == http::error::body_limit) return Refuse(req, 413);
    if (unframed || ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return Refuse(req, 400);  // not HTTP we accept
    }
    if (ec) return Close();  // timeout, reset, stop
    Route(req);
  }

  // Answers with `status` and closes: what follows in the stream cannot be trusted.
  void Refuse(const HttpRequest& req, int status) {
    response_ = ErrorResponse(status, ToStdView(req.method_string()));
    WriteAsset(req.version(), /*keep_alive=*/false);
  }

  void Route(HttpRequest& req) {
    const std::optional<TargetParts> parts = ParseTarget(ToStdView(req.target()));
    // "OPTIONS *" is the server's to answer: the asset server's 405 says what it allows.
    if (!parts.has_value() && req.target() != "*") {
      response_ = ErrorResponse(400, ToStdView(req.method_string()));
      return WriteAsset(req.version(), req.keep_alive());
    }
    if (parts.has_value() && !parts->authority.empty()) {
      // RFC 9112 §3.2.2: the target's authority replaces Host; the routes see origin-form.
      req.set(http::field::host, ToBeastView(parts->authority));
      req.target(OriginForm(*parts));
    }
    const std::string_view target = ToStdView(req.target());
    if (shared_->assets.HandlesTarget(target) || target == "*") return AnswerAsset(req);
    if (!shared_->fallback) {
      response_ = ErrorResponse(404, ToStdView(req.method_string()));
      return WriteAsset(req.version(), req.keep_alive());
    }
    try {
      fallback_response_ = shared_->fallback(req);
    } catch (const std::exception&) {
      response_ = ErrorResponse(500, ToStdView(req.method_string()));
      return WriteAsset(req.version(), /*keep_alive=*/false);
    }
    PrepareFallbackResponse(req, fallback_response_);
    WriteFallback();
  }

  void AnswerAsset(const HttpRequest& req) {
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    if (shared_->blocking == nullptr) {
      JoinedFields joined;  // outlives the Request, as ToRequest() requires
      return SendAnswer(shared_->assets.Answer(ToRequest(req, joined)), version, keep_alive);
    }
    // Here when the source can answer without waiting (no body, or a body in memory); else on
    // a thread that may wait. The Request views `req` and joined_, both left alone until the
    // answer is written. The work guard keeps io.run() going until it is posted back.
    const Request request = ToRequest(req, joined_);
    if (std::optional<SourcedResponse> now = shared_->assets.AnswerWithoutWaiting(request)) {
      return SendAnswer(*std::move(now), version, keep_alive);
    }
    net::post(*shared_->blocking, [self = shared_from_this(), request, version, keep_alive,
                                   work = net::make_work_guard(stream_.get_executor())]() mutable {
      SourcedResponse answer = self->shared_->assets.Answer(request);
      // `self` moves along: the last reference to a connection must not end on this pool's
      // thread, since it may own the pool.
      auto executor = self->stream_.get_executor();
      net::post(executor, [self = std::move(self), answer = std::move(answer), version,
                           keep_alive]() mutable {
        self->SendAnswer(std::move(answer), version, keep_alive);
      });
    });
  }

  void SendAnswer(SourcedResponse answer, unsigned version, bool keep_alive) {
    response_ = answer.response;
    owner_ = std::move(answer.owner);
    WriteAsset(version, keep_alive);
  }

  void WriteAsset(unsigned version, bool keep_alive) {
    writer_.AsyncWrite(
        response_, version, keep_alive,
        [self = shared_from_this(), keep_alive](error_code ec) {
          self->AfterWrite(ec, !keep_alive);
        },
        shared_->options.idle_timeout);
  }

  void WriteFallback() {
    stream_.expires_after(shared_->options.idle_timeout);
    http::async_write(stream_, fallback_response_,
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        self->AfterWrite(ec, self->fallback_response_.need_eof());
                      });
  }

  void AfterWrite(error_code ec, bool close) {
    owner_.reset();
    if (ec || close) return Close();
    Read();
  }

  void Close() {
    // Half-close, so the client reads everything sent before it sees the end.
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  boost::beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  ResponseWriter writer_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  std::shared_ptr<const void> owner_;  // keeps what response_ points into alive, if anything
  JoinedFields joined_;                // a blocking answer's request fields, until it is written
  HttpResponse fallback_response_;
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

// How long to wait before accepting again when the process is out of descriptors.
constexpr std::chrono::milliseconds kAcceptBackoff{50};

bool IsOutOfResources(error_code ec) {
  return ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
         ec == net::error::no_memory || ec == error_code(ENFILE, boost::system::system_category());
}

}  // namespace

// Accepts connections until Stop(). Accepting and stopping share one strand.
class AssetServer::Impl : public std::enable_shared_from_this<AssetServer::Impl> {
 public:
  Impl(net::io_context& io, const tcp::endpoint& endpoint, std::shared_ptr<Shared> shared)
      : io_(io),
        acceptor_(net::make_strand(io)),
        retry_(acceptor_.get_executor()),
        shared_(std::move(shared)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
    local_ = acceptor_.local_endpoint();
  }

  const tcp::endpoint& local_endpoint() const { return local_; }

  void Accept() {
    // Each connection gets its own strand, so its handlers never run concurrently.
    acceptor_.async_accept(net::make_strand(io_),
                           [self = shared_from_this()](error_code ec, tcp::socket socket) {
                             self->OnAccept(ec, std::move(socket));
                           });
  }

  void Stop() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
      self->shared_->connections.StopAll();
    });
  }

 private:
  void OnAccept(error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // stopped
    if (!ec) {
      // Nagle's algorithm would hold back the last, partial segment of a body sent after its
      // head until the client acknowledged the segment before, which clients delay (40 ms on
      // Linux). Every response here is written whole, so nothing gains by waiting.
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket), shared_);
      if (shared_->connections.Add(connection)) connection->Start();
    } else if (IsOutOfResources(ec)) {
      // The connection stays queued, and accepting again at once would fail at once, spinning
      // a core. Wait for connections to close.
      retry_.expires_after(kAcceptBackoff);
      return retry_.async_wait([self = shared_from_this()](error_code error) {
        if (!error && self->acceptor_.is_open()) self->Accept();
      });
    }
    Accept();
  }

  net::io_context& io_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  std::shared_ptr<Shared> shared_;
  tcp::endpoint local_;
};

namespace {

std::shared_ptr<AssetServer::Impl> Listen(net::io_context& io, tcp::endpoint endpoint,
                                          std::shared_ptr<Shared> shared) {
  // sendfile(2) has no MSG_NOSIGNAL: a client hanging up mid-response would otherwise kill the
  // process. A handler the program installed stays.
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    std::signal(SIGPIPE, SIG_IGN);
  }
  auto impl = std::make_shared<AssetServer::Impl>(io, endpoint, std::move(shared));
  impl->Accept();
  return impl;
}

}  // namespace

AssetServer::AssetServer(net::io_context& io, tcp::endpoint endpoint, const Server& assets,
                         Fallback fallback, AssetServerOptions options) {
  auto embedded = std::make_unique<const EmbeddedSource>(assets);
  auto shared = std::make_shared<Shared>(*embedded, std::move(fallback), options);
  shared->embedded = std::move(embedded);
  impl_ = Listen(io, endpoint, std::move(shared));
}

AssetServer::AssetServer(net::io_context& io, tcp::endpoint endpoint, const AssetSource& assets,
                         Fallback fallback, AssetServerOptions options)
    : impl_(Listen(io, endpoint, std::make_shared<Shared>(assets, std::move(fallback), options))) {}

AssetServer::~AssetServer() { Stop(); }

tcp::endpoint AssetServer::local_endpoint() const { return impl_->local_endpoint(); }

void AssetServer::Stop() { impl_->Stop(); }

}  // namespace kv_assets::beast
