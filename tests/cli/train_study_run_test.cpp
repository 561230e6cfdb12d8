// `autopeft train` and `autopeft study run | resume | status | pareto | enqueue | export` with the
// real trainer on a tiny BERT, including kill -9 of a running study and its resume.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/json_file.h"
#include "studies/storage.h"
#include "tests/support/test_support.h"
#include "tests/support/tiny_model.h"

namespace autopeft {
namespace {

using autopeft::testing::run_command;
using autopeft::testing::TempDir;

std::string exe() { return "'" + (autopeft::testing::binary_dir() / "autopeft").string() + "'"; }

nlohmann::json last_json_line(const std::string& out) {
  const auto end = out.find_last_not_of('\n');
  const auto start = out.rfind('\n', end);
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end + 1));
}

class TrainStudyIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    autopeft::testing::write_tiny_bert(tmp / "bert");
    task = autopeft::testing::write_tiny_task(tmp / "task", 160, 40);
  }
  std::string study_spec(int budget, const std::string& extra = "") {
    const std::string text =
        R"({"study": "tiny", "model": "bert", "task": "task/task.json", "space": "per-layer",
      "constraints": {"params_percent_max": 20}, "sampler": {"type": "gp"}, "budget": {"trials": )" +
        std::to_string(budget) + R"(},
      "fidelity": {"epochs": 1, "batch_size": 16, "learning_rate": 0.003}, "seed": 3)" +
        extra + "}";
    return tmp.write("study.json", text).string();
  }
  TempDir tmp;
  std::string task;
};

TEST_F(TrainStudyIntegrationTest, TrainPrintsSeedStatisticsAndWritesEveryExport) {
  const auto out = (tmp / "out").string();
  auto r = run_command(exe() + " train --model '" + (tmp / "bert").string() + "' --task '" + task +
                       "' --config preset:lora --seeds 2 --epochs 2 --lr 0.003 --progress quiet --out '" +
                       out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = last_json_line(r.out);
  EXPECT_EQ(j["metric"], "accuracy");
  ASSERT_EQ(j["values"].size(), 2u);
  const double a = j["values"][0], b = j["values"][1];
  EXPECT_NEAR(j["mean"].get<double>(), (a + b) / 2, 1e-12);
  EXPECT_NEAR(j["std"].get<double>(), std::abs(a - b) / std::sqrt(2.0), 1e-12);  // sample std of two
  EXPECT_GT(j["trainable"].get<std::int64_t>(), 0);
  EXPECT_EQ(j["trainable"], j["stored"]);  // LoRA stores what it trains
  for (const char* f : {"native/peft_config.json", "native/head.safetensors", "hf-peft/adapter_config.json",
                        "adapters/adapter_config.json"})
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "seed-1" / f)) << f;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "summary.json"));

  // Bad inputs: exit 1 with the thing named.
  r = run_command(exe() + " train --model '" + (tmp / "bert").string() + "' --task '" +
                  (tmp / "nope.json").string() + "' --config preset:lora --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope.json"), std::string::npos) << r.err;
  const auto opts = tmp.write("opts.json", R"({"epochs": 1, "learning_rat": 0.1})").string();
  r = run_command(exe() + " train --model '" + (tmp / "bert").string() + "' --task '" + task +
                  "' --config preset:lora --options '" + opts + "' --out '" + out + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("learning_rat"), std::string::npos) << r.err;
}

