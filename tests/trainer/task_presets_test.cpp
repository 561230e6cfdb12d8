// The task presets under tasks/: each parses, and with ../shared/data present, reads its train and
// dev splits with the example counts and label sets measured on the files (see tasks/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/data/task.h"

namespace autopeft::trainer {
namespace {

namespace fs = std::filesystem;

struct Expected {
  std::size_t train, dev;               // examples (sentences for CoNLL)
  std::vector<std::string> vocabulary;  // label_vocabulary(); empty for regression and seq2seq
};

// Counts measured on the data files: data rows (less a header) or, for CoNLL, blank-line separated
// sentences, or lines of the line-aligned text.
const std::map<std::string, Expected>& expected() {
  static const std::map<std::string, Expected> e = {
      {"glue-sst2", {67349, 872, {"0", "1"}}},
      {"glue-cola", {8551, 1043, {"0", "1"}}},
      {"glue-rte", {2490, 277, {"entailment", "not_entailment"}}},
      {"glue-stsb", {5749, 1500, {}}},
      {"esnli-si", {4000, 3000, {"entailment", "neutral", "contradiction"}}},
      {"slo-superglue-boolq", {92, 18, {"false", "true"}}},
      {"slo-superglue-rte", {232, 29, {"entailment", "not_entailment"}}},
      {"ssj500k-ner",
       {8541,
        948,
        {"O", "B-per", "I-per", "B-loc", "I-loc", "B-org", "I-org", "B-misc", "I-misc", "B-deriv-per",
         "I-deriv-per"}}},
      {"flores101-en-sl", {1012, 1012, {}}},
  };
  return e;
}

std::vector<fs::path> preset_files() {
  std::vector<fs::path> out;
  const auto dir = autopeft::testing::source_dir() / "tasks";
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> paths_of(const nlohmann::json& split) {
  if (split.is_string()) return {split.get<std::string>()};
  return {split.at("source").get<std::string>(), split.at("target").get<std::string>()};
}

TEST(TaskPresetsTest, EveryPresetParsesAndPointsIntoSharedData) {
  const auto files = preset_files();
  ASSERT_FALSE(files.empty()) << "no tasks/*.json under " << autopeft::testing::source_dir();
  std::set<std::string> seen;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    const auto task = TaskSpec::from_file(file.string());
    EXPECT_EQ(task.name, file.stem().string());  // the name is the file's
    seen.insert(task.name);
    EXPECT_TRUE(expected().count(task.name)) << "add the preset's counts to this test";
    ASSERT_FALSE(task.dev.is_null());
    for (const auto* split : {&task.train, &task.dev})
      for (const auto& p : paths_of(*split)) EXPECT_EQ(p.rfind("../../shared/data/", 0), 0u) << p;
  }
  for (const auto& [name, e] : expected())
    EXPECT_TRUE(seen.count(name)) << "tasks/" << name << ".json missing";
}

TEST(TaskPresetsTest, EveryPresetReadsTheSharedData) {
  if (autopeft::testing::shared_data_dir().empty()) GTEST_SKIP() << "../shared/data is absent";
  for (const auto& file : preset_files()) {
    SCOPED_TRACE(file.string());
    const auto task = TaskSpec::from_file(file.string());
    const auto it = expected().find(task.name);
    ASSERT_NE(it, expected().end());
    const auto& want = it->second;
    const auto train = read_split(task, "train");
    const auto dev = read_split(task, "dev");
    EXPECT_EQ(train.examples.size(), want.train);
    EXPECT_EQ(dev.examples.size(), want.dev);
    EXPECT_EQ(train.skipped + dev.skipped, 0u);
    if (task.type == "seq2seq") {
      for (const auto* d : {&train, &dev})
        for (const auto& e : d->examples) EXPECT_FALSE(e.text.empty() || e.target.empty()) << e.line;
      continue;
    }
    if (task.type == "regression") {
      check_labels(task, train, {});  // throws on a label that is not a number
      check_labels(task, dev, {});
      for (const auto* d : {&train, &dev})
        for (const auto& e : d->examples) {
          const double score = std::stod(e.label);
          EXPECT_TRUE(score >= 0.0 && score <= 5.0) << e.line << ": " << e.label;
        }
      continue;
    }
    const auto vocabulary = label_vocabulary(task, train);
    EXPECT_EQ(vocabulary, want.vocabulary);
    check_labels(task, train, vocabulary);  // throws on a label outside the set
    check_labels(task, dev, vocabulary);
    // Every label of the fixed set occurs in the training data.
    std::set<std::string> used;
    for (const auto& e : train.examples) {
      if (task.type == "token-classification")
        used.insert(e.tags.begin(), e.tags.end());
      else
        used.insert(e.label);
    }
    EXPECT_EQ(used, std::set<std::string>(vocabulary.begin(), vocabulary.end()));
    for (const auto* d : {&train, &dev})
      for (const auto& e : d->examples) {
        EXPECT_FALSE(e.text.empty() && e.tokens.empty()) << d->source << ":" << e.line;
        if (task.pair()) {
          EXPECT_FALSE(e.text_pair.empty()) << d->source << ":" << e.line;
        }
      }
  }
}

}  // namespace
}  // namespace autopeft::trainer
