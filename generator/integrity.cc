#include "generator/integrity.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace kv_assets::gen {

std::string Integrity(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // Fails only when libcrypto cannot allocate; nothing sensible to serve without it.
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha384(), nullptr) != 1) {
    std::abort();
  }
  std::string out = "sha384-";
  const std::size_t prefix = out.size();
  out.resize(prefix + 4 * ((size + 2) / 3) + 1);  // EVP_EncodeBlock writes a NUL too
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + prefix), digest,
                                      static_cast<int>(size));
  out.resize(prefix + static_cast<std::size_t>(written));
  return out;
}

}  // namespace kv_assets::gen
