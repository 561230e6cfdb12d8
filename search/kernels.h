#pragma once
// Stationary ARD kernels for the Gaussian-process surrogate, with hyper-parameters in log space:
//   theta = [log l_1 .. log l_d, log s2]
//   r^2 = sum_i ((x_i - y_i) / l_i)^2
//   matern52: k = s2 (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)
//   rbf:      k = s2 exp(-r^2 / 2)
// Gradients are with respect to theta (log-space), as the optimiser sees them.
#include <Eigen/Core>

#include <string>
#include <vector>

namespace autopeft::search {

enum class KernelType { matern52, rbf };
KernelType parse_kernel(const std::string& name);  // "matern52", "rbf"; UserError otherwise

class Kernel {
 public:
  Kernel(KernelType type, int dims);
  KernelType type() const { return type_; }
  int dims() const { return dims_; }
  int num_params() const { return dims_ + 1; }
  const Eigen::VectorXd& params() const { return theta_; }  // [log l (d), log s2]
  void set_params(const Eigen::VectorXd& theta);

  double operator()(const Eigen::Ref<const Eigen::VectorXd>& x,
                    const Eigen::Ref<const Eigen::VectorXd>& y) const;
  // K(X, Y): rows of X against rows of Y (through scaled_sq_dist and from_sq_dist).
  Eigen::MatrixXd matrix(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y) const;
  // r^2 between the rows of X and of Y, as matrix products (||a||^2 + ||b||^2 - 2 a.b of the
  // lengthscale-scaled, centred rows), clamped at 0.
  Eigen::MatrixXd scaled_sq_dist(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y) const;
  // k elementwise from r^2; with `factor`, also C, the matrix of dk/dlog l_i divided by
  // (x_i - y_i)^2 / l_i^2 (the same for every i): what gradient_traces needs.
  Eigen::MatrixXd from_sq_dist(const Eigen::MatrixXd& r2, Eigen::MatrixXd* factor = nullptr) const;
  // tr(W dK(X, X)/dtheta_j) for every j, for a symmetric W, in O(n^2 d) matrix products and no
  // n x n matrix per parameter; K = K(X, X) and C its factor (from_sq_dist). With M = W o C:
  //   tr(W dK/dlog l_i) = (2 sum_a x_ai^2 (M 1)_a - 2 x_i^T M x_i) / l_i^2,
  //   tr(W dK/dlog s2)  = sum(W o K).
  Eigen::VectorXd gradient_traces(const Eigen::MatrixXd& X, const Eigen::MatrixXd& W,
                                  const Eigen::MatrixXd& K, const Eigen::MatrixXd& C) const;
  // d k(x, y) / dx.
  Eigen::VectorXd gradient_x(const Eigen::Ref<const Eigen::VectorXd>& x,
                             const Eigen::Ref<const Eigen::VectorXd>& y) const;
  // dK(X, X)/dtheta_j for every j, elementwise (the reference the tests hold gradient_traces to).
  std::vector<Eigen::MatrixXd> gradients(const Eigen::MatrixXd& X) const;

 private:
  KernelType type_;
  int dims_;
  Eigen::VectorXd theta_;
};

}  // namespace autopeft::search
