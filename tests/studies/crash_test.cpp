// Evidence that a study file survives what real runs meet: kill -9 at random moments, several
// worker processes on one file, a read-only file, a full disk, and a file from schema version 1.
// Child processes are forked before the parent opens a study file (SQLite connections must not
// cross fork) and leave with _exit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/logging.h"
#include "studies/controller.h"
#include "studies/study_loop.h"
#include "studies/study_spec.h"
#include "tests/support/test_support.h"

namespace autopeft::studies {
namespace {

namespace fs = std::filesystem;
using autopeft::testing::TempDir;

// An external study on [0, 1]^2 with two objectives.
nlohmann::json spec_json(const std::string& name, std::int64_t trials,
                         const std::string& sampler = "random") {
  return {{"study", name},
          {"runner", "external"},
          {"space",
           {{{"name", "x0"}, {"type", "float"}, {"low", 0}, {"high", 1}},
            {{"name", "x1"}, {"type", "float"}, {"low", 0}, {"high", 1}}}},
          {"objectives",
           {{{"name", "f1"}, {"direction", "minimize"}}, {{"name", "f2"}, {"direction", "minimize"}}}},
          {"sampler", {{"type", sampler}}},
          {"budget", {{"trials", trials}}},
          {"seed", 11}};
}

std::int64_t make_study(const std::string& path, const nlohmann::json& j) {
  SqliteStorage st(path);
  const auto spec = StudySpec::from_json(j, "test spec", "/");
  return st.create_study(spec.name, spec.definition, spec.objectives, spec.seed).id;
}

std::vector<double> expected_values(const nlohmann::json& params) {
  const double x0 = params.at("x0").get<double>(), x1 = params.at("x1").get<double>();
  return {x0, 1 - x0 + x1};
}

// Works 1-6 ms (by x1), with a heartbeat after each millisecond; values from the params only,
// so a configuration that runs again gives the same values.
class SleepyRunner : public TrialRunner {
 public:
  TrialOutcome run(const TrialRequest& request, TrialReporter& reporter) override {
    const int steps = 1 + static_cast<int>(request.params.at("x1").get<double>() * 5);
    for (int i = 0; i < steps; ++i) {
      usleep(1000);
      reporter.heartbeat();
    }
    TrialOutcome o;
    o.state = TrialState::complete;
    const auto v = expected_values(request.params);
    o.values = {{"f1", v[0]}, {"f2", v[1]}};
    return o;
  }
};

// A forked child: `body` gets the write end of a pipe; an exception that escapes it is written
// there as "UserError: ..." or "exception: ..." and the child exits 3 or 4.
struct Child {
  pid_t pid = -1;
  int fd = -1;
};
struct ChildResult {
  bool killed = false;  // by a signal
  int code = -1;
  std::string output;
};

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const auto n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

Child spawn(const std::function<void(int)>& body) {
  int p[2];
  if (pipe(p) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(p[0]);
    log::set_level(log::Level::off);
    int code = 0;
    try {
      body(p[1]);
    } catch (const UserError& e) {
      write_all(p[1], std::string("UserError: ") + e.what() + "\n");
      code = 3;
    } catch (const std::exception& e) {
      write_all(p[1], std::string("exception: ") + e.what() + "\n");
      code = 4;
    } catch (...) {
      write_all(p[1], "unknown exception\n");
      code = 5;
    }
    _exit(code);
  }
  close(p[1]);
  return {pid, p[0]};
}

ChildResult finish(const Child& c) {
  ChildResult r;
  char buf[4096];
  for (;;) {
    const auto n = read(c.fd, buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(c.fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  r.killed = WIFSIGNALED(status);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string file_bytes(const std::string& path) { return autopeft::testing::read_file(path); }

// The run a killed (or worker) process does: resume or not, with a heartbeat on every call.
void run_worker(const std::string& path, const std::string& name, const std::string& worker, bool resume) {
  SqliteStorage st(path, false);
  const auto study = st.find_study(name).value();
  SleepyRunner runner;
  LoopOptions o;
  o.worker = worker;
  o.resume = resume;
  o.heartbeat_seconds = 0;
  o.retries = 1000;  // every interrupted configuration runs again, however often it is hit
  run_study(st, study, runner, o);
}

void expect_same_finished(const TrialRecord& before, const TrialRecord& now) {
  EXPECT_EQ(now.id, before.id) << "trial " << before.number;
  EXPECT_EQ(now.state, before.state) << "trial " << before.number;
  EXPECT_EQ(now.params, before.params) << "trial " << before.number;
  EXPECT_EQ(now.values, before.values) << "trial " << before.number;
  EXPECT_EQ(now.reason, before.reason) << "trial " << before.number;
  EXPECT_EQ(now.finished, before.finished) << "trial " << before.number;
}

// Kill -9 twenty times at random moments (seeded), each time checking that what was finished
// stays as it was; then a resumed run finishes the budget, and each configuration a kill
// interrupted ran again.
void kill_and_resume(const std::string& sampler, std::int64_t budget, int kills, int max_delay_us) {
  TempDir tmp;
  const auto path = (tmp / "kill.db").string();
  const auto id = make_study(path, spec_json("kill", budget, sampler));
  std::mt19937_64 rng(20240521);
  std::uniform_int_distribution<int> delay(0, max_delay_us);
  std::map<std::int64_t, TrialRecord> finished;  // every finished trial ever seen, by number
  int killed = 0;
  for (int k = 0; k < kills; ++k) {
    const auto child = spawn([&](int) { run_worker(path, "kill", "w" + std::to_string(k), true); });
    usleep(static_cast<useconds_t>(delay(rng)));
    kill(child.pid, SIGKILL);
    const auto r = finish(child);
    if (r.killed)
      ++killed;
    else
      ASSERT_EQ(r.code, 0) << "run " << k << ": " << r.output;
    SqliteStorage st(path, false);
    ASSERT_EQ(st.integrity_check(), "ok") << "after kill " << k;
    for (const auto& t : st.trials(id)) {
      if (!is_finished(t.state)) continue;
      const auto it = finished.find(t.number);
      if (it == finished.end())
        finished.emplace(t.number, t);
      else
        expect_same_finished(it->second, t);
    }
  }
  EXPECT_GE(killed, kills * 3 / 4) << "most runs should have been killed, not finished";

  {
    SqliteStorage st(path, false);
    const auto study = st.find_study("kill").value();
    SleepyRunner runner;
    LoopOptions o;
    o.resume = true;
    o.retries = 1000;
    const auto report = run_study(st, study, runner, o);
    EXPECT_EQ(report.stopped_because, "budget");
  }

  SqliteStorage st(path, false);
  EXPECT_EQ(st.integrity_check(), "ok");
  const auto trials = st.trials(id);
  EXPECT_EQ(counted_trials(trials), budget);
  std::set<std::int64_t> numbers;
  std::map<std::int64_t, const TrialRecord*> by_number;
  int stale = 0;
  for (const auto& t : trials) {
    EXPECT_TRUE(numbers.insert(t.number).second) << "trial number " << t.number << " twice";
    by_number[t.number] = &t;
    EXPECT_TRUE(t.state == TrialState::complete || t.state == TrialState::failed)
        << "trial " << t.number << " is " << state_name(t.state);
    if (t.state == TrialState::complete) {
      EXPECT_EQ(t.values, expected_values(t.params)) << t.number;
    }
    if (t.state == TrialState::failed) {
      EXPECT_EQ(t.reason, "stale") << "trial " << t.number;
      ++stale;
    }
  }
  EXPECT_GT(stale, 0) << "no kill landed during a trial";
  for (const auto& [number, before] : finished) {
    ASSERT_TRUE(by_number.count(number)) << "trial " << number << " was lost";
    expect_same_finished(before, *by_number[number]);
  }
  // Each interrupted configuration ran again, to completion, after the stale trial.
  for (const auto& t : trials) {
    if (t.state != TrialState::failed) continue;
    bool again = false;
    for (const auto& u : trials)
      again |= u.number > t.number && u.params == t.params && u.state == TrialState::complete;
    EXPECT_TRUE(again) << "the configuration of stale trial " << t.number << " (" << t.params.dump()
                       << ") never ran again";
  }
}

TEST(CrashIntegrationTest, KillNineTwentyTimesThenResumeRandomSampler) {
  kill_and_resume("random", 40, 20, 30000);
}

TEST(CrashIntegrationTest, KillNineTwentyTimesThenResumeGpSampler) { kill_and_resume("gp", 40, 20, 30000); }

// A crash between failing a stale trial and enqueueing its configuration again: the next run
// must still run that configuration again.
TEST(CrashIntegrationTest, AStaleTrialWhoseRequeueWasLostRunsAgainOnResume) {
  TempDir tmp;
  const auto path = (tmp / "s.db").string();
  const auto id = make_study(path, spec_json("lost", 3));
  SqliteStorage st(path, false);
  const auto study = st.find_study("lost").value();
  const auto dead = ask(st, study, "dead");
  // What the dead process committed: the trial failed as stale, nothing enqueued yet.
  ASSERT_EQ(st.fail_stale(id, -1e9, epoch_seconds() + 1e9).size(), 1u);
  SleepyRunner runner;
  LoopOptions o;
  o.resume = true;
  run_study(st, study, runner, o);
  const auto trials = st.trials(id);
  bool again = false;
  for (const auto& t : trials) again |= t.number > dead.number && t.params == dead.params;
  EXPECT_TRUE(again) << "the configuration of trial " << dead.number << " never ran again";
  EXPECT_EQ(counted_trials(trials), 3);
}

TEST(CrashIntegrationTest, FourWorkerProcessesShareOneStudyFile) {
  TempDir tmp;
  const auto path = (tmp / "par.db").string();
  const auto id = make_study(path, spec_json("par", 40));
  std::vector<Child> children;
  for (int w = 0; w < 4; ++w)
    children.push_back(spawn([&, w](int) { run_worker(path, "par", "w" + std::to_string(w), false); }));
  for (const auto& c : children) {
    const auto r = finish(c);
    EXPECT_FALSE(r.killed);
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.output.find("locked"), std::string::npos) << r.output;
  }
  SqliteStorage st(path, false);
  EXPECT_EQ(st.integrity_check(), "ok");
  const auto trials = st.trials(id);
  const auto counted = counted_trials(trials);
  EXPECT_GE(counted, 40);
  EXPECT_LE(counted, 43);  // each worker may finish the one it had in flight
  std::set<std::int64_t> numbers;
  std::set<std::string> params;
  for (const auto& t : trials) {
    EXPECT_TRUE(numbers.insert(t.number).second) << "trial number " << t.number << " twice";
    EXPECT_TRUE(params.insert(t.params.dump()).second)
        << "trial " << t.number << " repeats " << t.params.dump();
    EXPECT_EQ(t.state, TrialState::complete) << "trial " << t.number << ": " << t.reason;
  }
  std::set<std::string> workers;
  for (const auto& t : trials) workers.insert(t.worker);
  EXPECT_EQ(workers.size(), 4u) << "every worker ran trials";
}

void expect_names(const std::function<void()>& f, const std::string& name, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << what << ": no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << what << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a UserError: " << e.what();
  }
}

TEST(CrashTest, WritesToAReadOnlyStudyFileFailNamingItAndChangeNothing) {
  if (!sqlite3_compileoption_used("USE_URI")) GTEST_SKIP() << "this SQLite does not take file: URIs";
  TempDir tmp;
  const auto path = (tmp / "ro.db").string();
  const auto id = make_study(path, spec_json("ro", 10));
  std::int64_t running = 0;
  {
    SqliteStorage st(path, false);
    const auto t = st.start_trial(id, {{"x0", 0.5}, {"x1", 0.5}}, "w", 0, 100.0);
    st.finish_trial(t.id, TrialState::complete, {0.5, 1.0}, "");
    running = st.start_trial(id, {{"x0", 0.25}, {"x1", 0.5}}, "w", 1, 100.0).id;
  }
  const auto before = file_bytes(path);
  {
    SqliteStorage ro("file:" + path + "?mode=ro", false);
    const auto study = ro.find_study("ro");
    ASSERT_TRUE(study);
    ASSERT_EQ(ro.trials(id).size(), 2u);
    expect_names([&] { ro.create_study("x", {}, study->objectives, 0); }, path, "create_study");
    expect_names([&] { ro.enqueue_trial(id, {{"x0", 0.1}}); }, path, "enqueue_trial");
    expect_names([&] { ro.start_trial(id, {{"x0", 0.1}}, "w", 2, 100.0); }, path, "start_trial");
    expect_names([&] { ro.heartbeat(running, 200.0); }, path, "heartbeat");
    expect_names([&] { ro.report(running, 1, 0.5); }, path, "report");
    expect_names(
        [&] {
          ro.finish_trial(running, TrialState::complete, {0.1, 0.2}, "");
        },
        path, "finish_trial");
    expect_names([&] { ro.fail_stale(id, 0, 1e12); }, path, "fail_stale");
    expect_names([&] { ro.set_study_attr(id, "k", 1); }, path, "set_study_attr");
    expect_names([&] { ro.delete_study(id); }, path, "delete_study");
    SleepyRunner runner;
    expect_names([&] { run_study(ro, *study, runner, {}); }, path, "run_study");
    EXPECT_EQ(ro.trials(id).size(), 2u);
  }
  EXPECT_TRUE(file_bytes(path) == before) << "the read-only file changed";
  SqliteStorage st(path, false);
  EXPECT_EQ(st.integrity_check(), "ok");
  EXPECT_EQ(st.trials(id).size(), 2u);
}

// A file that cannot grow (RLIMIT_FSIZE just above its size, as on a full disk): the write that
// does not fit fails with a UserError naming the file, and everything committed before is intact.
TEST(CrashIntegrationTest, AFullDiskFailsTheWriteNamingTheFileAndLosesNothing) {
  TempDir tmp;
  const auto path = (tmp / "full.db").string();
  const auto id = make_study(path, spec_json("full", 10000));
  {
    SqliteStorage st(path, false);
    for (int i = 0; i < 5; ++i) {
      const auto t = st.start_trial(id, {{"x0", i / 10.0}, {"x1", 0.5}}, "w", i, 100.0);
      st.finish_trial(t.id, TrialState::complete, expected_values(t.params), "");
    }
  }
  const auto size = fs::file_size(path);
  const auto child = spawn([&](int out) {
    SqliteStorage st(path, false);
    st.trials(id);  // the -wal and -shm files exist before the limit
    signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{static_cast<rlim_t>(size + 16384), static_cast<rlim_t>(size + 16384)};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) throw std::runtime_error("setrlimit failed");
    const std::string padding(800, 'p');
    for (int i = 5; i < 100000; ++i) {
      const auto t = st.start_trial(id, {{"x0", 0.5}, {"x1", i / 1e5}, {"pad", padding}}, "w", i, 100.0);
      st.finish_trial(t.id, TrialState::complete, expected_values(t.params), "");
      write_all(out, "committed " + std::to_string(t.number) + "\n");
    }
  });
  const auto r = finish(child);
  ASSERT_FALSE(r.killed) << r.output;
  EXPECT_EQ(r.code, 3) << "expected a UserError; got: " << r.output;
  const auto error_at = r.output.find("UserError: ");
  ASSERT_NE(error_at, std::string::npos) << r.output;
  EXPECT_NE(r.output.find(path, error_at), std::string::npos) << r.output;
  std::set<std::int64_t> committed = {0, 1, 2, 3, 4};
  std::istringstream lines(r.output.substr(0, error_at));
  std::string word;
  std::int64_t number = 0;
  while (lines >> word >> number) committed.insert(number);
  EXPECT_GT(committed.size(), 5u) << "the limit left no room for a single trial";

  SqliteStorage st(path, false);
  EXPECT_EQ(st.integrity_check(), "ok");
  std::map<std::int64_t, TrialRecord> trials;
  for (const auto& t : st.trials(id)) trials.emplace(t.number, t);
  for (const auto n : committed) {
    ASSERT_TRUE(trials.count(n)) << "committed trial " << n << " was lost";
    EXPECT_EQ(trials[n].state, TrialState::complete) << n;
    EXPECT_EQ(trials[n].values, expected_values(trials[n].params)) << n;
  }
  // With room again, the study goes on.
  const auto t = st.start_trial(id, {{"x0", 0.5}, {"x1", 0.5}}, "w", 0, 100.0);
  st.finish_trial(t.id, TrialState::complete, {0.5, 1.0}, "");
  EXPECT_EQ(st.integrity_check(), "ok");
}

fs::path golden() { return autopeft::testing::source_dir() / "tests/data/golden/study_v1.db"; }

int user_version(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, nullptr);
  const int v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return v;
}

// tests/data/golden/study_v1.db (from study_v1.sql, written from docs/study-schema.md): a file
// of schema version 1 stays readable and writable.
TEST(CrashTest, GoldenSchemaVersion1FileReadsAndTakesNewTrials) {
  TempDir tmp;
  const auto path = (tmp / "study_v1.db").string();
  fs::copy_file(golden(), path);
  EXPECT_EQ(user_version(path), 1);
  {
    SqliteStorage st(path, false);
    EXPECT_EQ(st.integrity_check(), "ok");
    const auto studies = st.studies();
    ASSERT_EQ(studies.size(), 2u);
    const auto& s = studies[0];
    EXPECT_EQ(s.id, 1);
    EXPECT_EQ(s.name, "golden");
    EXPECT_EQ(s.seed, 42u);
    EXPECT_EQ(s.created, "2024-05-01T10:00:00Z");
    ASSERT_EQ(s.objectives.size(), 2u);
    EXPECT_EQ(s.objectives[0].name, "accuracy");
    EXPECT_EQ(s.objectives[0].direction, "maximize");
    EXPECT_EQ(s.objectives[1].name, "params_percent");
    EXPECT_EQ(s.objectives[1].direction, "minimize");
    EXPECT_EQ(s.definition["budget"]["trials"], 10);
    EXPECT_EQ(StudySpec::from_definition(s.definition).sampler, "random");
    EXPECT_EQ(studies[1].name, "other");
    EXPECT_EQ(studies[1].objectives.size(), 1u);

    const auto trials = st.trials(s.id);
    ASSERT_EQ(trials.size(), 5u);
    for (std::size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(trials[i].number, static_cast<std::int64_t>(i));
    EXPECT_EQ(trials[0].state, TrialState::complete);
    EXPECT_EQ(trials[0].params, nlohmann::json({{"x0", 0.25}, {"x1", 0.5}}));
    EXPECT_EQ(trials[0].values, (std::vector<double>{0.875, 1.5}));
    EXPECT_EQ(trials[0].created, "2024-05-01T10:00:01Z");
    EXPECT_EQ(trials[0].finished, "2024-05-01T10:05:00Z");
    EXPECT_EQ(trials[0].heartbeat, 1714557900.0);
    EXPECT_EQ(trials[0].worker, "host:100");
    EXPECT_EQ(trials[0].reason, "");
    EXPECT_EQ(trials[0].proposal, 0);
    EXPECT_EQ(st.intermediate_values(trials[0].id),
              (std::vector<std::pair<std::int64_t, double>>{{1, 0.5}, {2, 0.75}}));
    EXPECT_EQ(trials[1].state, TrialState::pruned);
    EXPECT_EQ(trials[1].reason, "pruned at step 2");
    EXPECT_TRUE(trials[1].values.empty());
    EXPECT_EQ(trials[2].state, TrialState::failed);
    EXPECT_EQ(trials[2].reason, "stale");
    EXPECT_EQ(trials[3].state, TrialState::waiting);
    EXPECT_EQ(trials[3].started, "");
    EXPECT_EQ(trials[3].proposal, -1);
    EXPECT_EQ(trials[4].state, TrialState::running);
    EXPECT_EQ(trials[4].heartbeat, 1714558200.5);
    EXPECT_EQ(counted_trials(trials), 2);
    EXPECT_EQ(st.study_attr(s.id, "bo_state")["theta"][1], 2.0);
    EXPECT_EQ(st.study_attr(s.id, "trial.0")["labels"][0], "neg");
    const auto other = st.trials(2);
    ASSERT_EQ(other.size(), 1u);
    EXPECT_EQ(other[0].values, (std::vector<double>{0.25}));

    // It takes new trials: the waiting one first, then a fresh proposal numbered after the rest.
    const auto claimed = ask(st, s, "new");
    EXPECT_EQ(claimed.number, 3);
    tell(st, s, claimed.number, TrialState::complete, {0.5, 0.25}, "");
    const auto fresh = ask(st, s, "new");
    EXPECT_EQ(fresh.number, 5);
    EXPECT_EQ(fresh.proposal, 4);
    tell(st, s, fresh.number, TrialState::complete, {0.625, 0.5}, "");
  }
  EXPECT_EQ(user_version(path), 1);
  SqliteStorage again(path, false);
  EXPECT_EQ(again.integrity_check(), "ok");
  const auto trials = again.trials(1);
  ASSERT_EQ(trials.size(), 6u);
  EXPECT_EQ(trials[3].state, TrialState::complete);
  EXPECT_EQ(trials[3].values, (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(trials[5].values, (std::vector<double>{0.625, 0.5}));
  EXPECT_EQ(trials[0].values, (std::vector<double>{0.875, 1.5}));  // the old ones untouched
  EXPECT_EQ(counted_trials(trials), 4);
}

TEST(CrashTest, ANewerSchemaVersionIsRefusedNamingTheFileAndLeftAlone) {
  TempDir tmp;
  const auto path = (tmp / "study_v99.db").string();
  fs::copy_file(golden(), path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const auto before = file_bytes(path);
  try {
    SqliteStorage st(path, false);
    ADD_FAILURE() << "a version 99 file was opened";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("99"), std::string::npos) << what;
  }
  EXPECT_TRUE(file_bytes(path) == before) << "the refused file changed";
  EXPECT_EQ(user_version(path), 99);
}

}  // namespace
}  // namespace autopeft::studies
