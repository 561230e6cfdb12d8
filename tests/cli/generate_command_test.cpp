// `autopeft model inspect|run|generate` on tiny GPT-2, Llama and T5 folders, end to end.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <random>

#include "model/causal_lm.h"
#include "model/generation.h"
#include "model/generation_tokenizer.h"
#include "model/spm_library.h"
#include "model/t5.h"
#include "model/tensor_io.h"
#include "peft/export.h"
#include "peft/peft_model.h"
#include "tests/support/tiny_model.h"
#include "tests/support/torch_support.h"

namespace autopeft {
namespace {

using autopeft::testing::run_command;
using autopeft::testing::TempDir;

std::string exe() { return "'" + (autopeft::testing::binary_dir() / "autopeft").string() + "'"; }

TEST(GenerateCommandTest, Gpt2GeneratesTheGreedyContinuationOfATextPrompt) {
  TempDir tmp;
  const auto dir = (tmp / "gpt2").string();
  testing::write_tiny_gpt2(dir);
  auto r =
      run_command(exe() + " model generate '" + dir + "' --text 'the movie was' --max-new-tokens 5 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  auto loaded = model::load_causal_lm(dir);
  const auto tok = model::load_causal_lm_tokenizer(dir, loaded.config);
  const auto prompt = tok->encode("the movie was");
  EXPECT_EQ(prompt.size(), 3u);  // one piece per word, no BOS for GPT-2
  EXPECT_EQ(j["input_ids"].get<std::vector<std::int64_t>>(), prompt);
  model::GenerationOptions g;
  g.max_new_tokens = 5;
  const auto expected = model::generate(*loaded.model, prompt, g);
  EXPECT_EQ(j["new_ids"].get<std::vector<std::int64_t>>(), expected.tokens);
  EXPECT_EQ(j["text"].get<std::string>().rfind("the movie was", 0), 0u) << j.dump();
  // Plain output: the text.
  auto plain = run_command(exe() + " model generate '" + dir + "' --text 'the movie was' --max-new-tokens 5");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto all = prompt;
  all.insert(all.end(), expected.tokens.begin(), expected.tokens.end());
  EXPECT_EQ(plain.out, tok->decode(all) + "\n");
}

TEST(GenerateCommandTest, LlamaRunWritesLmLogitsAndBeamSearchRuns) {
  TempDir tmp;
  const auto dir = (tmp / "llama").string();
  testing::write_tiny_llama(dir);
  const auto out = (tmp / "out.safetensors").string();
  auto r = run_command(exe() + " model run '" + dir + "' --input-ids 1,5,9,3 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["logits_shape"], nlohmann::json::parse("[1,4,50]"));
  auto tensors = model::load_safetensors(out);
  auto loaded = model::load_causal_lm(dir);
  torch::NoGradGuard g;
  auto expected = loaded.model->forward(torch::tensor({1, 5, 9, 3}, torch::kInt64).unsqueeze(0)).logits;
  EXPECT_TENSOR_NEAR(tensors.at("logits"), expected, 1e-6);

  auto b = run_command(exe() + " model generate '" + dir +
                       "' --input-ids 1,5 --beams 3 --max-new-tokens 4 --json");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto j = nlohmann::json::parse(b.out);
  model::GenerationOptions o;
  o.beams = 3;
  o.max_new_tokens = 4;
  EXPECT_EQ(j["new_ids"].get<std::vector<std::int64_t>>(), model::generate(*loaded.model, {1, 5}, o).tokens);
  EXPECT_FALSE(j.contains("text"));  // no tokenizer in this folder

  auto inspect = run_command(exe() + " model inspect '" + dir + "' --json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto i = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(i["family"], "llama");
  EXPECT_EQ(i["kv_heads"], 2);
  EXPECT_EQ(i["injection_points"].size(), 21u);  // 2 layers x (7 linear, prefix, 2 adapters) + embeddings

  auto bad = run_command(exe() + " model generate '" + dir + "' --text 'hello'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("tokenizer.model"), std::string::npos) << bad.err;
  auto range = run_command(exe() + " model generate '" + dir + "' --input-ids 1,77");
  EXPECT_EQ(range.exit_code, 1);
  EXPECT_NE(range.err.find("77"), std::string::npos) << range.err;
}

// `peft count` and `peft export --format native` take causal LMs: the LM head counts in the
// backbone; the closed form equals the loaded model's sizes; the exported weights load back.
TEST(GenerateCommandTest, PeftCountAndNativeExportWorkOnALlamaFolder) {
  TempDir tmp;
  const auto dir = (tmp / "llama").string();
  testing::write_tiny_llama(dir);  // 2 layers, hidden 32, 2 kv heads of 8, ffn 96, untied head
  tmp.write(
      "cfg.json",
      R"({"autopeft_peft_config": 1, "all_layers": {"lora": {"r": 2, "targets": ["q", "v", "ffn.gate"]}},
                "layers": {"1": {"prefix": {"length": 3}}}, "prefix_mlp": {"hidden": 0}})");
  const auto cfg = (tmp / "cfg.json").string();
  auto r = run_command(exe() + " peft count --model '" + dir + "' --config '" + cfg + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // Layer 0: LoRA r (in + out) on q [32 -> 32], v [32 -> 16], gate [32 -> 96]; layer 1 (its own
  // entry replaces all_layers): a flat prefix of 3 keys and 3 values of the key/value width 16.
  EXPECT_EQ(j["trainable"], 2 * ((32 + 32) + (32 + 16) + (32 + 96)) + 2 * 3 * 16);
  EXPECT_EQ(j["head"], 0);
  auto loaded = model::load_causal_lm(dir);
  std::int64_t backbone = 0;
  for (const auto& p : loaded.model->parameters()) backbone += p.numel();
  EXPECT_EQ(j["backbone"], backbone);
  const auto out = (tmp / "export").string();
  r = run_command(exe() + " peft export --model '" + dir + "' --config '" + cfg +
                  "' --format native --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["stored"], j["stored"]);
  EXPECT_EQ(model::load_safetensors(out + "/peft_weights.safetensors").size(), 3u * 2 + 2);
  r = run_command(exe() + " peft export --model '" + dir + "' --config '" + cfg +
                  "' --format hf-peft --out '" + out + "-hf'");
  EXPECT_EQ(r.exit_code, 1);  // LoRA and a prefix: two HF PEFT adapters
  EXPECT_NE(r.err.find("one method"), std::string::npos) << r.err;
  r = run_command(exe() + " peft export --model '" + dir + "' --config '" + cfg +
                  "' --format adapters --out '" + out + "-ah'");
  EXPECT_EQ(r.exit_code, 1);  // AdapterHub 1.2.0 has no grouped-query prefix (nor a gate LoRA)
  EXPECT_NE(r.err.find("grouped-query"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out + "-ah"));
  tmp.write(
      "cfg2.json",
      R"({"autopeft_peft_config": 1, "all_layers": {"lora": {"r": 2, "targets": ["q", "v", "ffn.out"]}}})");
  r = run_command(exe() + " peft export --model '" + dir + "' --config '" + (tmp / "cfg2.json").string() +
                  "' --format adapters --out '" + out + "-ah'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ah = model::load_safetensors(out + "-ah/adapter.safetensors");
  EXPECT_EQ(ah.size(), 2u * 3 * 2);  // 2 layers x (q, v, down_proj) x (A, B)
  EXPECT_TRUE(ah.count("model.layers.1.mlp.down_proj.loras.autopeft.lora_B"));
}

// `model generate --peft DIR` applies a native export (here LoRA on every layer and a prompt,
// randomised so that they change the output) and generates as the library does with them.
TEST(GenerateCommandTest, GenerateAppliesANativePeftExport) {
  TempDir tmp;
  for (const std::string family : {"llama", "t5"}) {
    const auto dir = (tmp / family).string();
    if (family == "llama")
      testing::write_tiny_llama(dir);
    else
      testing::write_tiny_t5(dir, true, false);
    const auto config = peft::PeftConfig::from_json(
        {{"autopeft_peft_config", 1},
         {"all_layers", {{"lora", {{"r", 2}, {"targets", {"q", "v", "ffn.out"}}}}}},
         {"embeddings", {{"prompt_tuning", {{"length", 3}}}}}},
        "cfg");
    const auto out = (tmp / (family + "-peft")).string();
    torch::manual_seed(3);
    model::GenerationOptions g;
    g.max_new_tokens = 6;
    const std::vector<std::int64_t> prompt = {1, 5, 9, 3};
    const auto export_and_generate = [&](auto model) {
      peft::PeftModel pm(model, config);
      {
        torch::NoGradGuard ng;
        for (auto& p : pm.parameters()) p.normal_(0.0, 0.5);
      }
      peft::export_peft(pm, config, peft::ExportFormat::native, {}, out);
      return model::generate(*model, prompt, g);
    };
    const auto expected = family == "llama" ? export_and_generate(model::load_causal_lm(dir).model)
                                            : export_and_generate(model::load_t5(dir).model);
    auto r = run_command(exe() + " model generate '" + dir +
                         "' --input-ids 1,5,9,3 --max-new-tokens 6 --json --peft '" + out + "'");
    ASSERT_EQ(r.exit_code, 0) << family << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["new_ids"].get<std::vector<std::int64_t>>(), expected.tokens) << family;
    EXPECT_NEAR(j["score"].get<double>(), expected.score, 1e-4) << family;
    // Without --peft the base model generates: another score, so the export did act.
    r = run_command(exe() + " model generate '" + dir + "' --input-ids 1,5,9,3 --max-new-tokens 6 --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(std::abs(nlohmann::json::parse(r.out)["score"].get<double>() - expected.score), 1e-3) << family;
  }
}

// T5 numbers its layers encoder first; LoRA on q of a decoder layer adapts its cross-attention too.
TEST(GenerateCommandTest, PeftCountWorksOnAT5Folder) {
  TempDir tmp;
  const auto dir = (tmp / "t5").string();
  testing::write_tiny_t5(dir, true, false);  // 2 encoder and 3 decoder blocks, d_model 32, inner 24
  tmp.write("cfg.json", R"({"autopeft_peft_config": 1, "all_layers": {"lora": {"r": 2, "targets": ["q"]}}})");
  auto r =
      run_command(exe() + " peft count --model '" + dir + "' --config '" + (tmp / "cfg.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["trainable"], 2 * 2 * (32 + 24) + 3 * 2 * 2 * (32 + 24));
  auto loaded = model::load_t5(dir);
  std::int64_t backbone = 0;
  for (const auto& p : loaded.model->parameters()) backbone += p.numel();
  EXPECT_EQ(j["backbone"], backbone);
}

TEST(GenerateCommandTest, T5RunGivesTheDecodersLogitsAndGenerateMatchesTheLibrary) {
  TempDir tmp;
  const auto dir = (tmp / "t5").string();
  testing::write_tiny_t5(dir, true, false);
  const auto out = (tmp / "out.safetensors").string();
  auto r = run_command(exe() + " model run '" + dir +
                       "' --input-ids 5,17,3,1 --decoder-input-ids 0,12,7 --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["logits_shape"], nlohmann::json::parse("[1,3,40]"));
  auto tensors = model::load_safetensors(out);
  auto loaded = model::load_t5(dir);
  torch::NoGradGuard g;
  auto expected = loaded.model->forward(torch::tensor({5, 17, 3, 1}, torch::kInt64).unsqueeze(0), {},
                                        torch::tensor({0, 12, 7}, torch::kInt64).unsqueeze(0));
  EXPECT_TENSOR_NEAR(tensors.at("logits"), expected.logits, 1e-6);
  EXPECT_TENSOR_NEAR(tensors.at("encoder_last_hidden_state"), expected.encoder_hidden_state, 1e-6);

  auto gen = run_command(exe() + " model generate '" + dir +
                         "' --input-ids 5,17,3,1 --beams 2 --max-new-tokens 6 --json");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  model::GenerationOptions o;
  o.beams = 2;
  o.max_new_tokens = 6;
  EXPECT_EQ(nlohmann::json::parse(gen.out)["new_ids"].get<std::vector<std::int64_t>>(),
            model::generate(*loaded.model, {5, 17, 3, 1}, o).tokens);
  auto inspect = run_command(exe() + " model inspect '" + dir + "'");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("decoder.layer.0.cross.q"), std::string::npos) << inspect.out;
  auto bad = run_command(exe() + " model run '" + dir + "' --input-ids 5 --decoder-input-ids 0,x --out '" +
                         out + "'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--decoder-input-ids"), std::string::npos) << bad.err;
}

// `autopeft train` on a causal-lm task (prompt -> completion, JSON Lines) with a GPT-2 folder:
// the summary line scores greedy generations, counts as `peft count` does, and the export writes
// the native and HF PEFT formats and names the one that cannot hold a GPT-2 adapter yet.
TEST(GenerateCommandTest, TrainRunsACausalLmTaskAndExports) {
  TempDir tmp;
  const auto dir = (tmp / "gpt2").string();
  testing::write_tiny_gpt2(dir);
  const auto& words = testing::tiny_words();
  const auto lines = [&](int n, unsigned seed) {
    std::string out;
    std::mt19937 rng(seed);
    for (int i = 0; i < n; ++i) {
      std::string sentence;
      for (int k = 0; k < 4; ++k) sentence += (k ? " " : "") + words[rng() % words.size()];
      out += nlohmann::json(
                 {{"source", sentence + " ="}, {"target", " " + sentence.substr(0, sentence.find(' '))}})
                 .dump() +
             "\n";
    }
    return out;
  };
  tmp.write("train.jsonl", lines(40, 1));
  tmp.write("dev.jsonl", lines(10, 2));
  tmp.write("task.json",
            R"({"name": "first-word", "type": "causal-lm", "format": "jsonl", "train": "train.jsonl",
    "dev": "dev.jsonl", "metric": "exact_match", "max_length": 24, "max_target_length": 4})");
  tmp.write("cfg.json",
            R"({"autopeft_peft_config": 1, "all_layers": {"lora": {"r": 2, "targets": ["q", "v"]}}})");
  const auto out = (tmp / "out").string();
  auto r = run_command(exe() + " train --model '" + dir + "' --task '" + (tmp / "task.json").string() +
                       "' --config '" + (tmp / "cfg.json").string() +
                       "' --max-steps 6 --eval-on dev --progress quiet --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto last = r.out.find_last_of('\n', r.out.size() - 2);  // the summary is the last line
  const auto j = nlohmann::json::parse(r.out.substr(last == std::string::npos ? 0 : last + 1));
  EXPECT_EQ(j["metric"], "exact_match");
  ASSERT_EQ(j["values"].size(), 1u);
  EXPECT_GE(j["mean"].get<double>(), 0.0);
  EXPECT_LE(j["mean"].get<double>(), 1.0);
  auto count =
      run_command(exe() + " peft count --model '" + dir + "' --config '" + (tmp / "cfg.json").string() + "'");
  ASSERT_EQ(count.exit_code, 0) << count.err;
  const auto c = nlohmann::json::parse(count.out);
  EXPECT_EQ(j["trainable"], c["trainable"]);
  EXPECT_EQ(j["stored"], c["stored"]);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "seed-0" / "native"));
  EXPECT_TRUE(
      std::filesystem::exists(std::filesystem::path(out) / "seed-0" / "hf-peft" / "adapter_config.json"));
  EXPECT_TRUE(j["skipped_formats"].empty()) << j.dump();  // GPT-2's q, v LoRA: AdapterHub's c_attn blocks
  EXPECT_TRUE(
      std::filesystem::exists(std::filesystem::path(out) / "seed-0" / "adapters" / "adapter.safetensors"));
  // The exported adapter loads into `model generate`.
  r = run_command(exe() + " model generate '" + dir + "' --text 'a b =' --max-new-tokens 3 --peft '" + out +
                  "/seed-0/native'");
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A study over the per-layer space on the same task: every trial completes with a score.
  tmp.write("study.json", R"({"study": "gen", "model": "gpt2", "task": "task.json", "space": "per-layer",
    "sampler": {"type": "random"}, "budget": {"trials": 3}, "seed": 1,
    "fidelity": {"max_steps": 4, "batch_size": 8, "learning_rate": 0.003}})");
  const auto db = (tmp / "s.db").string();
  r = run_command(exe() + " study create '" + (tmp / "study.json").string() + "' --db '" + db + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_command(exe() + " study run --db '" + db + "' --progress quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_command(exe() + " study trials --db '" + db + "' --format json");
  const auto trials = nlohmann::json::parse(r.out);
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) EXPECT_EQ(t["state"], "complete") << t.dump();
  // The best trial's configuration exports for full training on the same folder.
  const auto picked = (tmp / "picked").string();
  r = run_command(exe() + " study export --db '" + db + "' --pick best --format native --out '" + picked +
                  "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(picked) / "trial.json"));
  r = run_command(exe() + " model generate '" + dir + "' --text 'a b =' --max-new-tokens 2 --peft '" +
                  picked + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// `autopeft train` on a seq2seq task (TSV, source -> target) with a T5 folder whose tokenizer is
// a sentencepiece model in T5's id layout (pad 0, eos 1, unk 2): the summary scores BLEU on the
// generated text and both export formats that hold a T5 LoRA are written.
TEST(GenerateCommandTest, TrainRunsASeq2SeqTaskOnT5) {
  TempDir tmp;
  const auto dir = tmp / "t5";
  testing::write_tiny_t5(dir, true, false);  // vocabulary 40
  const auto& words = testing::tiny_words();
  std::string corpus, train = "source\ttarget\n", dev = "source\ttarget\n";
  std::mt19937 rng(4);
  for (int i = 0; i < 60; ++i) {
    std::string sentence;
    for (int k = 0; k < 3; ++k) sentence += (k ? " " : "") + words[rng() % 6];
    corpus += sentence + "\n";
    (i < 48 ? train : dev) += sentence + "\t" + sentence.substr(0, sentence.find(' ')) + "\n";
  }
  tmp.write("corpus.txt", corpus);
  model::SentencePieceLibrary::instance().train(
      "--input=" + (tmp / "corpus.txt").string() + " --model_prefix=" + (tmp / "spm").string() +
      " --vocab_size=30 --hard_vocab_limit=false --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2"
      " --bos_id=-1 --minloglevel=2 --num_threads=1");
  std::filesystem::copy_file(tmp / "spm.model", dir / "spiece.model");
  tmp.write("train.tsv", train);
  tmp.write("dev.tsv", dev);
  tmp.write("task.json", R"({"name": "first", "type": "seq2seq", "train": "train.tsv", "dev": "dev.tsv",
    "max_length": 16, "max_target_length": 4})");
  tmp.write("cfg.json",
            R"({"autopeft_peft_config": 1, "all_layers": {"lora": {"r": 2, "targets": ["q", "v"]}}})");
  const auto out = (tmp / "out").string();
  auto r = run_command(exe() + " train --model '" + dir.string() + "' --task '" +
                       (tmp / "task.json").string() + "' --config '" + (tmp / "cfg.json").string() +
                       "' --max-steps 5 --eval-on dev --progress quiet --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto last = r.out.find_last_of('\n', r.out.size() - 2);
  const auto j = nlohmann::json::parse(r.out.substr(last == std::string::npos ? 0 : last + 1));
  EXPECT_EQ(j["metric"], "bleu");  // the seq2seq default
  EXPECT_GE(j["mean"].get<double>(), 0.0);
  EXPECT_LE(j["mean"].get<double>(), 100.0);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(out) / "seed-0" / "native" / "peft_config.json"));
  const auto hf = nlohmann::json::parse(
      testing::read_file(std::filesystem::path(out) / "seed-0" / "hf-peft" / "adapter_config.json"));
  EXPECT_EQ(hf["task_type"], "SEQ_2_SEQ_LM");
}

}  // namespace
}  // namespace autopeft
