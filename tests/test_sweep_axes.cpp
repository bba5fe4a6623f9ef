// The sweep's axis grammar (harness/sweep_axes.hpp): lists, ranges, zips, and every malformed form.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exit_codes.hpp"
#include "sweep_axes.hpp"
#include "test_support.hpp"

namespace attnbench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test_support::usage_error;

std::vector<std::string> numbers(const std::vector<std::string>& items, std::int64_t max = 1 << 24,
                                 const std::vector<std::string>& words = {}) {
  return expand_numbers("--seq", items, 1, max, words);
}

TEST(SweepRange, GeometricIncludesBothEndsWhenReached) {
  EXPECT_THAT(expand_range("--seq", "256:4096:*2", 1, 1 << 24), ElementsAre(256, 512, 1024, 2048, 4096));
  EXPECT_THAT(expand_range("--seq", "3:100:*3", 1, 1 << 24), ElementsAre(3, 9, 27, 81));  // 243 passes the stop
  EXPECT_THAT(expand_range("--seq", "7:7:*2", 1, 1 << 24), ElementsAre(7));
}

TEST(SweepRange, ArithmeticIncludesBothEndsWhenReached) {
  EXPECT_THAT(expand_range("--seq", "128:512:+128", 1, 1 << 24), ElementsAre(128, 256, 384, 512));
  EXPECT_THAT(expand_range("--seq", "1:10:+4", 1, 1 << 24), ElementsAre(1, 5, 9));
}

TEST(SweepRange, StepsNearTheLimitDoNotOverflow) {
  const std::int64_t max = INT64_MAX;
  EXPECT_THAT(expand_range("--x", "4611686018427387904:" + std::to_string(max) + ":*2", 1, max),
              ElementsAre(std::int64_t{1} << 62));
  EXPECT_THAT(expand_range("--x", std::to_string(max - 1) + ":" + std::to_string(max) + ":+" + std::to_string(max), 1, max),
              ElementsAre(max - 1));
}

TEST(SweepRange, MalformedFormsNameTheOptionAndTheRule) {
  auto error = [](const std::string& item) { return usage_error([&] { expand_range("--seq", item, 1, 1 << 24); }); };
  EXPECT_THAT(error("256:1024"), HasSubstr("needs three parts"));
  EXPECT_THAT(error("256:1024:*2:4"), HasSubstr("needs three parts"));
  EXPECT_THAT(error("256:1024:2"), HasSubstr("must be *F or +S"));
  EXPECT_THAT(error("256:1024:"), HasSubstr("must be *F or +S"));
  EXPECT_THAT(error("256:1024:/2"), HasSubstr("must be *F or +S"));
  EXPECT_THAT(error("256:1024:*1"), HasSubstr("*1 never reaches the stop"));
  EXPECT_THAT(error("256:1024:*0"), HasSubstr("*0 never reaches the stop"));
  EXPECT_THAT(error("256:1024:+0"), HasSubstr("+0 never reaches the stop"));
  EXPECT_THAT(error("256:1024:+-4"), HasSubstr("out of range"));
  EXPECT_THAT(error("256:1024:*x"), HasSubstr("expected a whole number"));
  EXPECT_THAT(error("1024:256:*2"), HasSubstr("start 1024 is above the stop 256"));
  EXPECT_THAT(error("a:256:*2"), HasSubstr("start: expected a whole number"));
  EXPECT_THAT(error(":256:*2"), HasSubstr("start: expected a whole number"));
  EXPECT_THAT(error("1:99999999999999999999:*2"), HasSubstr("out of range"));
  EXPECT_THAT(error("0:256:*2"), HasSubstr("out of range"));
  EXPECT_THAT(error("1:16777217:*2"), HasSubstr("out of range"));
  EXPECT_THAT(error("1:1000000:+1"), HasSubstr("more than 10000 values"));
  EXPECT_THAT(error("1:16777217:+1"), HasSubstr("--seq (range '1:16777217:+1') stop"));
}

TEST(SweepNumbers, ListsRangesAndRepeatsConcatenateInOrder) {
  EXPECT_THAT(numbers({"1,4,8"}), ElementsAre("1", "4", "8"));
  EXPECT_THAT(numbers({"16", "2:8:*2", "3"}), ElementsAre("16", "2", "4", "8", "3"));
  EXPECT_THAT(numbers({"1,128:384:+128"}), ElementsAre("1", "128", "256", "384"));
  EXPECT_THAT(numbers({"1,cover,2:4:+2"}, 24, {"cover"}), ElementsAre("1", "cover", "2", "4"));
  EXPECT_THAT(numbers({"007"}), ElementsAre("7"));  // numbers come back in canonical decimal
}

