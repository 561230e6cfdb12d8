#include "studies/study_loop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"
#include "studies/controller.h"
#include "studies/study_spec.h"
#include "tests/support/test_support.h"

namespace autopeft::studies {
namespace {

using autopeft::testing::TempDir;

// An external study on [0, 1]^2 with two objectives (a ZDT-like pair).
nlohmann::json spec_json(const std::string& name, std::int64_t trials, const std::string& sampler = "random",
                         std::uint64_t seed = 3) {
  return {{"study", name},
          {"runner", "external"},
          {"space",
           {{{"name", "x0"}, {"type", "float"}, {"low", 0}, {"high", 1}},
            {{"name", "x1"}, {"type", "float"}, {"low", 0}, {"high", 1}}}},
          {"objectives",
           {{{"name", "f1"}, {"direction", "minimize"}}, {{"name", "f2"}, {"direction", "minimize"}}}},
          {"sampler", {{"type", sampler}}},
          {"budget", {{"trials", trials}}},
          {"seed", seed}};
}

StudyRecord make_study(Storage& storage, const nlohmann::json& j) {
  const auto spec = StudySpec::from_json(j, "test spec", "/");
  return storage.create_study(spec.name, spec.definition, spec.objectives, spec.seed);
}

// f1 = x0, f2 = 1 - x0; `hook` (when set) decides instead, by call index.
class SyntheticRunner : public TrialRunner {
 public:
  std::function<TrialOutcome(const TrialRequest&, TrialReporter&, int)> hook;
  std::vector<nlohmann::json> seen_params;
  std::vector<int> seen_numbers;

  TrialOutcome run(const TrialRequest& request, TrialReporter& reporter) override {
    const int call = static_cast<int>(seen_params.size());
    seen_params.push_back(request.params);
    seen_numbers.push_back(request.number);
    if (hook) return hook(request, reporter, call);
    return complete(request);
  }
  static TrialOutcome complete(const TrialRequest& request) {
    TrialOutcome o;
    o.state = TrialState::complete;
    const double x0 = request.params.at("x0").get<double>();
    o.values = {{"f1", x0}, {"f2", 1 - x0}};
    return o;
  }
};

std::int64_t count_state(const std::vector<TrialRecord>& trials, TrialState s) {
  std::int64_t n = 0;
  for (const auto& t : trials) n += t.state == s;
  return n;
}

TEST(StudyLoopTest, RunsExactlyTheBudget) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("b", 7));
  SyntheticRunner runner;
  const auto report = run_study(st, study, runner, {});
  EXPECT_EQ(report.stopped_because, "budget");
  EXPECT_EQ(report.complete, 7);
  EXPECT_EQ(report.failed, 0);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 7u);
  EXPECT_EQ(counted_trials(trials), 7);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number, static_cast<std::int64_t>(i));
    EXPECT_EQ(trials[i].state, TrialState::complete);
    const double x0 = trials[i].params.at("x0").get<double>();
    EXPECT_EQ(trials[i].values, (std::vector<double>{x0, 1 - x0}));
  }
  EXPECT_EQ(runner.seen_numbers, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  // Running again with the budget spent does nothing.
  const auto again = run_study(st, study, runner, {});
  EXPECT_EQ(again.stopped_because, "budget");
  EXPECT_EQ(again.complete, 0);
  EXPECT_EQ(st.trials(study.id).size(), 7u);
}

TEST(StudyLoopTest, ADiscreteSpaceRunsOutBeforeTheBudgetAndTheLoopStopsCleanly) {
  for (const std::string sampler : {"random", "gp"}) {
    TempDir tmp;
    SqliteStorage st((tmp / "s.db").string());
    auto j = spec_json("small", 10, sampler);
    j["space"] = {{{"name", "x0"}, {"type", "ordinal"}, {"values", {0.0, 0.5, 1.0}}}};
    const auto study = make_study(st, j);
    SyntheticRunner runner;
    const auto report = run_study(st, study, runner, {});
    EXPECT_EQ(report.stopped_because, "exhausted") << sampler;
    EXPECT_EQ(report.complete, 3) << sampler;  // every configuration once
  }
}

TEST(StudyLoopTest, UntilStopsEarlyAndCountsFromTheStart) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("u", 10));
  SyntheticRunner runner;
  LoopOptions o;
  o.until = 4;
  auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.stopped_because, "trials");
  EXPECT_EQ(report.complete, 4);
  EXPECT_EQ(st.trials(study.id).size(), 4u);
  o.until = 6;  // the total, not 6 more
  report = run_study(st, study, runner, o);
  EXPECT_EQ(report.stopped_because, "trials");
  EXPECT_EQ(report.complete, 2);
  EXPECT_EQ(st.trials(study.id).size(), 6u);
  o.until = 50;  // the budget comes first
  report = run_study(st, study, runner, o);
  EXPECT_EQ(report.stopped_because, "budget");
  EXPECT_EQ(counted_trials(st.trials(study.id)), 10);
}

