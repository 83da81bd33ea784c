// generator/last_modified.h — step 3 of 6: the Last-Modified time each file is served with.
//
// From the hashed files to one time per file, taken from one of
//
//   mtime  the file's modification time. When SOURCE_DATE_EPOCH is set, that instead, for
//          every file: a fresh checkout's mtimes are the time of the checkout, so a
//          reproducible build cannot use them.
//   epoch  SOURCE_DATE_EPOCH for every file; an error when it is not set.
//   git    the committer time of the last commit that changed the file: what
//          `git log -1 --format=%ct -- <file>` prints, so checking out the same commit twice
//          gives the same times. Files git cannot date are treated as in mtime mode: files
//          HEAD does not have (untracked, ignored, or the repository has no commit yet), and
//          files whose bytes differ from HEAD's (after git's clean filters: core.autocrlf,
//          .gitattributes eol and ident). SOURCE_DATE_EPOCH does not replace commit times.
//
// Git mode walks history once for all files, newest commit first. A file's search goes from
// HEAD down through commits whose entry for it equals their parent's; where a commit's
// entry differs from every parent's, that commit dated it. At a merge the search follows the
// first parent with the same entry: git's default history simplification, so a side branch
// whose change the merge did not keep does not count. A shallow clone's boundary commit has
// no parents to compare with, so it counts as having changed every file it contains: in a
// depth-1 clone every file gets the time of HEAD's commit.
//
// Emit() then caps every time at the generator's clock (EmitOptions::latest_last_modified).
//
// Example:
//   absl::StatusOr<FileTimes> t =
//       LastModifiedTimes("/src/app/public", hashed, {.source = LastModifiedSource::kGit});
//   for (std::size_t i = 0; i < hashed.size(); ++i) hashed[i].last_modified = t->times[i];

#ifndef KV_ASSETS_GENERATOR_LAST_MODIFIED_H_
#define KV_ASSETS_GENERATOR_LAST_MODIFIED_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/hash.h"

namespace kv_assets::gen {

enum class LastModifiedSource { kMtime, kGit, kEpoch };

struct LastModifiedOptions {
  LastModifiedSource source = LastModifiedSource::kMtime;
  std::optional<std::int64_t> source_date_epoch;  // SOURCE_DATE_EPOCH, when it is set
};

struct FileTimes {
  std::vector<std::int64_t> times;  // seconds since the Unix epoch, one per file, in order
  // Git mode: the files of the repository that change when HEAD moves (a commit, a checkout,
  // a reset), absolute; the generator must run again when one does. Those that exist only:
  // HEAD, logs/HEAD, the current branch's loose ref or else its folder and packed-refs, and
  // shallow. Empty in the other modes.
  std::vector<std::string> watched;
};

// The times of `files`, which were found in `folder` (absolute). Fails in epoch mode when
// SOURCE_DATE_EPOCH is not set; in git mode when `folder` is not in a git work tree (naming
// the folder), or with the path and libgit2's message when the repository cannot be read.
absl::StatusOr<FileTimes> LastModifiedTimes(const std::string& folder,
                                            const std::vector<PreparedFile>& files,
                                            const LastModifiedOptions& options);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_LAST_MODIFIED_H_
