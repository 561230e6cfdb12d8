#include "search/pareto.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/test_support.h"

namespace autopeft::search {
namespace {

Eigen::MatrixXd rows(std::initializer_list<std::initializer_list<double>> r) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(r.size()), static_cast<Eigen::Index>(r.begin()->size()));
  Eigen::Index i = 0;
  for (const auto& row : r) {
    Eigen::Index j = 0;
    for (double v : row) m(i, j++) = v;
    ++i;
  }
  return m;
}

TEST(ParetoTest, Dominance) {
  Eigen::Vector2d a(1, 2), b(2, 2), c(1, 2), d(0, 3);
  EXPECT_TRUE(dominates(a, b));
  EXPECT_FALSE(dominates(b, a));
  EXPECT_FALSE(dominates(a, c));  // equal points do not dominate each other
  EXPECT_FALSE(dominates(a, d));
  EXPECT_FALSE(dominates(d, a));
}

TEST(ParetoTest, NonDominatedSortOnAHandMadeExample) {
  // (1,4) (2,2) (4,1) are non-dominated; (3,3) is dominated by (2,2); (4,4) by (3,3) too;
  // (2,2) appears twice.
  const auto p = rows({{1, 4}, {3, 3}, {2, 2}, {4, 1}, {4, 4}, {2, 2}});
  const auto fronts = non_dominated_sort(p);
  ASSERT_EQ(fronts.size(), 3u);
  EXPECT_EQ(fronts[0], (std::vector<int>{0, 2, 3, 5}));
  EXPECT_EQ(fronts[1], (std::vector<int>{1}));
  EXPECT_EQ(fronts[2], (std::vector<int>{4}));
  EXPECT_EQ(pareto_front(p), fronts[0]);
}

TEST(ParetoTest, Hypervolume2dHandComputed) {
  // Reference (5,5). Boxes: (1,4)->4x1, (2,2)->3x3, (4,1)->1x4; union by inclusion-exclusion
  // along x: [1,2)x[4,5) = 1, [2,4)x[2,5) = 6, [4,5)x[1,5) = 4 -> 11.
  const auto p = rows({{1, 4}, {2, 2}, {4, 1}, {3, 3}});
  EXPECT_DOUBLE_EQ(hypervolume_2d(p, Eigen::Vector2d(5, 5)), 11.0);
  // Points outside the reference box add nothing.
  const auto q = rows({{1, 4}, {2, 2}, {4, 1}, {6, 0}, {0, 5}});
  EXPECT_DOUBLE_EQ(hypervolume_2d(q, Eigen::Vector2d(5, 5)), 11.0);
  EXPECT_DOUBLE_EQ(hypervolume_2d(Eigen::MatrixXd(0, 2), Eigen::Vector2d(5, 5)), 0.0);
}

class ParetoRandomTest : public autopeft::testing::SeededTest {};

TEST_F(ParetoRandomTest, Hypervolume2dMatchesAGridCount) {
  // Independent computation: count the cells of a fine grid dominated by some point.
  std::uniform_int_distribution<int> coord(0, 39);
  for (int trial = 0; trial < 20; ++trial) {
    Eigen::MatrixXd p(12, 2);
    for (int i = 0; i < 12; ++i) p.row(i) << coord(rng) / 4.0, coord(rng) / 4.0;
    const Eigen::Vector2d ref(10, 10);
    double cells = 0;
    const double h = 0.25;
    for (int x = 0; x < 40; ++x)
      for (int y = 0; y < 40; ++y) {
        const double cx = (x + 0.5) * h, cy = (y + 0.5) * h;
        for (int i = 0; i < 12; ++i)
          if (p(i, 0) <= cx && p(i, 1) <= cy) {
            cells += 1;
            break;
          }
      }
    EXPECT_NEAR(hypervolume_2d(p, ref), cells * h * h, 1e-9) << "trial " << trial;
  }
}

