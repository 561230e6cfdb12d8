#include "trainer/data/task.h"

#include <gtest/gtest.h>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::trainer {
namespace {

using autopeft::testing::TempDir;

TaskSpec task_in(const TempDir& tmp, const nlohmann::json& j) {
  return TaskSpec::from_json(j, (tmp / "task.json").string(), tmp.path().string());
}

TEST(TaskTest, TsvWithHeaderBomAndStrayQuotes) {
  TempDir tmp;
  tmp.write(
      "train.tsv",
      "\xEF\xBB\xBFsentence1\tsentence2\tlabel\r\n\"a quote\tsecond\tentailment\r\nx\ty\tnot_entailment\n");
  auto t = task_in(tmp, {{"type", "pair-classification"},
                         {"train", "train.tsv"},
                         {"text", "sentence1"},
                         {"text_pair", "sentence2"},
                         {"label", "label"}});
  auto d = read_split(t, "train");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].text, "\"a quote");  // no quote processing
  EXPECT_EQ(d.examples[0].text_pair, "second");
  EXPECT_EQ(d.examples[1].line, 3u);
  EXPECT_EQ(label_vocabulary(t, d), (std::vector<std::string>{"entailment", "not_entailment"}));
}

TEST(TaskTest, MalformedRowsFailWithFileAndLineOrAreSkipped) {
  TempDir tmp;
  tmp.write("train.tsv", "sentence\tlabel\ngood\t1\nbad row without tab\n\t\nfine\t0\n");
  nlohmann::json j = {{"type", "classification"}, {"train", "train.tsv"}};
  try {
    read_split(task_in(tmp, j), "train");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.tsv:3"), std::string::npos) << e.what();
  }
  j["on_error"] = "skip";
  auto d = read_split(task_in(tmp, j), "train");
  EXPECT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.skipped, 2u);  // line 3 (one field) and line 4 (empty label)
  j["text"] = "sentense";
  EXPECT_THROW(read_split(task_in(tmp, j), "train"), UserError);
}

TEST(TaskTest, CsvQuotingJsonlAndConll) {
  TempDir tmp;
  tmp.write("d.csv", "text,label\n\"hello, \"\"world\"\"\",pos\n\"two\nlines\",neg\n");
  auto csv = read_split(
      task_in(tmp, {{"type", "classification"}, {"format", "csv"}, {"train", "d.csv"}, {"text", "text"}}),
      "train");
  ASSERT_EQ(csv.examples.size(), 2u);
  EXPECT_EQ(csv.examples[0].text, "hello, \"world\"");
  EXPECT_EQ(csv.examples[1].text, "two\nlines");
  tmp.write("d.jsonl",
            "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": true}\n\n{\"premise\": \"q\", "
            "\"hypothesis\": \"i\", \"label\": false}");
  auto jl = read_split(task_in(tmp, {{"type", "pair-classification"},
                                     {"format", "jsonl"},
                                     {"train", "d.jsonl"},
                                     {"text", "premise"},
                                     {"text_pair", "hypothesis"}}),
                       "train");
  EXPECT_EQ(jl.examples[1].label, "false");
  tmp.write("d.conll",
            "-DOCSTART- O\n\nJanez\tNp\tB-per\nNovak\tNp\tI-per\nje\tV\tO\n\nLjubljana\tNp\tB-loc\n");
  auto t = task_in(tmp, {{"type", "token-classification"}, {"format", "conll"}, {"train", "d.conll"}});
  auto conll = read_split(t, "train");
  ASSERT_EQ(conll.examples.size(), 2u);
  EXPECT_EQ(conll.examples[0].tags, (std::vector<std::string>{"B-per", "I-per", "O"}));
  EXPECT_EQ(label_vocabulary(t, conll), (std::vector<std::string>{"B-loc", "B-per", "I-per", "O"}));
}

TEST(TaskTest, ParallelTextAndLabelChecks) {
  TempDir tmp;
  tmp.write("en.txt", "one\ntwo\n");
  tmp.write("sl.txt", "ena\ndva\n");
  auto t = task_in(tmp, {{"type", "seq2seq"},
                         {"format", "text"},
                         {"train", {{"source", "en.txt"}, {"target", "sl.txt"}}},
                         {"metric", "exact_match"}});
  auto d = read_split(t, "train");
  EXPECT_EQ(d.examples[1].target, "dva");
  tmp.write("sl.txt", "ena\n");
  EXPECT_THROW(read_split(t, "train"), UserError);

  // causal-lm: a prompt and its completion, by default from "source" and "target".
  tmp.write("qa.jsonl", "{\"source\": \"Q: one?\", \"target\": \" ena\"}\n");
  auto lm = task_in(
      tmp, {{"type", "causal-lm"}, {"format", "jsonl"}, {"train", "qa.jsonl"}, {"max_target_length", 8}});
  EXPECT_EQ(lm.metric, "bleu");
  EXPECT_EQ(lm.max_target_length, 8);
  EXPECT_EQ(TaskSpec::from_json(lm.to_json(), "again", tmp.path().string()).max_target_length, 8);
  auto qa = read_split(lm, "train");
  EXPECT_EQ(qa.examples[0].text, "Q: one?");
  EXPECT_EQ(qa.examples[0].target, " ena");
  EXPECT_THROW(task_in(tmp, {{"type", "classification"}, {"train", "r.tsv"}, {"max_target_length", 8}}),
               UserError);

  tmp.write("r.tsv", "sentence\tlabel\na\t3.5\nb\tfive\n");
  auto reg = task_in(tmp, {{"type", "regression"}, {"train", "r.tsv"}});
  EXPECT_EQ(reg.metric, "pearson");
  auto rd = read_split(reg, "train");
  try {
    check_labels(reg, rd, {});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("r.tsv:3"), std::string::npos) << e.what();
  }
}