TEST(SweepNumbers, MalformedItemsAreRefused) {
  auto error = [](const std::vector<std::string>& items) { return usage_error([&] { numbers(items); }); };
  EXPECT_THAT(error({"1,,4"}), HasSubstr("--seq: empty item"));
  EXPECT_THAT(error({""}), HasSubstr("--seq: empty item"));
  EXPECT_THAT(error({"4,"}), HasSubstr("--seq: empty item"));
  EXPECT_THAT(error({"four"}), HasSubstr("expected a whole number in [1, 16777216], a range"));
  EXPECT_THAT(error({"4.5"}), HasSubstr("got '4.5'"));
  EXPECT_THAT(error({"0"}), HasSubstr("out of range"));
  EXPECT_THAT(error({"-3"}), HasSubstr("out of range"));
  EXPECT_THAT(error({"99999999999999999999999"}), HasSubstr("out of range"));
  EXPECT_THAT(usage_error([] { numbers({"cover"}); }), HasSubstr("got 'cover'"));  // a word only where allowed
  EXPECT_THAT(usage_error([] { numbers({"cvoer"}, 24, {"cover"}); }), HasSubstr("or cover; got 'cvoer'"));
}

TEST(SweepWords, AllowedWordsOnlyWithASuggestion) {
  EXPECT_THAT(expand_words("--mask", {"none,causal", "padding"}, {"none", "causal", "padding"}),
              ElementsAre("none", "causal", "padding"));
  const std::string e = usage_error([] { expand_words("--mask", {"casual"}, {"none", "causal", "padding"}); });
  EXPECT_THAT(e, HasSubstr("--mask: 'casual' is not one of none | causal | padding"));
  EXPECT_THAT(e, HasSubstr("did you mean 'causal'?"));
  EXPECT_THAT(usage_error([] { expand_words("--mask", {"none,"}, {"none"}); }), HasSubstr("empty item"));
}

const std::vector<std::string> kZippable{"batch", "heads", "seq", "threads"};

TEST(SweepZips, GroupsAreParsedAndChecked) {
  EXPECT_THAT(parse_zips({"seq,batch", "heads,threads"}, kZippable),
              ElementsAre(ElementsAre("seq", "batch"), ElementsAre("heads", "threads")));
  EXPECT_TRUE(parse_zips({"none"}, kZippable).empty());
  EXPECT_THAT(usage_error([] { parse_zips({"none", "seq,batch"}, kZippable); }), HasSubstr("name two or more axes"));
  EXPECT_THAT(usage_error([] { parse_zips({"seq"}, kZippable); }), HasSubstr("name two or more axes"));
  EXPECT_THAT(usage_error([] { parse_zips({"seq,"}, kZippable); }), HasSubstr("empty item"));
  const std::string unknown = usage_error([] { parse_zips({"sequ,batch"}, kZippable); });
  EXPECT_THAT(unknown, HasSubstr("'sequ' is not an axis that can be zipped; did you mean 'seq'?"));
  EXPECT_THAT(unknown, HasSubstr("(axes: batch, heads, seq, threads)"));
  EXPECT_THAT(usage_error([] { parse_zips({"kernel,seq"}, kZippable); }), HasSubstr("'kernel' is not an axis"));
  EXPECT_THAT(usage_error([] { parse_zips({"seq,seq"}, kZippable); }), HasSubstr("'seq' is already zipped in this zip"));
  EXPECT_THAT(usage_error([] { parse_zips({"seq,batch", "heads,seq"}, kZippable); }),
              HasSubstr("'seq' is already zipped by --zip seq,batch"));
}

TEST(SweepPoints, AxesCrossFirstOutermost) {
  const auto points = grid_points({{"batch", 2}, {"seq", 3}}, {});
  ASSERT_EQ(points.size(), 6u);
  EXPECT_THAT(points[0], ElementsAre(0, 0));
  EXPECT_THAT(points[1], ElementsAre(0, 1));
  EXPECT_THAT(points[3], ElementsAre(1, 0));
  EXPECT_THAT(points[5], ElementsAre(1, 2));
  EXPECT_EQ(grid_points({}, {}).size(), 1u);  // no axis: one point, all defaults
}

TEST(SweepPoints, ZippedAxesAdvanceTogetherAtTheFirstMembersPlace) {
  // batch x (seq zip threads) x heads: the zip sits where seq is (its first member).
  const auto points = grid_points({{"batch", 2}, {"heads", 2}, {"seq", 3}, {"threads", 3}}, {{"seq", "threads"}});
  ASSERT_EQ(points.size(), 12u);
  for (const auto& p : points) EXPECT_EQ(p[2], p[3]);
  EXPECT_THAT(points[0], ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(points[1], ElementsAre(0, 0, 1, 1));
  EXPECT_THAT(points[3], ElementsAre(0, 1, 0, 0));
  // Two zips.
  EXPECT_EQ(grid_points({{"batch", 2}, {"heads", 2}, {"seq", 3}, {"threads", 3}}, {{"seq", "threads"}, {"batch", "heads"}}).size(),
            6u);
}

TEST(SweepPoints, BadZipsAndHugeGridsAreRefused) {
  EXPECT_THAT(usage_error([] { grid_points({{"batch", 2}, {"seq", 3}}, {{"seq", "batch"}}); }),
              HasSubstr("zipped axes need equal lengths, but seq has 3 values and batch has 2"));
  EXPECT_THAT(usage_error([] { grid_points({{"seq", 3}}, {{"seq", "batch"}}); }),
              HasSubstr("--batch has no values to zip"));
  EXPECT_THAT(usage_error([] { grid_points({{"a", 1000}, {"b", 1000}, {"c", 2}}, {}); }),
              HasSubstr("the axes cross to 2000000 points, more than 1000000"));
}

}  // namespace
}  // namespace attnbench
