#include "peft/peft_model.h"

#include <torch/torch.h>

#include <map>
#include <set>

#include "core/errors.h"
#include "model/tensor_io.h"
#include "peft/modules/adapters.h"
#include "peft/modules/ia3.h"
#include "peft/modules/lora.h"
#include "peft/modules/prefix.h"
#include "peft/modules/prompt.h"
#include "peft/spec/methods/lora_spec.h"
#include "peft/spec/methods/prefix_ia3_specs.h"

namespace autopeft::peft {

namespace {

// State shared by the installers while one config is applied.
struct InstallContext {
  model::EncoderModelImpl& model;
  ModelDims dims;
  nlohmann::json globals;
  std::map<std::string, std::shared_ptr<AdapterHook>> adapter_hooks;  // by residual point
  std::vector<std::pair<std::int64_t, nlohmann::json>> prefix_layers;

  std::shared_ptr<AdapterHook> hook_at(const std::string& point) {
    auto& h = adapter_hooks[point];
    if (!h) h = std::make_shared<AdapterHook>();
    return h;
  }
};

std::string point(std::int64_t layer, const std::string& suffix) {
  return "layer." + std::to_string(layer) + "." + suffix;
}

void install_lora(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  LoraOptions lo;
  lo.dropout = o.at("dropout");
  lo.use_rslora = o.at("use_rslora");
  lo.init = o.at("init");
  lo.gate = o.at("gate");
  for (const auto& t : o.at("targets")) {
    const std::string target = t;
    lo.r = methods::lora_rank(o, target);
    lo.alpha = methods::lora_alpha(o, target);
    auto linear = ctx.model.linear(point(layer, target.rfind("ffn", 0) == 0 ? target : "attn." + target));
    linear->add_augment("lora", std::make_shared<LoraAugment>(linear->in_features, linear->out_features, lo));
  }
}

void install_ia3(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  for (const auto& t : o.at("targets")) {
    if (t == "ffn") {
      auto linear = ctx.model.linear(point(layer, "ffn.out"));
      linear->add_augment("ia3", std::make_shared<Ia3Augment>(linear->in_features, true));
    } else {
      auto linear = ctx.model.linear(point(layer, "attn." + t.get<std::string>()));
      linear->add_augment("ia3", std::make_shared<Ia3Augment>(linear->out_features, false));
    }
  }
}

void install_serial(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  const std::string placement = o.at("placement");
  std::vector<std::string> points = {"ffn.output"};
  if (placement == "houlsby") points.insert(points.begin(), "attn.output");
  for (const auto& p : points)
    ctx.hook_at(point(layer, p))->set_serial(Bottleneck(ctx.dims.hidden, o, true), placement);
}

void install_parallel(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  const std::string where = o.at("location");
  std::vector<std::string> points;
  if (where == "attn" || where == "both") points.push_back("attn.output");
  if (where == "ffn" || where == "both") points.push_back("ffn.output");
  for (const auto& p : points)
    ctx.hook_at(point(layer, p))->set_parallel(Bottleneck(ctx.dims.hidden, o, false));
}

void install_prefix(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  ctx.prefix_layers.emplace_back(layer, o);
}

void install_prompt(InstallContext& ctx, std::int64_t, const nlohmann::json& o) {
  const auto N = o.at("length").get<std::int64_t>();
  torch::Tensor init;
  if (o.at("init") == "vocab") {  // HF PEFT's SAMPLE_VOCAB: random rows of the word embeddings
    const auto& w = ctx.model.embeddings->word_embeddings->weight;
    init = w.index_select(0, torch::randint(w.size(0), {N}, torch::kLong)).detach();
  }
  ctx.model.set_embedding_hook(std::make_shared<PromptEmbedding>(N, ctx.dims.hidden, "none", 0, init));
}

void install_p_tuning(InstallContext& ctx, std::int64_t, const nlohmann::json& o) {
  ctx.model.set_embedding_hook(std::make_shared<PromptEmbedding>(
      o.at("length").get<std::int64_t>(), ctx.dims.hidden, o.at("encoder").get<std::string>(),
      o.at("hidden").get<std::int64_t>()));
}

// Work that needs every layer's modules first.
void finish(InstallContext& ctx) {
  for (auto& [p, hook] : ctx.adapter_hooks) ctx.model.residual(p)->set_hook(hook);
  if (!ctx.prefix_layers.empty()) {
    std::vector<std::int64_t> lengths;
    for (const auto& [l, o] : ctx.prefix_layers) lengths.push_back(o.at("length"));
    if (methods::prefix_mlp_hidden(ctx.globals) == 0) {  // flat: no reparametrisation
      for (const auto& [layer, o] : ctx.prefix_layers)
        ctx.model.attention_at(point(layer, "attn"))
            ->set_prefix(std::make_shared<LayerPrefix>(o.at("length").get<std::int64_t>(), ctx.dims.hidden,
                                                       ctx.dims.heads, o.at("gate").get<bool>()));
      return;
    }
    auto generator =
        PrefixGenerator(ctx.dims.hidden, ctx.dims.heads, methods::prefix_mlp_hidden(ctx.globals), lengths);
    ctx.model.register_module("prefix_generator", generator);
    for (std::size_t j = 0; j < ctx.prefix_layers.size(); ++j) {
      const auto& [layer, o] = ctx.prefix_layers[j];
      ctx.model.attention_at(point(layer, "attn"))
          ->set_prefix(
              std::make_shared<LayerPrefix>(generator, j, o.at("gate").get<bool>(), ctx.dims.hidden));
    }
  }
}

using Installer = void (*)(InstallContext&, std::int64_t, const nlohmann::json&);

// The single list of PEFT methods on the torch side; names match peft/spec/registry.cpp.
const std::vector<std::pair<std::string, Installer>>& installers() {
  static const std::vector<std::pair<std::string, Installer>> list = {
      {"lora", install_lora},
      {"serial_adapter", install_serial},
      {"parallel_adapter", install_parallel},
      {"prefix", install_prefix},
      {"ia3", install_ia3},
      {"prompt_tuning", install_prompt},
      {"p_tuning", install_p_tuning},
  };
  return list;
}

bool is_peft_parameter(const std::string& name) {
  // Everything registered by peft/ lives under these module names.
  if (name.rfind("prefix_generator.", 0) == 0 || name.rfind("embedding_hook.", 0) == 0) return true;
  for (const char* part : {".lora.", ".ia3.", ".hook.", ".prefix."})
    if (name.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

std::vector<std::string> installed_method_names() {
  std::vector<std::string> out;
  for (const auto& [n, f] : installers()) out.push_back(n);
  return out;
}

PeftModel::PeftModel(model::EncoderModel base, const PeftConfig& config, const std::string& source)
    : base_(std::move(base)) {
  const auto& c = base_->config();
  const auto dims = dims_of(c, base_->has_pooler());
  layers_ = config.resolve(dims, source);
  for (auto& p : base_->parameters()) p.set_requires_grad(false);
  InstallContext ctx{*base_, dims, config.globals(), {}, {}};
  for (std::size_t i = 0; i < layers_.size(); ++i)
    for (const auto& [name, install] :
         installers())  // registry order, so results do not depend on JSON order
      if (layers_[i].contains(name)) install(ctx, static_cast<std::int64_t>(i), layers_[i][name]);
  finish(ctx);
  const auto model_level = config.resolve_embeddings(dims, source);
  for (auto m = model_level.begin(); m != model_level.end(); ++m)
    for (const auto& [name, install] : installers())
      if (name == m.key()) install(ctx, -1, m.value());
  // New modules take the backbone's device and dtype.
  const auto& ref = base_->embeddings->word_embeddings->weight;
  base_->to(ref.device(), ref.scalar_type());
}

std::vector<std::pair<std::string, torch::Tensor>> PeftModel::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : base_->named_parameters())
    if (is_peft_parameter(item.key())) out.emplace_back(item.key(), item.value());
  return out;
}

std::vector<torch::Tensor> PeftModel::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& [n, p] : named_parameters()) out.push_back(p);
  return out;
}