TEST(TaskTest, SpecErrorsNameTheKey) {
  TempDir tmp;
  auto error_of = [&](const nlohmann::json& j) -> std::string {
    try {
      task_in(tmp, j);
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({{"train", "x"}}).find("type"), std::string::npos);
  EXPECT_NE(error_of({{"type", "ranking"}, {"train", "x"}}).find("'ranking'"), std::string::npos);
  EXPECT_NE(error_of({{"type", "classification"}, {"train", "x"}, {"metric", "auc"}}).find("'auc'"),
            std::string::npos);
  EXPECT_NE(error_of({{"type", "pair-classification"}, {"train", "x"}}).find("text_pair"), std::string::npos);
  EXPECT_NE(error_of({{"type", "classification"}, {"train", "x"}, {"lable", "y"}}).find("lable"),
            std::string::npos);
}

// The shared GLUE and Slovene data read as the task form says.
class TaskSharedDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data = autopeft::testing::shared_data_dir();
    if (data.empty()) GTEST_SKIP() << "../shared/data is absent";
  }
  std::filesystem::path data;
};

TEST_F(TaskSharedDataTest, GlueAndSloveneSets) {
  auto rte = TaskSpec::from_json({{"name", "rte"},
                                  {"type", "pair-classification"},
                                  {"train", "train.tsv"},
                                  {"dev", "dev.tsv"},
                                  {"format", "tsv"},
                                  {"header", true},
                                  {"text", "sentence1"},
                                  {"text_pair", "sentence2"},
                                  {"label", "label"},
                                  {"metric", "accuracy"},
                                  {"max_length", 128}},
                                 "rte.json", (data / "glue/RTE").string());
  auto train = read_split(rte, "train");
  EXPECT_EQ(train.examples.size(), 2490u);
  const auto labels = label_vocabulary(rte, train);
  EXPECT_EQ(labels, (std::vector<std::string>{"entailment", "not_entailment"}));
  check_labels(rte, read_split(rte, "dev"), labels);
  EXPECT_EQ(read_split(rte, "dev").examples.size(), 277u);

  auto cola = TaskSpec::from_json({{"type", "classification"},
                                   {"train", "train.tsv"},
                                   {"header", false},
                                   {"text", 3},
                                   {"label", 1},
                                   {"metric", "matthews"}},
                                  "cola.json", (data / "glue/CoLA").string());
  EXPECT_EQ(read_split(cola, "train").examples.size(), 8551u);

  auto stsb = TaskSpec::from_json({{"type", "regression"},
                                   {"train", "train.tsv"},
                                   {"text", "sentence1"},
                                   {"text_pair", "sentence2"},
                                   {"label", "score"}},
                                  "stsb.json", (data / "glue/STS-B").string());
  auto s = read_split(stsb, "train");
  EXPECT_EQ(s.examples.size(), 5749u);
  check_labels(stsb, s, {});

  auto ner = TaskSpec::from_json({{"type", "token-classification"},
                                  {"format", "conll"},
                                  {"train", "sl.train.conll"},
                                  {"dev", "sl.dev.conll"},
                                  {"text", 0},
                                  {"label", 2}},
                                 "ner.json", (data / "ssj500k_ner").string());
  EXPECT_EQ(read_split(ner, "train").examples.size(), 8541u);
  EXPECT_EQ(read_split(ner, "dev").examples.size(), 948u);

  auto rte_si = TaskSpec::from_json({{"type", "pair-classification"},
                                     {"format", "jsonl"},
                                     {"train", "train.jsonl"},
                                     {"text", "premise"},
                                     {"text_pair", "hypothesis"}},
                                    "rte_si.json", (data / "slo_superglue/rte").string());
  EXPECT_EQ(read_split(rte_si, "train").examples.size(), 232u);
}

}  // namespace
}  // namespace autopeft::trainer
