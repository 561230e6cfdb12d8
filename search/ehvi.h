#pragma once
// Exact expected hypervolume improvement for two objectives (minimisation) under independent
// Gaussian predictions. With the Pareto front sorted by the first objective, y1 ascending
// (so y2 descending), strip j of the first axis, [c_j, c_{j+1}) with c_0 = -inf,
// c_j = y1(j) and c_{n+1} = r1, is dominated up to h_j (h_0 = r2, h_j = y2(j)). A new point z
// adds (c_{j+1} - max(z1, c_j))+ x (h_j - z2)+ in strip j, and since
// E[(c_{j+1} - max(z1, c_j))+] = G1(c_{j+1}) - G1(c_j) with G(c) = E[(c - z)+]
// = (c - mu) Phi((c - mu) / s) + s phi((c - mu) / s),
//   EHVI = sum_j (G1(c_{j+1}) - G1(c_j)) G2(h_j).
// Derived here; checked against Monte Carlo in tests/search/ehvi_test.cpp.
#include <Eigen/Core>

namespace autopeft::search {

// `front`: n x 2 points (any order; dominated points and points not strictly better than the
// reference in both objectives are ignored). mu, sigma: the new point's predictive mean and
// standard deviation per objective (sigma >= 0).
double ehvi_2d(const Eigen::MatrixXd& front, const Eigen::Vector2d& reference, const Eigen::Vector2d& mu,
               const Eigen::Vector2d& sigma);

// Monte-Carlo EHVI for any number of objectives (minimisation), independent Gaussians per
// objective: the mean over the rows of `normals` (S x m standard normal draws, fixed by the
// caller so that candidates are compared on common random numbers) of the hypervolume that
// z = mu + sigma o normal_s adds to `front` (points not strictly inside the reference box and
// dominated points are dropped first). search/pareto.h's exact hypervolume does the volumes.
double ehvi_mc(const Eigen::MatrixXd& front, const Eigen::VectorXd& reference, const Eigen::VectorXd& mu,
               const Eigen::VectorXd& sigma, const Eigen::MatrixXd& normals);

// The non-dominated rows of `points` strictly inside the reference box (the front an improvement
// is measured against).
Eigen::MatrixXd front_inside(const Eigen::MatrixXd& points, const Eigen::VectorXd& reference);

// The hypervolume z adds to `front` (hypervolume hv0): 0 outside the box or when dominated.
// `scratch` must hold front's rows and one more row (it is reused across calls).
double hypervolume_improvement(const Eigen::MatrixXd& front, double hv0, const Eigen::VectorXd& z,
                               const Eigen::VectorXd& reference, Eigen::MatrixXd& scratch);

// The same for many candidates against one front: the filtered front, its hypervolume and the
// draws are prepared once (an acquisition scores ~1,400 candidates per proposal).
class MonteCarloEhvi {
 public:
  MonteCarloEhvi(const Eigen::MatrixXd& front, const Eigen::VectorXd& reference, Eigen::MatrixXd normals);
  double operator()(const Eigen::VectorXd& mu, const Eigen::VectorXd& sigma) const;

 private:
  Eigen::VectorXd reference_;
  Eigen::MatrixXd normals_;
  Eigen::MatrixXd base_;  // non-dominated points strictly inside the reference box
  double hv0_ = 0;        // their hypervolume
};

// E[(c - z)+] for z ~ N(mu, sigma^2).
double expected_shortfall_below(double c, double mu, double sigma);

}  // namespace autopeft::search
