#include "kv_assets/store.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

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

}  // namespace

absl::Status FetchBody(const Store& store, Response& response, StoreValue& value) {
  const std::string_view key = response.body_key();
  if (key.empty()) return absl::OkStatus();
  absl::StatusOr<StoreValue> got = store.Get(key);
  if (!got.ok()) {
    ReplaceWithError(response, got.status());
    return got.status();
  }
  if (!response.FillBody(got->bytes())) {
    const std::uint64_t expected = response.variant != nullptr ? response.variant->size
                                   : response.asset != nullptr ? response.asset->size
                                                               : 0;
    const absl::Status status = absl::DataLossError(
        absl::StrCat(absl::string_view(key.data(), key.size()), ": the store holds ",
                     got->bytes().size(), " bytes, the manifest says ", expected));
    ReplaceWithError(response, status);
    return status;
  }
  value = *std::move(got);
  return absl::OkStatus();
}

StoreResponse HandleWithStore(const Server& server, const Store& store, const Request& request) {
  StoreResponse out;
  out.response = server.Handle(request);
  out.status = FetchBody(store, out.response, out.value);
  return out;
}

}  // namespace kv_assets
