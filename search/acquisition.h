#pragma once
// Acquisition functions over a fitted GP, all MAXIMISED, on outputs the caller has oriented so
// that larger is better. Adding one: a class here implementing value() (and, if it can, an
// analytic value_and_gradient()), and one line in register_acquisitions() in acquisition.cpp;
// the contract test runs every registered name.
//   log_ei  log expected improvement over the best observation, computed stably far below it
//           (BoTorch's LogEI: EI's log without underflow, so its gradient stays informative)
//   ucb     mean + sqrt(beta) * sd
#include <Eigen/Core>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "search/gaussian_process.h"

namespace autopeft::search {

class AcquisitionFunction {
 public:
  virtual ~AcquisitionFunction() = default;
  virtual double value(const Eigen::VectorXd& x) const = 0;
  // Default: central finite differences (step 1e-6) around value().
  virtual double value_and_gradient(const Eigen::VectorXd& x, Eigen::VectorXd& gradient) const;
};

struct AcquisitionContext {
  const GaussianProcess* gp = nullptr;
  double best = 0.0;       // the incumbent (best observed output)
  nlohmann::json options;  // per-function options, e.g. {"beta": 2.0}
};

using AcquisitionFactory = std::function<std::unique_ptr<AcquisitionFunction>(const AcquisitionContext&)>;

// The registry of single-objective acquisitions.
const std::vector<std::string>& acquisition_names();
std::unique_ptr<AcquisitionFunction> make_acquisition(const std::string& name,
                                                      const AcquisitionContext& context);

// log(phi(z) + z Phi(z)), stable for all z, and its derivative.
double log_h(double z, double* derivative);

}  // namespace autopeft::search
