// generator/link.h — step 4 of 6: references between files, rewritten to tagged names, and
// tags that cover what a file references.
//
// A stylesheet served as /static/css/site.<tag>.css that says url(../fonts/fa.woff2) would
// make the browser fetch the untagged font, fresh for a minute, forever. Link() finds the
// references (generator/css.h for stylesheets; the sourceMappingURL comment of scripts;
// the "file" member of source maps), rewrites each one that names a file of the folder to
// that file's tagged name, and names every file by the bytes it is served with. So a file's
// tag covers, transitively, everything it references: a new font gives the stylesheet a new
// URL, and a file whose references did not change keeps its tag.
//
// The rules (docs/references.md has them with their tests):
//   - A reference names what the browser would request and the server answer: resolved
//     against the file's URL, decoded by the server's rules (an encoded '/' is refused).
//   - Relative references stay relative, written as they were but for the file name, so the
//     bytes do not depend on PREFIX; root-relative ones under PREFIX become Asset::url().
//   - `?query` and `#fragment` are kept. Names are looked up percent-decoded and the tagged
//     file name is written percent-encoded, as Asset::url() is.
//   - Left as written, silently: any scheme ("data:", "https:" …, but "data/x.png" and
//     "http-diagram.jpg" are files), "//host", "#id", "%23id", an empty reference, and
//     references outside PREFIX (a root-relative one, or a relative one that climbs above
//     it): those name something the application serves, not a file here.
//   - A reference to a name inside the folder that is not served is a warning naming the
//     file, the line and the reference, and stays as written; `strict` makes it an error.
//   - A cycle (a.css imports b.css imports a.css; a script and its map) gets its tags from
//     the bytes of all its files together, one strongly connected component at a time, so
//     there is no pass limit. Every ETag is still the hash of the final bytes.
//
// Every file also gets its Subresource Integrity value here (generator/integrity.h), from
// the bytes it is served with.
//
// Example:
//   LinkOptions options{.prefix = "/static/"};
//   KV_ASSETS_ASSIGN_OR_RETURN(LinkReport report, Link(hashed, options));
//   for (const std::string& w : report.warnings) std::cerr << w << "\n";

#ifndef KV_ASSETS_GENERATOR_LINK_H_
#define KV_ASSETS_GENERATOR_LINK_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/hash.h"

namespace kv_assets::gen {

struct LinkOptions {
  std::string prefix = "/";  // PREFIX: root-relative references under it are assets
  bool rewrite = true;       // false (REWRITE NONE): content and tags as hashed
  bool strict = false;       // STRICT: a reference to a missing file fails the run
};

struct LinkReport {
  // "<abs path>:<line>: warning: <reference>: <what is wrong>; left as written".
  std::vector<std::string> warnings;
  std::size_t references = 0;     // references rewritten
  std::size_t files_changed = 0;  // files whose bytes changed
  std::size_t cycles = 0;         // strongly connected components of more than one file
};

// Rewrites `files` (sorted by path) in place: content, digest, tag, ETag, tagged path and
// integrity. With options.strict, fails naming every reference a warning would name.
absl::StatusOr<LinkReport> Link(std::vector<PreparedFile>& files, const LinkOptions& options);

// Whether `reference` (as the browser reads it) is one Link() leaves alone whatever the
// folder holds: a scheme, "//host", "#id", "%23id", or empty.
bool IsForeignReference(std::string_view reference);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_LINK_H_
