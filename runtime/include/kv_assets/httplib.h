// kv_assets/httplib.h — serves a kv_assets::Server's assets from a cpp-httplib server with one
// call, beside the program's own routes.
//
// Part of the KvAssets::httplib component (find_package(KvAssets REQUIRED COMPONENTS
// httplib)), written against cpp-httplib 0.11.4, the version Debian 12 ships.
//
// Example:
//
//   #include <httplib.h>
//   #include "app_assets.h"
//   #include "kv_assets/httplib.h"
//
//   const kv_assets::Server assets(app_assets::kManifest);
//
//   int main() {
//     httplib::Server svr;
//     kv_assets::httplib::Mount(svr, assets);  // /static/... from the manifest
//     svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
//       res.set_content("<link rel=stylesheet href=\"" +
//                       std::string(app_assets::Tag("css/site.css")) + "\">", "text/html");
//     });
//     svr.listen("127.0.0.1", 8080);
//   }
//
// How it fits into cpp-httplib 0.11.4, and what it changes there:
//  - It installs the server's pre-routing handler: every target under the manifest's prefix
//    is answered by `assets`, for every method (405 with Allow for all but GET and HEAD);
//    every other target goes on to your routes. A pre-routing handler of your own, set
//    after Mount(), replaces it.
//  - Absolute-form targets ("GET http://host/path", RFC 9112 §3.2.2) reach your routes too:
//    the handler rewrites them to origin-form, with Host set to their authority, before
//    routing. A target with a byte RFC 9112 does not allow (a raw backslash, space, ...) is a
//    400 on every route. (cpp-httplib gives the hook a const Request; the handler changes the
//    request in place, which is well defined because cpp-httplib's own Request is not const.)
//  - Bodies are not copied: each is written to the socket from the program image through a
//    content provider. cpp-httplib's own Range handling and compression are kept off asset
//    answers (KvAssets answers Range itself and has its precompressed variants).
//  - It installs the server's error handler, for the requests cpp-httplib refuses before any
//    handler runs: a Range field it cannot parse (it would answer 416; KvAssets answers such
//    a request with the whole body, RFC 9110 §14.2). Other errors are left as they were. A
//    program with its own error handler calls AnswerRefusedRequest() from it instead.
//  - A request with a body on an asset target (a POST, say) is answered and the connection
//    closed, since cpp-httplib would otherwise read the unread body as the next request.
//  - cpp-httplib refuses methods outside its list (GET, HEAD, POST, PUT, DELETE, CONNECT,
//    OPTIONS, TRACE, PATCH, PRI) with 400 before any handler runs; those get 400, not 405.
//  - cpp-httplib sends a 304 a Content-Length whatever the handler does; KvAssets makes it
//    the length of the representation, as RFC 9110 §8.6 allows, rather than its "0".
//
// Threads: cpp-httplib answers each connection on a thread of its pool; `assets` holds only
// immutable data, so that is safe. `assets` must outlive the server.

#ifndef KV_ASSETS_HTTPLIB_H_
#define KV_ASSETS_HTTPLIB_H_

#include <httplib.h>

#include "kv_assets/server.h"

namespace kv_assets::httplib {

// Answers every target `assets` owns on `svr`, as described above.
void Mount(::httplib::Server& svr, const kv_assets::Server& assets);

// For an error handler of your own: when `req` is an asset request that cpp-httplib refused
// before routing, puts KvAssets's answer into `res` and returns true; else changes nothing
// and returns false.
//
//   svr.set_error_handler([&](const httplib::Request& req, httplib::Response& res) {
//     if (kv_assets::httplib::AnswerRefusedRequest(assets, req, res)) {
//       return httplib::Server::HandlerResponse::Handled;
//     }
//     ...your own error pages...
//   });
bool AnswerRefusedRequest(const kv_assets::Server& assets, const ::httplib::Request& req,
                          ::httplib::Response& res);

}  // namespace kv_assets::httplib

#endif  // KV_ASSETS_HTTPLIB_H_
