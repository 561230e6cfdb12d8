// The study commands for external runners, end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace autopeft {
namespace {

using autopeft::testing::run_command;
using autopeft::testing::TempDir;

std::string exe() { return "'" + (autopeft::testing::binary_dir() / "autopeft").string() + "'"; }

const char* kSpec = R"({"study": "zdt1", "runner": "external",
 "space": [{"name": "x0", "type": "float", "low": 0, "high": 1}, {"name": "x1", "type": "float", "low": 0, "high": 1}],
 "objectives": [{"name": "f1", "direction": "minimize"}, {"name": "f2", "direction": "minimize"}],
 "sampler": {"type": "random"}, "budget": {"trials": 60}, "seed": 0})";

TEST(StudyCommandIntegrationTest, CreateAskTellTrials) {
  TempDir tmp;
  const auto spec = tmp.write("zdt1.json", kSpec).string();
  const auto db = (tmp / "s.db").string();
  auto r = run_command(exe() + " study create '" + spec + "' --db '" + db + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> asked;
  for (int i = 0; i < 3; ++i) {
    r = run_command(exe() + " study ask --db '" + db + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    asked.push_back(nlohmann::json::parse(r.out));
    EXPECT_EQ(asked.back()["trial"], i);
  }
  EXPECT_EQ(run_command(exe() + " study tell --db '" + db + "' --trial 0 --values=-0.8,0.5").exit_code, 0);
  EXPECT_EQ(run_command(exe() + " study tell --db '" + db + "' --trial 1 --state failed").exit_code, 0);
  r = run_command(exe() + " study tell --db '" + db + "' --trial 0 --values=1,2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("immutable"), std::string::npos) << r.err;
  EXPECT_EQ(run_command(exe() + " study tell --db '" + db + "' --trial 2 --values=1").exit_code,
            1);  // one value for two
  r = run_command(exe() + " study trials --db '" + db + "' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto trials = nlohmann::json::parse(r.out);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0]["state"], "complete");
  EXPECT_EQ(trials[0]["values"], nlohmann::json({-0.8, 0.5}));
  EXPECT_EQ(trials[1]["state"], "failed");
  EXPECT_EQ(trials[2]["state"], "running");
  EXPECT_EQ(trials[0]["params"], asked[0]["params"]);

  // The same seed in another file proposes the same configurations (reproducible from the seed
  // and the proposal count).
  const auto db2 = (tmp / "s2.db").string();
  ASSERT_EQ(run_command(exe() + " study create '" + spec + "' --db '" + db2 + "'").exit_code, 0);
  for (int i = 0; i < 3; ++i) {
    r = run_command(exe() + " study ask --db '" + db2 + "'");
    EXPECT_EQ(nlohmann::json::parse(r.out)["params"], asked[static_cast<std::size_t>(i)]["params"]);
  }
}

TEST(StudyCommandIntegrationTest, BadSpecsLeaveNoFile) {
  TempDir tmp;
  const auto db = (tmp / "s.db").string();
  nlohmann::json j = nlohmann::json::parse(kSpec);
  j["space"][0]["low"] = 2;
  const auto bad = tmp.write("bad.json", j.dump()).string();
  auto r = run_command(exe() + " study create '" + bad + "' --db '" + db + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("space.x0"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
  j = nlohmann::json::parse(kSpec);
  j.erase("objectives");
  r = run_command(exe() + " study create '" + tmp.write("b2.json", j.dump()).string() + "' --db '" + db +
                  "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("objectives"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
  r = run_command(exe() + " study ask --db '" + db + "'");
  EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
}  // namespace autopeft
