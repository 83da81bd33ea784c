// generator/sync.h — `kv-assets sync`: put a manifest's bodies and the manifest into a
// key-value store, and prune what no recent release uses.
//
// Sync() lists the namespace's keys and uploads only the bodies whose keys are missing
// (keys are content-addressed, so a present key holds the right bytes), then the manifest's
// JSON, then appends it to the namespace's list of releases. That order is what makes a
// sync safe to kill at any moment: a release is recorded only after everything it names is
// in the store, every key is written atomically, and running it again uploads what is still
// missing. Until the list is written, the store's current release is the previous one.
//
// Prune() keeps the current release and the `keep` before it: it deletes every key of the
// namespace that none of their manifests names. It reads every kept manifest before
// deleting anything, and deletes nothing when one cannot be read. Never run two syncs or
// prunes of one namespace at once: the list of releases is read, changed and written back,
// and a prune does not see the bodies of a sync still uploading.
//
// Example:
//   KV_ASSETS_ASSIGN_OR_RETURN(std::unique_ptr<KeyValueStore> store, OpenStore(url));
//   SyncOptions options{.ns = "app_assets", .out = &std::cout};
//   KV_ASSETS_ASSIGN_OR_RETURN(SyncReport r, Sync(*store, manifest, bodies, options));
//   KV_ASSETS_ASSIGN_OR_RETURN(PruneReport p, Prune(*store, {.ns = "app_assets", .keep = 1}));

#ifndef KV_ASSETS_GENERATOR_SYNC_H_
#define KV_ASSETS_GENERATOR_SYNC_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "generator/manifest_json.h"
#include "kv_assets/key_value_store.h"

namespace kv_assets::gen {

struct SyncOptions {
  std::string ns;               // the store namespace: the manifest's name
  bool dry_run = false;         // list what would be uploaded; write nothing
  std::ostream* out = nullptr;  // progress, one line per batch; nullptr for none
  // Uploads go in batches of at most this many bytes and bodies: progress after each, and
  // never the whole corpus in one request.
  std::size_t batch_bytes = 16 << 20;
  std::size_t batch_bodies = 1000;
  std::int64_t now_unix = 0;  // recorded with the release
};

struct SyncReport {
  std::string manifest_id;
  std::size_t bodies = 0;    // keys the manifest names
  std::size_t uploaded = 0;  // bodies written (or that would be, for a dry run)
  std::uint64_t uploaded_bytes = 0;
  bool manifest_uploaded = false;
  bool release_recorded = false;  // false when it already was the current release
};

// Uploads what `manifest` needs (see the top of this file). `bodies` are the bytes of every
// key the manifest names. Errors name the store's URL.
absl::StatusOr<SyncReport> Sync(KeyValueStore& store, const ManifestData& manifest,
                                const std::vector<StoredBody>& bodies, const SyncOptions& options);

struct PruneOptions {
  std::string ns;
  int keep = 1;  // releases kept before the current one
  bool dry_run = false;
  std::ostream* out = nullptr;
  // A manifest whose keys survive whatever the list of releases says (the one just synced).
  const ManifestData* also_keep = nullptr;
};

struct PruneReport {
  std::vector<std::string> kept_manifests;  // ids, oldest first
  std::vector<std::string> deleted;         // or that would be, for a dry run
};

absl::StatusOr<PruneReport> Prune(KeyValueStore& store, const PruneOptions& options);

// One entry of the list of releases: ns/.kv-assets/releases.json.
struct Release {
  std::string manifest_id;
  std::int64_t synced_unix = 0;
};

// The namespace's releases, oldest first; empty when none was recorded.
absl::StatusOr<std::vector<Release>> ReadReleases(const KeyValueStore& store, std::string_view ns);
std::string ReleasesToJson(const std::vector<Release>& releases);

// The manifest stored under `id` in namespace `ns`.
absl::StatusOr<ManifestData> ReadManifest(const KeyValueStore& store, std::string_view ns,
                                          std::string_view id);

// Every key `manifest` names (bodies and variants).
std::vector<std::string> KeysOf(const ManifestData& manifest);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_SYNC_H_
