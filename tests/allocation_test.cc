// The request path allocates nothing: operator new is counted for this whole binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>

#include "kv_assets/http_date.h"
#include "kv_assets/server.h"
#include "site_assets.h"
#include "tests/allocation_counter.h"

namespace kv_assets {
namespace {

TEST(Allocation, RequestPathAllocatesNothing) {
  const Server server(site_assets::kManifest);
  const std::string tagged(site_assets::kManifest.Find("css/a.css")->url());
  const std::string etag(site_assets::kManifest.Find("css/a.css")->etag());
  const std::string long_target = "/static/" + std::string(20000, 'x');
  const std::string later =
      FormatHttpDate(site_assets::kManifest.Find("css/a.css")->last_modified_unix + 60);
  using Field = std::optional<std::string_view>;
  struct Case {
    std::string_view method, target;
    Field inm, ims, accept_encoding, range, if_match;
    int status;
  };
  const Field none;
  const Case cases[] = {
      {"GET", "/static/css/a.css", none, none, none, none, none, 200},
      {"GET", tagged, none, none, "gzip, deflate, br, zstd", none, none, 200},
      {"HEAD", tagged, none, none, none, none, none, 200},
      {"GET", tagged, etag, none, none, none, none, 304},
      {"GET", "/static/css/a.css", none, later, none, none, none, 304},
      {"GET", tagged, none, none, none, "bytes=0-3", none, 206},
      {"GET", tagged, none, none, none, "bytes=0-1,4-5,-2", none, 206},
      {"GET", tagged, none, none, none, "bytes=100000-", none, 416},
      {"GET", tagged, none, none, none, none, "\"other\"", 412},
      {"GET", tagged, none, none, "identity;q=0", none, none, 406},
      {"GET", "/static/nope.css", none, none, none, none, none, 404},
      {"GET", long_target, none, none, none, none, none, 404},
      {"GET", "/static/%2e%2e/x", none, none, none, none, none, 400},
      {"POST", "/static/css/a.css", none, none, none, none, none, 405},
  };
  long total = 0;
  for (const Case& c : cases) {
    Request r;
    r.method = c.method;
    r.target = c.target;
    r.if_none_match = c.inm;
    r.if_modified_since = c.ims;
    r.accept_encoding = c.accept_encoding;
    r.range = c.range;
    r.if_match = c.if_match;
    const long before = test_util::Allocations();
    const Response res = server.Handle(r);
    const long allocated = test_util::Allocations() - before;
    EXPECT_EQ(res.status, c.status) << c.target;
    EXPECT_EQ(allocated, 0) << c.method << " " << c.target;
    total += allocated;
  }
  // The counter itself works (otherwise the zeros above prove nothing).
  const long before = test_util::Allocations();
  auto* probe = new std::string(100, 'x');
  delete probe;
  EXPECT_GT(test_util::Allocations() - before, 0);
  EXPECT_EQ(total, 0);
}

}  // namespace
}  // namespace kv_assets
