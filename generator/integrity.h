// generator/integrity.h — Subresource Integrity values (W3C SRI) for what the server sends.
//
// The SRI spec hashes the response body before any content coding, so the value is computed
// from a file's identity bytes and holds for its gzip, br and zstd variants alike. SHA-384 is
// what browsers and the spec's examples use; OpenSSL's libcrypto computes it (a dependency of
// the generator only: programs read the value from the manifest).
//
// Example:
//   Integrity("alert('Hello, world.');")
//   // "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"

#ifndef KV_ASSETS_GENERATOR_INTEGRITY_H_
#define KV_ASSETS_GENERATOR_INTEGRITY_H_

#include <string>
#include <string_view>

namespace kv_assets::gen {

// "sha384-" and the standard base64 (with padding) of SHA-384(bytes).
std::string Integrity(std::string_view bytes);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_INTEGRITY_H_
