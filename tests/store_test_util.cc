#include "tests/store_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"

namespace kv_assets::test_util {
namespace {

namespace json = ::kv_assets::internal::json;

// A port the kernel just handed out and nobody listens on now.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string FindRedisServer() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/usr/sbin"}) {
    const std::string path = std::string(dir) + "/redis-server";
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      if (absl::SimpleHexAtoi(absl::string_view(s.data() + i + 1, 2), &v)) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string Envelope(std::string_view result, std::string_view result_info = "") {
  return absl::StrCat("{\"success\":true,\"errors\":[],\"messages\":[],\"result\":",
                      absl::string_view(result.data(), result.size()),
                      result_info.empty() ? "" : ",\"result_info\":",
                      absl::string_view(result_info.data(), result_info.size()), "}");
}

std::string HttpResponse(int status, std::string_view reason, std::string_view body,
                         std::string_view extra = "") {
  return absl::StrCat("HTTP/1.1 ", status, " ", absl::string_view(reason.data(), reason.size()),
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n",
                      absl::string_view(extra.data(), extra.size()), "\r\n",
                      absl::string_view(body.data(), body.size()));
}

}  // namespace

// --- RedisServer ---

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::Start(bool& installed, std::vector<std::string> extra) {
  extra_ = std::move(extra);
  const std::string binary = FindRedisServer();
  installed = !binary.empty();
  if (!installed) return "redis-server is not installed (scripts/dev installs it)";
  dir_ = std::filesystem::temp_directory_path() /
         ("kv-assets-redis-" + std::to_string(::getpid()) + "-" + std::to_string(FreePort()));
  std::filesystem::create_directories(dir_);
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = fixed_port_ != 0 ? fixed_port_ : FreePort();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Its log would bury the test's output.
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::vector<std::string> args = {binary,   "--port",       std::to_string(port_),
                                       "--bind", "127.0.0.1",    "--save",
                                       "",       "--appendonly", "no",
                                       "--dir",  dir_,           "--loglevel",
                                       "warning"};
      args.insert(args.end(), extra_.begin(), extra_.end());
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    // Up to 10 s for it to answer PING.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // exited: the port was taken after all; try another
      }
      redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeval{0, 200000});
      if (c != nullptr && c->err == 0) {
        // Ours, not another test's server that took the port first (tests run in parallel).
        auto* reply = static_cast<redisReply*>(redisCommand(c, "INFO server"));
        const bool ok =
            reply != nullptr && reply->type == REDIS_REPLY_STRING &&
            std::string_view(reply->str, reply->len)
                    .find("process_id:" + std::to_string(pid_) + "\r\n") != std::string_view::npos;
        if (reply != nullptr) freeReplyObject(reply);
        redisFree(c);
        if (ok) return "";
      } else if (c != nullptr) {
        redisFree(c);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Stop();
  }
  return "redis-server did not start";
}

std::string RedisServer::Restart() {
  fixed_port_ = port_;
  Stop();
  bool installed = false;
  std::string why = Start(installed, extra_);
  fixed_port_ = 0;
  return why;
}

std::string RedisServer::url() const { return absl::StrCat("redis://127.0.0.1:", port_); }

void RedisServer::Stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

// --- FakeCloudflare ---

FakeCloudflare::FakeCloudflare(Options options) : options_(std::move(options)) {
  failures_left_ = options_.fail_first;
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  ::listen(listen_fd_, 16);
  thread_ = std::thread([this] { Serve(); });
}

FakeCloudflare::~FakeCloudflare() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::string FakeCloudflare::api_url() const {
  return absl::StrCat("http://127.0.0.1:", port_, "/client/v4");
}

std::string FakeCloudflare::store_url() const {
  return absl::StrCat("cloudflare-kv://", options_.account, "/", options_.namespace_id);
}

StoreOptions FakeCloudflare::store_options() const {
  StoreOptions o;
  o.cloudflare_token = options_.token;
  o.cloudflare_api_url = api_url();
  o.retry_delay = std::chrono::milliseconds(1);
  o.timeout = std::chrono::milliseconds(5000);
  return o;
}

FakeCloudflare::Stats FakeCloudflare::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::map<std::string, std::string> FakeCloudflare::data() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_;
}

void FakeCloudflare::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    HandleConnection(fd);
    ::close(fd);
  }
}

