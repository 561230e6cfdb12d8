#include "studies/storage.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <stdexcept>

#include "core/errors.h"

namespace autopeft::studies {

std::string utc_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double epoch_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

// The schema, version 1 (docs/study-schema.md describes it).
const char* kSchema = R"SQL(
CREATE TABLE studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  definition TEXT NOT NULL,          -- the study spec, JSON
  seed INTEGER NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE objectives (
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  name TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  PRIMARY KEY (study_id, idx));
CREATE TABLE trials (
  id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'running', 'complete', 'pruned', 'failed')),
  params TEXT NOT NULL,              -- JSON object, by dimension name
  created TEXT NOT NULL,
  started TEXT,
  finished TEXT,
  heartbeat REAL,                    -- seconds since the epoch
  worker TEXT,
  reason TEXT,
  proposal INTEGER NOT NULL DEFAULT -1,
  UNIQUE (study_id, number));
CREATE TABLE trial_values (
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (trial_id, idx));
CREATE TABLE intermediate_values (
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (trial_id, step));
CREATE TABLE study_attrs (
  study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,               -- JSON
  PRIMARY KEY (study_id, key));
CREATE INDEX trials_by_state ON trials (study_id, state);
)SQL";

TrialRecord read_trial(SQLite::Statement& q) {
  TrialRecord t;
  t.id = q.getColumn(0).getInt64();
  t.number = q.getColumn(1).getInt64();
  t.state = parse_state(q.getColumn(2).getString());
  t.params = nlohmann::json::parse(q.getColumn(3).getString());
  t.created = q.getColumn(4).getString();
  t.started = q.getColumn(5).isNull() ? "" : q.getColumn(5).getString();
  t.finished = q.getColumn(6).isNull() ? "" : q.getColumn(6).getString();
  t.heartbeat = q.getColumn(7).isNull() ? 0.0 : q.getColumn(7).getDouble();
  t.worker = q.getColumn(8).isNull() ? "" : q.getColumn(8).getString();
  t.reason = q.getColumn(9).isNull() ? "" : q.getColumn(9).getString();
  t.proposal = q.getColumn(10).getInt64();
  return t;
}

// A SQLite failure as a UserError naming the file, with a hint for the usual causes.
[[noreturn]] void storage_error(const std::string& path, const SQLite::Exception& e) {
  std::string what = e.what();
  const int code = e.getErrorCode();
  if (code == SQLITE_FULL || e.getExtendedErrorCode() == SQLITE_IOERR_WRITE)
    what += " (is the disk full, or the file over a size limit?)";
  else if (code == SQLITE_READONLY)
    what += " (the study file or its folder is read-only)";
  else if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    what += " (another process held the study file for longer than the 30 s busy timeout)";
  throw_user_error(path, "study file: " + what);
}

constexpr const char* kTrialColumns =
    "id, number, state, params, created, started, finished, heartbeat, worker, reason, proposal";

}  // namespace

SqliteStorage::SqliteStorage(const std::string& path, bool create) : path_(path) {
  try {
    db_ = std::make_unique<SQLite::Database>(
        path, create ? (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) : SQLite::OPEN_READWRITE);
    db_->setBusyTimeout(30000);
    db_->exec("PRAGMA foreign_keys = ON");
    db_->exec("PRAGMA journal_mode = WAL");
    db_->exec("PRAGMA synchronous = NORMAL");
    const int version = db_->execAndGet("PRAGMA user_version").getInt();
    if (version == 0) {
      SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
      if (db_->execAndGet("PRAGMA user_version").getInt() == 0) {
        const bool empty = db_->execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0;
        if (!empty)
          throw_user_error(path, "not an autopeft study file (it has tables but no schema version)");
        db_->exec(kSchema);
        db_->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
      }
      tx.commit();
    } else if (version > kSchemaVersion) {
      throw_user_error(path, "study file schema version " + std::to_string(version) +
                                 " is newer than this build's " + std::to_string(kSchemaVersion) +
                                 ": upgrade autopeft");
    }
  } catch (const SQLite::Exception& e) {
    throw_user_error(path, std::string("cannot open the study file: ") + e.what());
  }
}