// Independent computation for any number of objectives: inclusion-exclusion over every subset
// of the points (the union of boxes [p, ref]; a subset's intersection is the box of its
// componentwise maximum).
double inclusion_exclusion(const Eigen::MatrixXd& p, const Eigen::VectorXd& ref) {
  const auto n = static_cast<int>(p.rows());
  double total = 0;
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    Eigen::RowVectorXd worst = Eigen::RowVectorXd::Constant(p.cols(), -1e300);
    int size = 0;
    for (int i = 0; i < n; ++i)
      if (mask & (1u << i)) {
        worst = worst.cwiseMax(p.row(i));
        ++size;
      }
    const Eigen::ArrayXd side = (ref.transpose() - worst).array().max(0.0).transpose();
    total += (size % 2 ? 1.0 : -1.0) * side.prod();
  }
  return total;
}

TEST(ParetoTest, HypervolumeHandComputedIn3d) {
  // Reference (3,3,3): boxes of (1,1,2) = 2x2x1 = 4 and (2,2,1) = 1x1x2 = 2, overlapping in
  // [2,3]^2 x [2,3] = 1: 5. A dominated point and one outside the box change nothing.
  const auto p = rows({{1, 1, 2}, {2, 2, 1}, {2, 2, 2}, {0, 0, 3}});
  EXPECT_DOUBLE_EQ(hypervolume_3d(p, Eigen::Vector3d(3, 3, 3)), 5.0);
  EXPECT_DOUBLE_EQ(hypervolume(p, Eigen::Vector3d(3, 3, 3)), 5.0);
  EXPECT_DOUBLE_EQ(hypervolume(Eigen::MatrixXd(0, 4), Eigen::Vector4d(1, 1, 1, 1)), 0.0);
  EXPECT_DOUBLE_EQ(hypervolume(rows({{0.5}, {0.25}}), Eigen::VectorXd::Constant(1, 1.0)), 0.75);
}

TEST_F(ParetoRandomTest, HypervolumeMatchesInclusionExclusionIn2To5Objectives) {
  std::uniform_int_distribution<int> coord(0, 9);  // ties and duplicates happen on this grid
  for (int m = 2; m <= 5; ++m)
    for (int trial = 0; trial < 15; ++trial) {
      const int n = 3 + trial % 8;
      Eigen::MatrixXd p(n, m);
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < m; ++k) p(i, k) = coord(rng) / 2.0;
      const Eigen::VectorXd ref = Eigen::VectorXd::Constant(m, 4.0);  // some points lie outside
      const double expected = inclusion_exclusion(p, ref);
      EXPECT_NEAR(hypervolume(p, ref), expected, 1e-9 * std::max(1.0, expected))
          << m << " objectives, trial " << trial;
      if (m == 3) {
        EXPECT_NEAR(hypervolume_3d(p, ref), expected, 1e-9 * std::max(1.0, expected));
      }
    }
}

TEST_F(ParetoRandomTest, EveryFrontMemberIsUndominatedAndEveryOtherPointIsDominated) {
  std::normal_distribution<double> g;
  Eigen::MatrixXd p(60, 3);
  for (int i = 0; i < 60; ++i) p.row(i) << g(rng), g(rng), g(rng);
  const auto fronts = non_dominated_sort(p);
  size_t total = 0;
  for (size_t f = 0; f < fronts.size(); ++f) {
    total += fronts[f].size();
    for (int i : fronts[f]) {
      // Nobody in the same or a later front dominates i; someone in the previous front does.
      for (size_t g2 = f; g2 < fronts.size(); ++g2)
        for (int j : fronts[g2]) EXPECT_FALSE(dominates(p.row(j).transpose(), p.row(i).transpose()));
      if (f > 0) {
        bool dominated = false;
        for (int j : fronts[f - 1]) dominated |= dominates(p.row(j).transpose(), p.row(i).transpose());
        EXPECT_TRUE(dominated);
      }
    }
  }
  EXPECT_EQ(total, 60u);
}

}  // namespace
}  // namespace autopeft::search
