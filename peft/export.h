#pragma once
// Export of a configuration and its weights for full training elsewhere.
//   native    peft_config.json (our PeftConfig) + peft_weights.safetensors (our names, as they
//             train: prefixes behind their generator)
//   hf-peft   adapter_config.json + adapter_model.safetensors for Hugging Face PEFT: LoRA
//             (per-layer ranks through rank_pattern / alpha_pattern, layers through
//             layers_to_transform), IA3, prefix-tuning (the ejected table as prompt_embeddings;
//             HF PEFT shifts BERT/RoBERTa positions by the prefix length, we do not: numbers
//             differ slightly there). One method per file, as PEFT loads them.
//   adapters  adapter_config.json + adapter.safetensors for AdapterHub `adapters` (>= 1.1):
//             a union of bottleneck, prefix-tuning and LoRA configs, per-layer sizes through
//             reduction-factor maps and leave_out.
// Minimal configs: only fields that the reference libraries' oldest supported versions know.
// A configuration a format cannot express is a UserError naming the part and why; nothing is
// written then. Key names follow ../shared/reference/peft-semantics.md; those it marks
// unverified ([D]/[U]) are listed in docs/export.md until checked against the libraries.
#include <nlohmann/json.hpp>
#include <string>

#include "peft/peft_model.h"

namespace autopeft::peft {

enum class ExportFormat { native, hf_peft, adapters };

struct ExportInfo {
  std::string base_model;  // written as base_model_name_or_path / model_name
  std::string task_type;   // HF PEFT task_type ("SEQ_CLS", "TOKEN_CLS", "" for none)
  bool task_model = true;  // keys under "bert." / "roberta." (a task model) or bare
  std::string adapter_name = "autopeft";
  // The task head's tensors under their checkpoint names (classifier.*): hf-peft writes them as
  // HF PEFT saves a SEQ_CLS / TOKEN_CLS adapter's modules_to_save (HF PEFT 0.21 refuses to load
  // such an adapter without them); the other formats leave the head to head.safetensors.
  std::vector<std::pair<std::string, torch::Tensor>> head;
};

// Writes the files into `out_dir` (created). `config` is the configuration `model` was built from.
void export_peft(PeftModel& model, const PeftConfig& config, ExportFormat format, const ExportInfo& info,
                 const std::string& out_dir);

}  // namespace autopeft::peft
