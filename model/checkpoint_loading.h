#pragma once
// Copying a checkpoint's tensors into a module's parameters by name, and one error that lists
// every missing, mis-shaped and unexpected key (shared by the decoder and T5 loaders).
#include <torch/nn/module.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/format/checkpoint_files.h"

namespace autopeft::model {

struct KeyMatch {
  std::vector<std::string> missing, mismatched, unexpected;
};

// Copies every parameter of `module` from the checkpoint key `ours_to_file` maps its name to,
// transposed where `transposed(name)` (GPT-2's Conv1D); what does not fit is collected.
KeyMatch copy_parameters(torch::nn::Module& module, const CheckpointFiles& files,
                         const std::map<std::string, std::string>& ours_to_file,
                         const std::function<bool(const std::string&)>& transposed = {});
// One UserError naming `dir` and listing the problems (unexpected keys only when not allowed).
void throw_on_key_problems(const std::string& dir, const std::string& model_type, const KeyMatch& match,
                           bool allow_unexpected);

}  // namespace autopeft::model