std::int64_t PeftModel::trainable_count() const {
  std::int64_t n = 0;
  for (const auto& [name, p] : named_parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

std::vector<std::pair<std::string, torch::Tensor>> PeftModel::stored_tensors() {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [name, p] : named_parameters())
    if (name.rfind("prefix_generator.", 0) != 0 && name.rfind("embedding_hook.", 0) != 0)
      out.emplace_back(name, p.detach());
  // Prompts: the vectors themselves (P-tuning: its encoder's output), as HF PEFT saves them.
  if (auto prompt = std::dynamic_pointer_cast<PromptEmbedding>(base_->embedding_hook())) {
    torch::NoGradGuard g;
    out.emplace_back("embedding_hook.prompt_table", prompt->table().detach().clone());
  }
  // Prefixes still behind the generator: their ejected tables, computed without changing the model.
  torch::NoGradGuard g;
  for (std::size_t i = 0; i < base_->encoder->size(); ++i) {
    auto attn = base_->encoder->at(i)->attention->self;
    auto prefix = std::dynamic_pointer_cast<LayerPrefix>(attn->prefix());
    if (!prefix || prefix->ejected()) continue;
    const auto path = "encoder.layer." + std::to_string(i) + ".attention.self.prefix.";
    auto [k, v] = prefix->table();
    out.emplace_back(path + "prefix_keys", k.detach().clone());
    out.emplace_back(path + "prefix_values", v.detach().clone());
  }
  return out;
}

std::int64_t PeftModel::stored_count() {
  std::int64_t n = 0;
  for (const auto& [name, t] : stored_tensors()) n += t.numel();
  return n;
}

void PeftModel::save_weights(const std::string& path) const {
  model::save_safetensors(path, named_parameters(), {{"autopeft", "peft-weights"}});
}

void PeftModel::load_weights(const std::string& path) {
  auto file = model::load_safetensors(path);
  std::vector<std::string> problems;
  const auto ours = named_parameters();
  for (const auto& [name, p] : ours) {
    auto it = file.find(name);
    if (it == file.end()) {
      problems.push_back("missing " + name);
    } else if (it->second.sizes() != p.sizes()) {
      problems.push_back("shape of " + name);
    }
  }
  for (const auto& [name, t] : file) {
    bool known = false;
    for (const auto& [n, p] : ours) known |= n == name;
    if (!known) problems.push_back("unexpected " + name);
  }
  if (!problems.empty()) {
    std::string msg = "PEFT weights do not fit this configuration:";
    for (const auto& p : problems) msg += "\n  " + p;
    throw_user_error(path, msg);
  }
  torch::NoGradGuard g;
  for (auto& [name, p] : ours) p.copy_(file.at(name).to(p.device(), p.scalar_type()));
}

void PeftModel::eject_prefix() {
  bool any = false;
  for (std::size_t i = 0; i < base_->encoder->size(); ++i)
    if (auto p = std::dynamic_pointer_cast<LayerPrefix>(base_->encoder->at(i)->attention->self->prefix())) {
      p->eject();
      any = true;
    }
  if (any) base_->unregister_module("prefix_generator");
}

void PeftModel::merge_lora() {
  for (const auto& point : base_->injection_points()) {
    if (point.kind != model::InjectionKind::linear) continue;
    auto linear = base_->linear(point.name);
    for (auto& [name, a] : linear->augments())
      if (auto lora = std::dynamic_pointer_cast<LoraAugment>(a)) {
        if (!lora->gate.is_empty())
          throw_user_error(point.name, "gated LoRA (UniPELT) depends on the input and cannot be merged");
        lora->merge(*linear);
      }
  }
}

void PeftModel::unmerge_lora() {
  for (const auto& point : base_->injection_points()) {
    if (point.kind != model::InjectionKind::linear) continue;
    auto linear = base_->linear(point.name);
    for (auto& [name, a] : linear->augments())
      if (auto lora = std::dynamic_pointer_cast<LoraAugment>(a)) lora->unmerge(*linear);
  }
}

}  // namespace autopeft::peft
