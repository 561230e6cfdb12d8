// `autopeft model inspect` and `autopeft model run`, end to end on a tiny checkpoint.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "model/encoder_task.h"
#include "model/tensor_io.h"
#include "peft/export.h"
#include "peft/peft_model.h"
#include "tests/support/torch_support.h"

namespace autopeft {
namespace {

using autopeft::testing::run_command;
using autopeft::testing::TempDir;

std::string exe() { return "'" + (autopeft::testing::binary_dir() / "autopeft").string() + "'"; }

class ModelCommandIntegrationTest : public autopeft::testing::TorchSeededTest {
 protected:
  void SetUp() override {
    cfg_json = {{"model_type", "bert"},
                {"vocab_size", 40},
                {"hidden_size", 32},
                {"num_hidden_layers", 2},
                {"num_attention_heads", 4},
                {"intermediate_size", 48},
                {"architectures", {"BertForSequenceClassification"}},
                {"num_labels", 2}};
    auto cfg = model::parse_encoder_config(cfg_json, "x");
    model = model::EncoderForTask(cfg, model::HeadKind::sequence, 2);
    dir = (tmp / "bert").string();
    model::save_encoder(dir, model, cfg_json);
    model->eval();
  }
  TempDir tmp;
  nlohmann::json cfg_json;
  model::EncoderForTask model{nullptr};
  std::string dir;
};

TEST_F(ModelCommandIntegrationTest, InspectJson) {
  auto r = run_command(exe() + " model inspect '" + dir + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["layers"], 2);
  EXPECT_EQ(j["head"], "sequence");
  EXPECT_EQ(j["labels"], 2);
  EXPECT_EQ(j["injection_points"].size(), 21u);
  EXPECT_EQ(j["head_parameters"], 32 * 2 + 2);
  std::int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  EXPECT_EQ(j["parameters"], n);
  EXPECT_NE(j["tokenizer"].get<std::string>().find("vocab.txt"), std::string::npos);  // none in this folder
}

TEST_F(ModelCommandIntegrationTest, RunWritesInputsHiddenStatesAndLogits) {
  const auto out = (tmp / "out.safetensors").string();
  auto r = run_command(exe() + " model run '" + dir + "' --input-ids 2,5,7,9 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["tokens"], 4);
  auto t = model::load_safetensors(out);
  EXPECT_EQ(t["input_ids"].scalar_type(), torch::kInt64);
  EXPECT_EQ(t["input_ids"].sizes(), (std::vector<int64_t>{1, 4}));
  torch::NoGradGuard g;
  auto ref = model->forward(torch::tensor({{2, 5, 7, 9}}));
  EXPECT_TENSOR_NEAR(t["last_hidden_state"], ref.last_hidden_state, 1e-6);
  EXPECT_TENSOR_NEAR(t["logits"], ref.logits, 1e-6);
}

// `model run --peft DIR` installs a native export (LoRA and a Pfeiffer adapter, randomised so
// that they act) in the backbone: its outputs are the library's with the same weights.
TEST_F(ModelCommandIntegrationTest, RunAppliesANativePeftExport) {
  const auto config = peft::PeftConfig::from_json(
      {{"autopeft_peft_config", 1},
       {"all_layers", {{"lora", {{"r", 2}, {"targets", {"q", "v"}}}}, {"serial_adapter", {{"size", 4}}}}}},
      "cfg");
  const auto exported = (tmp / "peft").string();
  model::TaskOutput ref;
  {
    auto copy = model::load_encoder(dir, model::LoadOptions{});
    peft::PeftModel pm(copy.model->base, config);
    torch::NoGradGuard ng;
    for (auto& p : pm.parameters()) p.normal_(0.0, 0.3);
    peft::export_peft(pm, config, peft::ExportFormat::native, {}, exported);
    copy.model->eval();
    ref = copy.model->forward(torch::tensor({{2, 5, 7, 9}}));
  }
  const auto out = (tmp / "out.safetensors").string();
  auto r = run_command(exe() + " model run '" + dir + "' --input-ids 2,5,7,9 --out '" + out + "' --peft '" +
                       exported + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = model::load_safetensors(out);
  EXPECT_TENSOR_NEAR(t["last_hidden_state"], ref.last_hidden_state, 1e-5);
  EXPECT_TENSOR_NEAR(t["logits"], ref.logits, 1e-5);
  torch::NoGradGuard g;
  const auto base = model->forward(torch::tensor({{2, 5, 7, 9}}));
  EXPECT_GT((base.last_hidden_state - ref.last_hidden_state).abs().max().item<double>(), 1e-2);
}

TEST_F(ModelCommandIntegrationTest, BadRequestsExitOne) {
  const auto out = (tmp / "o.safetensors").string();
  for (const std::string& args : std::vector<std::string>{
           "model run '" + dir + "' --input-ids 1,x --out '" + out + "'",
           "model run '" + dir + "' --input-ids 1,99 --out '" + out + "'",
           "model run '" + dir + "' --text hi --input-ids 1 --out '" + out + "'",
           "model run '" + dir + "' --text hi --out '" + out + "'",  // no vocab.txt in the folder
           "model run /nonexistent --input-ids 1 --out '" + out + "'", std::string("model inspect"),
           std::string("model")}) {
    auto r = run_command(exe() + " " + args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("autopeft: error: ", 0), 0u) << args << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(ModelCommandIntegrationTest, PeftCountPrintsOneJsonLine) {
  tmp.write("lora.json", R"({"autopeft_peft_config": 1, "all_layers": {"lora": {"r": 4}}})");
  auto r = run_command(exe() + " peft count --model '" + dir + "' --config '" + (tmp / "lora.json").string() +
                       "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["trainable"], 2 * 2 * 4 * (32 + 32));  // 2 layers x q, v x r (in + out)
  EXPECT_EQ(j["stored"], j["trainable"]);
  EXPECT_EQ(j["head"], 32 * 2 + 2);
  std::int64_t backbone = 0;
  for (const auto& p : model->parameters()) backbone += p.numel();
  backbone -= 32 * 2 + 2;
  EXPECT_EQ(j["backbone"], backbone);
  EXPECT_NEAR(j["params_percent"].get<double>(), 100.0 * 1024 / backbone, 1e-9);
  // An HF PEFT config works too; a bad one names the field and exits 1.
  tmp.write("hf.json", R"({"peft_type": "LORA", "r": 4, "target_modules": ["query", "value"]})");
  r = run_command(exe() + " peft count --model '" + dir + "' --config '" + (tmp / "hf.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["trainable"], 1024);
  tmp.write("bad.json", R"({"autopeft_peft_config": 1, "layers": {"7": {"lora": {"r": 4}}}})");
  r = run_command(exe() + " peft count --model '" + dir + "' --config '" + (tmp / "bad.json").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("layers.7"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace autopeft
