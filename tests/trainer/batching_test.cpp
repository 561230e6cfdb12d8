// Training and evaluation batch plans, and masked-LM masking.
#include "trainer/data/batching.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "tests/support/test_support.h"

namespace autopeft::trainer {
namespace {

FeatureSet with_lengths(const std::vector<std::size_t>& lengths) {
  FeatureSet fs;
  fs.task_type = "classification";
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    Feature f;
    f.input_ids.assign(lengths[i], 7);
    f.token_type_ids.assign(lengths[i], 0);
    f.example = i;
    fs.items.push_back(std::move(f));
  }
  return fs;
}

FeatureSet random_lengths(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> len(4, 200);
  std::vector<std::size_t> lengths(n);
  for (auto& l : lengths) l = len(rng);
  return with_lengths(lengths);
}

// Sorted concatenation of the plan's indices.
std::vector<std::size_t> all_indices(const BatchPlan& plan) {
  std::vector<std::size_t> all;
  for (const auto& b : plan) all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<std::size_t> iota(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Pad tokens the plan adds when each batch is padded to its longest example.
std::size_t padding(const FeatureSet& fs, const BatchPlan& plan) {
  std::size_t pad = 0;
  for (const auto& b : plan) {
    std::size_t longest = 0, sum = 0;
    for (const auto i : b) {
      longest = std::max(longest, fs.items[i].length());
      sum += fs.items[i].length();
    }
    pad += longest * b.size() - sum;
  }
  return pad;
}

TEST(BatchingTest, EveryIndexExactlyOncePerEpoch) {
  const auto fs = random_lengths(1000, 1);
  for (const bool bucket : {true, false}) {
    for (const std::uint64_t seed : {0u, 1u, 2u, 99u}) {
      const auto plan = training_batches(fs, {16, bucket, 50}, seed);
      EXPECT_EQ(all_indices(plan), iota(1000)) << "bucket " << bucket << " seed " << seed;
      // ceil(1000 / 16) batches. Without bucketing only the last is short; with windows of
      // 16 * 50 = 800 examples, the second window (200) ends in one batch of 8.
      ASSERT_EQ(plan.size(), 63u);
      std::size_t short_batches = 0;
      for (const auto& b : plan) {
        if (b.size() != 16) {
          EXPECT_EQ(b.size(), 8u);
          ++short_batches;
        }
      }
      EXPECT_EQ(short_batches, 1u);
      if (!bucket) {
        EXPECT_EQ(plan.back().size(), 8u);
      }
    }
  }
}

TEST(BatchingTest, DeterministicPerSeedAndDifferentAcrossSeeds) {
  const auto fs = random_lengths(300, 2);
  for (const bool bucket : {true, false}) {
    const BatchingOptions o{8, bucket, 4};
    EXPECT_EQ(training_batches(fs, o, 5), training_batches(fs, o, 5));
    EXPECT_NE(training_batches(fs, o, 5), training_batches(fs, o, 6));
    EXPECT_NE(training_batches(fs, o, 0), training_batches(fs, o, 1));
  }
}

TEST(BatchingTest, UnbucketedBatchesFollowAShuffledOrder) {
  const auto fs = random_lengths(100, 3);
  const auto plan = training_batches(fs, {10, false, 50}, 7);
  std::vector<std::size_t> flat;
  for (const auto& b : plan) flat.insert(flat.end(), b.begin(), b.end());
  EXPECT_NE(flat, iota(100));  // shuffled, not in file order
}

TEST(BatchingTest, BucketingReducesPadding) {
  const auto fs = random_lengths(1000, 4);
  for (const std::uint64_t seed : {0u, 1u, 2u}) {
    const auto bucketed = training_batches(fs, {16, true, 50}, seed);
    const auto plain = training_batches(fs, {16, false, 50}, seed);
    // Uniform lengths in [4, 200]: unsorted batches of 16 pad about 196 * 16/17 - 98 = 86
    // tokens per example; sorted windows of 800 pad a few.
    EXPECT_LT(padding(fs, bucketed) * 5, padding(fs, plain)) << seed;
    // The batches are shuffled again, so their lengths do not rise monotonically.
    std::vector<std::size_t> longest;
    for (const auto& b : bucketed) longest.push_back(fs.items[b.front()].length());
    EXPECT_FALSE(std::is_sorted(longest.begin(), longest.end())) << seed;
  }
}

TEST(BatchingTest, EvaluationBatchesSortedByLength) {
  const auto fs = with_lengths({5, 3, 9, 3, 1, 7, 2});
  const auto plan = evaluation_batches(fs, 3);
  // Stable sort by length: 4(1) 6(2) 1(3) 3(3) 0(5) 5(7) 2(9).
  const BatchPlan expected = {{4, 6, 1}, {3, 0, 5}, {2}};
  EXPECT_EQ(plan, expected);
  const auto big = random_lengths(257, 5);
  const auto eval = evaluation_batches(big, 32);
  EXPECT_EQ(all_indices(eval), iota(257));
  ASSERT_EQ(eval.size(), 9u);
  std::vector<std::size_t> lengths;
  for (const auto& b : eval)
    for (const auto i : b) lengths.push_back(big.items[i].length());
  EXPECT_TRUE(std::is_sorted(lengths.begin(), lengths.end()));
  EXPECT_EQ(eval.back().size(), 1u);
  EXPECT_EQ(evaluation_batches(big, 0).size(), 257u);  // batch size 0 counts as 1
}

class MaskTokensTest : public autopeft::testing::SeededTest {
 protected:
  static constexpr std::int64_t kMask = 4;
  static constexpr std::int64_t kVocab = 1000;
  const std::set<std::int64_t> special{0, 2, 3};  // [PAD] [CLS] [SEP]
};

TEST_F(MaskTokensTest, RateSplitAndSpecialTokens) {
  std::uniform_int_distribution<std::int64_t> word(5, kVocab - 1);
  std::size_t candidates = 0, chosen = 0, masked = 0, kept = 0, replaced = 0;
  for (int s = 0; s < 200; ++s) {
    std::vector<std::int64_t> ids{2};
    for (int i = 0; i < 100; ++i) ids.push_back(word(rng));
    ids.push_back(3);
    ids.push_back(0);
    ids.push_back(0);
    const auto m = mask_tokens(ids, special, kMask, kVocab, 0.15, rng);
    ASSERT_EQ(m.input_ids.size(), ids.size());
    ASSERT_EQ(m.labels.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (special.count(ids[i])) {
        EXPECT_EQ(m.input_ids[i], ids[i]);
        EXPECT_EQ(m.labels[i], kIgnoreIndex);
        continue;
      }
      ++candidates;
      if (m.labels[i] == kIgnoreIndex) {
        EXPECT_EQ(m.input_ids[i], ids[i]);  // an unchosen token is never changed
        continue;
      }
      EXPECT_EQ(m.labels[i], ids[i]);
      ++chosen;
      EXPECT_GE(m.input_ids[i], 0);
      EXPECT_LT(m.input_ids[i], kVocab);
      if (m.input_ids[i] == kMask)
        ++masked;
      else if (m.input_ids[i] == ids[i])
        ++kept;
      else
        ++replaced;
    }
  }
  ASSERT_EQ(candidates, 20000u);
  // Binomial(20000, 0.15): sd 50, so +-300 is 6 sd.
  EXPECT_NEAR(static_cast<double>(chosen), 3000.0, 300.0);
  const double n = static_cast<double>(chosen);
  EXPECT_NEAR(masked / n, 0.8, 0.04);
  EXPECT_NEAR(kept / n, 0.1, 0.03);
  EXPECT_NEAR(replaced / n, 0.1, 0.03);
}

TEST_F(MaskTokensTest, AtLeastOneTokenIsChosen) {
  const std::vector<std::int64_t> ids{2, 10, 11, 12, 3, 0};
  for (int trial = 0; trial < 50; ++trial) {
    const auto m = mask_tokens(ids, special, kMask, kVocab, 1e-12, rng);
    std::size_t chosen = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (m.labels[i] == kIgnoreIndex) continue;
      ++chosen;
      EXPECT_TRUE(i >= 1 && i <= 3) << i;  // never a special token
      EXPECT_EQ(m.labels[i], ids[i]);
    }
    EXPECT_EQ(chosen, 1u);
  }
  // Nothing but special tokens: nothing to choose, nothing changes.
  const std::vector<std::int64_t> only_special{2, 3, 0, 0};
  const auto m = mask_tokens(only_special, special, kMask, kVocab, 0.5, rng);
  EXPECT_EQ(m.input_ids, only_special);
  EXPECT_EQ(m.labels, std::vector<std::int64_t>(4, kIgnoreIndex));
}

TEST_F(MaskTokensTest, SameGeneratorStateSameMasks) {
  std::vector<std::int64_t> ids{2};
  for (std::int64_t i = 0; i < 60; ++i) ids.push_back(5 + i);
  ids.push_back(3);
  std::mt19937_64 a(42), b(42), c(43);
  const auto ma = mask_tokens(ids, special, kMask, kVocab, 0.15, a);
  const auto mb = mask_tokens(ids, special, kMask, kVocab, 0.15, b);
  const auto mc = mask_tokens(ids, special, kMask, kVocab, 0.15, c);
  EXPECT_EQ(ma.input_ids, mb.input_ids);
  EXPECT_EQ(ma.labels, mb.labels);
  EXPECT_NE(ma.labels, mc.labels);
}

}  // namespace
}  // namespace autopeft::trainer
