// redis://host[:port][/db] — hiredis, one blocking connection per concurrent caller.
//
// hiredis contexts are not thread-safe, so connections live in a pool: a caller takes one
// (or opens one) and gives it back when done; a connection that failed is dropped, so the
// next caller reconnects. Values read are not copied: the StoreValue keeps hiredis' reply.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/src/stores/clients.h"

namespace kv_assets::internal {
namespace {

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Connection = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// Pipelined writes are sent in groups of about this many bytes, so neither side buffers a
// whole upload.
constexpr std::size_t kPipelineBytes = 8 << 20;
constexpr std::size_t kPipelineCommands = 1000;

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

class RedisStore final : public KeyValueStore {
 public:
  RedisStore(std::string url, std::string host, int port, int db, std::chrono::milliseconds timeout)
      : url_(std::move(url)), host_(std::move(host)), port_(port), db_(db), timeout_(timeout) {}

  const std::string& url() const override { return url_; }

  absl::Status Connect() const {
    absl::StatusOr<Connection> c = Take();
    if (!c.ok()) return c.status();
    GiveBack(*std::move(c));
    return absl::OkStatus();
  }

  absl::StatusOr<StoreValue> Get(std::string_view key) const override {
    // A pooled connection may have been closed by the server since it was last used (a
    // restart, an idle timeout): such a failure is retried once on a new connection.
    for (int attempt = 0;; ++attempt) {
      bool pooled = false;
      absl::StatusOr<Connection> c = Take(&pooled);
      if (!c.ok()) return c.status();
      const char* argv[] = {"GET", key.data()};
      const std::size_t lens[] = {3, key.size()};
      Reply reply(static_cast<redisReply*>(redisCommandArgv(c->get(), 2, argv, lens)));
      if (reply == nullptr) {
        if (pooled && attempt == 0) continue;
        return ConnectionError(**c, key);
      }
      GiveBack(*std::move(c));
      if (reply->type == REDIS_REPLY_NIL) {
        return absl::NotFoundError(absl::StrCat(url_, ": ", ToAbsl(key), ": no such key"));
      }
      if (reply->type != REDIS_REPLY_STRING) return ReplyError(*reply, key);
      const std::string_view bytes(reply->str, reply->len);
      std::shared_ptr<const void> owner(
          reply.release(), [](const void* r) { freeReplyObject(const_cast<void*>(r)); });
      return StoreValue(bytes, std::move(owner));
    }
  }

  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) const override {
    absl::StatusOr<Connection> c = Take();
    if (!c.ok()) return c.status();
    // SCAN may return a key more than once; MATCH takes a glob, so the prefix is escaped.
    std::string pattern;
    for (char ch : prefix) {
      if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') pattern.push_back('\\');
      pattern.push_back(ch);
    }
    pattern.push_back('*');
    std::set<std::string> keys;
    std::string cursor = "0";
    do {
      const char* argv[] = {"SCAN", cursor.c_str(), "MATCH", pattern.c_str(), "COUNT", "1000"};
      const std::size_t lens[] = {4, cursor.size(), 5, pattern.size(), 5, 4};
      Reply reply(static_cast<redisReply*>(redisCommandArgv(c->get(), 6, argv, lens)));
      if (reply == nullptr) return ConnectionError(**c, "SCAN");
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
          reply->element[0]->type != REDIS_REPLY_STRING ||
          reply->element[1]->type != REDIS_REPLY_ARRAY) {
        return ReplyError(*reply, "SCAN");
      }
      cursor.assign(reply->element[0]->str, reply->element[0]->len);
      const redisReply& batch = *reply->element[1];
      for (std::size_t i = 0; i < batch.elements; ++i) {
        keys.emplace(batch.element[i]->str, batch.element[i]->len);
      }
    } while (cursor != "0");
    GiveBack(*std::move(c));
    return std::vector<std::string>(keys.begin(), keys.end());
  }

  absl::Status Put(std::span<const KeyValue> entries) override {
    return Pipeline(
        entries.size(),
        [&](redisContext* c, std::size_t i) {
          const char* argv[] = {"SET", entries[i].key.data(), entries[i].value.data()};
          const std::size_t lens[] = {3, entries[i].key.size(), entries[i].value.size()};
          redisAppendCommandArgv(c, 3, argv, lens);
          return entries[i].key.size() + entries[i].value.size();
        },
        [&](std::size_t i) -> std::string_view { return entries[i].key; });
  }

  absl::Status Delete(std::span<const std::string> keys) override {
    return Pipeline(
        keys.size(),
        [&](redisContext* c, std::size_t i) {
          const char* argv[] = {"DEL", keys[i].data()};
          const std::size_t lens[] = {3, keys[i].size()};
          redisAppendCommandArgv(c, 2, argv, lens);
          return keys[i].size();
        },
        [&](std::size_t i) -> std::string_view { return keys[i]; });
  }

