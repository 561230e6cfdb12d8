// Trial splits: the held-out evaluation set, the fidelity caps and the dev split.
#include "trainer/data/splits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/errors.h"
#include "tests/support/test_support.h"

namespace autopeft::trainer {
namespace {

TaskSpec task() {
  TaskSpec t;
  t.name = "rte";
  t.type = "classification";
  return t;
}

// Examples "e0", "e1", ... on lines 2, 3, ... (after a header).
Dataset numbered(std::size_t n, const std::string& prefix = "e", const std::string& source = "train.tsv") {
  Dataset d;
  d.source = source;
  for (std::size_t i = 0; i < n; ++i) {
    Example e;
    e.text = prefix + std::to_string(i);
    e.label = i % 2 ? "a" : "b";
    e.line = i + 2;
    d.examples.push_back(e);
  }
  return d;
}

std::vector<std::string> texts(const Dataset& d) {
  std::vector<std::string> out;
  for (const auto& e : d.examples) out.push_back(e.text);
  return out;
}

std::size_t number(const Example& e) { return std::stoul(e.text.substr(1)); }

TrainOptions holdout(double fraction) {
  TrainOptions o;
  o.holdout_fraction = fraction;
  return o;
}

TEST(SplitsTest, HoldoutIsDisjointCoversThePoolAndKeepsFileOrder) {
  const auto train = numbered(41);
  const auto s = make_splits(task(), holdout(0.25), train, nullptr);
  EXPECT_EQ(s.eval_name, "holdout");
  EXPECT_EQ(s.eval.examples.size(), 11u);  // ceil(0.25 * 41)
  EXPECT_EQ(s.train.examples.size(), 30u);
  std::set<std::string> seen;
  for (const auto& t : texts(s.train)) EXPECT_TRUE(seen.insert(t).second) << t;
  for (const auto& t : texts(s.eval)) EXPECT_TRUE(seen.insert(t).second) << t;  // disjoint
  EXPECT_EQ(seen.size(), 41u);
  for (const auto* part : {&s.train, &s.eval}) {
    std::vector<std::size_t> n;
    for (const auto& e : part->examples) n.push_back(number(e));
    EXPECT_TRUE(std::is_sorted(n.begin(), n.end()));
    for (const auto& e : part->examples) EXPECT_EQ(e.line, number(e) + 2);  // examples kept whole
  }
  EXPECT_EQ(s.train.source, "train.tsv");
  EXPECT_EQ(s.eval.source, "train.tsv (held out)");
  // Not simply the first or the last examples.
  EXPECT_NE(texts(s.eval), texts(numbered(11)));
  std::vector<std::string> last;
  for (int i = 30; i < 41; ++i) last.push_back("e" + std::to_string(i));
  EXPECT_NE(texts(s.eval), last);
}

TEST(SplitsTest, SameHoldoutWhateverTheTrialSeed) {
  const auto train = numbered(200);
  auto o = holdout(0.1);
  const auto a = make_splits(task(), o, train, nullptr);
  o.seed = 12345;
  o.learning_rate = 1e-3;
  const auto b = make_splits(task(), o, train, nullptr);
  o.seed = 7;
  const auto c = make_splits(task(), o, train, nullptr);
  EXPECT_EQ(texts(a.eval), texts(b.eval));
  EXPECT_EQ(texts(a.eval), texts(c.eval));
  EXPECT_EQ(texts(a.train), texts(b.train));
  EXPECT_EQ(a.eval.examples.size(), 20u);
}

TEST(SplitsTest, HoldoutMaxCapsTheHeldOutPart) {
  auto o = holdout(0.5);
  o.holdout_max = 7;
  const auto s = make_splits(task(), o, numbered(100), nullptr);
  EXPECT_EQ(s.eval.examples.size(), 7u);
  EXPECT_EQ(s.train.examples.size(), 93u);
}

TEST(SplitsTest, MaxTrainIsAppliedBeforeTheHoldout) {
  auto o = holdout(0.25);
  o.max_train = 20;
  const auto s = make_splits(task(), o, numbered(100), nullptr);
  EXPECT_EQ(s.eval.examples.size(), 5u);  // 0.25 of the first 20
  EXPECT_EQ(s.train.examples.size(), 15u);
  for (const auto* part : {&s.train, &s.eval})
    for (const auto& e : part->examples) EXPECT_LT(number(e), 20u) << e.text;
  // max_train larger than the data changes nothing.
  o.max_train = 1000;
  EXPECT_EQ(texts(make_splits(task(), o, numbered(40), nullptr).eval),
            texts(make_splits(task(), holdout(0.25), numbered(40), nullptr).eval));
}

TEST(SplitsTest, TrainFractionKeepsTheFirstOfTheRest) {
  const auto train = numbered(40);
  const auto full = make_splits(task(), holdout(0.25), train, nullptr);
  ASSERT_EQ(full.train.examples.size(), 30u);
  auto o = holdout(0.25);
  o.train_fraction = 0.5;
  const auto half = make_splits(task(), o, train, nullptr);
  ASSERT_EQ(half.train.examples.size(), 15u);
  const auto first = texts(full.train);
  EXPECT_EQ(texts(half.train), std::vector<std::string>(first.begin(), first.begin() + 15));
  EXPECT_EQ(texts(half.eval), texts(full.eval));  // the evaluation set does not shrink
  o.train_fraction = 0.1;                         // round(3.0)
  EXPECT_EQ(make_splits(task(), o, train, nullptr).train.examples.size(), 3u);
  o.train_fraction = 0.01;  // round(0.3) = 0, but at least one is kept
  EXPECT_EQ(make_splits(task(), o, train, nullptr).train.examples.size(), 1u);
}

TEST(SplitsTest, MaxEvalCutsTheEvaluationSet) {
  const auto train = numbered(40);
  const auto full = make_splits(task(), holdout(0.25), train, nullptr);
  auto o = holdout(0.25);
  o.max_eval = 3;
  const auto s = make_splits(task(), o, train, nullptr);
  const auto all = texts(full.eval);
  EXPECT_EQ(texts(s.eval), std::vector<std::string>(all.begin(), all.begin() + 3));
  EXPECT_EQ(s.train.examples.size(), 30u);  // the cut examples do not go back to training
}

TEST(SplitsTest, EvalOnDevUsesTheDevSplit) {
  TrainOptions o;
  o.eval_on = "dev";
  const auto train = numbered(10);
  const auto dev = numbered(6, "d", "dev.tsv");
  auto s = make_splits(task(), o, train, &dev);
  EXPECT_EQ(s.eval_name, "dev");
  EXPECT_EQ(texts(s.train), texts(train));
  EXPECT_EQ(texts(s.eval), texts(dev));
  EXPECT_EQ(s.eval.source, "dev.tsv");
  o.max_train = 4;
  o.max_eval = 2;
  s = make_splits(task(), o, train, &dev);
  EXPECT_EQ(texts(s.train), (std::vector<std::string>{"e0", "e1", "e2", "e3"}));
  EXPECT_EQ(texts(s.eval), (std::vector<std::string>{"d0", "d1"}));
  EXPECT_THROW(make_splits(task(), o, train, nullptr), UserError);
  // One training example is enough when nothing is held out.
  EXPECT_EQ(make_splits(task(), o, numbered(1), &dev).train.examples.size(), 1u);
}

TEST(SplitsTest, TestOnDevKeepsTheWholeDevSplitBesideTheHoldout) {
  auto o = holdout(0.25);
  o.test_on = "dev";
  o.max_eval = 2;  // cuts the selection split, not the test split
  const auto train = numbered(20);
  const auto dev = numbered(6, "d", "dev.tsv");
  const auto s = make_splits(task(), o, train, &dev);
  EXPECT_EQ(s.eval_name, "holdout");
  EXPECT_EQ(s.eval.examples.size(), 2u);
  EXPECT_EQ(s.train.examples.size(), 15u);
  EXPECT_EQ(texts(s.test), texts(dev));
  EXPECT_THROW(make_splits(task(), o, train, nullptr), UserError);
  o.test_on.clear();
  EXPECT_TRUE(make_splits(task(), o, train, &dev).test.examples.empty());
}

TEST(SplitsTest, TooFewExamplesAreAUserError) {
  auto error_of = [](std::size_t n, double fraction) -> std::string {
    try {
      make_splits(task(), holdout(fraction), numbered(n), nullptr);
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of(0, 0.1).find("rte: train"), std::string::npos);
  EXPECT_NE(error_of(1, 0.1).find("rte: train"), std::string::npos);
  EXPECT_NE(error_of(2, 0.9).find("2 training examples"), std::string::npos);  // ceil(1.8) = 2
  EXPECT_EQ(error_of(2, 0.5), "");                                             // one and one
  const auto s = make_splits(task(), holdout(0.5), numbered(2), nullptr);
  EXPECT_EQ(s.train.examples.size(), 1u);
  EXPECT_EQ(s.eval.examples.size(), 1u);
  auto o = holdout(0.5);
  o.max_train = 1;  // the cap leaves one example
  EXPECT_THROW(make_splits(task(), o, numbered(50), nullptr), UserError);
}

TEST(SplitsTest, ReadSplitsReadsTheDevFileOnlyForEvalOnDev) {
  autopeft::testing::TempDir tmp;
  std::string rows = "sentence\tlabel\n";
  for (int i = 0; i < 20; ++i) rows += "t" + std::to_string(i) + "\t" + (i % 2 ? "a" : "b") + "\n";
  tmp.write("train.tsv", rows);
  tmp.write("dev.tsv", "sentence\tlabel\nx\ta\ny\tb\nz\ta\n");
  auto t = TaskSpec::from_json({{"name", "t"}, {"type", "classification"}, {"train", "train.tsv"}},
                               (tmp / "task.json").string(), tmp.path().string());
  TrainOptions o;
  o.holdout_fraction = 0.25;
  auto s = read_splits(t, o);  // no dev split in the task: fine for the holdout
  EXPECT_EQ(s.train.examples.size(), 15u);
  EXPECT_EQ(s.eval.examples.size(), 5u);
  o.eval_on = "dev";
  EXPECT_THROW(read_splits(t, o), UserError);
  t.dev = "dev.tsv";
  s = read_splits(t, o);
  EXPECT_EQ(s.train.examples.size(), 20u);
  EXPECT_EQ(texts(s.eval), (std::vector<std::string>{"x", "y", "z"}));
}

}  // namespace
}  // namespace autopeft::trainer
