#include "generator/sync.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"
#include "common/strings.h"
#include "generator/integrity.h"
#include "generator/status_macros.h"

namespace kv_assets::gen {
namespace {

namespace json = ::kv_assets::internal::json;

constexpr std::string_view kReleasesFormat = "kv-assets-releases/1";

std::string Megabytes(std::uint64_t bytes) {
  return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6);
}

}  // namespace

std::vector<std::string> KeysOf(const ManifestData& manifest) {
  std::vector<std::string> keys;
  for (const ManifestAsset& a : manifest.assets) {
    if (!a.key.empty()) keys.push_back(a.key);
    for (const ManifestVariant& v : a.variants) {
      if (!v.key.empty()) keys.push_back(v.key);
    }
  }
  return keys;
}

std::string ReleasesToJson(const std::vector<Release>& releases) {
  std::string out = absl::StrCat("{\"format\":", json::Quote(kReleasesFormat), ",\"releases\":[");
  for (std::size_t i = 0; i < releases.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n",
                    "{\"manifest\":", json::Quote(releases[i].manifest_id),
                    ",\"synced_unix\":", releases[i].synced_unix, "}");
  }
  out += "\n]}\n";
  return out;
}

absl::StatusOr<std::vector<Release>> ReadReleases(const KeyValueStore& store, std::string_view ns) {
  const std::string key = ReleasesKey(ns);
  absl::StatusOr<StoreValue> value = store.Get(key);
  if (absl::IsNotFound(value.status())) return std::vector<Release>();
  if (!value.ok()) return value.status();
  absl::StatusOr<json::Value> v = json::Parse(value->bytes());
  if (!v.ok() || v->Get("format").string() != kReleasesFormat) {
    return absl::DataLossError(
        absl::StrCat(store.url(), ": ", key, ": not a list of releases; fix or delete it by hand"));
  }
  std::vector<Release> out;
  for (const json::Value& r : v->Get("releases").array()) {
    out.push_back(Release{r.Get("manifest").string(), r.Get("synced_unix").integer()});
  }
  return out;
}

absl::StatusOr<ManifestData> ReadManifest(const KeyValueStore& store, std::string_view ns,
                                          std::string_view id) {
  const std::string key = ManifestKey(ns, id);
  KV_ASSETS_ASSIGN_OR_RETURN(StoreValue value, store.Get(key));
  absl::StatusOr<ManifestData> m = ManifestFromJson(value.bytes());
  if (!m.ok()) {
    return absl::DataLossError(absl::StrCat(store.url(), ": ", key, ": ", m.status().message()));
  }
  return m;
}

namespace {

// The identity bodies' keys and the integrity their bytes must have.
std::map<std::string_view, std::string_view> IntegrityByKey(const ManifestData& manifest) {
  std::map<std::string_view, std::string_view> out;
  for (const ManifestAsset& a : manifest.assets) {
    if (!a.integrity.empty()) out.emplace(a.key, a.integrity);
  }
  return out;
}

// A body about to be uploaded holds the bytes the manifest's integrity names: pages check it
// (<script integrity>), so an upload that differs would break them, not only waste a key.
absl::Status CheckIntegrity(const StoredBody& body,
                            const std::map<std::string_view, std::string_view>& integrity) {
  const auto it = integrity.find(body.key);
  if (it == integrity.end()) return absl::OkStatus();
  const std::string actual = Integrity(body.bytes);
  if (actual == it->second) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(body.key, ": the bytes to upload have integrity ", actual,
                                          ", the manifest says ", ToAbsl(it->second),
                                          "; nothing uploaded"));
}

// The bodies the store lacks, every one checked before anything is written: a body the store
// cannot hold, or that is not what the manifest promises, fails the sync before it has
// changed anything.
absl::StatusOr<std::vector<const StoredBody*>> MissingBodies(const KeyValueStore& store,
                                                             const ManifestData& manifest,
                                                             const std::vector<StoredBody>& bodies,
                                                             const std::set<std::string>& present) {
  const std::map<std::string_view, std::string_view> integrity = IntegrityByKey(manifest);
  std::vector<const StoredBody*> missing;
  for (const StoredBody& b : bodies) {
    if (present.contains(b.key)) continue;
    KV_ASSETS_RETURN_IF_ERROR(store.CheckEntry(b.key, b.bytes.size()));
    KV_ASSETS_RETURN_IF_ERROR(CheckIntegrity(b, integrity));
    missing.push_back(&b);
  }
  return missing;
}

