#pragma once
// `--config` accepts three forms; all become a PeftConfig with an entry per layer:
//   our PeftConfig JSON;
//   a Hugging Face PEFT adapter_config.json: LORA (r, lora_alpha, lora_dropout, use_rslora,
//     init_lora_weights, target_modules as a list (suffix match) or a regex (full match),
//     layers_to_transform, rank_pattern, alpha_pattern), IA3 (target_modules,
//     feedforward_modules), PREFIX_TUNING (num_virtual_tokens, prefix_projection,
//     encoder_hidden_size);
//   an AdapterHub adapter_config.json (or a bare config dict): bottleneck adapters (serial or
//     parallel, reduction_factor as a number or per-layer map, mh_adapter / output_adapter,
//     non_linearity, scaling, init_weights, ln_before / ln_after, use_gating, leave_out),
//     prefix_tuning (prefix_length, bottleneck_size, flat, use_gating, leave_out), lora (r,
//     alpha, attn_matrices, intermediate_lora, output_lora, leave_out), and unions of these.
// What a form can say that we cannot express (HF LoRA biases, DoRA, AdapterHub's IA3 placement,
// gated LoRA) is a UserError naming the field. rank/alpha patterns that match no module warn
// and are ignored, as HF PEFT does.
#include <nlohmann/json.hpp>
#include <string>

#include "peft/spec/peft_config.h"

namespace autopeft::peft {

PeftConfig import_config(const nlohmann::json& document, const std::string& source, const ModelDims& dims);
// `path` may also be "preset:NAME" (peft/spec/presets.h).
PeftConfig import_config_file(const std::string& path, const ModelDims& dims);

}  // namespace autopeft::peft
