// The request-field parsers alone: Accept-Encoding, entity-tag lists, Range.
#include "kv_assets/internal/http_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kv_assets::internal {
namespace {

using AE = AcceptEncoding;

TEST(AcceptEncoding, WeightsAndDefaults) {
  const AE none = ParseAcceptEncoding("");
  EXPECT_EQ(none.Weight(AE::kIdentity), 1);  // acceptable, as the last choice
  EXPECT_EQ(none.Weight(AE::kGzip), 0);

  const AE ae = ParseAcceptEncoding("gzip;q=1, br;q=0.5, zstd;q=0.125");
  EXPECT_EQ(ae.Weight(AE::kGzip), 1000);
  EXPECT_EQ(ae.Weight(AE::kBr), 500);
  EXPECT_EQ(ae.Weight(AE::kZstd), 125);
  EXPECT_EQ(ae.Weight(AE::kIdentity), 1);
}

TEST(AcceptEncoding, BrowserFieldsReadAsTheFullParseReadsThem) {
  // The two strings the parser recognises whole, against the same text with a trailing space,
  // which takes the full parse.
  for (const std::string field : {"gzip, deflate, br, zstd", "gzip, deflate, br"}) {
    const AE fast = ParseAcceptEncoding(field);
    const AE slow = ParseAcceptEncoding(field + " ");
    for (int e = 0; e < AE::kEntries; ++e) EXPECT_EQ(fast.listed[e], slow.listed[e]) << field;
  }
}

TEST(AcceptEncoding, ZeroExcludesInEveryForm) {
  for (const char* field : {"gzip;q=0", "gzip;q=0.0", "gzip; q=0.00", "gzip ;Q=0.000"}) {
    EXPECT_EQ(ParseAcceptEncoding(field).Weight(AE::kGzip), 0) << field;
  }
}

TEST(AcceptEncoding, StarCoversUnlistedCodingsAndIdentity) {
  const AE star = ParseAcceptEncoding("*");
  EXPECT_EQ(star.Weight(AE::kBr), 1000);
  EXPECT_EQ(star.Weight(AE::kIdentity), 1);
  const AE no_identity = ParseAcceptEncoding("br, *;q=0");
  EXPECT_EQ(no_identity.Weight(AE::kBr), 1000);
  EXPECT_EQ(no_identity.Weight(AE::kGzip), 0);
  EXPECT_EQ(no_identity.Weight(AE::kIdentity), 0);
  // An explicit identity entry wins over "*;q=0".
  EXPECT_EQ(ParseAcceptEncoding("*;q=0, identity").Weight(AE::kIdentity), 1000);
  EXPECT_EQ(ParseAcceptEncoding("identity;q=0").Weight(AE::kIdentity), 0);
}

TEST(AcceptEncoding, CaseInsensitiveAndAliases) {
  const AE ae = ParseAcceptEncoding("GZIP, Br, x-gzip;q=0");
  EXPECT_EQ(ae.Weight(AE::kGzip), 1000);  // first listing counts
  EXPECT_EQ(ae.Weight(AE::kBr), 1000);
  EXPECT_EQ(ParseAcceptEncoding("X-GZIP").Weight(AE::kGzip), 1000);
}

TEST(AcceptEncoding, MalformedMembersAreSkipped) {
  for (const char* field : {"gzip;q=2", "gzip;q=1.5", "gzip;q=0.1234", "gzip;q=", "gzip;q",
                            "gzip;q=abc", "gzip;q=-1", "gzip;q=.5", "gzip;;"}) {
    EXPECT_EQ(ParseAcceptEncoding(field).listed[AE::kGzip], -1) << field;
  }
  const AE ae = ParseAcceptEncoding(",,  ,deflate, compress;q=0.1 ,br;q=0.7;foo=bar");
  EXPECT_EQ(ae.Weight(AE::kBr), 700);
  EXPECT_EQ(ae.Weight(AE::kGzip), 0);
}

constexpr std::string_view kTag = "\"abc\"";

TEST(EntityTags, WeakComparison) {
  for (const char* field :
       {"\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "\"x\",W/\"abc\"", "*", " ,\"abc\" ,"}) {
    EXPECT_TRUE(EntityTagListMatches(field, kTag, Comparison::kWeak)) << field;
  }
  for (const char* field : {"", "\"abcd\"", "abc", "\"ab\"c\"", "W/abc", "\"abc", "w/\"abc\""}) {
    EXPECT_FALSE(EntityTagListMatches(field, kTag, Comparison::kWeak)) << field;
  }
}

TEST(EntityTags, StrongComparisonRejectsWeakTags) {
  EXPECT_TRUE(EntityTagListMatches("\"abc\"", kTag, Comparison::kStrong));
  EXPECT_TRUE(EntityTagListMatches("\"x\", \"abc\"", kTag, Comparison::kStrong));
  EXPECT_TRUE(EntityTagListMatches("*", kTag, Comparison::kStrong));
  EXPECT_FALSE(EntityTagListMatches("W/\"abc\"", kTag, Comparison::kStrong));
}

TEST(EntityTags, MalformedMemberStopsTheParse) {
  EXPECT_FALSE(EntityTagListMatches("bogus, \"abc\"", kTag, Comparison::kWeak));
  EXPECT_TRUE(EntityTagListMatches("\"abc\", bogus", kTag, Comparison::kWeak));
  EXPECT_FALSE(EntityTagListMatches("\"a b\", \"abc\"", kTag, Comparison::kWeak));
}

TEST(EntityTags, IfRangeNeedsExactlyOneStrongTag) {
  EXPECT_TRUE(IsStrongEntityTagMatch("\"abc\"", kTag));
  EXPECT_TRUE(IsStrongEntityTagMatch(" \"abc\" ", kTag));
  EXPECT_FALSE(IsStrongEntityTagMatch("W/\"abc\"", kTag));
  EXPECT_FALSE(IsStrongEntityTagMatch("\"abc\", \"abc\"", kTag));
  EXPECT_FALSE(IsStrongEntityTagMatch("*", kTag));
  EXPECT_FALSE(IsStrongEntityTagMatch("", kTag));
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> Ranges(const RangeSet& set) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < set.count; ++i) {
    out.emplace_back(set.ranges[i].first, set.ranges[i].last);
  }
  return out;
}