// A RoBERTa folder with a byte-level BPE tokenizer trains like the BERT one, and its full
// fine-tuning export is a model folder of its own (tokenizer files included).
TEST_F(TrainStudyIntegrationTest, RobertaWithByteLevelBpeTrainsAndExports) {
  autopeft::testing::write_tiny_roberta(tmp / "roberta");
  const auto out = (tmp / "rob").string();
  auto r = run_command(exe() + " train --model '" + (tmp / "roberta").string() + "' --task '" + task +
                       "' --config full --epochs 6 --lr 0.001 --progress quiet --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(last_json_line(r.out)["mean"].get<double>(), 0.75) << r.out;  // "good" is one piece: easy
  for (const char* f : {"vocab.json", "merges.txt", "config.json", "model.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "seed-0" / "model" / f)) << f;
}

// Selection on the held-out split, then one evaluation on the whole dev set (40 examples).
TEST_F(TrainStudyIntegrationTest, TestOnDevEvaluatesTheSelectedModelOnTheDevSet) {
  const auto out = (tmp / "out").string();
  const std::string base =
      exe() + " train --model '" + (tmp / "bert").string() + "' --task '" + task +
      "' --config preset:lora --epochs 2 --lr 0.003 --progress quiet --max-eval 5 --out '" + out +
      "' --test-on dev";
  auto r = run_command(base + " --eval-on holdout");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = last_json_line(r.out);
  EXPECT_EQ(j["eval_on"], "holdout");
  ASSERT_EQ(j["test"]["values"].size(), 1u);
  EXPECT_EQ(j["test"]["on"], "dev");
  const double acc = j["test"]["values"][0];
  EXPECT_NEAR(acc * 40, std::round(acc * 40), 1e-9) << acc;  // a share of the 40 dev examples
  const auto summary = autopeft::read_json_file((std::filesystem::path(out) / "summary.json").string(), "s");
  EXPECT_EQ(summary["task"]["test_examples"], 40);
  EXPECT_EQ(summary["task"]["eval_examples"], 5);
  EXPECT_EQ(summary["runs"][0]["test"]["examples"], 40);
  r = run_command(base);  // --eval-on dev: the dev set cannot also be the test set
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("test_on"), std::string::npos) << r.err;
}

TEST_F(TrainStudyIntegrationTest, StudyRunsToItsBudgetUnderTheParameterBudgetAndExports) {
  const auto db = (tmp / "s.db").string();
  ASSERT_EQ(run_command(exe() + " study create '" + study_spec(4) + "' --db '" + db + "'").exit_code, 0);
  auto r = run_command(exe() + " study enqueue --db '" + db + "' --config preset:pfeiffer");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_command(exe() + " study run --db '" + db + "' --progress quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_json_line(r.out)["stopped"], "budget");
  r = run_command(exe() + " study trials --db '" + db + "' --format json");
  const auto trials = nlohmann::json::parse(r.out);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_TRUE(trials[0]["params"].contains("config"));  // the enqueued baseline ran first
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    EXPECT_LE(t["values"][1].get<double>(), 20.0);  // the hard budget held
  }
  r = run_command(exe() + " study status --db '" + db + "' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["counted"], 4);
  r = run_command(exe() + " study pareto --db '" + db + "' --format json");
  EXPECT_GE(nlohmann::json::parse(r.out).size(), 1u);
  const auto out = (tmp / "export").string();
  r = run_command(exe() + " study export --db '" + db + "' --pick budget:5 --format native --out '" + out +
                  "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "peft_config.json"));
  r = run_command(exe() + " study export --db '" + db + "' --pick budget:0.000001 --format native --out '" +
                  out + "2'");
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(TrainStudyIntegrationTest, KillNineDuringTrialsThenResumeReachesTheBudgetWithNothingLost) {
  const auto db = (tmp / "k.db").string();
  ASSERT_EQ(run_command(exe() + " study create '" + study_spec(6) + "' --db '" + db + "'").exit_code, 0);
  std::map<std::int64_t, std::vector<double>> before;
  for (int kill_round = 0; kill_round < 2; ++kill_round) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string cmd =
          "exec " + exe() + " study run --db '" + db + "' --progress quiet >/dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait until one more trial completed, then kill -9 in the middle of the next.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      studies::SqliteStorage s(db, false);
      const auto study = s.studies().front();
      std::size_t complete = 0;
      for (const auto& t : s.trials(study.id)) complete += t.state == studies::TrialState::complete;
      if (complete > before.size() || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    studies::SqliteStorage s(db, false);
    for (const auto& t : s.trials(s.studies().front().id))
      if (t.state == studies::TrialState::complete) before.emplace(t.number, t.values);
  }
  auto r = run_command(exe() + " study resume --db '" + db + "' --progress quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  studies::SqliteStorage s(db, false);
  const auto trials = s.trials(s.studies().front().id);
  std::set<std::int64_t> numbers;
  std::int64_t counted = 0;
  for (const auto& t : trials) {
    EXPECT_TRUE(numbers.insert(t.number).second) << "duplicate trial number " << t.number;
    counted += t.state == studies::TrialState::complete;
    EXPECT_NE(t.state, studies::TrialState::running);
    if (before.count(t.number)) {
      EXPECT_EQ(t.values, before[t.number]) << "trial " << t.number << " changed";
    }
  }
  EXPECT_EQ(counted, 6);
  EXPECT_EQ(s.integrity_check(), "ok");
}

TEST_F(TrainStudyIntegrationTest, TwoWorkerProcessesShareOneStudyFile) {
  const auto db = (tmp / "w.db").string();
  ASSERT_EQ(run_command(exe() + " study create '" + study_spec(6) + "' --db '" + db + "'").exit_code, 0);
  const auto r = run_command(exe() + " --threads 1 study run --db '" + db + "' --workers 2 --progress quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  studies::SqliteStorage s(db, false);
  const auto trials = s.trials(s.studies().front().id);
  std::set<std::int64_t> numbers;
  std::int64_t complete = 0;
  for (const auto& t : trials) {
    complete += t.state == studies::TrialState::complete;
    EXPECT_TRUE(numbers.insert(t.number).second) << "duplicate trial number " << t.number;
  }
  EXPECT_GE(complete, 6);  // each worker may finish the trial it has in flight when the budget is reached
  EXPECT_LE(complete, 7);
  EXPECT_EQ(last_json_line(r.out)["complete"], complete);  // the workers print nothing on stdout
  EXPECT_EQ(r.err.find("locked"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace autopeft

namespace autopeft {
namespace {

// A new backbone from nothing: a sentencepiece tokenizer, a random XLM-R-style encoder, masked-LM
// pretraining, then fine-tuning a classifier on the pretrained folder.
TEST(PretrainIntegrationTest, TokenizerTrainModelInitAndMaskedLmPretraining) {
  TempDir tmp;
  {
    std::ofstream f(tmp / "text.txt");
    const auto& w = autopeft::testing::tiny_words();
    for (int i = 0; i < 400; ++i)
      f << w[i % w.size()] << " " << w[(i * 7) % w.size()] << " " << w[(i * 3 + 1) % w.size()]
        << " and more text\n";
  }
  const auto dir = (tmp / "m").string();
  auto r = run_command(exe() + " tokenizer train --input '" + (tmp / "text.txt").string() +
                       "' --vocab-size 36 --out '" + dir + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_command(exe() + " model init --tokenizer '" + dir + "' --out '" + dir +
                  "' --layers 2 --hidden 32 --heads 4 --ffn 64 --max-length 24");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_json_line(r.out)["vocab_size"], 38);  // 36 pieces, <pad> and <mask>
  const auto mlm =
      tmp.write("mlm.json", R"({"name": "mlm", "type": "mlm", "train": "text.txt", "dev": "text.txt",
    "format": "text", "metric": "accuracy", "max_length": 24})");
  const auto out = (tmp / "pre").string();
  r = run_command(exe() + " train --model '" + dir + "' --task '" + mlm.string() +
                  "' --config full --eval-on holdout --max-steps 30 --lr 0.002 --progress quiet --out '" +
                  out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto pretrained = std::filesystem::path(out) / "seed-0" / "model";
  EXPECT_TRUE(std::filesystem::exists(pretrained / "sentencepiece.bpe.model"));  // a model folder of its own
  r = run_command(exe() + " model inspect --json '" + pretrained.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace autopeft

namespace autopeft {
namespace {

// SIGINT finishes the running trial and stops; the resumed study then proposes exactly what an
// uninterrupted study with the same seed proposes.
TEST_F(TrainStudyIntegrationTest, SigintStopsAfterTheRunningTrialAndResumeIsExact) {
  const auto spec = study_spec(6);
  const auto db = (tmp / "int.db").string(), reference = (tmp / "ref.db").string();
  ASSERT_EQ(run_command(exe() + " study create '" + spec + "' --db '" + db + "'").exit_code, 0);
  ASSERT_EQ(run_command(exe() + " study create '" + spec + "' --db '" + reference + "'").exit_code, 0);
  ASSERT_EQ(run_command(exe() + " study run --db '" + reference + "' --progress quiet").exit_code, 0);

  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = "exec " + exe() + " study run --db '" + db + "' --progress quiet >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {  // interrupt once the second trial runs
    studies::SqliteStorage s(db, false);
    if (s.trials(s.studies().front().id).size() >= 2 || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  {
    studies::SqliteStorage s(db, false);
    const auto trials = s.trials(s.studies().front().id);
    EXPECT_LT(trials.size(), 6u);                                                    // it stopped early ...
    for (const auto& t : trials) EXPECT_EQ(t.state, studies::TrialState::complete);  // ... after finishing
  }
  ASSERT_EQ(run_command(exe() + " study resume --db '" + db + "' --progress quiet").exit_code, 0);
  studies::SqliteStorage a(db, false), b(reference, false);
  const auto ta = a.trials(a.studies().front().id), tb = b.trials(b.studies().front().id);
  ASSERT_EQ(ta.size(), tb.size());
  for (std::size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].params, tb[i].params) << "trial " << i;
    EXPECT_EQ(ta[i].values, tb[i].values) << "trial " << i;  // same configuration, same seed, same bits
  }
}

}  // namespace
}  // namespace autopeft

namespace autopeft {
namespace {

// Bad specs: a clear error naming the thing, and no study file is created.
TEST_F(TrainStudyIntegrationTest, BadTrainerSpecsAreRefusedBeforeTheFileIsTouched) {
  const auto db = (tmp / "bad.db").string();
  const auto unknown = tmp.write(
      "unknown.json", R"({"study": "u", "model": "bert", "task": "task/task.json", "space": "nope"})");
  auto r = run_command(exe() + " study create '" + unknown.string() + "' --db '" + db + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  const auto missing = tmp.write(
      "missing.json",
      R"({"study": "m", "model": "no-such-model", "task": "task/task.json", "space": "per-layer"})");
  r = run_command(exe() + " study create '" + missing.string() + "' --db '" + db + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no-such-model"), std::string::npos) << r.err;
  const auto objective = tmp.write(
      "objective.json", R"({"study": "o", "model": "bert", "task": "task/task.json", "space": "per-layer",
    "objectives": [{"name": "bleu", "direction": "maximize"}]})");
  r = run_command(exe() + " study create '" + objective.string() + "' --db '" + db + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bleu"), std::string::npos) << r.err;
  // Longer inputs than the model takes: every trial would fail, so the spec is refused.
  const auto too_long = tmp.write(
      "long.json", R"({"study": "l", "model": "bert", "task": "task/task.json", "space": "per-layer",
    "fidelity": {"max_length": 100000}})");
  r = run_command(exe() + " study create '" + too_long.string() + "' --db '" + db + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("fidelity.max_length: 100000 is more than the model's limit"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
}

}  // namespace
}  // namespace autopeft
