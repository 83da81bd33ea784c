// generator/serve.h — `kv-assets serve <folder>`: the folder served live (KvAssets::live) by
// an AssetServer (KvAssets::beast) until SIGINT or SIGTERM, for developing without a program.
// Built only where Boost is found (KV_ASSETS_HAVE_SERVE); its usage is in cli.cc.
//
// Example:
//   $ kv-assets serve web/public --prefix=/static/ --port=0
//   serving web/public on http://127.0.0.1:41523/static/

#ifndef KV_ASSETS_GENERATOR_SERVE_H_
#define KV_ASSETS_GENERATOR_SERVE_H_

#include "absl/status/status.h"
#include "generator/cli.h"

namespace kv_assets::gen {

// Serves until a signal; errors name the flag or the folder at fault.
absl::Status Serve(const ParsedArgs& args);

}  // namespace kv_assets::gen

#endif  // KV_ASSETS_GENERATOR_SERVE_H_
