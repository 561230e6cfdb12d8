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
  // K(X, Y): rows of X against rows of Y.
  Eigen::MatrixXd matrix(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y) const;
  // d k(x, y) / dx.
  Eigen::VectorXd gradient_x(const Eigen::Ref<const Eigen::VectorXd>& x,
                             const Eigen::Ref<const Eigen::VectorXd>& y) const;
  // dK(X, X)/dtheta_j for every j.
  std::vector<Eigen::MatrixXd> gradients(const Eigen::MatrixXd& X) const;

 private:
  KernelType type_;
  int dims_;
  Eigen::VectorXd theta_;
};

}  // namespace autopeft::search