// Uploads `missing` in batches of options.batch_bytes / batch_bodies, with a progress line
// after each.
absl::Status Upload(KeyValueStore& store, const std::vector<const StoredBody*>& missing,
                    const SyncOptions& options, SyncReport& report) {
  std::ostream* out = options.out;
  std::size_t next = 0;
  while (next < missing.size()) {
    std::vector<KeyValue> batch;
    std::size_t bytes = 0;
    while (next < missing.size() && batch.size() < options.batch_bodies &&
           (batch.empty() || bytes + missing[next]->bytes.size() <= options.batch_bytes)) {
      const StoredBody& b = *missing[next++];
      if (options.dry_run && out != nullptr) {
        *out << "would upload " << b.key << " (" << b.bytes.size() << " bytes)\n";
      }
      batch.push_back(KeyValue{b.key, b.bytes});
      bytes += b.bytes.size();
    }
    if (!options.dry_run) KV_ASSETS_RETURN_IF_ERROR(store.Put(batch));
    report.uploaded += batch.size();
    report.uploaded_bytes += bytes;
    if (!options.dry_run && out != nullptr) {
      *out << "kv-assets: uploaded " << report.uploaded << "/" << missing.size() << " ("
           << Megabytes(report.uploaded_bytes) << ")\n";
    }
  }
  return absl::OkStatus();
}

// Writes `entry` durably, or says it would.
absl::Status PutDurably(KeyValueStore& store, const KeyValue& entry, const SyncOptions& options,
                        std::string_view would) {
  if (options.dry_run) {
    if (options.out != nullptr) *options.out << would << "\n";
    return absl::OkStatus();
  }
  KV_ASSETS_RETURN_IF_ERROR(store.Put({&entry, 1}));
  return store.Flush();
}

// The manifest, then the release: a release is never recorded before everything it names is
// stored. A manifest synced again (a rollback) moves to the end of the list, so the list stays
// in the order the releases became current, each once.
absl::Status Record(KeyValueStore& store, std::string_view json, bool manifest_present,
                    const SyncOptions& options, SyncReport& report) {
  const std::string manifest_key = ManifestKey(options.ns, report.manifest_id);
  if (!manifest_present) {
    report.manifest_uploaded = true;
    KV_ASSETS_RETURN_IF_ERROR(PutDurably(store, KeyValue{manifest_key, json}, options,
                                         absl::StrCat("would upload ", manifest_key)));
  }
  KV_ASSETS_ASSIGN_OR_RETURN(std::vector<Release> releases, ReadReleases(store, options.ns));
  if (!releases.empty() && releases.back().manifest_id == report.manifest_id) {
    return absl::OkStatus();
  }
  std::erase_if(releases, [&](const Release& r) { return r.manifest_id == report.manifest_id; });
  releases.push_back(Release{report.manifest_id, options.now_unix});
  report.release_recorded = true;
  const std::string text = ReleasesToJson(releases);
  return PutDurably(store, KeyValue{ReleasesKey(options.ns), text}, options,
                    absl::StrCat("would record release ", report.manifest_id));
}

}  // namespace

