// Export against golden files written by hand (tests/data/golden/README.md).
#include "peft/export.h"

#include "peft/modules/lora.h"
#include "peft/modules/prefix.h"
#include "peft/modules/prompt.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/errors.h"
#include "model/encoder_task.h"
#include "model/format/safetensors.h"
#include "model/tensor_io.h"
#include "tests/support/torch_support.h"

namespace autopeft::peft {
namespace {

using autopeft::testing::TempDir;

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

class PeftExportTest : public autopeft::testing::TorchSeededTest {
 protected:
  void SetUp() override {
    const auto cfg = model::parse_encoder_config({{"model_type", "bert"},
                                                  {"vocab_size", 50},
                                                  {"hidden_size", 32},
                                                  {"num_hidden_layers", 3},
                                                  {"num_attention_heads", 4},
                                                  {"intermediate_size", 48},
                                                  {"max_position_embeddings", 40}},
                                                 "tiny");
    task = model::EncoderForTask(cfg, model::HeadKind::sequence, 2);
  }
  std::filesystem::path golden(const std::string& name) {
    return autopeft::testing::source_dir() / "tests/data/golden" / name;
  }
  // Exports and compares config and tensor names/shapes with the golden folder.
  void check(const nlohmann::json& config_json, ExportFormat format, const std::string& name) {
    const auto config = PeftConfig::from_json(config_json, name);
    PeftModel pm(task->base, config);
    {
      torch::NoGradGuard g;
      for (auto& p : pm.parameters()) p.normal_();
    }
    ExportInfo info;
    info.task_type = "SEQ_CLS";
    const auto out = (tmp / name).string();
    export_peft(pm, config, format, info, out);
    auto written = read_json(out + "/adapter_config.json");
    written.erase("base_model_name_or_path");
    written.erase("model_name");
    EXPECT_EQ(written, read_json(golden(name) / "adapter_config.json")) << written.dump(2);
    const auto weights =
        out + (format == ExportFormat::adapters ? "/adapter.safetensors" : "/adapter_model.safetensors");
    model::SafetensorsFile file(weights);
    nlohmann::json keys = nlohmann::json::object();
    for (const auto& t : file.tensors()) keys[t.name] = t.shape;
    EXPECT_EQ(keys, read_json(golden(name) / "keys.json")) << keys.dump(2);
    last = model::load_safetensors(weights);
  }
  TempDir tmp;
  model::EncoderForTask task{nullptr};
  std::map<std::string, torch::Tensor> last;
};

TEST_F(PeftExportTest, HfPeftLora) {
  check({{"autopeft_peft_config", 1},
         {"all_layers", {{"lora", {{"r", 4}, {"targets", {"q", "v"}}}}}},
         {"layers", {{"1", {{"lora", {{"r", 4}, {"targets", {"q", "v"}}, {"r_per_target", {{"v", 2}}}}}}}}}},
        ExportFormat::hf_peft, "hf_peft_lora");
  auto lin = task->base->linear("layer.2.attn.q");
  const auto& [n, a] = lin->augments().front();
  EXPECT_TRUE(
      torch::equal(last.at("base_model.model.bert.encoder.layer.2.attention.self.query.lora_A.weight"),
                   std::dynamic_pointer_cast<LoraAugment>(a)->lora_A));
}

TEST_F(PeftExportTest, HfPeftPrefixIsTheEjectedTableInPastKeyValuesOrder) {
  check({{"autopeft_peft_config", 1}, {"all_layers", {{"prefix", {{"length", 3}}}}}}, ExportFormat::hf_peft,
        "hf_peft_prefix");
  // Layer l's keys are columns [2l H, (2l+1) H), its values the next H columns.
  const auto table = last.at("prompt_embeddings");
  auto p = std::dynamic_pointer_cast<LayerPrefix>(task->base->encoder->at(1)->attention->self->prefix());
  torch::NoGradGuard g;
  auto [k, v] = p->table();
  EXPECT_TENSOR_NEAR(table.narrow(1, 2 * 32, 32), k, 0.0);
  EXPECT_TENSOR_NEAR(table.narrow(1, 3 * 32, 32), v, 0.0);
}

// A SEQ_CLS adapter carries its task head as HF PEFT's modules_to_save (HF PEFT 0.21 looks the
// keys up when loading: base_model.model.classifier.weight under LoRA / IA3, base_model.classifier.*
// under the prompt methods, which wrap the task model directly).
TEST_F(PeftExportTest, HfPeftWritesTheTaskHeadAsModulesToSave) {
  for (const auto& [method, prefix] : std::vector<std::pair<std::string, std::string>>{
           {R"({"all_layers": {"lora": {"r": 2}}})", "base_model.model."},
           {R"({"all_layers": {"prefix": {"length": 2}}})", "base_model."},
           {R"({"embeddings": {"prompt_tuning": {"length": 2}}})", "base_model."}}) {
    auto body = nlohmann::json::parse(method);
    body["autopeft_peft_config"] = 1;
    const auto config = PeftConfig::from_json(body, "cfg");
    auto fresh = model::EncoderForTask(task->config(), model::HeadKind::sequence, 2);
    PeftModel pm(fresh->base, config);
    ExportInfo info;
    info.task_type = "SEQ_CLS";
    info.head = fresh->named_head_parameters();
    ASSERT_EQ(info.head.size(), 2u);
    const auto out = (tmp / ("head-" + std::to_string(method.size()))).string();
    export_peft(pm, config, ExportFormat::hf_peft, info, out);
    EXPECT_EQ(read_json(out + "/adapter_config.json")["modules_to_save"], nlohmann::json({"classifier"}));
    const auto t = model::load_safetensors(out + "/adapter_model.safetensors");
    ASSERT_TRUE(t.count(prefix + "classifier.weight")) << method;
    EXPECT_TRUE(
        torch::equal(t.at(prefix + "classifier.weight"), fresh->named_parameters()["classifier.weight"]));
    EXPECT_TRUE(t.count(prefix + "classifier.bias"));
  }
}

TEST_F(PeftExportTest, AdaptersUnionWithPerLayerReductionFactors) {
  check({{"autopeft_peft_config", 1},
         {"layers",
          {{"0", {{"serial_adapter", {{"size", 8}}}, {"lora", {{"r", 4}, {"targets", {"q", "v"}}}}}},
           {"1", {{"serial_adapter", {{"size", 8}}}, {"lora", {{"r", 4}, {"targets", {"q", "v"}}}}}},
           {"2", {{"serial_adapter", {{"size", 4}}}}}}}},
        ExportFormat::adapters, "adapters_union");
}

// UniPELT's gates under AdapterHub's names (read in adapters 1.2.0's source): the bottleneck's
// `adapters.<name>.gate`, LoRA's `loras.<name>.gate`, the prefix's per attention module
// `attention.self.prefix_tuning.prefix_gates.<name>`; each Linear(H, 1).
TEST_F(PeftExportTest, AdaptersUniPeltGates) {
  const auto config = PeftConfig::from_json({{"autopeft_peft_config", 1},
                                             {"prefix_mlp", {{"hidden", 16}}},
                                             {"all_layers",
                                              {{"serial_adapter", {{"size", 8}, {"gate", true}}},
                                               {"prefix", {{"length", 2}, {"gate", true}}},
                                               {"lora", {{"r", 2}, {"targets", {"q"}}, {"gate", true}}}}}},
                                            "unipelt");
  PeftModel pm(task->base, config);
  const auto out = (tmp / "unipelt").string();
  ExportInfo info;
  export_peft(pm, config, ExportFormat::adapters, info, out);
  const auto keys = model::load_safetensors(out + "/adapter.safetensors");
  for (int i = 0; i < 3; ++i) {
    const auto l = "bert.encoder.layer." + std::to_string(i) + ".";
    for (const std::string g :
         {l + "output.adapters.autopeft.gate.", l + "attention.self.query.loras.autopeft.gate.",
          l + "attention.self.prefix_tuning.prefix_gates.autopeft."}) {
      ASSERT_TRUE(keys.count(g + "weight")) << g;
      EXPECT_EQ(keys.at(g + "weight").sizes().vec(), std::vector<std::int64_t>({1, 32})) << g;
      EXPECT_EQ(keys.at(g + "bias").sizes().vec(), std::vector<std::int64_t>({1})) << g;
    }
  }
  EXPECT_EQ(keys.size(), 3u * (4 + 2 + 2 + 2 + 2) + 5) << "adapter, LoRA A and B, three gates; the pool";
  const auto j = read_json(out + "/adapter_config.json");
  for (const auto& part : j["config"]["configs"]) EXPECT_EQ(part["use_gating"], true) << part.dump();
}

TEST_F(PeftExportTest, InexpressibleConfigsNameThePartAndWriteNothing) {
  const std::vector<std::pair<nlohmann::json, ExportFormat>> refused = {
      {{{"autopeft_peft_config", 1}, {"all_layers", {{"serial_adapter", {{"size", 4}}}}}},
       ExportFormat::hf_peft},
      {{{"autopeft_peft_config", 1},
        {"all_layers", {{"lora", {{"r", 2}}}, {"ia3", nlohmann::json::object()}}}},
       ExportFormat::hf_peft},
      {{{"autopeft_peft_config", 1}, {"layers", {{"0", {{"prefix", {{"length", 2}}}}}}}},
       ExportFormat::hf_peft},
      {{{"autopeft_peft_config", 1}, {"all_layers", {{"ia3", nlohmann::json::object()}}}},
       ExportFormat::adapters},
      {{{"autopeft_peft_config", 1}, {"all_layers", {{"lora", {{"r", 2}, {"targets", {"o"}}}}}}},
       ExportFormat::adapters},
      {{{"autopeft_peft_config", 1},
        {"all_layers", {{"serial_adapter", {{"size", 4}}}, {"parallel_adapter", {{"size", 4}}}}}},
       ExportFormat::adapters},
  };
  int i = 0;
  for (const auto& [j, format] : refused) {
    const auto cfg = model::parse_encoder_config({{"model_type", "bert"},
                                                  {"vocab_size", 50},
                                                  {"hidden_size", 32},
                                                  {"num_hidden_layers", 3},
                                                  {"num_attention_heads", 4},
                                                  {"intermediate_size", 48}},
                                                 "tiny");
    model::EncoderModel m(cfg, true);
    const auto config = PeftConfig::from_json(j, "c");
    PeftModel pm(m, config);
    const auto out = (tmp / ("refused" + std::to_string(i++))).string();
    try {
      export_peft(pm, config, format, {}, out);
      ADD_FAILURE() << j.dump();
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot express"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(out)) << out;
  }
}

TEST_F(PeftExportTest, HfPeftPromptTuningAndPTuningStoreThePromptVectors) {
  for (const std::string method : {"prompt_tuning", "p_tuning"}) {
    const auto config = PeftConfig::from_json(
        {{"autopeft_peft_config", 1}, {"embeddings", {{method, {{"length", 5}}}}}}, method);
    PeftModel pm(task->base, config);
    const auto out = (tmp / method).string();
    export_peft(pm, config, ExportFormat::hf_peft, {}, out);
    const auto j = read_json(out + "/adapter_config.json");
    EXPECT_EQ(j["peft_type"], method == "prompt_tuning" ? "PROMPT_TUNING" : "P_TUNING");
    EXPECT_EQ(j["num_virtual_tokens"], 5);
    auto t = model::load_safetensors(out + "/adapter_model.safetensors");
    EXPECT_EQ(t.at("prompt_embeddings").sizes(), (std::vector<int64_t>{5, 32}));
    torch::NoGradGuard g;
    EXPECT_TENSOR_NEAR(t.at("prompt_embeddings"),
                       std::dynamic_pointer_cast<PromptEmbedding>(task->base->embedding_hook())->table(),
                       0.0);
    task->base->set_embedding_hook(nullptr);
  }
}

TEST_F(PeftExportTest, NativeRoundTrips) {
  const auto config =
      PeftConfig::from_json({{"autopeft_peft_config", 1}, {"all_layers", {{"lora", {{"r", 2}}}}}}, "c");
  PeftModel pm(task->base, config);
  export_peft(pm, config, ExportFormat::native, {}, (tmp / "native").string());
  const auto again = PeftConfig::from_file((tmp / "native/peft_config.json").string());
  EXPECT_EQ(again.to_json(), config.to_json());
  pm.load_weights((tmp / "native/peft_weights.safetensors").string());
}

}  // namespace
}  // namespace autopeft::peft
