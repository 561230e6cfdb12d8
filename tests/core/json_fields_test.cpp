// JsonFields: reading known keys with a type check, unknown keys, and messages naming the key.
#include "core/json_fields.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/errors.h"

namespace autopeft {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(JsonFieldsTest, ReadsPresentKeysAndKeepsDefaultsOfAbsentOnes) {
  const auto j = nlohmann::json::parse(
      R"({"rate": 0.5, "steps": 12, "name": "lora", "on": true, "ranks": [4, 8], "whole": 3})");
  JsonFields f(j, "spec.json: opts");
  double rate = 1, missing = 7, whole = 0;
  std::int64_t steps = 0;
  std::uint64_t seed = 99;
  std::string name;
  bool on = false;
  std::vector<int> ranks;
  f.read("rate", rate);
  f.read("missing", missing);
  f.read("steps", steps);
  f.read("seed", seed);
  f.read("name", name);
  f.read("on", on);
  f.read("ranks", ranks);
  f.read("whole", whole);  // an integer is a number
  EXPECT_NO_THROW(f.finish());
  EXPECT_DOUBLE_EQ(rate, 0.5);
  EXPECT_DOUBLE_EQ(missing, 7);
  EXPECT_EQ(steps, 12);
  EXPECT_EQ(seed, 99u);
  EXPECT_EQ(name, "lora");
  EXPECT_TRUE(on);
  EXPECT_EQ(ranks, (std::vector<int>{4, 8}));
  EXPECT_DOUBLE_EQ(whole, 3.0);
  EXPECT_EQ(f.where("rate"), "spec.json: opts.rate");
}

TEST(JsonFieldsTest, FinishNamesTheFirstUnknownKey) {
  const nlohmann::json j = {{"rate", 0.1}, {"raet", 0.2}};
  JsonFields f(j, "study.json: fidelity");
  double rate = 0;
  f.read("rate", rate);
  f.read("steps", rate);  // asked for but absent: known
  const auto err = error_of([&] { f.finish(); });
  EXPECT_NE(err.find("study.json: fidelity.raet: unknown key"), std::string::npos) << err;
  EXPECT_NE(err.find("known: rate, steps"), std::string::npos) << err;
  JsonFields g(j, "x");
  g.read("rate", rate);
  g.allow("raet");  // allowed without reading
  EXPECT_NO_THROW(g.finish());
  JsonFields none(nlohmann::json::object(), "x");
  EXPECT_NO_THROW(none.finish());
}

TEST(JsonFieldsTest, TypeErrorsNameTheKeyAndTheValue) {
  const nlohmann::json j = {{"epochs", "two"}, {"flag", 1}, {"name", 5}, {"list", {{"a", 1}}}};
  JsonFields f(j, "study.json: fidelity");
  double epochs = 1;
  auto err = error_of([&] { f.read("epochs", epochs); });
  EXPECT_NE(err.find("study.json: fidelity.epochs"), std::string::npos) << err;
  EXPECT_NE(err.find("\"two\""), std::string::npos) << err;
  EXPECT_NE(err.find("string"), std::string::npos) << err;
  EXPECT_DOUBLE_EQ(epochs, 1.0);  // unchanged
  bool flag = false;
  err = error_of([&] { f.read("flag", flag); });
  EXPECT_NE(err.find("fidelity.flag"), std::string::npos) << err;
  std::string name;
  err = error_of([&] { f.read("name", name); });
  EXPECT_NE(err.find("fidelity.name"), std::string::npos) << err;
  std::vector<int> list;
  err = error_of([&] { f.read("list", list); });
  EXPECT_NE(err.find("fidelity.list"), std::string::npos) << err;
  double from_bool = 0;
  const nlohmann::json b = {{"x", true}};
  EXPECT_THROW(JsonFields(b, "w").read("x", from_bool), UserError);
}

TEST(JsonFieldsTest, IntegersAreNotTruncatedOrWrapped) {
  const nlohmann::json j = {{"half", 2.5}, {"negative", -1}, {"big", 5000000000LL}, {"whole", 4}};
  JsonFields f(j, "opts");
  std::int64_t n = 3;
  auto err = error_of([&] { f.read("half", n); });
  EXPECT_NE(err.find("opts.half"), std::string::npos) << err;
  EXPECT_NE(err.find("2.5"), std::string::npos) << err;
  EXPECT_EQ(n, 3);
  std::uint64_t u = 3;
  err = error_of([&] { f.read("negative", u); });
  EXPECT_NE(err.find("opts.negative"), std::string::npos) << err;
  EXPECT_EQ(u, 3u);
  int small = 0;
  err = error_of([&] { f.read("big", small); });
  EXPECT_NE(err.find("opts.big"), std::string::npos) << err;
  std::int64_t big = 0;
  f.read("big", big);
  EXPECT_EQ(big, 5000000000LL);
  std::int64_t negative = 0;
  f.read("negative", negative);
  EXPECT_EQ(negative, -1);
  f.read("whole", u);
  EXPECT_EQ(u, 4u);
}

TEST(JsonFieldsTest, NonObjectIsAUserError) {
  for (const auto& j :
       {nlohmann::json::array({1}), nlohmann::json(3), nlohmann::json("x"), nlohmann::json()}) {
    const auto err = error_of([&] { JsonFields f(j, "task.json: fidelity"); });
    EXPECT_NE(err.find("task.json: fidelity: expected a JSON object"), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace autopeft
