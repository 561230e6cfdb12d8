#include "peft/peft_model.h"

#include <torch/torch.h>

#include <functional>
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
  model::PeftHost& host;
  ModelDims dims;
  nlohmann::json globals;
  std::map<std::string, std::shared_ptr<AdapterHook>> adapter_hooks;  // by residual point
  std::vector<std::pair<std::int64_t, nlohmann::json>> prefix_layers;

  std::shared_ptr<AdapterHook> hook_at(const std::string& point) {
    auto& h = adapter_hooks[point];
    if (!h) h = std::make_shared<AdapterHook>();
    return h;
  }
  std::string point(std::int64_t layer, const std::string& suffix) const {
    return host.layer_point(layer, suffix);
  }
  std::vector<std::string> target_points(std::int64_t layer, const std::string& target) const {
    return peft::target_points(host, dims, layer, target);
  }
};

}  // namespace

std::vector<std::string> target_points(const model::PeftHost& host, const ModelDims& dims, std::int64_t layer,
                                       const std::string& target) {
  if (target.rfind("ffn", 0) == 0) return {host.layer_point(layer, target)};
  std::vector<std::string> out = {host.layer_point(layer, "attn." + target)};
  if (at_layer(dims, layer).cross_attention) out.push_back(host.layer_point(layer, "cross." + target));
  return out;
}

namespace {

// Adds an augment to the linear point `name`: on a projection of a fused layer (GPT-2's c_attn)
// it acts on those rows and is named after the projection ("lora_q").
void add_augment(
    InstallContext& ctx, const std::string& name, const std::string& method,
    const std::function<std::shared_ptr<model::LinearAugment>(std::int64_t, std::int64_t)>& make) {
  auto slice = ctx.host.linear_slice(name);
  auto augment = make(slice.linear->in_features, slice.size);
  if (slice.whole())
    slice.linear->add_augment(method, augment);
  else
    slice.linear->add_augment(method + "_" + name.substr(name.rfind('.') + 1), augment, slice.offset,
                              slice.size);
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
    for (const auto& p : ctx.target_points(layer, target))
      add_augment(ctx, p, "lora", [&](std::int64_t in, std::int64_t out) {
        return std::make_shared<LoraAugment>(in, out, lo);
      });
  }
}

void install_ia3(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  for (const auto& t : o.at("targets")) {
    const bool ffn = t == "ffn";
    for (const auto& p : ctx.target_points(layer, ffn ? "ffn.out" : t.get<std::string>()))
      add_augment(ctx, p, "ia3", [&](std::int64_t in, std::int64_t out) {
        return std::make_shared<Ia3Augment>(ffn ? in : out, ffn);
      });
  }
}

void install_serial(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  const std::string placement = o.at("placement");
  std::vector<std::string> points = {"ffn.output"};
  if (placement == "houlsby") points.insert(points.begin(), "attn.output");
  for (const auto& p : points)
    ctx.hook_at(ctx.point(layer, p))->set_serial(Bottleneck(ctx.dims.hidden, o, true), placement);
}

void install_parallel(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  const std::string where = o.at("location");
  std::vector<std::string> points;
  if (where == "attn" || where == "both") points.push_back("attn.output");
  if (where == "ffn" || where == "both") points.push_back("ffn.output");
  for (const auto& p : points)
    ctx.hook_at(ctx.point(layer, p))->set_parallel(Bottleneck(ctx.dims.hidden, o, false));
}

void install_prefix(InstallContext& ctx, std::int64_t layer, const nlohmann::json& o) {
  ctx.prefix_layers.emplace_back(layer, o);
}

void install_prompt(InstallContext& ctx, std::int64_t, const nlohmann::json& o) {
  const auto N = o.at("length").get<std::int64_t>();
  torch::Tensor init;
  if (o.at("init") == "vocab") {  // HF PEFT's SAMPLE_VOCAB: random rows of the word embeddings
    const auto w = ctx.host.word_embeddings();
    init = w.index_select(0, torch::randint(w.size(0), {N}, torch::kLong)).detach();
  }
  ctx.host.set_embedding_hook(std::make_shared<PromptEmbedding>(N, ctx.dims.hidden, "none", 0, init));
}

void install_p_tuning(InstallContext& ctx, std::int64_t, const nlohmann::json& o) {
  ctx.host.set_embedding_hook(std::make_shared<PromptEmbedding>(
      o.at("length").get<std::int64_t>(), ctx.dims.hidden, o.at("encoder").get<std::string>(),
      o.at("hidden").get<std::int64_t>()));
}

