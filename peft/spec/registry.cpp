// The single list of PEFT methods (torch-free side). Adding a method: its spec file pair in
// methods/, one line here, and its module file pair plus one line in peft/registry.cpp.
#include "peft/spec/method_spec.h"
#include "peft/spec/methods/adapter_specs.h"
#include "peft/spec/methods/lora_spec.h"
#include "peft/spec/methods/prefix_ia3_specs.h"
#include "peft/spec/methods/prompt_specs.h"

namespace autopeft::peft {

void register_methods(MethodRegistry& registry) {
  registry.add(std::make_unique<methods::LoraSpec>());
  registry.add(std::make_unique<methods::SerialAdapterSpec>());
  registry.add(std::make_unique<methods::ParallelAdapterSpec>());
  registry.add(std::make_unique<methods::PrefixSpec>());
  registry.add(std::make_unique<methods::Ia3Spec>());
  registry.add(std::make_unique<methods::PromptTuningSpec>());
  registry.add(std::make_unique<methods::PTuningSpec>());
}

}  // namespace autopeft::peft
