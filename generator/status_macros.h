// generator/status_macros.h — early return on error, since this Abseil has no
// ABSL_RETURN_IF_ERROR / ASSIGN_OR_RETURN.

#ifndef KV_ASSETS_GENERATOR_STATUS_MACROS_H_
#define KV_ASSETS_GENERATOR_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KV_ASSETS_RETURN_IF_ERROR(expr)                         \
  do {                                                          \
    if (::absl::Status kv_status_ = (expr); !kv_status_.ok()) { \
      return kv_status_;                                        \
    }                                                           \
  } while (0)

#define KV_ASSETS_STATUS_CONCAT_INNER_(a, b) a##b
#define KV_ASSETS_STATUS_CONCAT_(a, b) KV_ASSETS_STATUS_CONCAT_INNER_(a, b)

// KV_ASSETS_ASSIGN_OR_RETURN(auto x, Foo()); declares x from a StatusOr or returns its error.
#define KV_ASSETS_ASSIGN_OR_RETURN(lhs, expr) \
  KV_ASSETS_ASSIGN_OR_RETURN_IMPL_(KV_ASSETS_STATUS_CONCAT_(kv_statusor_, __LINE__), lhs, expr)
#define KV_ASSETS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()

#endif  // KV_ASSETS_GENERATOR_STATUS_MACROS_H_
