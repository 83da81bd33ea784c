// kv_assets/beast_server.h — a ready HTTP/1.1 server on Boost.Beast that serves a
// kv_assets::Server's assets and hands every other request to a function of yours: for
// programs that have no HTTP server of their own (firmware, desktop UIs, small services).
//
// Part of the KvAssets::beast component: find_package(KvAssets REQUIRED COMPONENTS beast).
//
// Example:
//
//   #include "app_assets.h"
//   #include "kv_assets/beast_server.h"
//
//   namespace http = boost::beast::http;
//   const kv_assets::Server assets(app_assets::kManifest);
//
//   int main() {
//     boost::asio::io_context io;
//     kv_assets::beast::AssetServer server(
//         io, {boost::asio::ip::make_address("127.0.0.1"), 8080}, assets,
//         [](const http::request<http::string_body>& req) {
//           http::response<http::string_body> res(http::status::ok, req.version());
//           res.set(http::field::content_type, "text/html; charset=utf-8");
//           res.body() = "<link rel=stylesheet href=\"" +
//                        std::string(app_assets::Tag("css/site.css")) + "\">";
//           return res;  // Content-Length, Date and keep-alive are filled in
//         });
//     boost::asio::signal_set signals(io, SIGINT, SIGTERM);
//     signals.async_wait([&](auto, int) { server.Stop(); });
//     io.run();  // returns once stopped and every connection has closed
//   }
//
// What it does for you:
//  - Routing: a target under the manifest's prefix goes to `assets` (every method: 405 with
//    Allow for all but GET and HEAD); any other goes to `fallback` (nullptr: 404).
//  - Request targets (RFC 9112 §3.2): absolute-form ("GET http://host/path") is accepted for
//    every route, and `fallback` sees it in origin-form with Host set to its authority; a
//    byte the grammar does not allow (a raw backslash, space, ...) is a 400, for every route.
//  - Limits: more than max_header_bytes of request line and fields is a 431, a body over
//    max_body_bytes a 413, a Transfer-Encoding that does not end in chunked a 400 (RFC 9112
//    §6.3); each then closes the connection. Error texts are fixed: details stay in the server.
//  - Deadlines: a keep-alive connection idle for idle_timeout is closed, and so is a client
//    that has not taken a whole response within idle_timeout of its start.
//  - Writing: asset responses through kv_assets::beast::ResponseWriter (no copy of embedded
//    bytes; sendfile(2) for large ones where faster); TCP_NODELAY on every connection.
//  - SIGPIPE: ignored from construction on if its disposition was the default (sendfile(2)
//    cannot suppress it per call); a handler of your own is left alone.
//  - Out of file descriptors: it waits 50 ms before accepting again rather than spinning.
//
// Threads: it runs on the caller's io_context, each connection on a strand of its own, so any
// number of threads may call io.run(). `fallback` may be called on any of them at once.

#ifndef KV_ASSETS_BEAST_SERVER_H_
#define KV_ASSETS_BEAST_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "kv_assets/beast.h"
#include "kv_assets/server.h"
#include "kv_assets/source.h"

namespace kv_assets::beast {

// The application's answer to a request that is not for an asset. Date, Content-Length (when
// neither it nor Transfer-Encoding is set), the request's HTTP version and keep-alive are
// filled in; a HEAD request's answer is sent without its body. An exception it throws becomes
// a 500 (the message goes to no client).
using Fallback = std::function<boost::beast::http::response<boost::beast::http::string_body>(
    const boost::beast::http::request<boost::beast::http::string_body>&)>;

struct AssetServerOptions {
  // Request line and header fields together; more is a 431 and the connection closes.
  std::size_t max_header_bytes = 8 * 1024;
  // A request body (the fallback sees it); more is a 413 and the connection closes.
  std::uint64_t max_body_bytes = 64 * 1024;
  // How long a keep-alive connection may wait for its next request, and how long a client
  // may take to receive one response.
  std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);
  // Embedded bodies at least this large go by sendfile(2) where that is faster (see
  // ResponseWriter); 0: never.
  std::size_t sendfile_min = kDefaultSendfileMin;
  // Whether sendfile(2) is used for clients on the loopback interface too. Off by default:
  // over loopback the receiving process copies the bytes, and page-cache pages cost it more
  // than a buffer the server copied does, so sendfile lowers throughput there
  // (bench/README.md has the figures). Over a network interface the copy sendfile saves is
  // the server's own.
  bool sendfile_to_loopback = false;
  // Threads that run the answers of a source that may block (AssetSource::MayBlock(): a
  // StoreSource reading its store), so that the io_context's threads never wait for a store.
  // Made only for such a source; each answer is posted back to its connection to be written.
  std::size_t blocking_threads = 4;
};

class AssetServer {
 public:
  // Listens on `endpoint` (port 0: a free one, see local_endpoint()) and starts accepting on
  // `io`. `assets` must outlive the server's connections. Throws boost::system::system_error
  // when it cannot listen (address in use, not an address of this machine).
  AssetServer(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint,
              const kv_assets::Server& assets, Fallback fallback, AssetServerOptions options = {});
  // The same for another source of answers (kv_assets/source.h), such as KvAssets::live's
  // LiveServer: each answer's owner is kept until the answer has been written.
  AssetServer(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint,
              const kv_assets::AssetSource& assets, Fallback fallback,
              AssetServerOptions options = {});
  // Stops, as Stop() does. The io_context may still run the last handlers afterwards: they
  // keep what they need alive.
  ~AssetServer();
  AssetServer(const AssetServer&) = delete;
  AssetServer& operator=(const AssetServer&) = delete;

  // Where it listens.
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Callable from any thread, more than once: stops accepting, lets responses in flight
  // finish, and closes idle connections. io.run() then returns once nothing else is queued.
  void Stop();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace kv_assets::beast

#endif  // KV_ASSETS_BEAST_SERVER_H_
