// runtime/src/beast/image_file.h — where bytes of the running program lie in its own
// executable file, so that a large asset can go to a socket with sendfile(2).
//
// kv_assets_embed() puts the bodies in a read-only segment that the kernel maps from the
// executable file. Sending them with write() copies each byte from the program's memory into
// the socket; sendfile() from the same file hands the kernel its page-cache pages instead, as
// nginx does with files. On a 200 KB asset that copy was a third of the server's CPU time
// (bench/README.md). Linux only; elsewhere, and whenever the file cannot be opened or does not
// hold the mapped bytes, OffsetOf() says nullopt and the caller writes as usual.
//
// Example:
//   const ImageFile& image = ImageFile::Get();
//   if (std::optional<off_t> at = image.OffsetOf(body.data(), body.size())) {
//     ::sendfile(socket_fd, image.fd(), &*at, body.size());
//   }

#ifndef KV_ASSETS_SRC_BEAST_IMAGE_FILE_H_
#define KV_ASSETS_SRC_BEAST_IMAGE_FILE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace kv_assets::beast::internal {

class ImageFile {
 public:
  // The executable, opened once (thread-safe); it stays open for the life of the process.
  static const ImageFile& Get();

  // A descriptor of the executable file, or -1.
  int fd() const { return fd_; }

  // Where [data, data + size) lies in the file, if it lies within one read-only segment
  // mapped from it.
  std::optional<off_t> OffsetOf(const void* data, std::size_t size) const;

 private:
  ImageFile();

  struct Segment {
    std::uintptr_t start;  // address in memory
    std::size_t size;      // bytes that come from the file
    off_t offset;          // where they lie in the file
  };
  int fd_ = -1;
  std::vector<Segment> segments_;
};

}  // namespace kv_assets::beast::internal

#endif  // KV_ASSETS_SRC_BEAST_IMAGE_FILE_H_
