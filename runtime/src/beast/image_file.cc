#include "image_file.h"

#ifdef __linux__
#include <fcntl.h>
#include <link.h>
#include <unistd.h>
#endif

namespace kv_assets::beast::internal {

const ImageFile& ImageFile::Get() {
  static const ImageFile image;
  return image;
}

#ifdef __linux__

namespace {

// The executable's read-only PT_LOAD segments: the first object dl_iterate_phdr reports is the
// program itself.
int CollectSegments(dl_phdr_info* info, std::size_t, void* out) {
  auto& segments = *static_cast<std::vector<std::pair<std::uintptr_t, const ElfW(Phdr)*>>*>(out);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    // Writable segments differ from the file (relocations); read-only ones do not, barring
    // text relocations, which a position-independent build never has.
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) == 0) {
      segments.emplace_back(info->dlpi_addr + ph.p_vaddr, &ph);
    }
  }
  return 1;  // stop after the program
}

// Compares bytes of a mapped segment without AddressSanitizer's interceptors: a segment holds
// the redzones ASan puts between globals, which it reports if anything but the loader reads them.
__attribute__((no_sanitize("address"))) bool SameBytes(const char* file, const char* memory,
                                                       std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (file[i] != memory[i]) return false;
  }
  return true;
}

// A cheap check that /proc/self/exe is the file these segments were mapped from: its first
// page of each segment matches memory. It catches the program started as `ld.so ./prog`
// (then /proc/self/exe is the loader); it cannot prove the rest of the file unchanged since
// exec, which a local file system forbids (ETXTBSY) but a network one may not.
bool FileMatchesMemory(int fd, std::uintptr_t start, std::size_t size, off_t offset) {
  char buffer[4096];
  const std::size_t n = size < sizeof(buffer) ? size : sizeof(buffer);
  return pread(fd, buffer, n, offset) == static_cast<ssize_t>(n) &&
         SameBytes(buffer, reinterpret_cast<const char*>(start), n);
}

}  // namespace

ImageFile::ImageFile() {
  const int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::vector<std::pair<std::uintptr_t, const ElfW(Phdr)*>> found;
  dl_iterate_phdr(CollectSegments, &found);
  for (const auto& [start, ph] : found) {
    const Segment segment{start, static_cast<std::size_t>(ph->p_filesz),
                          static_cast<off_t>(ph->p_offset)};
    if (segment.size > 0 && FileMatchesMemory(fd, segment.start, segment.size, segment.offset)) {
      segments_.push_back(segment);
    }
  }
  if (segments_.empty()) {
    close(fd);
    return;
  }
  fd_ = fd;
}

#else

ImageFile::ImageFile() = default;

#endif

std::optional<off_t> ImageFile::OffsetOf(const void* data, std::size_t size) const {
  const auto p = reinterpret_cast<std::uintptr_t>(data);
  for (const Segment& s : segments_) {
    if (p >= s.start && size <= s.size && p - s.start <= s.size - size) {
      return s.offset + static_cast<off_t>(p - s.start);
    }
  }
  return std::nullopt;
}

}  // namespace kv_assets::beast::internal
