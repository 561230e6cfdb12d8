#pragma once
// What a trainer study knows without LibTorch: the backbone's dims (from its config.json), the
// task, the PEFT search space (a preset from the method registry, or custom dimensions named as
// peft/spec/search_spaces.h says), how a point becomes a PeftConfig and what it costs in
// parameters (closed form), the hard constraints, and the training options of its trials.
#include <nlohmann/json.hpp>
#include <string>

#include "peft/spec/peft_config.h"
#include "search/search_space.h"
#include "studies/study_spec.h"
#include "trainer/data/task.h"
#include "trainer/data/train_options.h"

namespace autopeft::studies {

struct StudyConstraints {
  double params_percent_max = 0;  // 0 = none; a point above it is never proposed (hard budget)
  static StudyConstraints from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

class PeftProblem {
 public:
  // `spec` must be a trainer study (model and task paths absolute, as stored).
  explicit PeftProblem(const StudySpec& spec);

  const std::string& space_name() const { return space_name_; }  // a preset name or "custom"
  const search::SearchSpace& search_space() const { return space_; }
  const peft::ModelDims& dims() const { return dims_; }
  const trainer::TaskSpec& task() const { return task_; }
  const trainer::TrainOptions& fidelity() const { return fidelity_; }
  const StudyConstraints& constraints() const { return constraints_; }

  // The configuration of a point, or of a trial enqueued whole as {"config": PeftConfig JSON}.
  peft::PeftConfig config(const nlohmann::json& params) const;
  peft::CountReport count(const nlohmann::json& params) const;
  // The constraints hold (a point that cannot be decoded is not feasible).
  bool feasible(const nlohmann::json& params) const;

 private:
  std::string space_name_;
  peft::ModelDims dims_;
  search::SearchSpace space_;
  trainer::TaskSpec task_;
  trainer::TrainOptions fidelity_;
  StudyConstraints constraints_;
};

}  // namespace autopeft::studies
