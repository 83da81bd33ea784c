// The request path allocates nothing: operator new is counted for this whole binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
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
  struct Case {
    std::string_view method, target, inm, ims;
    int status;
  };
  const Case cases[] = {
      {"GET", "/static/css/a.css", "", "", 200},
      {"GET", tagged, "", "", 200},
      {"HEAD", tagged, "", "", 200},
      {"GET", tagged, etag, "", 304},
      {"GET", "/static/css/a.css", "", later, 304},
      {"GET", "/static/nope.css", "", "", 404},
      {"GET", long_target, "", "", 404},
      {"GET", "/static/%2e%2e/x", "", "", 400},
      {"POST", "/static/css/a.css", "", "", 405},
  };
  long total = 0;
  for (const Case& c : cases) {
    Request r{c.method, c.target, c.inm, c.ims};
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