TEST(StudyLoopTest, ResumeFailsRunningTrialsAndRunsTheirConfigurationAgain) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("r", 3));
  // A process that died while running trial 0: asked, never told. Its heartbeat is fresh.
  const auto dead = ask(st, study, "dead");
  ASSERT_EQ(dead.state, TrialState::running);

  SyntheticRunner runner;
  LoopOptions o;
  o.resume = true;
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.requeued, 1);
  EXPECT_EQ(report.complete, 3);
  EXPECT_EQ(report.stopped_because, "budget");
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[0].state, TrialState::failed);
  EXPECT_EQ(trials[0].reason.rfind("stale", 0), 0u) << trials[0].reason;
  // The same configuration ran again first, as a new trial enqueued (WAITING) then complete.
  ASSERT_FALSE(runner.seen_params.empty());
  EXPECT_EQ(runner.seen_params[0], dead.params);
  EXPECT_EQ(runner.seen_numbers[0], 1);
  EXPECT_EQ(trials[1].params, dead.params);
  EXPECT_EQ(trials[1].state, TrialState::complete);
  EXPECT_EQ(trials[1].proposal, -1);  // enqueued, not proposed
  EXPECT_EQ(trials[1].worker, "worker");
  EXPECT_EQ(count_state(trials, TrialState::complete), 3);
}

// A live worker of this host keeps its trial through a resume; a dead one's fails and reruns.
TEST(StudyLoopTest, ResumeLeavesTheTrialsOfLiveWorkersOfThisHostRunning) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("live", 4));
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  const pid_t child = fork();  // a live process: sleeps until killed
  if (child == 0) {
    pause();
    _exit(0);
  }
  const pid_t gone = fork();  // a dead one
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  const auto live = ask(st, study, std::string(host) + ":" + std::to_string(child));
  const auto dead = ask(st, study, std::string(host) + ":" + std::to_string(gone));
  EXPECT_TRUE(worker_alive(live.worker));
  EXPECT_FALSE(worker_alive(dead.worker));
  EXPECT_FALSE(worker_alive("otherhost:" + std::to_string(child)));
  EXPECT_FALSE(worker_alive("w1"));

  SyntheticRunner runner;
  LoopOptions o;
  o.resume = true;
  const auto report = run_study(st, study, runner, o);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(report.requeued, 1);
  const auto trials = st.trials(study.id);
  EXPECT_EQ(trials[static_cast<std::size_t>(live.number)].state, TrialState::running);
  EXPECT_EQ(trials[static_cast<std::size_t>(dead.number)].state, TrialState::failed);
  EXPECT_EQ(trials[static_cast<std::size_t>(dead.number)].reason, "stale");
  EXPECT_EQ(runner.seen_params.at(0), dead.params);  // the dead one's configuration ran again first
}

TEST(StudyLoopTest, WithoutResumeAFreshRunningTrialIsLeftAlone) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("f", 2));
  const auto other = ask(st, study, "live");  // another worker, alive (fresh heartbeat)
  SyntheticRunner runner;
  const auto report = run_study(st, study, runner, {});
  EXPECT_EQ(report.requeued, 0);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].state, TrialState::running);
  EXPECT_EQ(trials[0].worker, "live");
  for (const auto& p : runner.seen_params) EXPECT_NE(p, other.params);
}

