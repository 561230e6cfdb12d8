#include "search/search_space.h"

#include <gtest/gtest.h>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::search {
namespace {

const nlohmann::json kIssueSpace = nlohmann::json::parse(R"([
  {"name":"x0","type":"float","low":0,"high":1,"log":false}, {"name":"k","type":"int","low":0,"high":10},
  {"name":"s","type":"ordinal","values":[0,1,2,4,8]}, {"name":"m","type":"categorical","choices":["a","b"]},
  {"name":"on","type":"bool"}, {"name":"r","type":"int","low":1,"high":16,"active_if":{"on":true}}])");

TEST(SearchSpaceTest, TheIssueFormParsesEncodesAndDecodes) {
  const auto s = SearchSpace::from_json(kIssueSpace, "space");
  EXPECT_EQ(s.encoded_size(), 7);  // categorical one-hot takes two
  nlohmann::json p = {{"x0", 0.25}, {"k", 5}, {"s", 4}, {"m", "b"}, {"on", true}, {"r", 16}};
  s.validate(p, "p");
  const auto u = s.encode(p);
  Eigen::VectorXd want(7);
  want << 0.25, 0.5, 0.75, 0, 1, 1, 1;
  EXPECT_TRUE(u.isApprox(want)) << u.transpose();
  EXPECT_EQ(s.decode(u), p);
  // Inactive: r is absent and encoded 0.
  nlohmann::json q = {{"x0", 1.0}, {"k", 0}, {"s", 0}, {"m", "a"}, {"on", false}};
  s.validate(q, "q");
  EXPECT_EQ(s.encode(q)[6], 0.0);
  EXPECT_EQ(s.decode(s.encode(q)), q);
  EXPECT_EQ(SearchSpace::from_json(s.to_json(), "again").to_json(), s.to_json());
}

TEST(SearchSpaceTest, LogScaleAndRounding) {
  const auto s = SearchSpace::from_json(
      nlohmann::json::parse(
          R"([{"name":"lr","type":"float","low":1e-5,"high":1e-1,"log":true},{"name":"n","type":"int","low":1,"high":1024,"log":true}])"),
      "s");
  Eigen::VectorXd u(2);
  u << 0.5, 0.5;
  const auto p = s.decode(u);
  EXPECT_NEAR(p["lr"].get<double>(), 1e-3, 1e-12);
  EXPECT_EQ(p["n"], 32);
  EXPECT_NEAR(s.encode(p)[1], 0.5, 1e-12);
}

TEST(SearchSpaceTest, SamplesAreValid) {
  const auto s = SearchSpace::from_json(kIssueSpace, "space");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i) s.validate(s.sample(rng), "sample");
}

TEST(SearchSpaceTest, ErrorsNameTheDimension) {
  auto error_of = [](const std::string& text) -> std::string {
    try {
      SearchSpace::from_json(nlohmann::json::parse(text), "space");
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of(R"([{"name":"a","type":"float","low":1,"high":0}])").find("space.a"), std::string::npos);
  EXPECT_NE(error_of(R"([{"name":"a","type":"float","low":0,"high":1,"log":true}])").find("space.a.log"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"name":"a","type":"real"}])").find("'real'"), std::string::npos);
  EXPECT_NE(error_of(R"([{"name":"a","type":"bool","active_if":{"b":true}}])").find("active_if.b"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"name":"a","type":"bool"},{"name":"a","type":"bool"}])").find("twice"),
            std::string::npos);
  const auto s = SearchSpace::from_json(kIssueSpace, "space");
  EXPECT_THROW(s.validate({{"x0", 2.0}, {"k", 1}, {"s", 1}, {"m", "a"}, {"on", false}}, "p"), UserError);
  EXPECT_THROW(s.validate({{"x0", 0.5}, {"k", 1}, {"s", 3}, {"m", "a"}, {"on", false}}, "p"), UserError);
  EXPECT_THROW(s.validate({{"x0", 0.5}, {"k", 1}, {"s", 1}, {"m", "a"}, {"on", false}, {"r", 3}}, "p"),
               UserError);
}

}  // namespace
}  // namespace autopeft::search
