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
//    (and "*", for OPTIONS *) is answered by `assets`, for every method (405 with Allow for
//    all but GET and HEAD); every other target goes on to your routes. Handlers of your own
//    for the three hooks below, set after Mount(), replace Mount's.
//  - Absolute-form targets ("GET http://host/path", RFC 9112 §3.2.2) reach your routes too:
//    the handler rewrites them to origin-form, with Host set to their authority, before
//    routing. A target with a byte RFC 9112 does not allow (a raw backslash, ...) is a 400
//    on every route. (cpp-httplib gives the hook a const Request; the handler changes the
//    request in place, which is well defined because cpp-httplib's own Request is not const.)
//  - Bodies are not copied: each is written to the socket from the program image through a
//    content provider. cpp-httplib's own Range handling and compression are kept off asset
//    answers (KvAssets answers Range itself and has its precompressed variants).
//  - It turns on TCP_NODELAY (set_tcp_nodelay): cpp-httplib sends a head and its body in two
//    writes, and with Nagle's algorithm the body waits for the client's delayed ACK.
//  - It installs the post-routing handler, to take off the "Accept-Ranges" cpp-httplib adds
//    to every answer to HEAD: an asset's 304 or error has none (HEAD answers as GET does).
//  - It installs the error handler, for requests cpp-httplib refuses before any handler
//    runs. A Range it cannot parse (it would answer 416) gets KvAssets's answer, which
//    ignores such a field (RFC 9110 §14.2). A request it stopped reading (a method outside
//    its list, a request line over 8 KiB: 414, a field line over 8 KiB: 400) would leave its
//    unread bytes to be read as the next request, so it gets a fixed text and the
//    connection closes; a method outside the list on an asset gets 405 like any other.
//    Other errors are left to cpp-httplib. A program with its own error handler calls
//    AnswerRefusedRequest() from it.
//  - A request with a body on an asset target (a POST, say) is answered and the connection
//    closed, since cpp-httplib would otherwise read the unread body as the next request.
//  - cpp-httplib sends a 304 a Content-Length whatever the handler does; KvAssets makes it
//    the length of the representation, as RFC 9110 §8.6 allows, rather than its "0".
//
// What cpp-httplib 0.11.4 itself decides, and Mount cannot change (tests/serving checks each):
//  - Pipelined requests are lost: it drops what it read past the end of a request, and the
//    connection then waits for its keep-alive timeout. Browsers do not pipeline.
//  - It cuts a "#fragment" off the target (KvAssets would answer 400), refuses a query with a
//    second "?" (400), and limits neither the number of fields nor a body it does not read.
//  - Each open connection holds a thread of its pool, 8 by default; and it closes a
//    connection after 5 requests unless set_keep_alive_max_count() says otherwise. For many
//    keep-alive clients set both (svr.new_task_queue, set_keep_alive_max_count).
//
// Threads: cpp-httplib answers each connection on a thread of its pool; `assets` holds only
// immutable data, so that is safe. `assets` must outlive the server.

#ifndef KV_ASSETS_HTTPLIB_H_
#define KV_ASSETS_HTTPLIB_H_

#include <httplib.h>

#include "kv_assets/server.h"
#include "kv_assets/source.h"
#include "kv_assets/store.h"

namespace kv_assets::httplib {

// Answers every target `assets` owns on `svr`, as described above.
void Mount(::httplib::Server& svr, const kv_assets::Server& assets);
// A manifest-only build (kv_assets/store.h): the bodies come from `store`, read on
// cpp-httplib's own threads (a StoreSource, whose errors go to stderr); `assets` and `store`
// must outlive the server.
void Mount(::httplib::Server& svr, const kv_assets::Server& assets, const kv_assets::Store& store);
// The same for another source of answers (kv_assets/source.h), such as KvAssets::live's
// LiveServer: each answer's owner is kept until cpp-httplib has written it.
void Mount(::httplib::Server& svr, const kv_assets::AssetSource& assets);

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
bool AnswerRefusedRequest(const kv_assets::AssetSource& assets, const ::httplib::Request& req,
                          ::httplib::Response& res);

}  // namespace kv_assets::httplib

#endif  // KV_ASSETS_HTTPLIB_H_
