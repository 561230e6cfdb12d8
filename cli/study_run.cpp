// `autopeft study run | resume` and `autopeft worker`: running a study's trials with the trainer.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "cli/study_common.h"
#include "core/errors.h"
#include "core/logging.h"
#include "model/runtime.h"
#include "studies/controller.h"
#include "studies/study_loop.h"
#include "studies/study_spec.h"
#include "trainer/study_runner.h"

extern char** environ;

namespace autopeft::cli {

namespace {

std::atomic<bool> g_stop{false};
// Worker processes this process started; the handler passes SIGINT / SIGTERM on to them.
constexpr int kMaxChildren = 256;
pid_t g_children[kMaxChildren];
std::atomic<int> g_child_count{0};

// First SIGINT / SIGTERM: finish the running trial, then stop (a resume proposes what an
// uninterrupted run would). A second one ends the process at once; `study resume` then runs the
// interrupted configuration again.
extern "C" void on_stop_signal(int sig) {
  for (int i = 0; i < g_child_count.load(); ++i) kill(g_children[i], sig);  // async-signal-safe
  if (g_stop.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

std::string worker_id() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return fmt::format("{}:{}", host, getpid());
}

pid_t spawn_worker(const std::string& db, const std::string& study, std::int64_t until, int threads,
                   double grace, const std::string& device) {
  std::vector<std::string> args = {"autopeft",   "worker",
                                   "--db",       db,
                                   "--study",    study,
                                   "--progress", "quiet",
                                   "--grace",    fmt::format("{}", grace),
                                   "--threads",  std::to_string(threads),
                                   "--device",   device};
  if (until > 0) {
    args.push_back("--until");
    args.push_back(std::to_string(until));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The workers' stdout goes nowhere: the last line on stdout is this command's summary.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start a worker process");
  return pid;
}

int run_loop(const StudyOptions& o, const GlobalOptions& globals, bool resume, std::int64_t until_arg) {
  studies::SqliteStorage storage(o.db, false);
  const auto study = pick_study(storage, o.study);
  const auto spec = studies::StudySpec::from_definition(study.definition);
  if (spec.runner == "external")
    throw_user_error(study.name, "is an external study: its trials are evaluated outside (study ask / tell)");
  if (o.workers < 1) throw_user_error("--workers", "must be at least 1");
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  studies::LoopOptions lo;
  lo.worker = worker_id();
  lo.resume = resume;
  lo.grace_seconds = o.grace;
  lo.stop = &g_stop;
  lo.pruner = studies::PrunerOptions::from_json(study.definition.value("pruner", nlohmann::json()), "pruner");
  const auto counted = studies::counted_trials(storage.trials(study.id));
  if (until_arg > 0) lo.until = until_arg;
  if (o.more_trials > 0) lo.until = counted + o.more_trials;
  lo.on_trial = [&](const studies::TrialRecord& t, const studies::TrialOutcome& out) {
    std::string values;
    for (const auto& [k, v] : out.values)
      if (k != "trainable" && k != "stored") values += fmt::format(" {}={:.4g}", k, v);
    log::info("trial {} {}{}{}", t.number, studies::state_name(out.state), values,
              out.reason.empty() ? "" : " (" + out.reason + ")");
  };

  std::vector<pid_t> children;
  if (o.workers > 1) {
    if (resume) {  // the dead run's trials, before any worker starts
      const auto stale = storage.fail_stale(study.id, -1e9, studies::epoch_seconds() + 1e9);
      studies::requeue_stale(storage, study, stale, lo.retries);
      lo.resume = false;
    }
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = globals.threads > 0 ? globals.threads : std::max(1, cores / o.workers);
    model::set_threads(threads);
    for (int w = 1; w < o.workers && w < kMaxChildren; ++w) {
      children.push_back(spawn_worker(o.db, study.name, lo.until.value_or(0), threads, o.grace, o.device));
      g_children[g_child_count.load()] = children.back();
      g_child_count.fetch_add(1);
    }
  }
  trainer::StudyTrialRunner runner(trainer::parse_progress_mode(o.progress), model::parse_device(o.device));
  const auto report = studies::run_study(storage, study, runner, lo);
  int child_failures = 0;
  for (const auto pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    child_failures += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const auto all = storage.trials(study.id);
  std::int64_t complete = 0, failed = 0, pruned = 0;
  for (const auto& t : all) {
    complete += t.state == studies::TrialState::complete;
    failed += t.state == studies::TrialState::failed;
    pruned += t.state == studies::TrialState::pruned;
  }
  if (child_failures > 0) log::warn("{} worker process(es) ended with an error", child_failures);
  if (report.stopped_because == "interrupted")
    log::info("stopped after the running trial; `autopeft study resume --db {}` goes on", o.db);
  if (report.stopped_because == "failures")
    log::warn("stopped: {} trials in a row failed (see `autopeft study trials --db {}`)",
              lo.max_consecutive_failures, o.db);
  std::cout << nlohmann::ordered_json{{"study", study.name},
                                      {"db", o.db},
                                      {"stopped", report.stopped_because},
                                      {"ran", report.complete + report.pruned + report.failed},
                                      {"complete", complete},
                                      {"pruned", pruned},
                                      {"failed", failed}}
                   .dump()
            << "\n";
  return report.stopped_because == "failures" ? 1 : 0;
}

}  // namespace

void add_study_run_commands(CLI::App& study, CommandRegistry& registry, std::shared_ptr<StudyOptions> o,
                            const GlobalOptions& globals) {
  // `globals` outlives every command (cli::main owns it).
  const GlobalOptions* g = &globals;
  auto add_common = [&](CLI::App* c) {
    c->add_option("--db", o->db, "Study file")->required()->check(CLI::ExistingFile);
    c->add_option("--study", o->study, "Study name (optional when the file holds one)");
    c->add_option("--grace", o->grace, "Seconds without a heartbeat after which a running trial is stale")
        ->capture_default_str();
    c->add_option("--progress", o->progress, "Training progress: auto, bar, lines or quiet")
        ->capture_default_str();
    c->add_option("--device", o->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  };
  for (const bool resume : {false, true}) {
    auto* c = study.add_subcommand(
        resume ? "resume" : "run",
        resume
            ? "Fail and re-enqueue the trials a dead run left RUNNING, then run until the budget"
            : "Run trials until the budget (or --trials more) is reached; Ctrl-C finishes the running trial");
    add_common(c);
    c->add_option("--trials", o->more_trials, "Run this many more trials (default: up to the budget)");
    c->add_option("--workers", o->workers, "Worker processes on this machine")->capture_default_str();
    registry.add(c, [o, g, resume] { return run_loop(*o, *g, resume, 0); });
  }
  auto* root = study.get_parent();
  auto until = std::make_shared<std::int64_t>(0);
  auto* w =
      root->add_subcommand("worker", "Run a study's trials alongside other workers on the same study file");
  add_common(w);
  w->add_option("--until", *until, "Stop when this many trials have finished (default: the budget)");
  registry.add(w, [o, g, until] { return run_loop(*o, *g, false, *until); });
}

}  // namespace autopeft::cli
