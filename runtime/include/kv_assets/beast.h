// kv_assets/beast.h — serves a kv_assets::Server from a Boost.Beast HTTP server.
//
// Header-only and deliberately not part of the KvAssets::runtime library: only programs that
// already use Boost.Beast include it, and they bring Boost (1.74 or later) themselves. It
// copies the request fields the server reads out of a Beast request, and turns the server's
// answer into a Beast response whose body is the server's Response itself: its pieces are
// views of the embedded bytes, so an asset goes from the program image to the socket without
// being copied into a string first.
//
// Example:
//
//   #include "app_assets.h"
//   #include "kv_assets/beast.h"
//
//   namespace http = boost::beast::http;
//   const kv_assets::Server assets(app_assets::kManifest);
//
//   // In a connection's read handler, `req` being an http::request<http::string_body>:
//   if (assets.Owns(kv_assets::ToStdView(req.target()))) {
//     kv_assets::JoinedFields joined;  // must outlive `request`
//     const kv_assets::Request request = kv_assets::FromBeastRequest(req, joined);
//     kv_assets::BeastResponse res = kv_assets::ToBeastResponse(assets.Handle(request), req);
//     res.set(http::field::date, date);  // the server leaves Date to the application
//     http::write(stream, res);          // an async_write needs `res` alive until it completes
//   }

#ifndef KV_ASSETS_BEAST_H_
#define KV_ASSETS_BEAST_H_

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "kv_assets/server.h"

namespace kv_assets {

// A Beast body type whose value is a kv_assets::Response; it writes Response::body()'s pieces
// in order (one for a whole body, several for multipart/byteranges) straight from where they
// lie, without copying them.
struct ResponseBody {
  using value_type = Response;

  static std::uint64_t size(const value_type& response) {
    std::uint64_t n = 0;
    for (std::string_view piece : response.body()) n += piece.size();
    return n;
  }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& response)
        : pieces_(response.body()) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      while (next_ < pieces_.size() && pieces_[next_].empty()) ++next_;
      if (next_ == pieces_.size()) return boost::none;
      const std::string_view piece = pieces_[next_++];
      return std::make_pair(const_buffers_type(piece.data(), piece.size()), next_ < pieces_.size());
    }

   private:
    std::span<const std::string_view> pieces_;
    std::size_t next_ = 0;
  };
};

// The response type ToBeastResponse() returns. It owns a copy of the server's Response (a
// few hundred bytes of views and formatted field values), never the asset bytes.
using BeastResponse = boost::beast::http::response<ResponseBody>;

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

// Beast's string_view is Boost's unless BOOST_BEAST_USE_STD_STRING_VIEW is defined, and the
// two do not convert implicitly; the server's API takes std::string_view either way.
inline std::string_view ToStdView(boost::beast::string_view s) { return {s.data(), s.size()}; }
inline boost::beast::string_view ToBeastView(std::string_view s) { return {s.data(), s.size()}; }

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
Request FromBeastRequest(const boost::beast::http::request<Body, Fields>& req,
                         JoinedFields& joined) {
  namespace http = boost::beast::http;
  Request out;
  out.method = ToStdView(req.method_string());
  out.target = ToStdView(req.target());
  using internal::JoinedFieldValue;
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

// A Beast response carrying `response` as an answer to `req`: same HTTP version, keep-alive
// as the request asked, every header field of `response`, and a copy of `response` as the
// body (so `response` itself need not outlive the result; the manifest must). Content-Length
// is the server's: the GET length on HEAD, absent on 304. Beast supplies the reason phrase.
// Throws only what Beast's field allocation throws.
template <class Body, class Fields>
BeastResponse ToBeastResponse(const Response& response,
                              const boost::beast::http::request<Body, Fields>& req) {
  BeastResponse out;
  out.version(req.version());
  out.result(static_cast<unsigned>(response.status));
  for (const HeaderField& field : response.headers()) {
    out.insert(ToBeastView(field.name), ToBeastView(field.value));
  }
  // Set from the server's number, not from the body: a HEAD body is empty, yet its
  // Content-Length must be the GET length (RFC 9110 §9.3.2).
  if (response.has_content_length) out.content_length(response.content_length);
  out.body() = response;
  out.keep_alive(req.keep_alive());
  return out;
}

}  // namespace kv_assets

#endif  // KV_ASSETS_BEAST_H_