void FakeCloudflare::HandleConnection(int fd) {
  // One request a connection, answered with Connection: close; bounded in time.
  const timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string data;
  char buf[65536];
  std::size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    data.append(buf, static_cast<std::size_t>(n));
    header_end = data.find("\r\n\r\n");
  }
  const std::string head = data.substr(0, header_end);
  std::string body = data.substr(header_end + 4);
  std::map<std::string, std::string> headers;
  std::size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  while (line_end != std::string::npos) {
    const std::size_t next = head.find("\r\n", line_end + 2);
    const std::string line = head.substr(
        line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      headers[name] = value;
    }
    line_end = next;
  }
  std::size_t length = 0;
  if (headers.contains("content-length")) {
    (void)absl::SimpleAtoi(headers["content-length"], &length);
  }
  while (body.size() < length) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    body.append(buf, static_cast<std::size_t>(n));
  }
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = request_line.find(' ', sp1 + 1);
  const std::string response = Handle(request_line.substr(0, sp1),
                                      request_line.substr(sp1 + 1, sp2 - sp1 - 1), headers, body);
  std::string_view rest = response;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string FakeCloudflare::Handle(const std::string& method, const std::string& target,
                                   const std::map<std::string, std::string>& headers,
                                   const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto violation = [&](std::string what) {
    stats_.violations.push_back(absl::StrCat(method, " ", target, ": ", what));
    return HttpResponse(400, "Bad Request",
                        "{\"success\":false,\"errors\":[{\"code\":10000,\"message\":\"bad\"}]}");
  };
  const auto it = headers.find("authorization");
  if (it == headers.end() || it->second != "Bearer " + options_.token) {
    return violation("missing or wrong Authorization header");
  }
  if (failures_left_ > 0) {
    --failures_left_;
    ++stats_.throttled;
    return HttpResponse(429, "Too Many Requests",
                        "{\"success\":false,\"errors\":[{\"code\":10013,\"message\":\"rate\"}]}",
                        "Retry-After: 0\r\n");
  }
  const std::string base = absl::StrCat("/client/v4/accounts/", options_.account,
                                        "/storage/kv/namespaces/", options_.namespace_id, "/");
  if (!target.starts_with(base)) return violation("unknown path");
  std::string path = target.substr(base.size());
  std::string query;
  if (const std::size_t q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  std::map<std::string, std::string> params;
  for (std::size_t start = 0; start < query.size();) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    params[pair.substr(0, eq)] = eq == std::string::npos ? "" : PercentDecode(pair.substr(eq + 1));
    start = end + 1;
  }

  if (method == "GET" && path.starts_with("values/")) {
    ++stats_.value_gets;
    const std::string key = PercentDecode(path.substr(7));
    if (key.find('/') != std::string::npos && path.substr(7).find('/') != std::string::npos) {
      return violation("a '/' in a key must be percent-encoded");
    }
    const auto found = data_.find(key);
    if (found == data_.end()) {
      return HttpResponse(404, "Not Found",
                          "{\"success\":false,\"errors\":[{\"code\":10009,\"message\":\"key not "
                          "found\"}]}");
    }
    return HttpResponse(200, "OK", found->second);
  }
  if (method == "GET" && path == "keys") {
    ++stats_.list_pages;
    int limit = 1000;
    if (params.contains("limit") &&
        (!absl::SimpleAtoi(params["limit"], &limit) || limit < 10 || limit > 1000)) {
      return violation("limit must be 10 to 1000");
    }
    const std::string prefix = params["prefix"];
    std::size_t skip = 0;
    if (!params["cursor"].empty() && !absl::SimpleAtoi(params["cursor"].substr(1), &skip)) {
      return violation("unknown cursor");
    }
    std::vector<std::string> names;
    for (const auto& [k, v] : data_) {
      if (k.starts_with(prefix)) names.push_back(k);
    }
    const std::size_t page =
        std::min<std::size_t>(options_.page_size, static_cast<std::size_t>(limit));
    std::string result = "[";
    std::size_t i = skip;
    for (; i < names.size() && i < skip + page; ++i) {
      absl::StrAppend(&result, i == skip ? "" : ",", "{\"name\":", json::Quote(names[i]), "}");
    }
    result += "]";
    const std::string cursor = i < names.size() ? absl::StrCat("c", i) : "";
    return HttpResponse(200, "OK",
                        Envelope(result, absl::StrCat("{\"count\":", i - skip,
                                                      ",\"cursor\":", json::Quote(cursor), "}")));
  }
  if (method == "PUT" && path == "bulk") {
    if (body.size() > 100'000'000) return violation("bulk write over 100,000,000 bytes");
    if (headers.count("content-type") == 0 || headers.at("content-type") != "application/json") {
      return violation("bulk write without Content-Type: application/json");
    }
    absl::StatusOr<json::Value> v = json::Parse(body);
    if (!v.ok() || !v->is_array()) return violation("bulk write body is not a JSON array");
    if (v->array().size() > 10000) return violation("bulk write of more than 10,000 pairs");
    for (const json::Value& pair : v->array()) {
      if (!pair.Get("key").is_string() || !pair.Get("value").is_string() ||
          !pair.Get("base64").boolean()) {
        return violation("bulk write pair without key, value and base64: true");
      }
      std::string decoded;
      if (!absl::Base64Unescape(pair.Get("value").string(), &decoded)) {
        return violation("value is not base64");
      }
      if (pair.Get("key").string().size() > 512) return violation("key over 512 bytes");
      data_[pair.Get("key").string()] = std::move(decoded);
    }
    stats_.bulk_write_pairs.push_back(v->array().size());
    stats_.bulk_write_bytes.push_back(body.size());
    return HttpResponse(200, "OK",
                        Envelope(absl::StrCat("{\"successful_key_count\":", v->array().size(),
                                              ",\"unsuccessful_keys\":[]}")));
  }
  if (method == "POST" && path == "bulk/delete") {
    absl::StatusOr<json::Value> v = json::Parse(body);
    if (!v.ok() || !v->is_array()) return violation("bulk delete body is not a JSON array");
    if (v->array().size() > 10000) return violation("bulk delete of more than 10,000 keys");
    for (const json::Value& k : v->array()) {
      if (!k.is_string()) return violation("bulk delete of a non-string");
      data_.erase(k.string());
    }
    stats_.bulk_delete_keys.push_back(v->array().size());
    return HttpResponse(200, "OK",
                        Envelope(absl::StrCat("{\"successful_key_count\":", v->array().size(),
                                              ",\"unsuccessful_keys\":[]}")));
  }
  return violation("unknown endpoint");
}

