// redis://host[:port][/db][?replica=host:port] — hiredis, one blocking connection per concurrent
// caller.
//
// hiredis contexts are not thread-safe, so connections live in a pool: a caller takes one
// (or opens one) and gives it back when done; a connection that failed is dropped, so the
// next caller reconnects. A GET's reply is read here, not by hiredis: the value goes from the
// socket straight into the buffer the StoreValue keeps.
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "runtime/src/stores/clients.h"

namespace kv_assets::internal {
namespace {

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

// Credentials for AUTH: from the URL's userinfo, else from the environment. Never printed.
struct Credentials {
  std::string user;      // "" for the default user (AUTH <password>)
  std::string password;  // "" for none: no AUTH
};

// One redis-server: where it is, and a pool of connections to it. `name_` is what messages
// call it (the store's URL, without the password, or a replica's address in it).
class Node {
 public:
  Node(std::string name, std::string host, int port, int db, const Credentials& credentials,
       std::chrono::milliseconds timeout)
      : name_(std::move(name)),
        host_(std::move(host)),
        port_(port),
        db_(db),
        credentials_(credentials),
        timeout_(timeout) {}

  const std::string& name() const { return name_; }

  absl::Status Connect() const {
    absl::StatusOr<Connection> c = Take();
    if (!c.ok()) return c.status();
    GiveBack(*std::move(c));
    return absl::OkStatus();
  }

  absl::StatusOr<StoreValue> Get(std::string_view key) const {
    // A pooled connection may have been closed by the server since it was last used (a
    // restart, an idle timeout): such a failure empties the pool, whose other connections
    // are as old, and is retried once on a new connection.
    for (int attempt = 0;; ++attempt) {
      bool pooled = false;
      absl::StatusOr<Connection> c = Take(&pooled, /*fresh=*/attempt > 0);
      if (!c.ok()) return c.status();
      bool healthy = false;
      absl::StatusOr<std::optional<StoreValue>> got = ReadGet(**c, key, healthy);
      if (!healthy) {  // the connection is dropped: its state is unknown
        if (pooled && attempt == 0) {
          DropPool();
          continue;
        }
        return got.ok() ? absl::InternalError(absl::StrCat(name_, ": ", ToAbsl(key)))
                        : got.status();
      }
      GiveBack(*std::move(c));
      if (!got.ok()) return got.status();
      if (!got->has_value()) {
        return absl::NotFoundError(absl::StrCat(name_, ": ", ToAbsl(key), ": no such key"));
      }
      return **std::move(got);
    }
  }

  // A pooled connection, or a new one (always, when `fresh`).
  absl::StatusOr<Connection> Take(bool* pooled = nullptr, bool fresh = false) const {
    if (!fresh) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        Connection c = std::move(pool_.back());
        pool_.pop_back();
        if (pooled != nullptr) *pooled = true;
        return c;
      }
    }
    Connection c(redisConnectWithTimeout(host_.c_str(), port_, ToTimeval(timeout_)));
    if (c == nullptr) return absl::ResourceExhaustedError(absl::StrCat(name_, ": out of memory"));
    if (c->err != 0) {
      return absl::UnavailableError(absl::StrCat(name_, ": cannot connect: ", c->errstr));
    }
    redisSetTimeout(c.get(), ToTimeval(timeout_));
    if (absl::Status auth = Authenticate(*c); !auth.ok()) return auth;
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
    const std::string message = absl::StrCat(name_, ": ", ToAbsl(what), ": ", c.errstr);
    if (c.err == REDIS_ERR_IO && (errno == EAGAIN || errno == ETIMEDOUT)) {
      return absl::DeadlineExceededError(message);
    }
    return absl::UnavailableError(message);
  }

  absl::Status ReplyError(const redisReply& reply, std::string_view what) const {
    return ErrorText(reply.type == REDIS_REPLY_ERROR ? std::string_view(reply.str, reply.len)
                                                     : "unexpected reply",
                     what);
  }

  // An error reply's text ("-" dropped) as a Status naming the store and `what`.
  absl::Status ErrorText(std::string_view text, std::string_view what) const {
    if (text.starts_with("NOAUTH") || text.starts_with("NOPERM") || text.starts_with("WRONGPASS")) {
      return absl::PermissionDeniedError(
          absl::StrCat(name_, ": ", ToAbsl(what), ": ", ToAbsl(text),
                       " (credentials: redis://<user>:<password>@… or KV_ASSETS_REDIS_PASSWORD)"));
    }
    // Out of memory (maxmemory) or a server that is loading or read-only is a passing state.
    if (text.starts_with("OOM") || text.starts_with("LOADING") || text.starts_with("READONLY") ||
        text.starts_with("BUSY")) {
      return absl::UnavailableError(absl::StrCat(name_, ": ", ToAbsl(what), ": ", ToAbsl(text)));
    }
    return absl::InternalError(absl::StrCat(name_, ": ", ToAbsl(what), ": ", ToAbsl(text)));
  }