TEST(StudyLoopTest, StaleTrialsAreFailedAndRequeuedAtMostRetriesTimes) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("st", 10));
  const auto dead = ask(st, study, "dead");
  const auto live = ask(st, study, "live");
  st.heartbeat(dead.id, epoch_seconds() - 1000);  // older than the grace period
  st.heartbeat(live.id, epoch_seconds() - 10);    // within it

  // The loop's process dies (an exception that is not a UserError) while running the
  // re-enqueued configuration: it is left RUNNING.
  SyntheticRunner runner;
  runner.hook = [&](const TrialRequest& r, TrialReporter&, int) -> TrialOutcome {
    if (r.params == dead.params) throw std::runtime_error("the worker died");
    return SyntheticRunner::complete(r);
  };
  LoopOptions o;
  o.grace_seconds = 120;
  o.retries = 1;
  o.until = 1;
  EXPECT_THROW(run_study(st, study, runner, o), std::runtime_error);
  auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].state, TrialState::failed);
  EXPECT_EQ(trials[0].reason.rfind("stale", 0), 0u) << trials[0].reason;
  EXPECT_EQ(trials[1].state, TrialState::running);  // live worker: not stale
  EXPECT_EQ(trials[2].params, dead.params);
  EXPECT_EQ(trials[2].state, TrialState::running);  // the retry, left by the crash
  ASSERT_EQ(runner.seen_numbers, (std::vector<int>{2}));

  // Its second stale failure exceeds `retries`: failed, not enqueued again.
  st.heartbeat(trials[2].id, epoch_seconds() - 1000);
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.requeued, 0);
  EXPECT_EQ(report.complete, 1);
  trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[2].state, TrialState::failed);
  EXPECT_EQ(trials[2].reason.rfind("stale", 0), 0u) << trials[2].reason;
  EXPECT_NE(trials[3].params, dead.params);
  EXPECT_EQ(trials[1].state, TrialState::running);
  EXPECT_EQ(count_state(trials, TrialState::waiting), 0);
}

TEST(StudyLoopTest, ZeroRetriesNeverRequeues) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("z", 2));
  const auto dead = ask(st, study, "dead");
  SyntheticRunner runner;
  LoopOptions o;
  o.resume = true;
  o.retries = 0;
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.requeued, 0);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].state, TrialState::failed);
  for (const auto& p : runner.seen_params) EXPECT_NE(p, dead.params);
}

TEST(StudyLoopTest, UserErrorFailsTheTrialAndTheLoopGoesOn) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("e", 3));
  SyntheticRunner runner;
  runner.hook = [](const TrialRequest& r, TrialReporter&, int call) -> TrialOutcome {
    if (call == 1) throw_user_error("config", "no such method 'lora2'");
    return SyntheticRunner::complete(r);
  };
  const auto report = run_study(st, study, runner, {});
  EXPECT_EQ(report.stopped_because, "budget");
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.complete, 3);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[1].state, TrialState::failed);
  EXPECT_NE(trials[1].reason.find("no such method 'lora2'"), std::string::npos) << trials[1].reason;
  EXPECT_TRUE(trials[1].values.empty());
}

TEST(StudyLoopTest, ConsecutiveFailuresStopTheLoop) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("cf", 20));
  SyntheticRunner runner;
  runner.hook = [](const TrialRequest&, TrialReporter&, int) {
    TrialOutcome o;
    o.state = TrialState::failed;
    o.reason = "NaN loss";
    return o;
  };
  LoopOptions o;
  o.max_consecutive_failures = 3;
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.stopped_because, "failures");
  EXPECT_EQ(report.failed, 3);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(count_state(trials, TrialState::failed), 3);
  EXPECT_EQ(trials[2].reason, "NaN loss");
}

TEST(StudyLoopTest, FailuresThatAreNotConsecutiveDoNotStopTheLoop) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("nc", 4));
  SyntheticRunner runner;
  runner.hook = [](const TrialRequest& r, TrialReporter&, int call) {
    if (call % 2 == 0) return SyntheticRunner::complete(r);
    TrialOutcome o;
    o.state = TrialState::failed;
    o.reason = "odd";
    return o;
  };
  LoopOptions o;
  o.max_consecutive_failures = 2;
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.stopped_because, "budget");
  EXPECT_EQ(report.complete, 4);
  EXPECT_EQ(report.failed, 3);
}

TEST(StudyLoopTest, StopFlagFinishesTheRunningTrialThenStops) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("i", 10));
  std::atomic<bool> stop{false};
  SyntheticRunner runner;
  runner.hook = [&](const TrialRequest& r, TrialReporter&, int call) {
    if (call == 2) stop = true;  // e.g. SIGINT while the third trial runs
    return SyntheticRunner::complete(r);
  };
  LoopOptions o;
  o.stop = &stop;
  std::vector<std::int64_t> seen;
  o.on_trial = [&](const TrialRecord& t, const TrialOutcome& out) {
    seen.push_back(t.number);
    EXPECT_EQ(out.state, TrialState::complete);
  };
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.stopped_because, "interrupted");
  EXPECT_EQ(report.complete, 3);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{0, 1, 2}));
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(count_state(trials, TrialState::complete), 3);  // the running one was finished
}

TEST(StudyLoopTest, StopFlagSetFromOnTrialStops) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("i2", 10));
  std::atomic<bool> stop{false};
  SyntheticRunner runner;
  LoopOptions o;
  o.stop = &stop;
  o.on_trial = [&](const TrialRecord& t, const TrialOutcome&) {
    if (t.number == 0) stop = true;
  };
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(report.stopped_because, "interrupted");
  EXPECT_EQ(st.trials(study.id).size(), 1u);
}