// The module name of a location's prefix generator: "prefix_generator" for self-attention,
// "encoder_prefix_generator" and "cross_prefix_generator" in T5.
std::string generator_name(const std::string& location) {
  return location == "self" ? "prefix_generator" : location + "_prefix_generator";
}
bool is_generator(const std::string& child) {
  const std::string suffix = "prefix_generator";
  return child.size() >= suffix.size() &&
         child.compare(child.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Work that needs every layer's modules first.
void finish(InstallContext& ctx) {
  for (auto& [p, hook] : ctx.adapter_hooks) ctx.host.set_residual_hook(p, hook);
  // Prefixes: one generator per location (prefix_locations), serving its layers in order.
  const auto H = ctx.dims.hidden, K = key_value_width(ctx.dims),
             heads = ctx.dims.kv_heads ? ctx.dims.kv_heads : ctx.dims.heads;
  const auto W = methods::prefix_mlp_hidden(ctx.globals);
  std::map<std::string, std::vector<std::pair<std::string, nlohmann::json>>> by_location;  // point, options
  for (const auto& [layer, o] : ctx.prefix_layers)
    for (const auto& where : prefix_locations(ctx.dims, layer))
      by_location[where].emplace_back(ctx.point(layer, where == "cross" ? "cross" : "attn"), o);
  for (const auto& [where, slots] : by_location) {
    if (W == 0) {  // flat: no reparametrisation
      for (const auto& [p, o] : slots)
        ctx.host.set_prefix(p, std::make_shared<LayerPrefix>(o.at("length").get<std::int64_t>(), K, heads,
                                                             o.at("gate").get<bool>(), H));
      continue;
    }
    std::vector<std::int64_t> lengths;
    for (const auto& [p, o] : slots) lengths.push_back(o.at("length"));
    auto generator = PrefixGenerator(H, K, heads, W, lengths);
    ctx.host.module().register_module(generator_name(where), generator);
    for (std::size_t j = 0; j < slots.size(); ++j)
      ctx.host.set_prefix(slots[j].first, std::make_shared<LayerPrefix>(
                                              generator, j, slots[j].second.at("gate").get<bool>(), H));
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

}  // namespace

std::vector<std::string> installed_method_names() {
  std::vector<std::string> out;
  for (const auto& [n, f] : installers()) out.push_back(n);
  return out;
}

PeftModel::PeftModel(std::shared_ptr<model::PeftHost> host, const ModelDims& dims, const PeftConfig& config,
                     const std::string& source)
    : host_(std::move(host)), dims_(dims) {
  layers_ = config.resolve(dims, source);
  auto& module = host_->module();
  for (const auto& item : module.named_parameters()) {
    backbone_names_.insert(item.key());
    item.value().set_requires_grad(false);
  }
  InstallContext ctx{*host_, dims, config.globals(), {}, {}};
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
  const auto ref = host_->word_embeddings();
  module.to(ref.device(), ref.scalar_type());
}

PeftModel::PeftModel(model::EncoderModel base, const PeftConfig& config, const std::string& source)
    : PeftModel(base.ptr(), dims_of(base->config(), base->has_pooler()), config, source) {
  base_ = std::move(base);
}

PeftModel::PeftModel(std::shared_ptr<model::CausalLmImpl> base, const PeftConfig& config,
                     const std::string& source)
    : PeftModel(base, dims_of(base->config()), config, source) {}

PeftModel::PeftModel(std::shared_ptr<model::T5ModelImpl> base, const PeftConfig& config,
                     const std::string& source)
    : PeftModel(base, dims_of(base->config()), config, source) {}

model::EncoderModel& PeftModel::base() {
  if (base_.is_empty()) throw std::logic_error("PeftModel::base(): this backbone is not an encoder");
  return base_;
}

std::vector<std::pair<std::string, torch::Tensor>> PeftModel::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : host_->module().named_parameters())
    if (!backbone_names_.count(item.key())) out.emplace_back(item.key(), item.value());
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
    if (!is_generator(name.substr(0, name.find('.'))) && name.rfind("embedding_hook.", 0) != 0)
      out.emplace_back(name, p.detach());
  // Prompts: the vectors themselves (P-tuning: its encoder's output), as HF PEFT saves them.
  if (auto prompt = std::dynamic_pointer_cast<PromptEmbedding>(host_->embedding_hook())) {
    torch::NoGradGuard g;
    out.emplace_back("embedding_hook.prompt_table", prompt->table().detach().clone());
  }
  // Prefixes still behind the generator: their ejected tables, computed without changing the model.
  torch::NoGradGuard g;
  for (const auto& point : host_->injection_points()) {
    if (point.kind != model::InjectionKind::attention) continue;
    auto prefix = std::dynamic_pointer_cast<LayerPrefix>(host_->prefix(point.name));
    if (!prefix || prefix->ejected()) continue;
    const auto path = point.hf_module + ".prefix.";
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
  for (const auto& point : host_->injection_points())
    if (point.kind == model::InjectionKind::attention)
      if (auto p = std::dynamic_pointer_cast<LayerPrefix>(host_->prefix(point.name))) {
        p->eject();
        any = true;
      }
  if (!any) return;
  std::vector<std::string> generators;
  for (const auto& child : host_->module().named_children())
    if (is_generator(child.key())) generators.push_back(child.key());
  for (const auto& g : generators) host_->module().unregister_module(g);
}

// A fused layer appears under several points; merge() and unmerge() act once.
void PeftModel::merge_lora() {
  for (const auto& point : host_->injection_points()) {
    if (point.kind != model::InjectionKind::linear) continue;
    auto linear = host_->linear(point.name);
    for (auto& [name, a] : linear->augments())
      if (auto lora = std::dynamic_pointer_cast<LoraAugment>(a)) {
        if (!lora->gate.is_empty())
          throw_user_error(point.name, "gated LoRA (UniPELT) depends on the input and cannot be merged");
        lora->merge(*linear);
      }
  }
}

void PeftModel::unmerge_lora() {
  for (const auto& point : host_->injection_points()) {
    if (point.kind != model::InjectionKind::linear) continue;
    auto linear = host_->linear(point.name);
    for (auto& [name, a] : linear->augments())
      if (auto lora = std::dynamic_pointer_cast<LoraAugment>(a)) lora->unmerge(*linear);
  }
}

}  // namespace autopeft::peft