 private:
  // GET `key` on `c`, its reply read here rather than by hiredis. hiredis reads a reply 16 KiB
  // at a time into a buffer of its own and then copies the value into the reply object; this
  // reads the bulk string's length, then the value straight into the memory it is served from
  // (bench/README.md, "Manifest-only builds end to end"). nullopt: no such key. `healthy`:
  // whether `c` is fit for the next command.
  absl::StatusOr<std::optional<StoreValue>> ReadGet(redisContext& c, std::string_view key,
                                                    bool& healthy) const {
    healthy = false;
    const char* argv[] = {"GET", key.data()};
    const std::size_t lens[] = {3, key.size()};
    if (c.reader->pos != c.reader->len || redisAppendCommandArgv(&c, 2, argv, lens) != REDIS_OK) {
      return ConnectionError(c, key);
    }
    for (int done = 0; !done;) {
      if (redisBufferWrite(&c, &done) != REDIS_OK) return ConnectionError(c, key);
    }
    // The reply's first line: "$<length>", "$-1" (no such key) or "-<error>".
    char head[4096];
    std::size_t have = 0;
    std::size_t eol;
    while ((eol = std::string_view(head, have).find("\r\n")) == std::string_view::npos) {
      if (have == sizeof head)
        return absl::InternalError(absl::StrCat(name_, ": GET: reply line too long"));
      const ssize_t n = read(c.fd, head + have, sizeof head - have);
      if (n <= 0) return IoError(n, key);
      have += static_cast<std::size_t>(n);
    }
    const std::string_view line(head + 1, eol - 1), rest(head + eol + 2, have - eol - 2);
    long long length = -2;
    if (head[0] == '-' ||
        (head[0] == '$' && absl::SimpleAtoi(ToAbsl(line), &length) && length == -1)) {
      healthy = rest.empty();
      if (head[0] == '$') return std::optional<StoreValue>();
      return ErrorText(line, key);
    }
    if (length < 0)
      return absl::InternalError(absl::StrCat(name_, ": ", ToAbsl(key), ": unexpected reply"));
    const std::size_t total = static_cast<std::size_t>(length) + 2;  // the value, then "\r\n"
    if (rest.size() > total)
      return absl::InternalError(absl::StrCat(name_, ": ", ToAbsl(key), ": more than one reply"));
    std::shared_ptr<char[]> bytes(new char[total]);
    std::memcpy(bytes.get(), rest.data(), rest.size());
    for (std::size_t got = rest.size(); got < total;) {
      const ssize_t n = read(c.fd, bytes.get() + got, total - got);
      if (n <= 0) return IoError(n, key);
      got += static_cast<std::size_t>(n);
    }
    healthy = true;
    const std::string_view value(bytes.get(), static_cast<std::size_t>(length));
    return std::optional<StoreValue>(StoreValue(value, std::move(bytes)));
  }

  // A read of the connection that returned `n` <= 0.
  absl::Status IoError(ssize_t n, std::string_view key) const {
    if (n == 0) {
      return absl::UnavailableError(absl::StrCat(name_, ": ", ToAbsl(key), ": connection closed"));
    }
    const std::string message = absl::StrCat(name_, ": ", ToAbsl(key), ": ", std::strerror(errno));
    if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::DeadlineExceededError(message);
    return absl::UnavailableError(message);
  }

  // AUTH [<user>] <password>, as arguments (never formatted into a command line), on every
  // new connection; a refusal names the store without the password.
  absl::Status Authenticate(redisContext& c) const {
    if (credentials_.password.empty()) return absl::OkStatus();
    std::vector<const char*> argv = {"AUTH"};
    std::vector<std::size_t> lengths = {4};
    if (!credentials_.user.empty()) {
      argv.push_back(credentials_.user.data());
      lengths.push_back(credentials_.user.size());
    }
    argv.push_back(credentials_.password.data());
    lengths.push_back(credentials_.password.size());
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(&c, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    if (reply == nullptr) return ConnectionError(c, "AUTH");
    if (reply->type == REDIS_REPLY_ERROR) {
      return absl::PermissionDeniedError(
          absl::StrCat(name_, ": AUTH", credentials_.user.empty() ? "" : " as ", credentials_.user,
                       ": ", absl::string_view(reply->str, reply->len)));
    }
    return absl::OkStatus();
  }

  void DropPool() const {
    std::vector<Connection> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old.swap(pool_);
    }
  }  // closed here, outside the lock

