// cloudflare-kv://<account>/<namespace-id> — Workers KV through Cloudflare's REST API v4.
//
// Endpoints (below <api>/accounts/<account>/storage/kv/namespaces/<namespace-id>):
//   GET  values/<percent-encoded key>     one value, raw bytes; 404 when absent
//   GET  keys?prefix=&limit=1000&cursor=  a page of key names; result_info.cursor is empty
//                                         on the last page
//   PUT  bulk                             [{"key", "value", "base64": true}, ...]: at most
//                                         10,000 pairs and 100 MB of body a request
//   POST bulk/delete                      ["key", ...]: at most 10,000 keys a request
// Every request carries "Authorization: Bearer <token>". 429 and 5xx answers (and requests
// that got no answer) are retried with exponential back-off, or after Retry-After when the
// API says how long. Keys a bulk write reports as unsuccessful are written again.
#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/strings.h"
#include "runtime/src/stores/clients.h"

namespace kv_assets::internal {
namespace {

constexpr std::size_t kMaxPairs = 10000;               // per bulk write or delete
constexpr std::size_t kMaxRequestBytes = 100'000'000;  // "100 megabytes", the smaller reading
constexpr std::size_t kMaxKeyBytes = 512;
constexpr std::uint64_t kMaxValueBytes = 25 << 20;  // 25 MiB
constexpr int kListLimit = 1000;
constexpr std::string_view kDefaultApi = "https://api.cloudflare.com/client/v4";

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using Curl = std::unique_ptr<CURL, CurlDeleter>;

struct HttpResult {
  long status = 0;
  std::string body;
  long retry_after_seconds = -1;
};

std::size_t AppendBody(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::size_t ReadHeader(char* data, std::size_t size, std::size_t n, void* out) {
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == kName) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() &&
             (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
        value.remove_suffix(1);
      long seconds = 0;
      if (absl::SimpleAtoi(ToAbsl(value), &seconds) && seconds >= 0) {
        static_cast<HttpResult*>(out)->retry_after_seconds = seconds;
      }
    }
  }
  return size * n;
}

// Percent-encodes everything but RFC 3986 unreserved characters: a key may hold '/', '?',
// '%' and the like, which must not change the URL's meaning.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

class CloudflareStore final : public KeyValueStore {
 public:
  CloudflareStore(std::string url, std::string base, std::string token, const StoreOptions& options)
      : url_(std::move(url)),
        base_(std::move(base)),
        auth_(absl::StrCat("Authorization: Bearer ", token)),
        batch_pairs_(std::clamp<std::size_t>(options.cloudflare_batch_pairs, 1, kMaxPairs)),
        batch_bytes_(
            std::clamp<std::size_t>(options.cloudflare_batch_bytes, 1024, kMaxRequestBytes)),
        max_attempts_(std::max(1, options.max_attempts)),
        retry_delay_(options.retry_delay),
        timeout_(options.timeout) {}

  const std::string& url() const override { return url_; }

