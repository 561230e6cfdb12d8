#include "model/checkpoint_loading.h"

#include <torch/torch.h>

#include <set>

#include "core/errors.h"
#include "model/tensor_io.h"

namespace autopeft::model {

KeyMatch copy_parameters(torch::nn::Module& module, const CheckpointFiles& files,
                         const std::map<std::string, std::string>& ours_to_file,
                         const std::function<bool(const std::string&)>& transposed) {
  KeyMatch m;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) {
    const auto& name = item.key();
    const auto it = ours_to_file.find(name);
    if (it == ours_to_file.end()) {
      m.missing.push_back(name);
      continue;
    }
    used.insert(it->first);
    const auto& entry = *files.find(it->second);
    const bool transpose = transposed && transposed(name);
    std::vector<std::int64_t> want(item.value().sizes().begin(), item.value().sizes().end());
    if (transpose) std::swap(want[0], want[1]);
    if (entry.info->shape != want) {
      std::string have, need;
      for (auto d : entry.info->shape) have += (have.empty() ? "" : ",") + std::to_string(d);
      for (auto d : want) need += (need.empty() ? "" : ",") + std::to_string(d);
      m.mismatched.push_back(it->second + " [" + have + "] (model needs [" + need + "])");
      continue;
    }
    auto t = read_tensor(*entry.file, *entry.info);
    if (transpose) t = t.t();
    item.value().copy_(t.to(item.value().scalar_type()));
  }
  for (const auto& [ours, key] : ours_to_file)
    if (!used.count(ours)) m.unexpected.push_back(key);
  return m;
}

void throw_on_key_problems(const std::string& dir, const std::string& model_type, const KeyMatch& m,
                           bool allow_unexpected) {
  std::string problems;
  auto list = [&](const char* what, const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    problems += std::string("\n  ") + what + " (" + std::to_string(keys.size()) + "):";
    for (std::size_t i = 0; i < keys.size() && i < 20; ++i) problems += " " + keys[i];
    if (keys.size() > 20) problems += " ...";
  };
  list("missing", m.missing);
  list("shape mismatch", m.mismatched);
  if (!allow_unexpected) list("unexpected", m.unexpected);
  if (!problems.empty())
    throw_user_error(dir, "the checkpoint does not match its " + model_type + " config:" + problems);
}

}  // namespace autopeft::model