using Pairs = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

TEST(Range, TheThreeForms) {
  RangeSet set;
  ASSERT_EQ(ParseRange("bytes=0-9", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{0, 9}}));
  ASSERT_EQ(ParseRange("bytes=-10", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{1014, 1023}}));
  ASSERT_EQ(ParseRange("bytes=1000-", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{1000, 1023}}));
  ASSERT_EQ(ParseRange("BYTES=1000-5000", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{1000, 1023}}));  // last clamped
  ASSERT_EQ(ParseRange("bytes=-5000", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{0, 1023}}));  // suffix longer than the representation
}

TEST(Range, Unsatisfiable) {
  RangeSet set;
  EXPECT_EQ(ParseRange("bytes=5000-6000", 1024, set), RangeStatus::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=1024-", 1024, set), RangeStatus::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 1024, set), RangeStatus::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=2000-3000, -0", 1024, set), RangeStatus::kUnsatisfiable);
  // One satisfiable range among unsatisfiable ones is served.
  ASSERT_EQ(ParseRange("bytes=2000-3000, 0-0", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{0, 0}}));
}

TEST(Range, IgnoredForms) {
  RangeSet set;
  for (const char* field :
       {"items=0-1", "bytes=abc", "bytes=", "bytes= , ", "bytes=5-1", "bytes=1-2-3", "bytes=--1",
        "bytes 0-1", "bytes=0x10-20", "bytes=1-2;", "bytes=+1-2", "=0-1", ""}) {
    EXPECT_EQ(ParseRange(field, 1024, set), RangeStatus::kIgnore) << field;
  }
  // A zero-length representation has no byte to send (§14.1.2 lets the server ignore Range).
  EXPECT_EQ(ParseRange("bytes=-5", 0, set), RangeStatus::kIgnore);
  EXPECT_EQ(ParseRange("bytes=0-", 0, set), RangeStatus::kIgnore);
}

TEST(Range, HugeNumbersSaturateInsteadOfOverflowing) {
  RangeSet set;
  EXPECT_EQ(ParseRange("bytes=99999999999999999999999999-", 1024, set),
            RangeStatus::kUnsatisfiable);
  ASSERT_EQ(ParseRange("bytes=10-99999999999999999999999999", 1024, set),
            RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{10, 1023}}));
  ASSERT_EQ(ParseRange("bytes=-18446744073709551616", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{0, 1023}}));
  // 2^64 - 1 exactly as both positions.
  EXPECT_EQ(ParseRange("bytes=18446744073709551615-18446744073709551615", 1024, set),
            RangeStatus::kUnsatisfiable);
}

TEST(Range, SeveralRangesKeepRequestOrderUnlessTheyOverlap) {
  RangeSet set;
  ASSERT_EQ(ParseRange("bytes=10-11, 0-1", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{10, 11}, {0, 1}}));
  ASSERT_EQ(ParseRange("bytes=10-20,0-1,15-30", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{0, 1}, {10, 30}}));
  ASSERT_EQ(ParseRange("bytes=0-1,2-3", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{0, 3}}));  // touching: one part
  ASSERT_EQ(ParseRange("bytes=0-,-1", 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(Ranges(set), (Pairs{{0, 1023}}));
}

TEST(Range, MoreThanTheLimitIsIgnored) {
  RangeSet set;
  std::string field = "bytes=";
  for (std::size_t i = 0; i < kMaxRanges; ++i)
    field += std::to_string(i * 10) + "-" + std::to_string(i * 10 + 1) + ",";
  EXPECT_EQ(ParseRange(field, 1024, set), RangeStatus::kSatisfiable);
  EXPECT_EQ(set.count, kMaxRanges);
  field += "500-501";
  EXPECT_EQ(ParseRange(field, 1024, set), RangeStatus::kIgnore);
}

}  // namespace
}  // namespace kv_assets::internal
