#include "trainer/seeding.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

namespace autopeft::trainer {
namespace {

TEST(SeedingTest, SameSeedSameNumbersOtherSeedOtherNumbers) {
  seed_everything(7);
  const auto a = torch::randn({16});
  seed_everything(7);
  const auto b = torch::randn({16});
  seed_everything(8);
  const auto c = torch::randn({16});
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
}

TEST(SeedingTest, DerivedSeedsAreDistinctAndStable) {
  std::set<std::uint64_t> seen;
  for (std::uint64_t base = 0; base < 20; ++base)
    for (std::uint64_t stream = 0; stream < 20; ++stream) seen.insert(derive_seed(base, stream));
  EXPECT_EQ(seen.size(), 400u);
  EXPECT_EQ(derive_seed(3, 5), derive_seed(3, 5));
  // SplitMix64 of the golden-ratio increment: a fixed known value guards against accidental change.
  EXPECT_EQ(derive_seed(0, 0), 0xE220A8397B1DCDAFULL);
}

}  // namespace
}  // namespace autopeft::trainer
