// Metrics against values worked out by hand (the arithmetic is in the comments).
#include "trainer/data/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

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

// ---- BLEU and chrF: sacrebleu 2.x corpus_bleu / corpus_chrf with their defaults, 0-100 ----

using Strings = std::vector<std::string>;

TEST(MetricsTest, Tokenize13a) {
  // Symbols split off ('$', '?'), the apostrophe kept; "3.50" and "50," keep the period and comma
  // next to a digit on one side only: ',' before a space splits.
  EXPECT_EQ(tokenize_13a("It costs $3.50, isn't it?"),
            (Strings{"It", "costs", "$", "3.50", ",", "isn't", "it", "?"}));
  // "e.g.": each period after a letter splits; a dash after a digit splits, inside a word not.
  EXPECT_EQ(tokenize_13a("e.g. 1990-2000, well-known"),
            (Strings{"e", ".", "g", ".", "1990", "-", "2000", ",", "well-known"}));
  EXPECT_EQ(tokenize_13a("3.5."), (Strings{"3.5", "."}));  // a final period before the padding space
  EXPECT_EQ(tokenize_13a("&quot;A&amp;B&quot;"), (Strings{"\"", "A", "&", "B", "\""}));
  EXPECT_EQ(tokenize_13a("pre-\nfix <skipped>"), (Strings{"prefix"}));
  // UTF-8 letters stay whole; a no-break space (U+00A0) separates, as Python's str.split().
  EXPECT_EQ(tokenize_13a("\xC5\xBDivjo,\xC2\xA0svet_1."),
            (Strings{"\xC5\xBDivjo", ",", "svet", "_", "1", "."}));
  EXPECT_EQ(tokenize_13a("  \t "), Strings{});
}

TEST(MetricsTest, BleuByHand) {
  // hyp "the cat sat on the mat", ref "the cat is on the mat" (6 tokens each, BP = 1):
  //   1-grams 5/6 (the x2, cat, on, mat), 2-grams 3/5 (the cat, on the, the mat),
  //   3-grams 1/4 (on the mat), 4-grams 0/3 -> exp smoothing 1 / (2 * 3).
  //   BLEU = 100 * (5/6 * 3/5 * 1/4 * 1/6)^(1/4) = 100 * (1/48)^(1/4) = 37.99.
  EXPECT_NEAR(bleu({"the cat sat on the mat"}, {"the cat is on the mat"}), 100 * std::pow(1.0 / 48, 0.25),
              1e-9);
  // hyp "Hello, world!" -> Hello , world ! (4); ref "Hello, big world!" -> 5 tokens.
  //   1-grams 4/4, 2-grams 2/3 (Hello , | world !), 3-grams 0/2 -> 1/(2*2), 4-grams 0/1 -> 1/(4*1);
  //   BP = exp(1 - 5/4). BLEU = 100 * e^-0.25 * (1 * 2/3 * 1/4 * 1/4)^(1/4).
  EXPECT_NEAR(bleu({"Hello, world!"}, {"Hello, big world!"}),
              100 * std::exp(-0.25) * std::pow(1.0 / 24, 0.25), 1e-9);
  // Corpus level: the statistics are summed, not the scores averaged. Both sentences above:
  //   1-grams 9/10, 2-grams 5/8, 3-grams 1/6, 4-grams 0/4 -> 1/(2*4); lengths 10 vs 11.
  EXPECT_NEAR(
      bleu({"the cat sat on the mat", "Hello, world!"}, {"the cat is on the mat", "Hello, big world!"}),
      100 * std::exp(1 - 11.0 / 10) * std::pow(0.9 * 5 / 8 * 1 / 6 * 1 / 8, 0.25), 1e-9);
}

