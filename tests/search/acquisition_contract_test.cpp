// Every registered acquisition: finite values, analytic gradient = finite differences, and
// invariance to the order of the history. Plus the numerics they rest on.
#include "search/acquisition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/support/test_support.h"

namespace autopeft::search {
namespace {

struct History {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
};

History branin_history(std::mt19937_64& rng, int n) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  History h{Eigen::MatrixXd(n, 2), Eigen::VectorXd(n)};
  for (int i = 0; i < n; ++i) {
    const double a = 15 * u(rng) - 5, b = 15 * u(rng);
    h.X(i, 0) = (a + 5) / 15;
    h.X(i, 1) = b / 15;
    const double t = b - 5.1 / (4 * M_PI * M_PI) * a * a + 5 / M_PI * a - 6;
    h.y[i] = -(t * t + 10 * (1 - 1 / (8 * M_PI)) * std::cos(a) + 10) / 50.0;  // maximise -branin
  }
  return h;
}

GaussianProcess fitted(const History& h) {
  GaussianProcess gp(KernelType::matern52, 2);
  Eigen::VectorXd theta(5);
  theta << std::log(0.3), std::log(0.4), std::log(1.0), std::log(1e-3), h.y.mean();
  gp.set_params(theta);
  gp.fit(h.X, h.y);
  return gp;
}

class AcquisitionContractTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AcquisitionContractTest, FiniteGradientCorrectAndOrderInvariant) {
  std::mt19937_64 rng(0);
  const auto h = branin_history(rng, 12);
  const auto gp = fitted(h);
  const AcquisitionContext ctx{&gp, h.y.maxCoeff(), nullptr};
  const auto acq = make_acquisition(GetParam(), ctx);
  // Permuted history.
  History p = h;
  for (int i = 0; i < 12; ++i) {
    p.X.row(i) = h.X.row(11 - i);
    p.y[i] = h.y[11 - i];
  }
  const auto gp2 = fitted(p);
  const AcquisitionContext ctx2{&gp2, p.y.maxCoeff(), nullptr};
  const auto acq2 = make_acquisition(GetParam(), ctx2);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int k = 0; k < 30; ++k) {
    Eigen::VectorXd x(2);
    x << u(rng), u(rng);
    if (k == 0) x = h.X.row(3).transpose() + Eigen::Vector2d(1e-3, -1e-3);  // next to an observation
    Eigen::VectorXd g;
    const double v = acq->value_and_gradient(x, g);
    ASSERT_TRUE(std::isfinite(v)) << GetParam() << " at " << x.transpose();
    EXPECT_NEAR(v, acq->value(x), 1e-12);
    for (int i = 0; i < 2; ++i) {
      Eigen::VectorXd a = x, b = x;
      a[i] += 1e-6;
      b[i] -= 1e-6;
      const double fd = (acq->value(a) - acq->value(b)) / 2e-6;
      EXPECT_NEAR(g[i], fd, 1e-4 * std::max(1.0, std::abs(fd)))
          << GetParam() << " d" << i << " at " << x.transpose();
    }
    EXPECT_NEAR(acq2->value(x), v, 1e-8 * std::max(1.0, std::abs(v)));
  }
}

INSTANTIATE_TEST_SUITE_P(AllAcquisitions, AcquisitionContractTest, ::testing::ValuesIn(acquisition_names()));

TEST(AcquisitionNumericsTest, LogHMatchesTheDirectFormulaAndStaysFiniteFarBelow) {
  for (double z = -5.0; z <= 5.0; z += 0.25) {
    const double direct =
        std::log(std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI) + z * 0.5 * std::erfc(-z / std::sqrt(2.0)));
    EXPECT_NEAR(log_h(z, nullptr), direct, 1e-9) << z;
  }
  // Continuous where the formulas switch, decreasing, finite far below (where EI underflows).
  EXPECT_NEAR(log_h(-5.0 - 1e-9, nullptr), log_h(-5.0 + 1e-9, nullptr), 1e-6);
  EXPECT_NEAR(log_h(-20.0 - 1e-9, nullptr), log_h(-20.0 + 1e-9, nullptr), 1e-7);
  double prev = log_h(-60.0, nullptr);
  EXPECT_TRUE(std::isfinite(prev));
  for (double z = -59.0; z <= 3.0; z += 1.0) {
    const double v = log_h(z, nullptr);
    EXPECT_GT(v, prev) << z;
    prev = v;
  }
  for (double z : {-30.0, -12.0, -7.0, -2.0, 1.0}) {
    double d = 0;
    log_h(z, &d);
    const double fd = (log_h(z + 1e-6, nullptr) - log_h(z - 1e-6, nullptr)) / 2e-6;
    EXPECT_NEAR(d, fd, 1e-4 * std::max(1.0, std::abs(fd))) << z;
  }
}

TEST(AcquisitionNumericsTest, PosteriorGradientsMatchFiniteDifferences) {
  std::mt19937_64 rng(1);
  const auto h = branin_history(rng, 10);
  const auto gp = fitted(h);
  Eigen::VectorXd x(2);
  x << 0.37, 0.61;
  double m, v;
  Eigen::VectorXd dm, dv;
  gp.predict_with_gradient(x, m, v, dm, dv);
  for (int i = 0; i < 2; ++i) {
    Eigen::VectorXd a = x, b = x;
    a[i] += 1e-6;
    b[i] -= 1e-6;
    double ma, va, mb, vb;
    Eigen::VectorXd t1, t2;
    gp.predict_with_gradient(a, ma, va, t1, t2);
    gp.predict_with_gradient(b, mb, vb, t1, t2);
    EXPECT_NEAR(dm[i], (ma - mb) / 2e-6, 1e-5);
    EXPECT_NEAR(dv[i], (va - vb) / 2e-6, 1e-5);
  }
  Eigen::VectorXd mean, var;
  gp.predict(x.transpose(), mean, var);
  EXPECT_NEAR(mean[0], m, 1e-12);
  EXPECT_NEAR(var[0], v, 1e-12);
}

TEST(AcquisitionNumericsTest, UnknownNamesAreUserErrors) {
  GaussianProcess gp(KernelType::rbf, 1);
  EXPECT_THROW(make_acquisition("pi", {&gp, 0.0, nullptr}), std::runtime_error);
}

}  // namespace
}  // namespace autopeft::search
