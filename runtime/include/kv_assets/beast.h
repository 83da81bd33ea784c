// kv_assets/beast.h — the pieces for serving a kv_assets::Server from a Boost.Beast server of
// your own: a Beast request to a kv_assets::Request, and a writer that sends a
// kv_assets::Response the fast way. Programs without an HTTP server of their own use
// kv_assets/beast_server.h, which is built from these.
//
// Part of the KvAssets::beast component (find_package(KvAssets COMPONENTS beast)), which
// links Boost (1.74 or later); the KvAssets::runtime library itself needs no Boost.
//
// The writer formats the status line and fields straight from the Response into a buffer it
// reuses (no Beast message in between), adds Date (formatted once a second per thread) and
// Connection, and sends the head and the body pieces in one gather write: an embedded body
// goes from the program image to the socket without a copy. A large embedded body goes by
// sendfile(2) from the program's own file where that is faster (Linux; see ResponseWriter).
//
// Example, in a connection class that owns a boost::beast::tcp_stream `stream_`, a
// ResponseWriter `writer_{stream_}` and a kv_assets::Response `response_`:
//
//   #include "kv_assets/beast.h"
//
//   void OnRead(const http::request<http::string_body>& req) {
//     kv_assets::beast::JoinedFields joined;  // must outlive `request`
//     const kv_assets::Request request = kv_assets::beast::ToRequest(req, joined);
//     response_ = assets_.Handle(request);    // must outlive the write
//     writer_.AsyncWrite(response_, req.version(), req.keep_alive(),
//                        [self = shared_from_this()](boost::system::error_code ec) {
//                          if (!ec) self->Read();
//                        });
//   }

#ifndef KV_ASSETS_BEAST_H_
#define KV_ASSETS_BEAST_H_

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kv_assets/server.h"

namespace kv_assets::beast {

// Beast's string_view is Boost's unless BOOST_BEAST_USE_STD_STRING_VIEW is defined, and the
// two do not convert implicitly; the server's API takes std::string_view either way.
inline std::string_view ToStdView(boost::beast::string_view s) { return {s.data(), s.size()}; }
inline boost::beast::string_view ToBeastView(std::string_view s) { return {s.data(), s.size()}; }

// Storage for request fields that a client sent on several lines and that therefore had to be
// joined into one value. Stays empty, allocating nothing, for the usual single-line fields.
// A Request filled from it is valid only as long as this object is.
struct JoinedFields {
  std::string accept_encoding;
  std::string if_match;
  std::string if_none_match;
  std::string if_modified_since;
  std::string if_unmodified_since;
  std::string range;
  std::string if_range;
};

namespace internal {

// The value of `name` as one field value. RFC 9110 §5.3 lets a sender split a list-valued field
// over several lines, and a recipient must read them as one comma-separated list; joining them
// also lets the server see that a singleton like If-Modified-Since came twice (and ignore it,
// §13.1.3). Only that rare case touches `storage`.
template <class Fields>
std::optional<std::string_view> JoinedFieldValue(const Fields& fields,
                                                 boost::beast::http::field name,
                                                 std::string& storage) {
  const auto [first, last] = fields.equal_range(name);
  if (first == last) return std::nullopt;
  if (std::next(first) == last) return ToStdView(first->value());
  storage.clear();
  for (auto it = first; it != last; ++it) {
    if (it != first) storage += ", ";
    storage.append(it->value().data(), it->value().size());
  }
  return std::string_view(storage);
}

}  // namespace internal

// The kv_assets::Request for `req`: views into `req`, or into `joined` for a field sent on
// several lines. Both must outlive the returned Request. Any body type will do, as the
// body is not read. Never fails; allocates only to join repeated fields.
template <class Body, class Fields>
Request ToRequest(const boost::beast::http::request<Body, Fields>& req, JoinedFields& joined) {
  namespace http = boost::beast::http;
  using internal::JoinedFieldValue;
  Request out;
  out.method = ToStdView(req.method_string());
  out.target = ToStdView(req.target());
  out.accept_encoding = JoinedFieldValue(req, http::field::accept_encoding, joined.accept_encoding);
  out.if_match = JoinedFieldValue(req, http::field::if_match, joined.if_match);
  out.if_none_match = JoinedFieldValue(req, http::field::if_none_match, joined.if_none_match);
  out.if_modified_since =
      JoinedFieldValue(req, http::field::if_modified_since, joined.if_modified_since);
  out.if_unmodified_since =
      JoinedFieldValue(req, http::field::if_unmodified_since, joined.if_unmodified_since);
  out.range = JoinedFieldValue(req, http::field::range, joined.range);
  out.if_range = JoinedFieldValue(req, http::field::if_range, joined.if_range);
  return out;
}

// Bodies this large or larger go by sendfile(2) when they can, by default. Small bodies
// gain nothing: sendfile sends the head as a segment of its own, and a copy of a few KB is
// cheap next to the rest of a request.
inline constexpr std::size_t kDefaultSendfileMin = 64 * 1024;

// Writes kv_assets::Responses to one connection, one at a time. Keeps its buffers between
// responses, so a keep-alive connection stops allocating here after its first response.
//
// sendfile: a body of at least `sendfile_min` bytes (0: never) that lies in the program's
// read-only image is sent from the executable file with sendfile(2) on Linux, as nginx sends
// files: the server copies nothing. Anywhere else, or when sendfile(2) fails before the first
// body byte, it writes from memory. The process must ignore SIGPIPE (sendfile has no
// MSG_NOSIGNAL); AssetServer does so. AssetServer turns sendfile off for clients on the
// loopback interface (see AssetServerOptions::sendfile_to_loopback).
class ResponseWriter {
 public:
  // `stream` must outlive the writer; its executor runs the completion handlers.
  explicit ResponseWriter(boost::beast::tcp_stream& stream,
                          std::size_t sendfile_min = kDefaultSendfileMin);

  // Sends `response` as the answer to a request of HTTP version `version` (11 or 10), with
  // keep-alive as `keep_alive` says, and calls `done` with the outcome: an error, or
  // boost::beast::error::timeout when the client did not take the whole response within
  // `timeout` (so a client reading a byte now and then cannot hold the connection). The
  // Response (and the bytes it points at) must stay alive until `done` runs.
  void AsyncWrite(const Response& response, unsigned version, bool keep_alive,
                  std::function<void(boost::system::error_code)> done,
                  std::chrono::steady_clock::duration timeout = std::chrono::seconds(30));

 private:
  void FormatHead(const Response& response, unsigned version, bool keep_alive);
  void WriteFromMemory(std::size_t head_from);
  void SendLarge(long offset, std::size_t left);
  void Finish(boost::system::error_code ec);

  boost::beast::tcp_stream& stream_;
  std::size_t sendfile_min_;
  const Response* response_ = nullptr;
  std::function<void(boost::system::error_code)> done_;
  std::string head_;
  std::vector<boost::asio::const_buffer> buffers_;  // head_ and the body pieces
  std::size_t head_sent_ = 0;
  std::size_t body_size_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  boost::asio::steady_timer wait_timer_;
};

}  // namespace kv_assets::beast

#endif  // KV_ASSETS_BEAST_H_
