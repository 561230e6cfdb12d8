#include "studies/storage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::studies {
namespace {

using autopeft::testing::TempDir;

const std::vector<Objective> kObjectives = {{"accuracy", "maximize"}, {"params_percent", "minimize"}};

TEST(StorageTest, StudiesTrialsAndTheirLifecycle) {
  TempDir tmp;
  const auto path = (tmp / "s.db").string();
  SqliteStorage st(path);
  const auto s = st.create_study("sst2", {{"space", "per-layer"}}, kObjectives, 7);
  EXPECT_THROW(st.create_study("sst2", {}, kObjectives, 0), UserError);
  EXPECT_EQ(st.enqueue_trial(s.id, {{"x", 1}}), 0);
  const auto t1 = st.start_trial(s.id, {{"x", 2}}, "w1", 0, 100.0);
  EXPECT_EQ(t1.number, 1);
  EXPECT_EQ(t1.state, TrialState::running);
  const auto claimed = st.claim_waiting(s.id, "w2", 101.0);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->number, 0);
  EXPECT_EQ(claimed->worker, "w2");
  EXPECT_FALSE(st.claim_waiting(s.id, "w3", 102.0));
  st.report(t1.id, 10, 0.5);
  st.report(t1.id, 20, 0.6);
  st.finish_trial(t1.id, TrialState::complete, {0.91, 0.3}, "");
  EXPECT_THROW(st.finish_trial(t1.id, TrialState::failed, {}, "again"), std::logic_error);
  st.set_study_attr(s.id, "gp_state", {{"theta", {1, 2}}});

  // Everything is in the file: a second handle sees it.
  SqliteStorage again(path, false);
  const auto found = again.find_study("sst2");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->seed, 7u);
  EXPECT_EQ(found->objectives[1].direction, "minimize");
  EXPECT_EQ(found->definition["space"], "per-layer");
  const auto trials = again.trials(s.id);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[1].values, (std::vector<double>{0.91, 0.3}));
  EXPECT_EQ(trials[0].state, TrialState::running);
  EXPECT_EQ(again.intermediate_values(t1.id).size(), 2u);
  EXPECT_EQ(again.study_attr(s.id, "gp_state")["theta"][1], 2);
  EXPECT_TRUE(again.study_attr(s.id, "nothing").is_null());
  EXPECT_EQ(again.integrity_check(), "ok");
}

TEST(StorageTest, StaleRunningTrialsFail) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto s = st.create_study("a", {}, kObjectives, 0);
  const auto old = st.start_trial(s.id, {}, "w", 0, 100.0);
  const auto fresh = st.start_trial(s.id, {}, "w", 1, 100.0);
  st.heartbeat(fresh.id, 190.0);
  const auto stale = st.fail_stale(s.id, 60.0, 200.0);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].number, old.number);
  const auto trials = st.trials(s.id);
  EXPECT_EQ(trials[0].state, TrialState::failed);
  EXPECT_EQ(trials[0].reason, "stale");
  EXPECT_EQ(trials[1].state, TrialState::running);
}

TEST(StorageTest, ForeignAndNewerFilesAreRefusedByName) {
  TempDir tmp;
  const auto foreign = (tmp / "foreign.db").string();
  sqlite3* db = nullptr;
  sqlite3_open(foreign.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  try {
    SqliteStorage st(foreign);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(foreign), std::string::npos);
  }
  const auto newer = (tmp / "newer.db").string();
  sqlite3_open(newer.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_THROW(SqliteStorage st(newer), UserError);
  EXPECT_THROW(SqliteStorage st((tmp / "missing.db").string(), false), UserError);
}

TEST(StorageIntegrationTest, FourProcessesGetUniqueTrialNumbers) {
  TempDir tmp;
  const auto path = (tmp / "s.db").string();
  std::int64_t study = 0;
  {
    SqliteStorage st(path);
    study = st.create_study("par", {}, kObjectives, 0).id;
  }
  std::vector<pid_t> children;
  for (int w = 0; w < 4; ++w) {
    const pid_t pid = fork();
    if (pid == 0) {
      int code = 0;
      try {
        SqliteStorage st(path, false);
        for (int i = 0; i < 10; ++i) {
          const auto t =
              st.start_trial(study, {{"w", w}, {"i", i}}, "w" + std::to_string(w), i, epoch_seconds());
          st.finish_trial(t.id, TrialState::complete, {0.5, 1.0}, "");
        }
      } catch (...) {
        code = 1;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (auto pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  SqliteStorage st(path, false);
  const auto trials = st.trials(study);
  ASSERT_EQ(trials.size(), 40u);
  std::set<std::int64_t> numbers;
  for (const auto& t : trials) {
    numbers.insert(t.number);
    EXPECT_EQ(t.state, TrialState::complete);
  }
  EXPECT_EQ(numbers.size(), 40u);
  EXPECT_EQ(*numbers.rbegin(), 39);
  EXPECT_EQ(st.integrity_check(), "ok");
}

}  // namespace
}  // namespace autopeft::studies