  std::string name_;
  std::string host_;
  int port_;
  int db_;
  Credentials credentials_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex mu_;
  mutable std::vector<Connection> pool_;
};

// The primary takes every write, listing and delete (what `kv-assets sync` does). Reads go to
// the replicas, when the URL names some, in turn; a replica that cannot be reached passes the
// read to the next. A replica that lacks the key passes it to the primary: after a sync a
// replica may lag, and a content-addressed key found anywhere holds the right bytes.
class RedisStore final : public KeyValueStore {
 public:
  RedisStore(std::unique_ptr<Node> primary, std::vector<std::unique_ptr<Node>> replicas)
      : primary_(std::move(primary)), replicas_(std::move(replicas)) {}

  const std::string& url() const override { return primary_->name(); }

  // OK when the primary or a replica answers: a server that only reads starts while its
  // primary is away.
  absl::Status Connect() const {
    absl::Status primary = primary_->Connect();
    if (primary.ok()) return primary;
    for (const auto& replica : replicas_) {
      if (replica->Connect().ok()) return absl::OkStatus();
    }
    return primary;
  }

  absl::StatusOr<StoreValue> Get(std::string_view key) const override {
    const std::size_t n = replicas_.size();
    const std::size_t first = n == 0 ? 0 : next_.fetch_add(1, std::memory_order_relaxed) % n;
    for (std::size_t i = 0; i < n; ++i) {
      absl::StatusOr<StoreValue> value = replicas_[(first + i) % n]->Get(key);
      if (value.ok()) return value;
      if (!absl::IsUnavailable(value.status()) && !absl::IsDeadlineExceeded(value.status())) {
        break;  // not there (yet), or refused: the primary decides
      }
    }
    return primary_->Get(key);
  }

  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) const override {
    absl::StatusOr<Connection> c = primary_->Take();
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
      if (reply == nullptr) return primary_->ConnectionError(**c, "SCAN");
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
          reply->element[0]->type != REDIS_REPLY_STRING ||
          reply->element[1]->type != REDIS_REPLY_ARRAY) {
        return primary_->ReplyError(*reply, "SCAN");
      }
      cursor.assign(reply->element[0]->str, reply->element[0]->len);
      const redisReply& batch = *reply->element[1];
      for (std::size_t i = 0; i < batch.elements; ++i) {
        keys.emplace(batch.element[i]->str, batch.element[i]->len);
      }
    } while (cursor != "0");
    primary_->GiveBack(*std::move(c));
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
    absl::StatusOr<Connection> c = primary_->Take();
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
        if (redisGetReply(c->get(), &raw) != REDIS_OK) {
          return primary_->ConnectionError(**c, key_of(i));
        }
        Reply reply(static_cast<redisReply*>(raw));
        if (reply->type == REDIS_REPLY_ERROR) return primary_->ReplyError(*reply, key_of(i));
      }
    }
    primary_->GiveBack(*std::move(c));
    return absl::OkStatus();
  }

  std::unique_ptr<Node> primary_;
  std::vector<std::unique_ptr<Node>> replicas_;
  mutable std::atomic<std::size_t> next_{0};  // the replica the next read starts with
};

// "<user>:<password>" or ":<password>", each percent-decoded (RFC 3986 userinfo).
absl::StatusOr<Credentials> ParseUserinfo(std::string_view userinfo) {
  const std::size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "the credentials are <user>:<password> or :<password> (the default user)");
  }
  Credentials c;
  for (auto [part, out] : {std::pair{userinfo.substr(0, colon), &c.user},
                           std::pair{userinfo.substr(colon + 1), &c.password}}) {
    for (std::size_t i = 0; i < part.size(); ++i) {
      if (part[i] != '%') {
        out->push_back(part[i]);
        continue;
      }
      int value = 0;
      if (i + 2 >= part.size() || !absl::SimpleHexAtoi(ToAbsl(part.substr(i + 1, 2)), &value)) {
        return absl::InvalidArgumentError(
            "a % in the credentials is not followed by two hex digits");
      }
      out->push_back(static_cast<char>(value));
      i += 2;
    }
  }
  if (c.password.empty()) return absl::InvalidArgumentError("the password is empty");
  return c;
}

// KV_ASSETS_REDIS_PASSWORD (and KV_ASSETS_REDIS_USER for an ACL user), for URLs without
// credentials: a password kept out of the URL stays out of command lines and build files.
Credentials CredentialsFromEnvironment() {
  Credentials c;
  if (const char* p = std::getenv("KV_ASSETS_REDIS_PASSWORD"); p != nullptr) c.password = p;
  if (const char* u = std::getenv("KV_ASSETS_REDIS_USER"); u != nullptr && !c.password.empty()) {
    c.user = u;
  }
  return c;
}