// --- CountingStore ---

absl::StatusOr<StoreValue> CountingStore::Get(std::string_view key) const {
  ++gets;
  return inner_.Get(key);
}

absl::StatusOr<std::vector<std::string>> CountingStore::List(std::string_view prefix) const {
  ++lists;
  return inner_.List(prefix);
}

absl::Status CountingStore::Put(std::span<const KeyValue> entries) {
  if (fail_after_writes >= 0) {
    const std::size_t room = writes >= static_cast<std::size_t>(fail_after_writes)
                                 ? 0
                                 : static_cast<std::size_t>(fail_after_writes) - writes;
    if (room < entries.size()) {
      if (room > 0) {
        if (absl::Status s = inner_.Put(entries.subspan(0, room)); !s.ok()) return s;
        writes += room;
      }
      return absl::UnavailableError(url() + ": killed (fault injection)");
    }
  }
  if (absl::Status s = inner_.Put(entries); !s.ok()) return s;
  writes += entries.size();
  return absl::OkStatus();
}

absl::Status CountingStore::Delete(std::span<const std::string> keys) {
  deletes += keys.size();
  return inner_.Delete(keys);
}

// --- StoreEnv ---

std::string StoreEnv::Open(std::string_view kind) {
  absl::StatusOr<std::unique_ptr<KeyValueStore>> opened;
  if (kind == "dir") {
    opened = OpenStore("dir:" + tmp.path() + "/store");
  } else if (kind == "redis") {
    redis = std::make_unique<RedisServer>();
    bool installed = false;
    const std::string why = redis->Start(installed);
    if (!installed) return why;
    if (!why.empty()) {
      ADD_FAILURE() << why;
      return why;
    }
    opened = OpenStore(redis->url());
  } else {
    cloudflare = std::make_unique<FakeCloudflare>();
    opened = OpenStore(cloudflare->store_url(), cloudflare->store_options());
  }
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status();
    return std::string(opened.status().message());
  }
  store = *std::move(opened);
  return "";
}

void StoreEnv::ExpectNoViolations() const {
  if (cloudflare == nullptr) return;
  for (const std::string& v : cloudflare->stats().violations) ADD_FAILURE() << v;
}

}  // namespace kv_assets::test_util
