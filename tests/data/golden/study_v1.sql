-- The golden study file for schema version 1 (tests/studies/crash_test.cpp), written by hand
-- from docs/study-schema.md, not by the code under test. Regenerate with
--   rm -f study_v1.db && sqlite3 study_v1.db < study_v1.sql
PRAGMA page_size = 1024;
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

INSERT INTO studies VALUES (1, 'golden',
  '{"study":"golden","runner":"external","space":[{"name":"x0","type":"float","low":0,"high":1},{"name":"x1","type":"float","low":0,"high":1}],"objectives":[{"name":"accuracy","direction":"maximize"},{"name":"params_percent","direction":"minimize"}],"sampler":{"type":"random"},"budget":{"trials":10},"seed":42}',
  42, '2024-05-01T10:00:00Z');
INSERT INTO studies VALUES (2, 'other',
  '{"study":"other","runner":"external","space":[{"name":"x0","type":"float","low":0,"high":1}],"objectives":[{"name":"f1","direction":"minimize"}],"sampler":{"type":"gp"},"seed":7}',
  7, '2024-05-02T11:30:00Z');
INSERT INTO objectives VALUES (1, 0, 'accuracy', 'maximize'), (1, 1, 'params_percent', 'minimize'),
  (2, 0, 'f1', 'minimize');
INSERT INTO trials VALUES
  (1, 1, 0, 'complete', '{"x0":0.25,"x1":0.5}', '2024-05-01T10:00:01Z', '2024-05-01T10:00:01Z',
   '2024-05-01T10:05:00Z', 1714557900.0, 'host:100', NULL, 0),
  (2, 1, 1, 'pruned', '{"x0":0.75,"x1":0.125}', '2024-05-01T10:05:01Z', '2024-05-01T10:05:01Z',
   '2024-05-01T10:06:00Z', 1714557960.0, 'host:100', 'pruned at step 2', 1),
  (3, 1, 2, 'failed', '{"x0":0.5,"x1":0.5}', '2024-05-01T10:06:01Z', '2024-05-01T10:06:01Z',
   '2024-05-01T10:09:00Z', 1714558000.0, 'host:101', 'stale', 2),
  (4, 1, 3, 'waiting', '{"x0":0.5,"x1":0.5}', '2024-05-01T10:09:00Z', NULL, NULL, NULL, NULL, NULL, -1),
  (5, 1, 4, 'running', '{"x0":0.875,"x1":0.0625}', '2024-05-01T10:09:01Z', '2024-05-01T10:09:01Z',
   NULL, 1714558200.5, 'host:102', NULL, 3),
  (6, 2, 0, 'complete', '{"x0":0.5}', '2024-05-02T11:30:01Z', '2024-05-02T11:30:01Z',
   '2024-05-02T11:31:00Z', 1714649460.0, 'other:7', NULL, 0);
INSERT INTO trial_values VALUES (1, 0, 0.875), (1, 1, 1.5), (6, 0, 0.25);
INSERT INTO intermediate_values VALUES (1, 1, 0.5), (1, 2, 0.75), (2, 1, 0.25), (2, 2, 0.3125);
INSERT INTO study_attrs VALUES (1, 'bo_state', '{"theta":[1.0,2.0]}'), (1, 'trial.0', '{"labels":["neg","pos"]}');
PRAGMA journal_mode = WAL;
PRAGMA user_version = 1;