SqliteStorage::~SqliteStorage() = default;

StudyRecord SqliteStorage::create_study(const std::string& name, const nlohmann::json& definition,
                                        const std::vector<Objective>& objectives, std::uint64_t seed) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement exists(*db_, "SELECT 1 FROM studies WHERE name = ?");
  exists.bind(1, name);
  if (exists.executeStep()) throw_user_error(path_, "a study named '" + name + "' exists already");
  StudyRecord s{0, name, definition, objectives, seed, utc_now()};
  SQLite::Statement ins(*db_, "INSERT INTO studies (name, definition, seed, created) VALUES (?, ?, ?, ?)");
  ins.bind(1, name);
  ins.bind(2, definition.dump());
  ins.bind(3, static_cast<std::int64_t>(seed));
  ins.bind(4, s.created);
  ins.exec();
  s.id = db_->getLastInsertRowid();
  for (std::size_t i = 0; i < objectives.size(); ++i) {
    SQLite::Statement o(*db_, "INSERT INTO objectives (study_id, idx, name, direction) VALUES (?, ?, ?, ?)");
    o.bind(1, s.id);
    o.bind(2, static_cast<std::int64_t>(i));
    o.bind(3, objectives[i].name);
    o.bind(4, objectives[i].direction);
    o.exec();
  }
  tx.commit();
  return s;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::vector<StudyRecord> SqliteStorage::studies() try {
  std::vector<StudyRecord> out;
  SQLite::Statement q(*db_, "SELECT id, name, definition, seed, created FROM studies ORDER BY id");
  while (q.executeStep()) {
    StudyRecord s{q.getColumn(0).getInt64(),
                  q.getColumn(1).getString(),
                  nlohmann::json::parse(q.getColumn(2).getString()),
                  {},
                  static_cast<std::uint64_t>(q.getColumn(3).getInt64()),
                  q.getColumn(4).getString()};
    SQLite::Statement o(*db_, "SELECT name, direction FROM objectives WHERE study_id = ? ORDER BY idx");
    o.bind(1, s.id);
    while (o.executeStep()) s.objectives.push_back({o.getColumn(0).getString(), o.getColumn(1).getString()});
    out.push_back(std::move(s));
  }
  return out;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::optional<StudyRecord> SqliteStorage::find_study(const std::string& name) try {
  for (auto& s : studies())
    if (s.name == name) return s;
  return std::nullopt;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

void SqliteStorage::delete_study(std::int64_t study) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement d(*db_, "DELETE FROM studies WHERE id = ?");
  d.bind(1, study);
  d.exec();
  tx.commit();
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::int64_t SqliteStorage::next_number(std::int64_t study) {
  SQLite::Statement q(*db_, "SELECT coalesce(max(number) + 1, 0) FROM trials WHERE study_id = ?");
  q.bind(1, study);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

std::int64_t SqliteStorage::insert_waiting(std::int64_t study, const nlohmann::json& params) {
  const auto number = next_number(study);
  SQLite::Statement ins(
      *db_, "INSERT INTO trials (study_id, number, state, params, created) VALUES (?, ?, 'waiting', ?, ?)");
  ins.bind(1, study);
  ins.bind(2, number);
  ins.bind(3, params.dump());
  ins.bind(4, utc_now());
  ins.exec();
  return number;
}

std::int64_t SqliteStorage::enqueue_trial(std::int64_t study, const nlohmann::json& params) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  const auto number = insert_waiting(study, params);
  tx.commit();
  return number;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::optional<std::int64_t> SqliteStorage::enqueue_again(std::int64_t study, const nlohmann::json& params,
                                                         std::int64_t after) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement q(*db_, "SELECT params FROM trials WHERE study_id = ? AND number > ?");
  q.bind(1, study);
  q.bind(2, after);
  while (q.executeStep())
    if (nlohmann::json::parse(q.getColumn(0).getString()) == params) return std::nullopt;
  const auto number = insert_waiting(study, params);
  tx.commit();
  return number;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

TrialRecord SqliteStorage::trial_by_id(std::int64_t trial) {
  SQLite::Statement q(*db_, std::string("SELECT ") + kTrialColumns + " FROM trials WHERE id = ?");
  q.bind(1, trial);
  if (!q.executeStep()) throw std::logic_error("no trial with id " + std::to_string(trial));
  auto t = read_trial(q);
  SQLite::Statement v(*db_, "SELECT value FROM trial_values WHERE trial_id = ? ORDER BY idx");
  v.bind(1, trial);
  while (v.executeStep()) t.values.push_back(v.getColumn(0).getDouble());
  return t;
}

std::optional<TrialRecord> SqliteStorage::claim_waiting(std::int64_t study, const std::string& worker,
                                                        double now) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement q(
      *db_, "SELECT id FROM trials WHERE study_id = ? AND state = 'waiting' ORDER BY number LIMIT 1");
  q.bind(1, study);
  if (!q.executeStep()) return std::nullopt;
  const auto id = q.getColumn(0).getInt64();
  SQLite::Statement u(
      *db_, "UPDATE trials SET state = 'running', started = ?, heartbeat = ?, worker = ? WHERE id = ?");
  u.bind(1, utc_now());
  u.bind(2, now);
  u.bind(3, worker);
  u.bind(4, id);
  u.exec();
  tx.commit();
  return trial_by_id(id);
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

TrialRecord SqliteStorage::insert_running(std::int64_t study, const nlohmann::json& params,
                                          const std::string& worker, std::int64_t proposal, double now) {
  const auto number = next_number(study);
  const auto ts = utc_now();
  SQLite::Statement ins(
      *db_,
      "INSERT INTO trials (study_id, number, state, params, created, started, heartbeat, worker, proposal) "
      "VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)");
  ins.bind(1, study);
  ins.bind(2, number);
  ins.bind(3, params.dump());
  ins.bind(4, ts);
  ins.bind(5, ts);
  ins.bind(6, now);
  ins.bind(7, worker);
  ins.bind(8, proposal);
  ins.exec();
  return trial_by_id(db_->getLastInsertRowid());
}

TrialRecord SqliteStorage::start_trial(std::int64_t study, const nlohmann::json& params,
                                       const std::string& worker, std::int64_t proposal, double now) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  auto t = insert_running(study, params, worker, proposal, now);
  tx.commit();
  return t;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::optional<TrialRecord> SqliteStorage::start_proposal(std::int64_t study, const nlohmann::json& params,
                                                         const std::string& worker, std::int64_t proposal,
                                                         double now) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement taken(*db_, "SELECT 1 FROM trials WHERE study_id = ? AND proposal >= ?");
  taken.bind(1, study);
  taken.bind(2, proposal);
  if (taken.executeStep()) return std::nullopt;
  auto t = insert_running(study, params, worker, proposal, now);
  tx.commit();
  return t;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

void SqliteStorage::heartbeat(std::int64_t trial, double now) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement u(*db_, "UPDATE trials SET heartbeat = ? WHERE id = ? AND state = 'running'");
  u.bind(1, now);
  u.bind(2, trial);
  u.exec();
  tx.commit();
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

void SqliteStorage::report(std::int64_t trial, std::int64_t step, double value) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement u(*db_,
                      "INSERT OR REPLACE INTO intermediate_values (trial_id, step, value) VALUES (?, ?, ?)");
  u.bind(1, trial);
  u.bind(2, step);
  u.bind(3, value);
  u.exec();
  tx.commit();
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

void SqliteStorage::finish_trial(std::int64_t trial, TrialState state, const std::vector<double>& values,
                                 const std::string& reason) try {
  if (!is_finished(state)) throw std::logic_error("finish_trial needs a finished state");
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  const auto t = trial_by_id(trial);
  if (is_finished(t.state))
    throw std::logic_error("trial " + std::to_string(t.number) + " is " + std::string(state_name(t.state)) +
                           " already: finished trials are immutable");
  SQLite::Statement u(*db_, "UPDATE trials SET state = ?, finished = ?, reason = ? WHERE id = ?");
  u.bind(1, std::string(state_name(state)));
  u.bind(2, utc_now());
  if (reason.empty())
    u.bind(3);
  else
    u.bind(3, reason);
  u.bind(4, trial);
  u.exec();
  for (std::size_t i = 0; i < values.size(); ++i) {
    SQLite::Statement v(*db_, "INSERT INTO trial_values (trial_id, idx, value) VALUES (?, ?, ?)");
    v.bind(1, trial);
    v.bind(2, static_cast<std::int64_t>(i));
    v.bind(3, values[i]);
    v.exec();
  }
  tx.commit();
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::vector<TrialRecord> SqliteStorage::fail_stale(std::int64_t study, double grace, double now) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  std::vector<TrialRecord> stale;
  SQLite::Statement q(
      *db_, std::string("SELECT ") + kTrialColumns +
                " FROM trials WHERE study_id = ? AND state = 'running' AND heartbeat < ? ORDER BY number");
  q.bind(1, study);
  q.bind(2, now - grace);
  while (q.executeStep()) stale.push_back(read_trial(q));
  for (auto& t : stale) {
    SQLite::Statement u(*db_,
                        "UPDATE trials SET state = 'failed', finished = ?, reason = 'stale' WHERE id = ?");
    u.bind(1, utc_now());
    u.bind(2, t.id);
    u.exec();
    t.state = TrialState::failed;
    t.reason = "stale";
  }
  tx.commit();
  return stale;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::vector<TrialRecord> SqliteStorage::trials(std::int64_t study) try {
  std::vector<TrialRecord> out;
  SQLite::Statement q(
      *db_, std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = ? ORDER BY number");
  q.bind(1, study);
  while (q.executeStep()) out.push_back(read_trial(q));
  for (auto& t : out) {
    SQLite::Statement v(*db_, "SELECT value FROM trial_values WHERE trial_id = ? ORDER BY idx");
    v.bind(1, t.id);
    while (v.executeStep()) t.values.push_back(v.getColumn(0).getDouble());
  }
  return out;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::vector<std::pair<std::int64_t, double>> SqliteStorage::intermediate_values(std::int64_t trial) try {
  std::vector<std::pair<std::int64_t, double>> out;
  SQLite::Statement q(*db_, "SELECT step, value FROM intermediate_values WHERE trial_id = ? ORDER BY step");
  q.bind(1, trial);
  while (q.executeStep()) out.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getDouble());
  return out;
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

void SqliteStorage::set_study_attr(std::int64_t study, const std::string& key,
                                   const nlohmann::json& value) try {
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement u(*db_, "INSERT OR REPLACE INTO study_attrs (study_id, key, value) VALUES (?, ?, ?)");
  u.bind(1, study);
  u.bind(2, key);
  u.bind(3, value.dump());
  u.exec();
  tx.commit();
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

nlohmann::json SqliteStorage::study_attr(std::int64_t study, const std::string& key) try {
  SQLite::Statement q(*db_, "SELECT value FROM study_attrs WHERE study_id = ? AND key = ?");
  q.bind(1, study);
  q.bind(2, key);
  if (!q.executeStep()) return nullptr;
  return nlohmann::json::parse(q.getColumn(0).getString());
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

std::string SqliteStorage::integrity_check() try {
  return db_->execAndGet("PRAGMA integrity_check").getString();
} catch (const SQLite::Exception& e) {
  storage_error(path_, e);
}

}  // namespace autopeft::studies