 private:
  // Sends commands in groups, then reads each group's replies: one round trip per group
  // instead of one per key.
  template <typename Append, typename KeyOf>
  absl::Status Pipeline(std::size_t n, Append append, KeyOf key_of) {
    absl::StatusOr<Connection> c = Take();
    if (!c.ok()) return c.status();
    std::size_t next = 0;
    while (next < n) {
      const std::size_t first = next;
      std::size_t bytes = 0;
      while (next < n && next - first < kPipelineCommands && bytes < kPipelineBytes) {
        bytes += append(c->get(), next++);
      }
      for (std::size_t i = first; i < next; ++i) {
        void* raw = nullptr;
        if (redisGetReply(c->get(), &raw) != REDIS_OK) return ConnectionError(**c, key_of(i));
        Reply reply(static_cast<redisReply*>(raw));
        if (reply->type == REDIS_REPLY_ERROR) return ReplyError(*reply, key_of(i));
      }
    }
    GiveBack(*std::move(c));
    return absl::OkStatus();
  }

  absl::StatusOr<Connection> Take(bool* pooled = nullptr) const {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        Connection c = std::move(pool_.back());
        pool_.pop_back();
        if (pooled != nullptr) *pooled = true;
        return c;
      }
    }
    Connection c(redisConnectWithTimeout(host_.c_str(), port_, ToTimeval(timeout_)));
    if (c == nullptr) return absl::ResourceExhaustedError(absl::StrCat(url_, ": out of memory"));
    if (c->err != 0) {
      return absl::UnavailableError(absl::StrCat(url_, ": cannot connect: ", c->errstr));
    }
    redisSetTimeout(c.get(), ToTimeval(timeout_));
    if (db_ != 0) {
      Reply reply(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", db_)));
      if (reply == nullptr) return ConnectionError(*c, "SELECT");
      if (reply->type == REDIS_REPLY_ERROR) return ReplyError(*reply, "SELECT");
    }
    return c;
  }

  void GiveBack(Connection c) const {
    std::lock_guard<std::mutex> lock(mu_);
    pool_.push_back(std::move(c));
  }

  // The connection is dropped (its owner goes out of scope): after an I/O error its state is
  // unknown.
  absl::Status ConnectionError(const redisContext& c, std::string_view what) const {
    const std::string message = absl::StrCat(url_, ": ", ToAbsl(what), ": ", c.errstr);
    if (c.err == REDIS_ERR_IO && (errno == EAGAIN || errno == ETIMEDOUT)) {
      return absl::DeadlineExceededError(message);
    }
    return absl::UnavailableError(message);
  }

  absl::Status ReplyError(const redisReply& reply, std::string_view what) const {
    const std::string text =
        reply.type == REDIS_REPLY_ERROR ? std::string(reply.str, reply.len) : "unexpected reply";
    // Out of memory (maxmemory) or a server that is loading or read-only is a passing state.
    if (text.starts_with("OOM") || text.starts_with("LOADING") || text.starts_with("READONLY") ||
        text.starts_with("BUSY")) {
      return absl::UnavailableError(absl::StrCat(url_, ": ", ToAbsl(what), ": ", text));
    }
    return absl::InternalError(absl::StrCat(url_, ": ", ToAbsl(what), ": ", text));
  }

  std::string url_;
  std::string host_;
  int port_;
  int db_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  mutable std::vector<Connection> pool_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenRedisStore(std::string_view url,
                                                              std::string_view authority,
                                                              const StoreOptions& options) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(url), ": ", ToAbsl(why), " (expected redis://<host>[:<port>][/<db>])"));
  };
  std::string_view rest = authority;
  int db = 0;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db_text = rest.substr(slash + 1);
    if (!db_text.empty() && (!absl::SimpleAtoi(ToAbsl(db_text), &db) || db < 0)) {
      return bad("the database is not a number");
    }
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string_view::npos) return bad("credentials are not supported");
  std::string host(rest);
  int port = 6379;
  if (rest.starts_with('[')) {  // [::1]:6379
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(':') && (!absl::SimpleAtoi(ToAbsl(rest.substr(1)), &port))) {
      return bad("the port is not a number");
    }
  } else if (const std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = std::string(rest.substr(0, colon));
    if (!absl::SimpleAtoi(ToAbsl(rest.substr(colon + 1)), &port))
      return bad("the port is not a number");
  }
  if (host.empty()) return bad("no host");
  if (port <= 0 || port > 65535) return bad("the port is out of range");
  auto store =
      std::make_unique<RedisStore>(std::string(url), std::move(host), port, db, options.timeout);
  if (absl::Status s = store->Connect(); !s.ok()) return s;
  return store;
}

}  // namespace kv_assets::internal
