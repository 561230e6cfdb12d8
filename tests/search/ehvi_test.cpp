// Exact 2-objective EHVI: hand-computed cases and Monte Carlo.
#include "search/ehvi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "search/gaussian_process.h"
#include "search/nehvi.h"
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

// NEHVI in the noise-free limit: the posterior at the observed points is (almost) their values,
// every sampled front is the observed front, and NEHVI is EHVI (exact, two objectives), up to the
// Monte-Carlo error. With real noise the sampled fronts differ from sample to sample.
TEST(NoisyEhviTest, ReducesToEhviWithoutNoiseAndSamplesTheFrontWithIt) {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int n = 12;
  Eigen::MatrixXd X(n, 2);
  Eigen::VectorXd y1(n), y2(n);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = u(rng);
    X(i, 1) = u(rng);
    y1[i] = std::sin(3 * X(i, 0)) + X(i, 1);  // larger is better
    y2[i] = std::cos(2 * X(i, 1)) - X(i, 0);
  }
  auto make = [&](const Eigen::VectorXd& y, double noise) {
    auto gp = std::make_unique<GaussianProcess>(KernelType::matern52, 2);
    Eigen::VectorXd theta(5);
    theta << std::log(0.4), std::log(0.5), 0.0, std::log(noise), 0.0;
    gp->set_params(theta);
    gp->fit(X, y);
    return gp;
  };
  Eigen::Vector2d ref(-y1.minCoeff() + 0.2, -y2.minCoeff() + 0.2);  // minimised space
  Eigen::MatrixXd U(5, 2);
  U << 0.1, 0.9, 0.5, 0.5, 0.9, 0.2, 0.3, 0.7, 0.7, 0.4;
  {
    auto g1 = make(y1, 1e-10), g2 = make(y2, 1e-10);
    const NoisyEhvi nehvi({g1.get(), g2.get()}, ref, 4000, 7);
    Eigen::MatrixXd front(n, 2);
    front.col(0) = -y1;
    front.col(1) = -y2;
    EXPECT_NEAR(nehvi.front_hypervolume(0), hypervolume(front, ref), 1e-4);
    const Eigen::VectorXd scores = nehvi(U);
    for (Eigen::Index i = 0; i < U.rows(); ++i) {
      Eigen::VectorXd mu1, v1, mu2, v2;
      g1->predict(U.row(i), mu1, v1);
      g2->predict(U.row(i), mu2, v2);
      const double exact = ehvi_2d(front, ref, Eigen::Vector2d(-mu1[0], -mu2[0]),
                                   Eigen::Vector2d(std::sqrt(v1[0]), std::sqrt(v2[0])));
      EXPECT_NEAR(scores[i], exact, 0.05 * exact + 2e-3) << i;
    }
  }
  {
    auto g1 = make(y1, 0.05), g2 = make(y2, 0.05);
    const NoisyEhvi nehvi({g1.get(), g2.get()}, ref, 64, 7);
    EXPECT_NE(nehvi.front_hypervolume(0), nehvi.front_hypervolume(1));
    const Eigen::VectorXd scores = nehvi(U);
    EXPECT_TRUE((scores.array() >= 0).all());
    EXPECT_EQ(NoisyEhvi({g1.get(), g2.get()}, ref, 64, 7)(U), scores);  // seeded
  }
}

}  // namespace
}  // namespace autopeft::search
