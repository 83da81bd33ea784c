#include "kv_assets/http_date.h"

#include <gtest/gtest.h>

#include <ctime>

namespace kv_assets {
namespace {

TEST(HttpDate, ParsesAllThreeForms) {
  // RFC 9110 §5.6.7's examples, all the same instant.
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
}

TEST(HttpDate, RejectsMalformedDates) {
  for (const char* bad : {
           "",
           "garbage",
           "Sun, 06 Nov 1994 08:49:37",
           "Sun, 06 Nov 1994 08:49:37 GMT ",
           " Sun, 06 Nov 1994 08:49:37 GMT",
           "Sun, 6 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 94 08:49:37 GMT",
           "Sun, 31 Nov 1994 08:49:37 GMT",
           "Sun, 29 Feb 1994 08:49:37 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT",
           "Sun, 06 Nov 1994 08:60:00 GMT",
           "Mon, 06 Nov 1994 08:49:37 GMT",                                 // wrong weekday
           "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",  // two dates
           "sun, 06 nov 1994 08:49:37 gmt",
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 06 Nov 1994 08:49:37 +0000",
           "1994-11-06T08:49:37Z",
           "784111777",
       }) {
    EXPECT_EQ(ParseHttpDate(bad), std::nullopt) << bad;
  }
}

TEST(HttpDate, AcceptsLeapDayAndRfc850Century) {
  EXPECT_EQ(ParseHttpDate("Thu, 29 Feb 2024 00:00:00 GMT"), 1709164800);
  EXPECT_EQ(ParseHttpDate("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseHttpDate("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
}

TEST(HttpDate, FormatsImfFixdateAndRoundTrips) {
  EXPECT_EQ(FormatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  for (std::int64_t t : {0LL, 1LL, 951782400LL, 1709164800LL, 4102444800LL, 253402300799LL}) {
    EXPECT_EQ(ParseHttpDate(FormatHttpDate(t)), t) << t;
  }
}

TEST(HttpDate, ClampsOutOfRangeYears) {
  EXPECT_EQ(FormatHttpDate(253402300800LL), "Fri, 31 Dec 9999 23:59:59 GMT");
}

}  // namespace
}  // namespace kv_assets

namespace kv_assets {
namespace {

TEST(HttpDate, CurrentHttpDateIsNow) {
  const std::int64_t before = std::time(nullptr);
  const std::optional<std::int64_t> parsed = ParseHttpDate(CurrentHttpDate());
  const std::int64_t after = std::time(nullptr);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_GE(*parsed, before);
  EXPECT_LE(*parsed, after);
}

}  // namespace
}  // namespace kv_assets
