#pragma once
// What the `autopeft study ...` command files share.
#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "studies/storage.h"

namespace autopeft::cli {

struct StudyOptions {
  std::string spec;
  std::string db;
  std::string study;
  bool exist_ok = false;
  std::int64_t trial = -1;
  std::string values;
  std::string state;
  std::string format = "table";
  // run / resume / worker
  std::int64_t more_trials = 0;  // 0: up to the budget
  int workers = 1;
  double grace = 120;
  std::string progress = "auto";
  std::string device = "cpu";
  // enqueue / export
  std::string config;
  std::string params;
  std::string pick = "best";
  std::string out;
};

// The study named `name`, or the file's only study; UserError otherwise.
studies::StudyRecord pick_study(studies::SqliteStorage& storage, const std::string& name);
// A trial as `study trials --format json` prints it.
nlohmann::ordered_json trial_json(const studies::TrialRecord& t);

void add_study_run_commands(CLI::App& study, CommandRegistry& registry, std::shared_ptr<StudyOptions> o,
                            const GlobalOptions& globals);
void add_study_result_commands(CLI::App& study, CommandRegistry& registry, std::shared_ptr<StudyOptions> o);

}  // namespace autopeft::cli