absl::StatusOr<SyncReport> Sync(KeyValueStore& store, const ManifestData& manifest,
                                const std::vector<StoredBody>& bodies, const SyncOptions& options) {
  SyncReport report;
  const std::string json = ManifestToJson(manifest);
  report.manifest_id = ManifestId(json);
  report.bodies = bodies.size();
  std::ostream* out = options.out;

  // What the store has decides, not what a previous run believes it uploaded.
  KV_ASSETS_ASSIGN_OR_RETURN(std::vector<std::string> listed,
                             store.List(NamespacePrefix(options.ns)));
  const std::set<std::string> present(listed.begin(), listed.end());
  KV_ASSETS_ASSIGN_OR_RETURN(std::vector<const StoredBody*> missing,
                             MissingBodies(store, manifest, bodies, present));
  if (out != nullptr) {
    std::uint64_t missing_bytes = 0;
    for (const StoredBody* b : missing) missing_bytes += b->bytes.size();
    *out << "kv-assets: " << store.url() << ": " << present.size() << " keys under " << options.ns
         << "/, " << missing.size() << " of " << bodies.size() << " bodies missing ("
         << Megabytes(missing_bytes) << ")\n";
  }
  KV_ASSETS_RETURN_IF_ERROR(Upload(store, missing, options, report));
  // The bodies are durable before anything names them.
  if (!options.dry_run && !missing.empty()) KV_ASSETS_RETURN_IF_ERROR(store.Flush());
  KV_ASSETS_RETURN_IF_ERROR(Record(
      store, json, present.contains(ManifestKey(options.ns, report.manifest_id)), options, report));
  if (out != nullptr) {
    *out << "kv-assets: " << store.url() << ": " << (options.dry_run ? "would be " : "")
         << "current release " << report.manifest_id << " (" << manifest.assets.size()
         << " assets, " << report.uploaded << " bodies uploaded)\n";
  }
  return report;
}

absl::StatusOr<PruneReport> Prune(KeyValueStore& store, const PruneOptions& options) {
  PruneReport report;
  std::ostream* out = options.out;
  KV_ASSETS_ASSIGN_OR_RETURN(std::vector<Release> releases, ReadReleases(store, options.ns));
  if (releases.empty() && options.also_keep == nullptr) {
    // Without a list of releases nothing is known to be unused.
    return absl::FailedPreconditionError(
        absl::StrCat(store.url(), ": no release of ", ToAbsl(options.ns), " is recorded (",
                     ReleasesKey(options.ns), "); nothing pruned"));
  }
  const std::size_t keep = static_cast<std::size_t>(std::max(0, options.keep)) + 1;
  std::vector<Release> kept(
      releases.end() - static_cast<std::ptrdiff_t>(std::min(keep, releases.size())),
      releases.end());

  std::set<std::string> referenced = {ReleasesKey(options.ns)};
  for (const Release& r : kept) {
    // A kept manifest that cannot be read could name any key: stop before deleting one.
    KV_ASSETS_ASSIGN_OR_RETURN(ManifestData m, ReadManifest(store, options.ns, r.manifest_id));
    for (std::string& k : KeysOf(m)) referenced.insert(std::move(k));
    referenced.insert(ManifestKey(options.ns, r.manifest_id));
    report.kept_manifests.push_back(r.manifest_id);
  }
  if (options.also_keep != nullptr) {
    for (std::string& k : KeysOf(*options.also_keep)) referenced.insert(std::move(k));
    referenced.insert(ManifestKey(options.ns, ManifestId(ManifestToJson(*options.also_keep))));
  }

  KV_ASSETS_ASSIGN_OR_RETURN(std::vector<std::string> listed,
                             store.List(NamespacePrefix(options.ns)));
  for (std::string& key : listed) {
    if (!referenced.contains(key)) report.deleted.push_back(std::move(key));
  }
  if (out != nullptr) {
    *out << "kv-assets: " << store.url() << ": keeping " << kept.size() << " of " << releases.size()
         << " releases, " << (options.dry_run ? "would delete " : "deleting ")
         << report.deleted.size() << " of " << listed.size() << " keys\n";
  }
  if (options.dry_run) {
    if (out != nullptr) {
      for (const std::string& key : report.deleted) *out << "would delete " << key << "\n";
    }
    return report;
  }
  // The list first: an entry for a manifest that is being deleted would mislead a rollback.
  if (kept.size() != releases.size()) {
    const std::string text = ReleasesToJson(kept);
    const KeyValue entry{ReleasesKey(options.ns), text};
    KV_ASSETS_RETURN_IF_ERROR(store.Put({&entry, 1}));
  }
  constexpr std::size_t kDeleteBatch = 1000;
  for (std::size_t first = 0; first < report.deleted.size(); first += kDeleteBatch) {
    const std::size_t n = std::min(kDeleteBatch, report.deleted.size() - first);
    KV_ASSETS_RETURN_IF_ERROR(store.Delete({report.deleted.data() + first, n}));
  }
  return report;
}

}  // namespace kv_assets::gen
