#pragma once
// The PEFT search spaces of studies, built from the method registry's search dimensions, in the
// JSON form of custom search spaces (search/search_space.h), and the decoding of a proposed
// point into a PeftConfig. Torch-free.
//   "autopeft"   AutoPEFT's space: log2 reductions 0-10 of the serial adapter, the parallel
//                adapter and the prefix ("serial", "parallel", "prefix"; 10 = off) shared by all
//                layers, and a per-layer on/off mask ("layer.0" ... bool); decoded through the
//                "sappa" preset (15 dimensions for 12 layers, 27 for 24).
//   "per-layer"  for every layer and every method with a search dimension (serial adapter size,
//                parallel adapter size, prefix length, LoRA rank on q and v), one ordinal
//                dimension "layer.I.METHOD.OPTION" whose values start at 0 (no module).
// Custom spaces used with real training name their dimensions the same way:
// "layer.I.METHOD.OPTION" (one layer) or "all.METHOD.OPTION" (every layer); a method's search
// option at 0 removes it; the method's fixed options (e.g. LoRA targets q, v) fill what the
// point does not set.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peft/spec/peft_config.h"

namespace autopeft::peft {

const std::vector<std::string>& space_preset_names();
bool is_space_preset(const std::string& name);

// The preset's dimensions as a JSON array; UserError naming the preset otherwise.
nlohmann::json space_preset(const std::string& name, const ModelDims& dims);

// The PeftConfig of a point (params by dimension name) of `space` (a preset name, or "custom").
// Dimensions that are not PEFT dimensions are an error naming them.
PeftConfig config_from_params(const std::string& space, const nlohmann::json& params, const ModelDims& dims);

}  // namespace autopeft::peft
