// tests/allocation_counter.h — counts every heap allocation of the program that includes it.
//
// Replaces the global operator new/delete, so include it in exactly one source file of a
// test or benchmark binary. Used to show that the request path allocates nothing.
//
// Example:
//   const long before = kv_assets::test_util::Allocations();
//   server.Handle(request);
//   EXPECT_EQ(kv_assets::test_util::Allocations() - before, 0);

#ifndef KV_ASSETS_TESTS_ALLOCATION_COUNTER_H_
#define KV_ASSETS_TESTS_ALLOCATION_COUNTER_H_

#include <atomic>
#include <cstdlib>
#include <new>

namespace kv_assets::test_util {
inline std::atomic<long> g_allocations{0};
inline long Allocations() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace kv_assets::test_util

void* operator new(std::size_t n) {
  kv_assets::test_util::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#endif  // KV_ASSETS_TESTS_ALLOCATION_COUNTER_H_
