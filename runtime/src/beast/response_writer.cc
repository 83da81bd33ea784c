// ResponseWriter (kv_assets/beast.h): the head formatted from the Response, then the body by
// one gather write from memory or, for a large embedded body, by sendfile(2).
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <cerrno>
#include <ctime>
#include <span>
#include <utility>

#ifdef __linux__
#include <sys/sendfile.h>
#include <sys/socket.h>
#endif

#include "image_file.h"
#include "kv_assets/beast.h"
#include "kv_assets/http_date.h"

namespace kv_assets::beast {
namespace {

namespace net = boost::asio;
using boost::system::error_code;

// Cleared for good, process-wide, the first time sendfile(2) fails in a way that says it
// cannot work here (a file system or kernel without it).
std::atomic<bool> sendfile_works{true};

// SendLarge() lets the thread's other connections have a turn after this many bytes.
constexpr std::size_t kMaxSendPerTurn = 1024 * 1024;

// Decimal digits of `value`, at the end of `buffer`.
std::string_view Digits(std::uint64_t value, char (&buffer)[20]) {
  char* p = buffer + sizeof buffer;
  do {
    *--p = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  return {p, static_cast<std::size_t>(buffer + sizeof buffer - p)};
}

}  // namespace

ResponseWriter::ResponseWriter(boost::beast::tcp_stream& stream, std::size_t sendfile_min)
    : stream_(stream), sendfile_min_(sendfile_min), wait_timer_(stream.get_executor()) {}

// The status line and header fields, into head_. Beast's serializer would walk a message's
// fields and body pieces as a chain of buffer views several times per write; formatting
// straight from the Response into a reused string is cheaper (bench/README.md).
void ResponseWriter::FormatHead(const Response& response, unsigned version, bool keep_alive) {
  char line[] = "HTTP/1.1 200 ";
  line[5] = static_cast<char>('0' + version / 10 % 10);
  line[7] = static_cast<char>('0' + version % 10);
  line[9] = static_cast<char>('0' + response.status / 100 % 10);
  line[10] = static_cast<char>('0' + response.status / 10 % 10);
  line[11] = static_cast<char>('0' + response.status % 10);
  head_.assign(line, sizeof line - 1);
  head_.append(response.reason).append("\r\n");
  for (const HeaderField& field : response.headers()) {
    head_.append(field.name).append(": ").append(field.value).append("\r\n");
  }
  if (response.has_content_length) {
    char digits[20];
    head_.append("Content-Length: ").append(Digits(response.content_length, digits)).append("\r\n");
  }
  head_.append("Date: ").append(CurrentHttpDate()).append("\r\n");
  // HTTP/1.1 keeps a connection open unless told; HTTP/1.0 closes it unless told.
  if (version >= 11 && !keep_alive) head_.append("Connection: close\r\n");
  if (version < 11 && keep_alive) head_.append("Connection: keep-alive\r\n");
  head_.append("\r\n");
}

void ResponseWriter::AsyncWrite(const Response& response, unsigned version, bool keep_alive,
                                std::function<void(error_code)> done,
                                std::chrono::steady_clock::duration timeout) {
  response_ = &response;
  done_ = std::move(done);
  FormatHead(response, version, keep_alive);
  // One deadline for the whole response, however it is sent.
  deadline_ = std::chrono::steady_clock::now() + timeout;
  stream_.expires_at(deadline_);
#ifdef __linux__
  const std::span<const std::string_view> body = response.body();
  if (sendfile_min_ != 0 && body.size() == 1 && body[0].size() >= sendfile_min_ &&
      sendfile_works.load(std::memory_order_relaxed)) {
    if (const std::optional<off_t> at =
            internal::ImageFile::Get().OffsetOf(body[0].data(), body[0].size())) {
      error_code ec;
      stream_.socket().native_non_blocking(true, ec);
      if (!ec) {
        head_sent_ = 0;
        body_size_ = body[0].size();
        return SendLarge(*at, body_size_);
      }
    }
  }
#endif
  WriteFromMemory(0);
}

// Writes head_ from `head_from` on, then the body pieces where they lie, in one gather write.
void ResponseWriter::WriteFromMemory(std::size_t head_from) {
  buffers_.clear();
  if (head_from < head_.size()) {
    buffers_.emplace_back(head_.data() + head_from, head_.size() - head_from);
  }
  for (const std::string_view piece : response_->body()) {
    if (!piece.empty()) buffers_.emplace_back(piece.data(), piece.size());
  }
  // A span, not the vector: Asio copies the buffer sequence into the operation, and a copied
  // vector would allocate on every response.
  net::async_write(stream_, std::span<const net::const_buffer>(buffers_),
                   [this](error_code ec, std::size_t) { Finish(ec); });
}

void ResponseWriter::Finish(error_code ec) {
  // done_ may start the next write, which sets done_ again.
  std::function<void(error_code)> done = std::move(done_);
  done_ = nullptr;
  done(ec);
}

#ifdef __linux__

// Sends head_ (from head_sent_ on) and then `left` bytes of the executable file from
// `offset`: the body goes from the page cache to the socket without passing through this
// process. While the socket's buffer is full it waits, until the deadline at most.
//
// The head goes out as a segment of its own: holding it back to share the body's first
// segment (MSG_MORE, or TCP_CORK as nginx does) cost more CPU per response on loopback, not
// less (bench/README.md).
void ResponseWriter::SendLarge(long offset, std::size_t left) {
  const int socket = stream_.socket().native_handle();
  std::size_t sent_this_turn = 0;
  for (;;) {
    if (sent_this_turn >= kMaxSendPerTurn) {
      return net::post(stream_.get_executor(), [this, offset, left] { SendLarge(offset, left); });
    }
    ssize_t n = 0;
    if (head_sent_ < head_.size()) {
      n = ::send(socket, head_.data() + head_sent_, head_.size() - head_sent_,
                 MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) head_sent_ += static_cast<std::size_t>(n);
    } else if (left > 0) {
      off_t at = offset;
      n = ::sendfile(socket, internal::ImageFile::Get().fd(), &at, left);
      if (n > 0) {
        offset = at;
        left -= static_cast<std::size_t>(n);
      }
    } else {
      return Finish({});
    }
    if (n > 0) sent_this_turn += static_cast<std::size_t>(n);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && left == body_size_ &&
        (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      // This file system or kernel cannot sendfile from the executable, and nothing of the body
      // has gone yet: send it from memory, and stop trying for every connection.
      sendfile_works.store(false, std::memory_order_relaxed);
      return WriteFromMemory(head_sent_);
    }
    // The peer went away, or the file is shorter than the manifest says.
    return Finish(n < 0 ? error_code(errno, boost::system::system_category())
                        : error_code(boost::asio::error::eof));
  }
  wait_timer_.expires_at(deadline_);
  wait_timer_.async_wait([this](error_code ec) {
    if (!ec) stream_.socket().cancel();  // a client that stopped reading
  });
  stream_.socket().async_wait(net::socket_base::wait_write, [this, offset, left](error_code ec) {
    // 0: the timer had already fired, and its handler, queued behind this one, would cancel
    // whatever this connection does next. Treat it as the timeout it is.
    if (wait_timer_.cancel() == 0) return Finish(boost::beast::error::timeout);
    if (ec) return Finish(ec);
    SendLarge(offset, left);
  });
}

#else

void ResponseWriter::SendLarge(long, std::size_t) { WriteFromMemory(0); }

#endif

}  // namespace kv_assets::beast
