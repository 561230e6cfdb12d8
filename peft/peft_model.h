#pragma once
// Applying a PeftConfig to a backbone: freeze every pretrained weight, install each layer's
// modules at the named injection points, and give access to what trains and what is stored.
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/causal_lm.h"
#include "model/encoder.h"
#include "model/t5.h"
#include "peft/spec/model_dims.h"
#include "peft/spec/peft_config.h"

namespace autopeft::peft {

class PeftModel {
 public:
  // Any backbone (`dims` its sizes, as dims_of gives them): modified in place (modules are
  // registered inside it). Throws UserError for a config that does not fit the model (errors
  // name the field).
  PeftModel(std::shared_ptr<model::PeftHost> host, const ModelDims& dims, const PeftConfig& config,
            const std::string& source = "config");
  PeftModel(model::EncoderModel base, const PeftConfig& config, const std::string& source = "config");
  PeftModel(std::shared_ptr<model::CausalLmImpl> base, const PeftConfig& config,
            const std::string& source = "config");
  PeftModel(std::shared_ptr<model::T5ModelImpl> base, const PeftConfig& config,
            const std::string& source = "config");

  // The encoder of an encoder's PeftModel (std::logic_error for another backbone).
  model::EncoderModel& base();
  bool is_encoder() const { return !base_.is_empty(); }
  model::PeftHost& host() { return *host_; }
  const ModelDims& dims() const { return dims_; }
  const std::vector<nlohmann::json>& layers() const { return layers_; }  // resolved per-layer modules

  // The PEFT parameters (all trainable): every parameter that was not the backbone's, named by
  // its path in the backbone, e.g. "encoder.layer.3.attention.self.query.lora.lora_A".
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;
  std::vector<torch::Tensor> parameters() const;
  std::int64_t trainable_count() const;

  // The tensors an exported adapter keeps: every PEFT parameter, with prefixes as their ejected
  // tables (computed from the current generator; the model is not changed).
  std::vector<std::pair<std::string, torch::Tensor>> stored_tensors();
  std::int64_t stored_count();

  // Saves / loads the PEFT parameters (as they train: prefixes behind their generator until
  // ejected) to a safetensors file with our names; loading checks every name and shape and lists
  // all mismatches in one UserError.
  void save_weights(const std::string& path) const;
  void load_weights(const std::string& path);

  // Runs the prefix MLP once and keeps flat tables from then on (the MLP is dropped).
  void eject_prefix();
  // Folds every LoRA update into its linear layer / takes it out again.
  void merge_lora();
  void unmerge_lora();

 private:
  std::shared_ptr<model::PeftHost> host_;
  model::EncoderModel base_{nullptr};
  ModelDims dims_;
  std::set<std::string> backbone_names_;
  std::vector<nlohmann::json> layers_;
};

// The linear points a LoRA / IA3 target occupies on `layer`: its projection and, on a layer with
// cross-attention (T5's decoder), the cross-attention's too; hf_linear_modules() (peft/spec/
// hf_modules.h) names their Hugging Face modules in the same order.
std::vector<std::string> target_points(const model::PeftHost& host, const ModelDims& dims, std::int64_t layer,
                                       const std::string& target);

// The torch-side method names (tests compare them with the spec registry's).
std::vector<std::string> installed_method_names();

}  // namespace autopeft::peft
