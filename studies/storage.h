#pragma once
// Study storage. The controller keeps no state outside it: studies, trials, their values,
// learning curves and attributes all live in the storage, so any process can resume.
// `Storage` is the interface (a server database can be added without touching the controller);
// `SqliteStorage` keeps a study file with SQLite (WAL, BEGIN IMMEDIATE for every write, a busy
// timeout, schema version in PRAGMA user_version). Finished trials are never modified.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "studies/trial.h"

namespace SQLite {
class Database;
}

namespace autopeft::studies {

struct Objective {
  std::string name;
  std::string direction;  // "minimize" or "maximize"
};

struct StudyRecord {
  std::int64_t id = 0;
  std::string name;
  nlohmann::json definition;
  std::vector<Objective> objectives;
  std::uint64_t seed = 0;
  std::string created;  // UTC, ISO 8601
};

struct TrialRecord {
  std::int64_t id = 0;
  std::int64_t number = 0;  // unique within the study, from 0
  TrialState state = TrialState::waiting;
  nlohmann::json params;
  std::vector<double> values;  // one per objective, when complete
  std::string created, started, finished;
  double heartbeat = 0;  // seconds since the epoch of the last heartbeat
  std::string worker;
  std::string reason;          // failure / pruning reason
  std::int64_t proposal = -1;  // index of the proposal that made it (-1: enqueued by hand)
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Throws UserError when the name is taken.
  virtual StudyRecord create_study(const std::string& name, const nlohmann::json& definition,
                                   const std::vector<Objective>& objectives, std::uint64_t seed) = 0;
  virtual std::optional<StudyRecord> find_study(const std::string& name) = 0;
  virtual std::vector<StudyRecord> studies() = 0;
  virtual void delete_study(std::int64_t study) = 0;

  // A new WAITING trial; returns its number.
  virtual std::int64_t enqueue_trial(std::int64_t study, const nlohmann::json& params) = 0;
  // Moves the oldest WAITING trial to RUNNING for `worker`, atomically; nothing when none waits.
  virtual std::optional<TrialRecord> claim_waiting(std::int64_t study, const std::string& worker,
                                                   double now) = 0;
  // A new RUNNING trial for a fresh proposal.
  virtual TrialRecord start_trial(std::int64_t study, const nlohmann::json& params, const std::string& worker,
                                  std::int64_t proposal, double now) = 0;
  // start_trial, atomically unless a trial of the study has proposal index `proposal` or a later
  // one (another worker proposed meanwhile): nothing then, and the caller proposes again.
  virtual std::optional<TrialRecord> start_proposal(std::int64_t study, const nlohmann::json& params,
                                                    const std::string& worker, std::int64_t proposal,
                                                    double now) = 0;
  // enqueue_trial, atomically unless a trial numbered after `after` has these params already
  // (the configuration of trial `after` runs again already); returns the new number or nothing.
  virtual std::optional<std::int64_t> enqueue_again(std::int64_t study, const nlohmann::json& params,
                                                    std::int64_t after) = 0;
  virtual void heartbeat(std::int64_t trial, double now) = 0;
  virtual void report(std::int64_t trial, std::int64_t step, double value) = 0;
  // RUNNING -> COMPLETE / PRUNED / FAILED. Throws std::logic_error for a finished trial.
  virtual void finish_trial(std::int64_t trial, TrialState state, const std::vector<double>& values,
                            const std::string& reason) = 0;
  // RUNNING trials whose heartbeat is older than now - grace become FAILED ("stale"); returns them.
  virtual std::vector<TrialRecord> fail_stale(std::int64_t study, double grace_seconds, double now) = 0;

  virtual std::vector<TrialRecord> trials(std::int64_t study) = 0;
  virtual std::vector<std::pair<std::int64_t, double>> intermediate_values(std::int64_t trial) = 0;
  virtual void set_study_attr(std::int64_t study, const std::string& key, const nlohmann::json& value) = 0;
  virtual nlohmann::json study_attr(std::int64_t study, const std::string& key) = 0;
};

constexpr int kSchemaVersion = 1;

class SqliteStorage : public Storage {
 public:
  // Opens (creating when `create`) a study file; checks or creates the schema. Errors name the
  // file: every method throws UserError "<path>: ..." when SQLite fails (a read-only file, a full
  // disk, a lock held past the busy timeout); the failed write is rolled back, nothing else lost.
  SqliteStorage(const std::string& path, bool create = true);
  ~SqliteStorage() override;

  StudyRecord create_study(const std::string& name, const nlohmann::json& definition,
                           const std::vector<Objective>& objectives, std::uint64_t seed) override;
  std::optional<StudyRecord> find_study(const std::string& name) override;
  std::vector<StudyRecord> studies() override;
  void delete_study(std::int64_t study) override;
  std::int64_t enqueue_trial(std::int64_t study, const nlohmann::json& params) override;
  std::optional<TrialRecord> claim_waiting(std::int64_t study, const std::string& worker,
                                           double now) override;
  TrialRecord start_trial(std::int64_t study, const nlohmann::json& params, const std::string& worker,
                          std::int64_t proposal, double now) override;
  std::optional<TrialRecord> start_proposal(std::int64_t study, const nlohmann::json& params,
                                            const std::string& worker, std::int64_t proposal,
                                            double now) override;
  std::optional<std::int64_t> enqueue_again(std::int64_t study, const nlohmann::json& params,
                                            std::int64_t after) override;
  void heartbeat(std::int64_t trial, double now) override;
  void report(std::int64_t trial, std::int64_t step, double value) override;
  void finish_trial(std::int64_t trial, TrialState state, const std::vector<double>& values,
                    const std::string& reason) override;
  std::vector<TrialRecord> fail_stale(std::int64_t study, double grace_seconds, double now) override;
  std::vector<TrialRecord> trials(std::int64_t study) override;
  std::vector<std::pair<std::int64_t, double>> intermediate_values(std::int64_t trial) override;
  void set_study_attr(std::int64_t study, const std::string& key, const nlohmann::json& value) override;
  nlohmann::json study_attr(std::int64_t study, const std::string& key) override;

  const std::string& path() const { return path_; }
  // PRAGMA integrity_check's answer ("ok" when sound).
  std::string integrity_check();

 private:
  std::string path_;
  std::unique_ptr<SQLite::Database> db_;
  TrialRecord trial_by_id(std::int64_t trial);
  std::int64_t next_number(std::int64_t study);
  std::int64_t insert_waiting(std::int64_t study, const nlohmann::json& params);
  TrialRecord insert_running(std::int64_t study, const nlohmann::json& params, const std::string& worker,
                             std::int64_t proposal, double now);
};

// The current UTC time as ISO 8601, and as seconds since the epoch.
std::string utc_now();
double epoch_seconds();

}  // namespace autopeft::studies
