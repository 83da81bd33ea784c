#include "kv_assets/store.h"

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kv_assets {

StoreValue::StoreValue(std::string bytes) {
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  bytes_ = *owned;
  owner_ = std::move(owned);
}

namespace {

// The whole answer is replaced: fields that described the asset (ETag, Content-Type,
// Content-Range, caching) must not go out with an error, and a cache must not keep it.
void ReplaceWithError(Response& response, const absl::Status& status) {
  const bool unavailable = status.code() == absl::StatusCode::kUnavailable ||
                           status.code() == absl::StatusCode::kDeadlineExceeded ||
                           status.code() == absl::StatusCode::kResourceExhausted;
  // HEAD never reads the store, so the answer being replaced is a GET's.
  response = ErrorResponse(unavailable ? 503 : 500);
}

// Points the body of `response` into `got`, kept in `value`; or, when `got` is not the length
// the manifest says, replaces the answer with a 500 and says so.
absl::Status UseValue(Response& response, StoreValue got, StoreValue& value) {
  const std::string_view key = response.body_key();
  if (!response.FillBody(got.bytes())) {
    const std::uint64_t expected = response.variant != nullptr ? response.variant->size
                                   : response.asset != nullptr ? response.asset->size
                                                               : 0;
    const absl::Status status =
        absl::DataLossError(absl::StrCat(ToAbsl(key), ": the store holds ", got.bytes().size(),
                                         " bytes, the manifest says ", expected));
    ReplaceWithError(response, status);
    return status;
  }
  value = std::move(got);
  return absl::OkStatus();
}

}  // namespace

absl::Status FetchBody(const Store& store, Response& response, StoreValue& value) {
  const std::string_view key = response.body_key();
  if (key.empty()) return absl::OkStatus();
  absl::StatusOr<StoreValue> got = store.Get(key);
  if (!got.ok()) {
    ReplaceWithError(response, got.status());
    return got.status();
  }
  return UseValue(response, *std::move(got), value);
}

StoreResponse HandleWithStore(const Server& server, const Store& store, const Request& request) {
  StoreResponse out;
  out.response = server.Handle(request);
  out.status = FetchBody(store, out.response, out.value);
  return out;
}

StoreSource::StoreSource(const Server& server, const Store& store, ErrorLog on_error)
    : server_(server), store_(store), on_error_(std::move(on_error)) {
  if (!on_error_) {
    on_error_ = [](const absl::Status& status) { std::cerr << "kv-assets: " << status << "\n"; };
  }
}

bool StoreSource::HandlesTarget(std::string_view target) const {
  return server_.HandlesTarget(target);
}

std::optional<SourcedResponse> StoreSource::AnswerWithoutWaiting(const Request& request) const {
  SourcedResponse out{server_.Handle(request), nullptr};
  if (out.response.body_key().empty()) return out;
  std::optional<StoreValue> cached = store_.GetIfInMemory(out.response.body_key());
  if (!cached.has_value()) return std::nullopt;
  auto value = std::make_shared<StoreValue>();
  if (const absl::Status status = UseValue(out.response, *std::move(cached), *value);
      !status.ok()) {
    on_error_(status);
    return out;  // the 500 UseValue() made
  }
  out.owner = std::move(value);
  return out;
}

SourcedResponse StoreSource::Answer(const Request& request) const {
  SourcedResponse out{server_.Handle(request), nullptr};
  if (out.response.body_key().empty()) return out;
  auto value = std::make_shared<StoreValue>();
  const absl::Status status = FetchBody(store_, out.response, *value);
  if (!status.ok()) {
    on_error_(status);
    return out;  // the 503 or 500 FetchBody() made, which points into nothing
  }
  out.owner = std::move(value);
  return out;
}

}  // namespace kv_assets
