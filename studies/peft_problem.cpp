#include "studies/peft_problem.h"

#include <limits>

#include "core/errors.h"
#include "core/json_fields.h"
#include "model/format/decoder_config.h"
#include "model/format/model_config.h"
#include "model/format/t5_config.h"
#include "peft/spec/model_dims.h"
#include "peft/spec/search_spaces.h"

namespace autopeft::studies {

StudyConstraints StudyConstraints::from_json(const nlohmann::json& j, const std::string& where) {
  StudyConstraints c;
  if (j.is_null()) return c;
  JsonFields fields(j, where);
  fields.read("params_percent_max", c.params_percent_max);
  fields.finish();
  if (c.params_percent_max < 0) throw_user_error(where + ".params_percent_max", "must be >= 0");
  return c;
}

nlohmann::json StudyConstraints::to_json() const { return {{"params_percent_max", params_percent_max}}; }

namespace {

search::SearchSpace space_of(const nlohmann::json& space, const peft::ModelDims& dims, std::string& name) {
  if (space.is_string()) {
    name = space.get<std::string>();
    return search::SearchSpace::from_json(peft::space_preset(name, dims), "space " + name);
  }
  name = "custom";
  return search::SearchSpace::from_json(space, "space");
}

}  // namespace

PeftProblem::PeftProblem(const StudySpec& spec) {
  const auto& d = spec.definition;
  if (spec.runner != "trainer") throw_user_error(spec.name, "is not a trainer study");
  const auto model_dir = d.at("model").get<std::string>();
  const auto type = model::model_type_of(model_dir);
  task_ = trainer::TaskSpec::from_file(d.at("task").get<std::string>());
  fidelity_ = trainer::TrainOptions::from_json(d.value("fidelity", nlohmann::json::object()), "fidelity");
  constraints_ = StudyConstraints::from_json(d.value("constraints", nlohmann::json()), "constraints");
  std::int64_t limit = 0;
  if (model::is_t5_model_type(type)) {  // generative models keep their LM head (no task head)
    dims_ = peft::dims_of(model::load_t5_config(model_dir));
    limit = std::numeric_limits<std::int64_t>::max();  // relative positions: no table to outgrow
  } else if (model::is_decoder_model_type(type)) {
    const auto config = model::load_decoder_config(model_dir);
    dims_ = peft::dims_of(config);
    limit = config.max_positions;
  } else {
    const auto config = model::load_encoder_config(model_dir);
    // A trainer study's encoder always has a task head: BERT keeps its pooler, RoBERTa does not
    // (model/encoder_task.h, task_model_has_pooler).
    dims_ = peft::dims_of(config, config.family == model::EncoderFamily::bert);
    limit = model::tokenizer_max_length(model_dir, config);
  }
  space_ = space_of(spec.space, dims_, space_name_);
  // Every trial would fail on this: say it now.
  const auto wanted = fidelity_.max_length > 0 ? fidelity_.max_length : task_.max_length;
  if (wanted > limit)
    throw_user_error(
        fidelity_.max_length > 0 ? "fidelity.max_length" : d.at("task").get<std::string>() + ": max_length",
        std::to_string(wanted) + " is more than the model's limit of " + std::to_string(limit) + " tokens");
}

peft::PeftConfig PeftProblem::config(const nlohmann::json& params) const {
  if (params.is_object() && params.size() == 1 && params.contains("config"))  // enqueued as a whole
    return peft::PeftConfig::from_json(params["config"], "enqueued config");
  return peft::config_from_params(space_name_, params, dims_);
}

peft::CountReport PeftProblem::count(const nlohmann::json& params) const {
  // The head is counted apart and does not enter params_percent.
  return peft::count_parameters(config(params), dims_, "none", 0);
}

bool PeftProblem::feasible(const nlohmann::json& params) const {
  if (constraints_.params_percent_max <= 0) return true;
  try {
    return count(params).params_percent <= constraints_.params_percent_max;
  } catch (const UserError&) {
    return false;
  }
}

}  // namespace autopeft::studies