const Strings kSys = {"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."};
const Strings kRef1 = {"The dog bit the man.", "It was not unexpected.", "The man bit him first."};
const Strings kRef2 = {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."};

TEST(MetricsTest, BleuReadmeExample) {
  // sacrebleu's README example. One reference: hyp/ref tokens 6/6, 4/5 (It wasn't surprising .),
  // 7/6 (The man had just bitten him .): lengths 17 = 17, BP 1.
  //   1-grams 6 + 2 (It, .) + 4 (The, man, him, .) = 12/17; 2-grams 5 + 0 + 1 (The man) = 6/14;
  //   3-grams 4 + 0 + 0 = 4/11; 4-grams 3 + 0 + 0 = 3/8.
  const double one = 100 * std::pow(12.0 / 17 * 6 / 14 * 4 / 11 * 3 / 8, 0.25);
  EXPECT_NEAR(bleu(kSys, kRef1), one, 1e-9);
  EXPECT_NEAR(one, 45.07, 0.005);
  // Two references (README: "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ... ref_len = 18)"):
  //   sentence 3 now also matches had, bitten, "man had", "The man had" from the second reference;
  //   1-grams 14/17, 2-grams 7/14, 3-grams 5/11, 4-grams 3/8; closest reference lengths 6 + 5 + 7.
  const double two = corpus_bleu(kSys, {kRef1, kRef2});
  EXPECT_NEAR(two, 100 * std::exp(1 - 18.0 / 17) * std::pow(14.0 / 17 * 7 / 14 * 5 / 11 * 3 / 8, 0.25), 1e-9);
  EXPECT_NEAR(two, 48.53, 0.005);
}

TEST(MetricsTest, BleuEdges) {
  EXPECT_DOUBLE_EQ(bleu(kSys, kSys), 100.0);
  EXPECT_DOUBLE_EQ(bleu({""}, {"the cat"}), 0.0);             // empty hypothesis
  EXPECT_DOUBLE_EQ(bleu({"", ""}, {"a b c d", "e f"}), 0.0);  // all empty
  EXPECT_DOUBLE_EQ(bleu({}, {}), 0.0);
  // No 4-gram in the whole corpus: 0 (sacrebleu's corpus BLEU has no effective order).
  EXPECT_DOUBLE_EQ(bleu({"a b c"}, {"a b c"}), 0.0);
  // Clipping: "the the the the" against "the cat": 1-grams 1/4, nothing else -> ... 2-grams 0/3 ->
  // 1/(2*3), 3-grams 1/(4*2), 4-grams 1/(8*1); lengths 4 >= 2.
  EXPECT_NEAR(bleu({"the the the the"}, {"the cat"}), 100 * std::pow(1.0 / 4 / 6 / 8 / 8, 0.25), 1e-9);
  EXPECT_THROW(bleu({"a"}, {"a", "b"}), std::invalid_argument);
  EXPECT_THROW(corpus_bleu({"a"}, {}), std::invalid_argument);
}

TEST(MetricsTest, ChrfByHand) {
  // hyp "a b" -> "ab" (white space removed), ref "abc":
  //   order 1: hyp 2, ref 3, match 2; order 2: 1, 2, 1; order 3: hyp 0 -> not counted.
  //   P = (1 + 1) / 2 = 1, R = (2/3 + 1/2) / 2 = 7/12; F2 = 5PR / (4P + R) = (35/12) / (55/12) = 7/11.
  EXPECT_NEAR(chrf({"a b"}, {"abc"}), 700.0 / 11, 1e-9);
  // hyp "abcd", ref "abx": order 1: 4, 3, 2; order 2: 3, 2, 1 (ab); order 3: 2, 1, 0; order 4: the
  // reference has none, so neither side counts. P = (1/2 + 1/3 + 0) / 3 = 5/18,
  // R = (2/3 + 1/2 + 0) / 3 = 7/18; F2 = 5 * 35/324 / (27/18) = 175/486.
  EXPECT_NEAR(chrf({"abcd"}, {"abx"}), 17500.0 / 486, 1e-9);
  // Corpus: add "wxyz" = "wxyz" (orders 1-4: 4, 3, 2, 1 all matching). Summed per order:
  //   (8, 7, 6), (6, 5, 4), (4, 3, 2), (1, 1, 1) -- order 4 has hyp 1, not 2, as "abx" has no 4-gram.
  //   P = (3/4 + 2/3 + 1/2 + 1) / 4 = 35/48, R = (6/7 + 4/5 + 2/3 + 1) / 4 = 349/420.
  const double p = 35.0 / 48, r = 349.0 / 420;
  EXPECT_NEAR(chrf({"abcd", "wxyz"}, {"abx", "wxyz"}), 100 * 5 * p * r / (4 * p + r), 1e-9);
}

TEST(MetricsTest, ChrfPublishedValues) {
  // Values printed by sacrebleu's CHRF() in the Hugging Face chrF metric card and sacrebleu's README.
  EXPECT_NEAR(chrf({"The relationship between Obama and Netanyahu is not exactly friendly."},
                   {"The ties between Obama and Netanyahu are not particularly friendly."}),
              61.576379378113785, 1e-9);
  EXPECT_NEAR(chrf({"The relationship between cats and dogs is not exactly friendly.",
                    "a good bookshop is just a genteel black hole that knows how to read."},
                   {"The relationship between dogs and cats is not exactly friendly.",
                    "A good bookshop is just a genteel Black Hole that knows how to read."}),
              84.64214891738334, 1e-9);
  EXPECT_NEAR(corpus_chrf(kSys, {kRef1, kRef2}), 59.73, 0.005);  // best reference per sentence
}

TEST(MetricsTest, ChrfEdges) {
  EXPECT_DOUBLE_EQ(chrf(kSys, kSys), 100.0);
  EXPECT_DOUBLE_EQ(chrf({"a bc"}, {"ab c"}), 100.0);   // white space does not count
  EXPECT_DOUBLE_EQ(chrf({"x"}, {"x"}), 100.0);         // only order 1 is effective
  EXPECT_DOUBLE_EQ(chrf({""}, {"a reference"}), 0.0);  // empty hypothesis
  EXPECT_DOUBLE_EQ(chrf({"abc"}, {"xyz"}), 0.0);
  // Characters are code points: "\xC5\xBE" (z with caron) is one character, not two bytes.
  EXPECT_NEAR(chrf({"\xC5\xBE"
                    "a"},
                   {"\xC5\xBE"}),
              100 * 5 * 0.5 / (4 * 0.5 + 1), 1e-9);
  EXPECT_THROW(chrf({"a"}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace autopeft::trainer