// "<host>[:<port>]" or "[<IPv6>][:<port>]"; the port 6379 unless given. Errors say why.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(std::string_view text) {
  std::string host(text);
  int port = 6379;
  if (text.starts_with('[')) {  // [::1]:6379
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos)
      return absl::InvalidArgumentError("unterminated IPv6 address");
    host = std::string(text.substr(1, close - 1));
    text.remove_prefix(close + 1);
    if (text.starts_with(':') && !absl::SimpleAtoi(ToAbsl(text.substr(1)), &port)) {
      return absl::InvalidArgumentError("the port is not a number");
    }
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = std::string(text.substr(0, colon));
    if (!absl::SimpleAtoi(ToAbsl(text.substr(colon + 1)), &port)) {
      return absl::InvalidArgumentError("the port is not a number");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("no host");
  if (port <= 0 || port > 65535) return absl::InvalidArgumentError("the port is out of range");
  return std::pair{std::move(host), port};
}

// The replicas of "?replica=<host>[:<port>]&replica=…", as nodes named after the primary.
absl::StatusOr<std::vector<std::unique_ptr<Node>>> ParseReplicas(std::string_view query,
                                                                 std::string_view primary, int db,
                                                                 const Credentials& c,
                                                                 const StoreOptions& options) {
  std::vector<std::unique_ptr<Node>> replicas;
  for (std::string_view rest = query; !rest.empty();) {
    const std::size_t amp = std::min(rest.find('&'), rest.size());
    const std::string_view param = rest.substr(0, amp);
    rest.remove_prefix(std::min(amp + 1, rest.size()));
    if (!param.starts_with("replica=")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown parameter \"", ToAbsl(param),
                                                     "\" (expected replica=<host>:<port>)"));
    }
    const std::string_view address = param.substr(8);
    absl::StatusOr<std::pair<std::string, int>> host_port = ParseHostPort(address);
    if (!host_port.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("replica \"", ToAbsl(address), "\": ", host_port.status().message()));
    }
    replicas.push_back(std::make_unique<Node>(
        absl::StrCat("redis://", ToAbsl(address), " (replica of ", ToAbsl(primary), ")"),
        std::move(host_port->first), host_port->second, db, c, options.timeout));
  }
  return replicas;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenRedisStore(std::string_view url,
                                                              std::string_view authority,
                                                              const StoreOptions& options) {
  std::string_view rest = authority;
  // The userinfo, when there is one, leaves every message: the URL is shown without it.
  std::optional<Credentials> from_url;
  std::string shown(url);
  if (const std::size_t at = rest.substr(0, rest.find_first_of("/?")).rfind('@');
      at != std::string_view::npos) {
    absl::StatusOr<Credentials> c = ParseUserinfo(rest.substr(0, at));
    // Without a colon the whole userinfo may be a password: nothing of it is shown.
    const std::size_t colon = rest.find(':');
    const std::string_view user = colon < at ? rest.substr(0, colon) : std::string_view();
    shown = absl::StrCat("redis://", ToAbsl(user), ":***@", ToAbsl(rest.substr(at + 1)));
    if (!c.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(shown, ": ", c.status().message()));
    }
    from_url = *std::move(c);
    rest.remove_prefix(at + 1);
  }
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        shown, ": ", why,
        " (expected redis://[<user>:<password>@]<host>[:<port>][/<db>][?replica=<host>:<port>])"));
  };
  std::string_view query;
  if (const std::size_t mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  int db = 0;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db_text = rest.substr(slash + 1);
    if (!db_text.empty() && (!absl::SimpleAtoi(ToAbsl(db_text), &db) || db < 0)) {
      return bad("the database is not a number");
    }
    rest = rest.substr(0, slash);
  }
  absl::StatusOr<std::pair<std::string, int>> host_port = ParseHostPort(rest);
  if (!host_port.ok()) return bad(host_port.status().message());
  const Credentials credentials = from_url.value_or(CredentialsFromEnvironment());
  const std::string primary_name = shown.substr(0, shown.find('?'));
  absl::StatusOr<std::vector<std::unique_ptr<Node>>> replicas =
      ParseReplicas(query, primary_name, db, credentials, options);
  if (!replicas.ok()) return bad(replicas.status().message());
  auto store = std::make_unique<RedisStore>(
      std::make_unique<Node>(std::move(shown), std::move(host_port->first), host_port->second, db,
                             credentials, options.timeout),
      *std::move(replicas));
  if (absl::Status s = store->Connect(); !s.ok()) return s;
  return store;
}

}  // namespace kv_assets::internal