TEST(StudyLoopTest, PrunedTrialsCountTowardsTheBudget) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("p", 5));
  SyntheticRunner runner;
  runner.hook = [](const TrialRequest& r, TrialReporter&, int call) {
    if (call % 2 == 0) return SyntheticRunner::complete(r);
    TrialOutcome o;
    o.state = TrialState::pruned;
    o.reason = "pruned at step 3";
    return o;
  };
  const auto report = run_study(st, study, runner, {});
  EXPECT_EQ(report.stopped_because, "budget");
  EXPECT_EQ(report.complete, 3);
  EXPECT_EQ(report.pruned, 2);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 5u);
  EXPECT_EQ(count_state(trials, TrialState::pruned), 2);
  EXPECT_EQ(trials[1].reason, "pruned at step 3");
  EXPECT_TRUE(trials[1].values.empty());
}

TEST(StudyLoopTest, AMissingObjectiveValueFailsTheTrialNamingIt) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("m", 2));
  SyntheticRunner runner;
  runner.hook = [](const TrialRequest& r, TrialReporter&, int call) {
    auto o = SyntheticRunner::complete(r);
    if (call == 0) o.values.erase("f2");
    return o;
  };
  const auto report = run_study(st, study, runner, {});
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.complete, 2);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].state, TrialState::failed);
  EXPECT_NE(trials[0].reason.find("'f2'"), std::string::npos) << trials[0].reason;
  EXPECT_TRUE(trials[0].values.empty());
}

TEST(StudyLoopTest, ANonFiniteObjectiveValueFailsTheTrialAndTheLoopGoesOn) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("nan", 2));
  SyntheticRunner runner;
  runner.hook = [](const TrialRequest& r, TrialReporter&, int call) {
    auto o = SyntheticRunner::complete(r);
    if (call == 0) o.values["f1"] = std::nan("");
    return o;
  };
  const auto report = run_study(st, study, runner, {});
  EXPECT_EQ(report.stopped_because, "budget");
  EXPECT_EQ(report.failed, 1);
  EXPECT_EQ(report.complete, 2);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].state, TrialState::failed);  // not left RUNNING
  EXPECT_NE(trials[0].reason.find("'f1'"), std::string::npos) << trials[0].reason;
}

TEST(StudyLoopTest, ReportedCurvesAreStoredAndTheMedianPrunerStopsAWeakTrial) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st, spec_json("mp", 4));
  SyntheticRunner runner;
  std::vector<bool> pruned_at_step_2;
  runner.hook = [&](const TrialRequest& r, TrialReporter& rep, int call) {
    const double level = call == 3 ? 0.1 : 0.5 + 0.1 * call;  // the last trial is the weak one
    rep.heartbeat();
    rep.report(1, level);
    rep.report(2, level);
    pruned_at_step_2.push_back(rep.should_prune());
    if (rep.should_prune()) {
      TrialOutcome o;
      o.state = TrialState::pruned;
      o.reason = "pruned";
      return o;
    }
    return SyntheticRunner::complete(r);
  };
  LoopOptions o;
  o.pruner.type = "median";
  o.pruner.startup_trials = 2;
  const auto report = run_study(st, study, runner, o);
  EXPECT_EQ(pruned_at_step_2, (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(report.pruned, 1);
  const auto trials = st.trials(study.id);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(st.intermediate_values(trials[3].id), (Curve{{1, 0.1}, {2, 0.1}}));
}

// Runs `total` trials in one go in one file, and in two runs (stopped by `until` at `first`)
// in another; both must see the same proposals.
void expect_resume_is_exact(const std::string& sampler, std::int64_t first, std::int64_t total) {
  TempDir tmp;
  SqliteStorage one((tmp / "one.db").string());
  SqliteStorage two((tmp / "two.db").string());
  const auto s1 = make_study(one, spec_json("x", total, sampler, 11));
  const auto s2 = make_study(two, spec_json("x", total, sampler, 11));
  SyntheticRunner r1, r2;
  EXPECT_EQ(run_study(one, s1, r1, {}).stopped_because, "budget");
  LoopOptions o;
  o.until = first;
  EXPECT_EQ(run_study(two, s2, r2, o).stopped_because, "trials");
  EXPECT_EQ(r2.seen_params.size(), static_cast<std::size_t>(first));
  {
    // A new process: reopen the file.
    SqliteStorage reopened((tmp / "two.db").string(), false);
    const auto s2b = reopened.find_study("x");
    ASSERT_TRUE(s2b);
    EXPECT_EQ(run_study(reopened, *s2b, r2, {}).stopped_because, "budget");
  }
  ASSERT_EQ(r1.seen_params.size(), static_cast<std::size_t>(total));
  ASSERT_EQ(r2.seen_params.size(), static_cast<std::size_t>(total));
  for (std::int64_t i = 0; i < total; ++i)
    EXPECT_EQ(r1.seen_params[i], r2.seen_params[i]) << sampler << " trial " << i;
  // Not all the same point.
  EXPECT_NE(r1.seen_params[0], r1.seen_params[total - 1]);
}

TEST(StudyLoopTest, ResumedRandomStudyProposesWhatAnUninterruptedOneDoes) {
  expect_resume_is_exact("random", 6, 12);
}

TEST(StudyLoopTest, ResumedGpStudyProposesWhatAnUninterruptedOneDoes) { expect_resume_is_exact("gp", 6, 12); }

TEST(StudyLoopTest, DifferentSeedsProposeDifferentPoints) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto a = make_study(st, spec_json("a", 3, "random", 1));
  const auto b = make_study(st, spec_json("b", 3, "random", 2));
  SyntheticRunner ra, rb;
  run_study(st, a, ra, {});
  run_study(st, b, rb, {});
  EXPECT_NE(ra.seen_params, rb.seen_params);
}

}  // namespace
}  // namespace autopeft::studies

