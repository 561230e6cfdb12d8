// `autopeft peft methods` and `autopeft peft count`.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/peft_loading.h"
#include "core/errors.h"
#include "model/causal_lm.h"
#include "model/encoder_task.h"
#include "model/format/decoder_config.h"
#include "model/format/t5_config.h"
#include "model/t5.h"
#include "peft/export.h"
#include "peft/peft_model.h"
#include "peft/spec/config_import.h"
#include "peft/spec/method_spec.h"
#include "peft/spec/peft_config.h"
#include "peft/spec/presets.h"

namespace autopeft::cli {

namespace {

struct CountOptions {
  std::string model;
  std::string config;
  std::string head = "auto";
  std::int64_t num_labels = 0;
};

// The model's dims and head as load_encoder would build them, without loading weights.
struct ModelShape {
  peft::ModelDims dims;
  model::HeadChoice head;
};

ModelShape model_shape(const CountOptions& o) {
  // Causal LMs (GPT-2, Llama) and T5: the LM head is part of the pretrained backbone, with no task head.
  const auto type = model::model_type_of(o.model);
  if (model::is_decoder_model_type(type) || model::is_t5_model_type(type)) {
    if (o.head != "auto" && o.head != "none")
      throw_user_error(
          "--head", "'" + o.head + "': a generative model keeps its LM head (task heads are for encoders)");
    return {model::is_t5_model_type(type) ? peft::dims_of(model::load_t5_config(o.model))
                                          : peft::dims_of(model::load_decoder_config(o.model)),
            model::HeadChoice{}};
  }
  const auto cfg = model::load_encoder_config(o.model);
  model::LoadOptions lo;
  lo.head = o.head;
  lo.num_labels = o.num_labels;
  const auto head = model::choose_head(o.model, cfg, lo);
  return {peft::dims_of(cfg, model::task_model_has_pooler(cfg, head.head)), head};
}

int count(const CountOptions& o) {
  const auto shape = model_shape(o);
  const auto imported = peft::import_config_file(o.config, shape.dims);
  const auto report = peft::count_parameters(
      imported, shape.dims, std::string(model::head_kind_name(shape.head.head)), shape.head.num_labels);
  std::cout << report.to_json().dump() << "\n";
  return 0;
}

int show(const CountOptions& o) {
  std::cout << peft::import_config_file(o.config, model_shape(o).dims).to_json().dump() << "\n";
  return 0;
}

struct ExportOptions {
  std::string model;
  std::string config;
  std::string weights;
  std::string format;
  std::string out;
  std::string name = "autopeft";
};

int export_command(const ExportOptions& o) {
  const auto format = o.format == "native"    ? peft::ExportFormat::native
                      : o.format == "hf-peft" ? peft::ExportFormat::hf_peft
                                              : peft::ExportFormat::adapters;
  auto installed = install_peft(
      o.model, [&](const peft::ModelDims& dims) { return peft::import_config_file(o.config, dims); },
      o.config);
  if (!o.weights.empty()) installed.model->load_weights(o.weights);
  installed.info.adapter_name = o.name;
  peft::export_peft(*installed.model, installed.config, format, installed.info, o.out);
  const std::int64_t stored = installed.model->stored_count();
  nlohmann::ordered_json j = {{"out", o.out}, {"format", o.format}, {"stored", stored}};
  std::cout << j.dump() << "\n";
  return 0;
}

int methods() {
  const auto& registry = peft::MethodRegistry::instance();
  for (const auto& name : registry.names()) {
    const auto* spec = registry.find(name);
    std::cout << fmt::format("{:<18} {}\n{:<18} example: {}\n", name, spec->summary(), "",
                             spec->example().dump());
  }
  return 0;
}

}  // namespace

void add_peft_command(CLI::App& app, CommandRegistry& registry, const GlobalOptions&) {
  auto* peft_cmd = app.add_subcommand("peft", "PEFT configurations: methods, parameter counts");
  peft_cmd->require_subcommand(1);

  auto* methods_cmd = peft_cmd->add_subcommand("methods", "List the PEFT methods a configuration may use");
  registry.add(methods_cmd, [] { return methods(); });

  auto co = std::make_shared<CountOptions>();
  auto* count_cmd = peft_cmd->add_subcommand(
      "count",
      "Exact parameter counts of a configuration on a model, in closed form: one JSON line "
      "{trainable, stored, head, backbone, params_percent}");
  count_cmd->add_option("--model", co->model, "Model folder (config.json and weights)")
      ->required()
      ->check(CLI::ExistingDirectory);
  count_cmd
      ->add_option("--config", co->config,
                   "PEFT configuration: our PeftConfig JSON, a Hugging Face PEFT adapter_config.json or an "
                   "AdapterHub adapter_config.json")
      ->required();
  count_cmd->add_option("--head", co->head, "Task head: auto (the checkpoint's), none, sequence, token, mlm");
  count_cmd->add_option("--num-labels", co->num_labels, "Labels of a new head")
      ->check(CLI::NonNegativeNumber);
  registry.add(count_cmd, [co] { return count(*co); });

  auto so = std::make_shared<CountOptions>();
  auto* show_cmd = peft_cmd->add_subcommand(
      "show", "Print a configuration (any accepted form, or preset:NAME) as our PeftConfig JSON for a model");
  show_cmd->add_option("--model", so->model, "Model folder")->required()->check(CLI::ExistingDirectory);
  show_cmd->add_option("--config", so->config, "PeftConfig, HF PEFT or AdapterHub config, or preset:NAME")
      ->required();
  registry.add(show_cmd, [so] { return show(*so); });

  auto eo = std::make_shared<ExportOptions>();
  auto* export_cmd = peft_cmd->add_subcommand(
      "export",
      "Write a configuration and its weights for full training: native, hf-peft (Hugging Face PEFT) or "
      "adapters (AdapterHub)");
  export_cmd->add_option("--model", eo->model, "Model folder")->required()->check(CLI::ExistingDirectory);
  export_cmd->add_option("--config", eo->config, "PEFT configuration (any accepted form, or preset:NAME)")
      ->required();
  export_cmd
      ->add_option("--weights", eo->weights,
                   "Trained PEFT weights (native safetensors); default: initial ones")
      ->check(CLI::ExistingFile);
  export_cmd->add_option("--format", eo->format, "native, hf-peft or adapters")
      ->required()
      ->check(CLI::IsMember({"native", "hf-peft", "adapters"}));
  export_cmd->add_option("--out", eo->out, "Output folder")->required();
  export_cmd->add_option("--name", eo->name, "Adapter name (AdapterHub keys)");
  registry.add(export_cmd, [eo] { return export_command(*eo); });

  auto* presets_cmd =
      peft_cmd->add_subcommand("presets", "List the named configurations usable as preset:NAME");
  registry.add(presets_cmd, [] {
    for (const auto& n : peft::preset_names()) std::cout << n << "\n";
    return 0;
  });
}

}  // namespace autopeft::cli
