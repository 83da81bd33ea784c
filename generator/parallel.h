// generator/parallel.h — one loop spread over the machine's cores.
//
// The generator's per-file work (reading and hashing, integrity, compressing) is independent
// from file to file, so each step runs its loop on a few threads that take the next index
// from a shared counter: the calling thread is one of them, and a thread that cannot be
// started only makes the loop slower.
//
// Example:
//   std::vector<std::string> digests(files.size());
//   ParallelFor(files.size(), 0, [&](std::size_t i) { digests[i] = Integrity(files[i].content); });

#ifndef KV_ASSETS_GENERATOR_PARALLEL_H_
#define KV_ASSETS_GENERATOR_PARALLEL_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace kv_assets::gen {

// Calls body(i) once for every i in [0, n), in increasing order of start, on at most `threads`
// threads (0: one per core). `body` must only write what belongs to its index.
template <typename Body>
void ParallelFor(std::size_t n, unsigned threads, const Body& body) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, n));
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) body(i);
  };
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;
    }
  }
  work();
}

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_PARALLEL_H_