namespace autopeft::studies {
namespace {

TEST(StudySpecTest, ObjectiveReferencesAreReadAndCheckedByName) {
  const auto base =
      R"({"study": "r", "runner": "external", "space": [{"name": "x", "type": "float", "low": 0, "high": 1}],
    "objectives": [{"name": "f1", "direction": "minimize", "reference": 1.5}, {"name": "f2"}]})"_json;
  const auto spec = StudySpec::from_json(base, "spec.json", "/");
  ASSERT_EQ(spec.references.size(), 2u);
  EXPECT_DOUBLE_EQ(spec.references[0], 1.5);
  EXPECT_TRUE(std::isnan(spec.references[1]));
  auto error_of = [&](const nlohmann::json& objective) -> std::string {
    auto j = base;
    j["objectives"][1] = objective;
    try {
      StudySpec::from_json(j, "spec.json", "/");
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({{"name", "f2"}, {"reference", "high"}}).find("spec.json: objectives[1].reference"),
            std::string::npos);
  EXPECT_NE(error_of({{"name", "f2"}, {"refrence", 2}}).find("objectives[1].refrence: unknown key"),
            std::string::npos);
}

TEST(StudySpecTest, SamplerOptionsAreReadAndChecked) {
  auto j =
      R"({"study": "r", "runner": "external", "space": [{"name": "x", "type": "float", "low": 0, "high": 1}],
    "objectives": [{"name": "f1"}], "sampler": {"type": "gp", "initial_design": 3, "design": "random"}})"_json;
  auto spec = StudySpec::from_json(j, "spec.json", "/");
  EXPECT_EQ(spec.initial_design, 3);
  EXPECT_EQ(spec.design, "random");
  j["sampler"] = {{"type", "gp"}};
  spec = StudySpec::from_json(j, "spec.json", "/");
  EXPECT_EQ(spec.initial_design, -1);
  EXPECT_EQ(spec.design, "sobol");
  EXPECT_EQ(spec.lengthscale_prior, "saas");
  j["sampler"] = {{"type", "gp"}, {"lengthscale_prior", "dimension-scaled"}};
  EXPECT_EQ(StudySpec::from_json(j, "spec.json", "/").lengthscale_prior, "dimension-scaled");
  j["sampler"] = {{"type", "gp"}, {"multi_objective", "nehvi"}};
  EXPECT_EQ(StudySpec::from_json(j, "spec.json", "/").multi_objective, "nehvi");
  for (const auto& [bad, named] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"type", "gp"}, {"initial_design", -2}}, "sampler.initial_design"},
           {{{"type", "gp"}, {"design", "lhs"}}, "sampler.design"},
           {{{"type", "gp"}, {"output_transform", "log"}}, "sampler.output_transform"},
           {{{"type", "gp"}, {"lengthscale_prior", "gamma"}}, "sampler.lengthscale_prior"},
           {{{"type", "gp"}, {"multi_objective", "qnehvi"}}, "sampler.multi_objective"},
           {{{"type", "gp"}, {"candidates", 5}}, "sampler.candidates: unknown key"}}) {
    j["sampler"] = bad;
    try {
      StudySpec::from_json(j, "spec.json", "/");
      ADD_FAILURE() << bad.dump();
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace autopeft::studies
