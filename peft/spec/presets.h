#pragma once
// Named configurations: the hand-picked baselines of the literature and AutoPEFT's own wiring.
// Sizes follow the model (hidden size H):
//   lora       LoRA r = 8 (alpha 16) on q and v                       (Hu et al.; AutoPEFT's baseline)
//   pfeiffer   serial adapter after the FFN, size H / 16, ReLU        (AdapterHub seq_bn)
//   houlsby    serial adapters after attention and FFN, H / 16, swish (AdapterHub double_seq_bn)
//   prefix     prefix length 10, MLP width 800                        (AutoPEFT's baseline)
//   parallel   parallel adapter at the FFN, size H / 2, scale 4       (AdapterHub par_bn)
//   ia3        IA3 on k, v and the FFN                                (HF PEFT)
//   mam        prefix 30 (MLP 800) + parallel adapter H / 2, scale 4  (He et al.; AdapterHub MAMConfig)
//   unipelt    gated prefix 10 + gated serial adapter H / 16 + gated LoRA r 8 (alpha 2)
//              (Mao et al.; AdapterHub UniPELTConfig)
//   sappa      AutoPEFT's space: {"serial": k_s, "parallel": k_p, "prefix": k_x, "layers": [0/1...]}
//              with sizes H >> k (k = 9 gives 1, k = 10 removes the module), a serial (Pfeiffer,
//              ReLU, bert init) and a parallel adapter (scale 4, mam init) sharing the FFN output
//              LayerNorm, prefix MLP width 800, modules only on layers whose flag is 1.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peft/spec/peft_config.h"

namespace autopeft::peft {

const std::vector<std::string>& preset_names();
// `args` only for "sappa" (and optional overrides of "r" for lora). UserError for an unknown name.
PeftConfig preset(const std::string& name, const ModelDims& dims, const nlohmann::json& args = nullptr);
// AutoPEFT's size for a log2 reduction k: 0 for k >= 10, else max(1, H >> k).
std::int64_t sappa_size(std::int64_t hidden, std::int64_t k);

}  // namespace autopeft::peft