  absl::Status CheckEntry(std::string_view key, std::uint64_t size) const override {
    if (key.size() > kMaxKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(url_, ": key ", ToAbsl(key), " is ",
                                                     key.size(), " bytes; Workers KV allows ",
                                                     kMaxKeyBytes));
    }
    if (size > kMaxValueBytes) {
      return absl::InvalidArgumentError(absl::StrCat(url_, ": ", ToAbsl(key), ": ", size,
                                                     " bytes; Workers KV values are at most ",
                                                     kMaxValueBytes, " (25 MiB)"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<StoreValue> Get(std::string_view key) const override {
    // A server waits for this: one retry, not the patient schedule of an upload.
    absl::StatusOr<HttpResult> r = Request("GET", absl::StrCat("/values/", PercentEncode(key)), "",
                                           std::min(2, max_attempts_));
    if (!r.ok()) return r.status();
    if (r->status == 404) {
      return absl::NotFoundError(absl::StrCat(url_, ": ", ToAbsl(key), ": no such key"));
    }
    if (r->status != 200) return HttpError(*r, key);
    return StoreValue(std::move(r->body));
  }

  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) const override {
    std::vector<std::string> keys;
    std::string cursor;
    do {
      std::string path =
          absl::StrCat("/keys?limit=", kListLimit, "&prefix=", PercentEncode(prefix));
      if (!cursor.empty()) absl::StrAppend(&path, "&cursor=", PercentEncode(cursor));
      absl::StatusOr<json::Value> reply = Call("GET", path, "", "listing keys");
      if (!reply.ok()) return reply.status();
      for (const json::Value& k : reply->Get("result").array()) {
        if (k.Get("name").string().starts_with(prefix)) keys.push_back(k.Get("name").string());
      }
      cursor = reply->Get("result_info").Get("cursor").string();
    } while (!cursor.empty());
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

  absl::Status Put(std::span<const KeyValue> entries) override {
    for (const KeyValue& e : entries) {
      if (absl::Status s = CheckEntry(e.key, e.value.size()); !s.ok()) return s;
    }
    std::size_t next = 0;
    while (next < entries.size()) {
      // One request: as many pairs as fit both limits (always at least one; a single pair
      // of at most 25 MiB is far below 100 MB once base64-encoded).
      std::string body = "[";
      const std::size_t first = next;
      while (next < entries.size() && next - first < batch_pairs_) {
        const KeyValue& e = entries[next];
        std::string pair =
            absl::StrCat(next == first ? "" : ",", "{\"key\":", json::Quote(e.key), ",\"value\":\"",
                         absl::Base64Escape(absl::string_view(e.value.data(), e.value.size())),
                         "\",\"base64\":true}");
        if (next > first && body.size() + pair.size() + 1 > batch_bytes_) break;
        body += pair;
        ++next;
      }
      body += "]";
      absl::StatusOr<json::Value> reply = Call("PUT", "/bulk", body, "bulk write");
      if (!reply.ok()) return reply.status();
      const json::Value::Array& failed = reply->Get("result").Get("unsuccessful_keys").array();
      if (!failed.empty()) {
        // Written again, alone, through the same path (and its retries).
        std::vector<KeyValue> again;
        for (const json::Value& k : failed) {
          for (std::size_t i = first; i < next; ++i) {
            if (entries[i].key == k.string()) again.push_back(entries[i]);
          }
        }
        if (++unsuccessful_rounds_ > max_attempts_) {
          return absl::UnavailableError(absl::StrCat(url_, ": bulk write: ", failed.size(),
                                                     " keys stay unsuccessful, first ",
                                                     failed.front().string()));
        }
        if (absl::Status s = Put(again); !s.ok()) return s;
      }
      unsuccessful_rounds_ = 0;
    }
    return absl::OkStatus();
  }

  absl::Status Delete(std::span<const std::string> keys) override {
    for (std::size_t first = 0; first < keys.size(); first += batch_pairs_) {
      std::string body = "[";
      for (std::size_t i = first; i < std::min(keys.size(), first + batch_pairs_); ++i) {
        absl::StrAppend(&body, i == first ? "" : ",", json::Quote(keys[i]));
      }
      body += "]";
      absl::StatusOr<json::Value> reply = Call("POST", "/bulk/delete", body, "bulk delete");
      if (!reply.ok()) return reply.status();
    }
    return absl::OkStatus();
  }

 private:
  // A JSON API call: the request with retries, then the envelope checked.
  absl::StatusOr<json::Value> Call(std::string_view method, std::string_view path,
                                   std::string_view body, std::string_view what) const {
    absl::StatusOr<HttpResult> r = Request(method, path, body, max_attempts_);
    if (!r.ok()) return r.status();
    if (r->status != 200) return HttpError(*r, what);
    absl::StatusOr<json::Value> reply = json::Parse(r->body);
    if (!reply.ok() || !reply->Get("success").boolean()) {
      return absl::InternalError(
          absl::StrCat(url_, ": ", ToAbsl(what), ": the API answered ", ApiErrors(r->body)));
    }
    return reply;
  }

  // The API's own error messages, never the request (which carries the token).
  static std::string ApiErrors(std::string_view body) {
    absl::StatusOr<json::Value> v = json::Parse(body);
    if (!v.ok()) return "something other than JSON";
    std::string out;
    for (const json::Value& e : v->Get("errors").array()) {
      absl::StrAppend(&out, out.empty() ? "" : "; ", e.Get("code").integer(), " ",
                      e.Get("message").string());
    }
    return out.empty() ? "success: false" : out;
  }

  absl::Status HttpError(const HttpResult& r, std::string_view what) const {
    const std::string message =
        absl::StrCat(url_, ": ", ToAbsl(what), ": HTTP ", r.status, " ", ApiErrors(r.body));
    if (r.status == 401 || r.status == 403) return absl::PermissionDeniedError(message);
    if (r.status == 404) return absl::NotFoundError(message);
    if (r.status == 429) return absl::ResourceExhaustedError(message);
    if (r.status >= 500) return absl::UnavailableError(message);
    return absl::InvalidArgumentError(message);
  }

  absl::StatusOr<HttpResult> Request(std::string_view method, std::string_view path,
                                     std::string_view body, int attempts) const {
    std::chrono::milliseconds delay = retry_delay_;
    for (int attempt = 1;; ++attempt) {
      absl::StatusOr<HttpResult> r = Once(method, path, body);
      const bool retry = !r.ok() ? r.status().code() == absl::StatusCode::kUnavailable ||
                                       r.status().code() == absl::StatusCode::kDeadlineExceeded
                                 : r->status == 429 || r->status >= 500;
      if (!retry || attempt >= attempts) return r;
      std::chrono::milliseconds wait = delay;
      if (r.ok() && r->retry_after_seconds >= 0) {
        wait = std::chrono::seconds(std::min<long>(r->retry_after_seconds, 60));
      }
      std::this_thread::sleep_for(wait);
      delay *= 2;
    }
  }

  absl::StatusOr<HttpResult> Once(std::string_view method, std::string_view path,
                                  std::string_view body) const {
    Curl curl = TakeHandle();
    if (curl == nullptr)
      return absl::ResourceExhaustedError(absl::StrCat(url_, ": curl_easy_init"));
    const std::string target = absl::StrCat(base_, ToAbsl(path));
    HttpResult result;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, auth_.c_str());
    if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, target.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, std::string(method).c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
    // An upload of 100 MB needs longer than one small request: time out only on a stall.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(std::max<std::int64_t>(1, timeout_.count() / 1000)));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &result);
    if (method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    const CURLcode code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
    curl_slist_free_all(headers);
    // Options point at this call's locals: reset before the handle is reused.
    curl_easy_reset(c);
    GiveBack(std::move(curl));
    if (code != CURLE_OK) {
      const std::string message =
          absl::StrCat(url_, ": ", ToAbsl(method), " ", ToAbsl(path.substr(0, path.find('?'))),
                       ": ", curl_easy_strerror(code));
      if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(message);
      return absl::UnavailableError(message);
    }
    return result;
  }

  // Handles keep their connections, so requests after the first skip the TLS handshake.
  Curl TakeHandle() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!handles_.empty()) {
      Curl c = std::move(handles_.back());
      handles_.pop_back();
      return c;
    }
    return Curl(curl_easy_init());
  }

  void GiveBack(Curl c) const {
    std::lock_guard<std::mutex> lock(mu_);
    handles_.push_back(std::move(c));
  }

  std::string url_;
  std::string base_;  // <api>/accounts/<account>/storage/kv/namespaces/<namespace-id>
  std::string auth_;
  std::size_t batch_pairs_;
  std::size_t batch_bytes_;
  int max_attempts_;
  std::chrono::milliseconds retry_delay_;
  std::chrono::milliseconds timeout_;
  int unsuccessful_rounds_ = 0;
  mutable std::mutex mu_;
  mutable std::vector<Curl> handles_;
};

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_';
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyValueStore>> OpenCloudflareStore(std::string_view url,
                                                                   std::string_view account,
                                                                   std::string_view namespace_id,
                                                                   const StoreOptions& options) {
  if (!IsIdentifier(account) || !IsIdentifier(namespace_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(url), ": expected cloudflare-kv://<account-id>/<namespace-id>"));
  }
  std::string token = options.cloudflare_token;
  if (token.empty()) {
    if (const char* env = std::getenv("CLOUDFLARE_API_TOKEN"); env != nullptr) token = env;
  }
  if (token.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        ToAbsl(url), ": set CLOUDFLARE_API_TOKEN to an API token with Workers KV access"));
  }
  std::string api = options.cloudflare_api_url;
  if (api.empty()) {
    const char* env = std::getenv("KV_ASSETS_CLOUDFLARE_API_URL");
    api = env != nullptr && *env != '\0' ? env : std::string(kDefaultApi);
  }
  while (api.ends_with('/')) api.pop_back();
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<CloudflareStore>(
      std::string(url),
      absl::StrCat(api, "/accounts/", ToAbsl(account), "/storage/kv/namespaces/",
                   ToAbsl(namespace_id)),
      std::move(token), options);
}

}  // namespace kv_assets::internal
