// kv-assets serve: a development server over an asset folder (KvAssets::live behind
// KvAssets::beast's AssetServer), with generate's flags where they apply.

#include "generator/serve.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>
#include <csignal>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "generator/compress.h"
#include "generator/scan.h"
#include "generator/status_macros.h"
#include "kv_assets/beast_server.h"
#include "kv_assets/live.h"

namespace kv_assets::gen {
namespace {

namespace net = boost::asio;

struct ServeOptions {
  std::string folder;
  net::ip::address address = net::ip::make_address("127.0.0.1");
  std::uint16_t port = 8080;
  live::LiveOptions live;
};

absl::StatusOr<ServeOptions> ReadServeOptions(const ParsedArgs& args) {
  if (args.positional.size() != 1) {
    return absl::InvalidArgumentError(args.positional.empty() ? "no folder given"
                                                              : "more than one folder given");
  }
  ServeOptions o;
  o.folder = args.positional[0];
  if (std::optional<std::string> value = args.Value("--address")) {
    boost::system::error_code ec;
    o.address = net::ip::make_address(*value, ec);
    if (ec)
      return absl::InvalidArgumentError(absl::StrCat("--address=", *value, ": not an IP address"));
  }
  if (std::optional<std::string> value = args.Value("--port")) {
    int port = -1;
    if (!absl::SimpleAtoi(*value, &port) || port < 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--port=", *value, ": expected a port number, 0 to 65535"));
    }
    o.port = static_cast<std::uint16_t>(port);
  }
  o.live.prefix = args.Value("--prefix").value_or("/");
  if (absl::Status s = CheckUrlPrefix(o.live.prefix); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--prefix=", o.live.prefix, ": ", s.message()));
  }
  o.live.excludes = args.Values("--exclude");
  KV_ASSETS_RETURN_IF_ERROR(ReadCompressFlag(args.Value("--compress"), o.live.codings));
  return o;
}

// "http://127.0.0.1:8080/static/", with brackets around an IPv6 address.
std::string UrlOf(const net::ip::tcp::endpoint& at, std::string_view prefix) {
  const std::string host = at.address().is_v6() ? absl::StrCat("[", at.address().to_string(), "]")
                                                : at.address().to_string();
  return absl::StrCat("http://", host, ":", at.port(), ToAbsl(prefix));
}

}  // namespace

absl::Status Serve(const ParsedArgs& args) {
  KV_ASSETS_ASSIGN_OR_RETURN(ServeOptions o, ReadServeOptions(args));
  const std::string prefix = o.live.prefix;
  absl::StatusOr<std::unique_ptr<live::LiveServer>> opened =
      live::LiveServer::Open(o.folder, std::move(o.live));
  if (!opened.ok()) return opened.status();
  const std::unique_ptr<live::LiveServer> assets = *std::move(opened);
  net::io_context io;
  std::unique_ptr<beast::AssetServer> server;
  try {
    server = std::make_unique<beast::AssetServer>(io, net::ip::tcp::endpoint(o.address, o.port),
                                                  *assets, nullptr);
  } catch (const boost::system::system_error& e) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.address.to_string(), ":",
                                               o.port, ": ", e.code().message()));
  }
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server->Stop(); });
  std::cout << "serving " << o.folder << " on " << UrlOf(server->local_endpoint(), prefix)
            << std::endl;
  io.run();  // until a signal stops the server and its connections have closed
  return absl::OkStatus();
}

}  // namespace kv_assets::gen
