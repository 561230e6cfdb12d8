// Metrics against values worked out by hand (the arithmetic is in the comments).
#include "trainer/data/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace autopeft::trainer {
namespace {

const std::vector<int> kPred = {1, 1, 0, 1, 0};
const std::vector<int> kGold = {1, 0, 0, 1, 1};

TEST(MetricsTest, ClassificationByHand) {
  EXPECT_DOUBLE_EQ(accuracy({1, 0, 1, 1}, {1, 1, 1, 0}), 0.5);
  // tp 2, fp 1, fn 1: precision = recall = 2/3.
  EXPECT_DOUBLE_EQ(binary_f1(kPred, kGold), 2.0 / 3.0);
  // class 0: tp 1, fp 1, fn 1 -> 1/2; macro = (2/3 + 1/2) / 2.
  EXPECT_DOUBLE_EQ(macro_f1(kPred, kGold), 7.0 / 12.0);
  // TP 2, TN 1, FP 1, FN 1: (2*1 - 1*1) / sqrt(3*3*2*2) = 1/6.
  EXPECT_NEAR(matthews(kPred, kGold), 1.0 / 6.0, 1e-12);
  EXPECT_DOUBLE_EQ(matthews({1, 1, 1}, {1, 0, 1}), 0.0);  // a constant prediction: 0, as sklearn
  EXPECT_DOUBLE_EQ(binary_f1({0, 0}, {1, 0}), 0.0);       // no positive prediction
  // Multi-class MCC equals the binary formula on two classes and is 1 on a perfect prediction.
  EXPECT_DOUBLE_EQ(matthews({0, 1, 2, 2}, {0, 1, 2, 2}), 1.0);
}

TEST(MetricsTest, CorrelationsByHand) {
  // dx = (-1, 0, 1), dy = (-7/3, -1/3, 8/3): sxy = 5, sxx = 2, syy = 114/9 -> 15 / sqrt(228).
  EXPECT_NEAR(pearson({1, 2, 3}, {2, 4, 7}), 15.0 / std::sqrt(228.0), 1e-12);
  // ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4): sxy = 4.5, sxx = 4.5, syy = 5.
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 3, 2, 4}), 4.5 / std::sqrt(22.5), 1e-12);
  EXPECT_EQ(average_ranks({10, 30, 20, 20}), (std::vector<double>{1, 4, 2.5, 2.5}));
  EXPECT_DOUBLE_EQ(pearson({1, 1, 1}, {1, 2, 3}), 0.0);
}

TEST(MetricsTest, EntityF1WithSeqevalChunking) {
  // gold {per[0,2), loc[3,4)}, predicted {per[0,2), org[3,4)}: P = R = 1/2.
  EXPECT_DOUBLE_EQ(entity_f1({{"B-per", "I-per", "O", "B-org"}}, {{"B-per", "I-per", "O", "B-loc"}}), 0.5);
  // An I- after O opens a chunk (conlleval): predicted per[0,2) only: P = 1, R = 1/2.
  EXPECT_DOUBLE_EQ(entity_f1({{"I-per", "I-per", "O", "O"}}, {{"B-per", "I-per", "O", "B-loc"}}), 2.0 / 3.0);
  // A type change inside a run splits it; B- after B- starts anew; types with hyphens survive.
  EXPECT_DOUBLE_EQ(entity_f1({{"B-per", "I-loc", "B-deriv-per", "B-deriv-per"}},
                             {{"B-per", "B-loc", "B-deriv-per", "B-deriv-per"}}),
                   1.0);
  EXPECT_DOUBLE_EQ(entity_f1({{"O", "O"}}, {{"O", "O"}}), 0.0);
  EXPECT_THROW(entity_f1({{"O"}}, {{"O", "O"}}), std::invalid_argument);
}

TEST(MetricsTest, NamesAndExactMatch) {
  EXPECT_TRUE(is_metric("matthews"));
  EXPECT_FALSE(is_metric("mcc"));
  EXPECT_DOUBLE_EQ(exact_match({"a", "b", "c"}, {"a", "x", "c"}), 2.0 / 3.0);
  EXPECT_THROW(accuracy({1}, {1, 0}), std::invalid_argument);
}

}  // namespace
}  // namespace autopeft::trainer
