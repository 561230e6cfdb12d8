// Exact 2-objective EHVI: hand-computed cases and Monte Carlo.
#include "search/ehvi.h"

#include <gtest/gtest.h>

#include <random>

#include "search/pareto.h"

namespace autopeft::search {
namespace {

// Hypervolume improvement of z over the front (minimisation), by the 2-D hypervolume code.
double hvi(const Eigen::MatrixXd& front, const Eigen::Vector2d& ref, const Eigen::Vector2d& z) {
  Eigen::MatrixXd with(front.rows() + 1, 2);
  with.topRows(front.rows()) = front;
  with.row(front.rows()) = z.transpose();
  return hypervolume_2d(with, ref) - hypervolume_2d(front, ref);
}

TEST(EhviTest, DeterministicPointsGiveTheirHypervolumeImprovement) {
  Eigen::MatrixXd front(1, 2);
  front << 0, 0;
  const Eigen::Vector2d ref(1, 1), zero(0, 0);
  // [-1, 1]^2 less the [0, 1]^2 already dominated: 4 - 1 = 3.
  EXPECT_NEAR(ehvi_2d(front, ref, Eigen::Vector2d(-1, -1), zero), 3.0, 1e-12);
  EXPECT_NEAR(ehvi_2d(front, ref, Eigen::Vector2d(0.5, 0.5), zero), 0.0, 1e-12);  // dominated
  EXPECT_NEAR(ehvi_2d(front, ref, Eigen::Vector2d(-1, 0.5), zero), 0.5, 1e-12);   // strip left of the front
  Eigen::MatrixXd stairs(3, 2);
  stairs << 0.2, 0.8, 0.5, 0.5, 0.8, 0.2;
  const Eigen::Vector2d z(0.3, 0.3);
  EXPECT_NEAR(ehvi_2d(stairs, ref, z, zero), hvi(stairs, ref, z), 1e-12);
  EXPECT_NEAR(ehvi_2d(Eigen::MatrixXd(0, 2), ref, z, zero), 0.49, 1e-12);  // empty front: the box to ref
}

TEST(EhviTest, MatchesMonteCarloOnARandomFront) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::MatrixXd pts(12, 2);
  for (int i = 0; i < 12; ++i) {
    const double x = u(rng);
    pts(i, 0) = x;
    pts(i, 1) = 1 - std::sqrt(x) + 0.1 * u(rng);  // roughly ZDT1, some dominated
  }
  const Eigen::Vector2d ref(1.1, 1.2);
  for (const auto& [mu, sigma] : {std::pair{Eigen::Vector2d(0.3, 0.4), Eigen::Vector2d(0.2, 0.1)},
                                  std::pair{Eigen::Vector2d(0.9, 0.9), Eigen::Vector2d(0.05, 0.3)},
                                  std::pair{Eigen::Vector2d(-0.2, 1.5), Eigen::Vector2d(0.5, 0.5)}}) {
    std::normal_distribution<double> n1(mu[0], sigma[0]), n2(mu[1], sigma[1]);
    double sum = 0, sq = 0;
    const int N = 100000;
    for (int i = 0; i < N; ++i) {
      const double v = hvi(pts, ref, Eigen::Vector2d(n1(rng), n2(rng)));
      sum += v;
      sq += v * v;
    }
    const double mean = sum / N, se = std::sqrt((sq / N - mean * mean) / N);
    EXPECT_NEAR(ehvi_2d(pts, ref, mu, sigma), mean, 4 * se + 1e-9)
        << mu.transpose() << " / " << sigma.transpose();
  }
}

// The Monte-Carlo EHVI against the exact 2-objective formula, and in 3-D against the average of
// hypervolume improvements computed point by point (a deterministic point: sigma 0).
TEST(EhviTest, MonteCarloEhviAgreesWithTheExactOneAndWithDeterministicPoints) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g;
  Eigen::MatrixXd normals(40000, 2);
  for (Eigen::Index r = 0; r < normals.rows(); ++r) normals.row(r) << g(rng), g(rng);
  Eigen::MatrixXd front(4, 2);
  front << 0.1, 0.9, 0.3, 0.6, 0.6, 0.35, 0.9, 0.1;
  const Eigen::Vector2d ref(1.2, 1.1);
  for (const auto& [mu, sd] : std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>>{
           {{0.4, 0.4}, {0.2, 0.3}}, {{0.0, 1.0}, {0.5, 0.1}}, {{0.8, 0.8}, {0.05, 0.05}}}) {
    const double exact = ehvi_2d(front, ref, mu, sd);
    EXPECT_NEAR(ehvi_mc(front, ref, mu, sd, normals), exact, 0.02 * exact + 1e-4) << mu.transpose();
  }
  Eigen::MatrixXd front3(3, 3);
  front3 << 0.2, 0.5, 0.8, 0.5, 0.2, 0.5, 0.8, 0.8, 0.1;
  const Eigen::Vector3d ref3(1, 1, 1), z(0.3, 0.3, 0.3);
  Eigen::MatrixXd with(4, 3);
  with << front3, z.transpose();
  const double improvement = hypervolume(with, ref3) - hypervolume(front3, ref3);
  EXPECT_GT(improvement, 0.0);
  EXPECT_NEAR(ehvi_mc(front3, ref3, z, Eigen::Vector3d::Zero(), Eigen::MatrixXd::Zero(5, 3)), improvement,
              1e-12);
  EXPECT_EQ(ehvi_mc(front3, ref3, Eigen::Vector3d(0.9, 0.9, 0.9), Eigen::Vector3d::Zero(),
                    Eigen::MatrixXd::Zero(3, 3)),
            0.0);  // dominated
}

}  // namespace
}  // namespace autopeft::search
