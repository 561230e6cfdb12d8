// `autopeft tokenizer train` and `autopeft model init`: the pieces for pretraining a small
// backbone from scratch (the demo's, and any user's).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/errors.h"
#include "model/encoder_task.h"
#include "model/format/model_config.h"
#include "model/spm_library.h"
#include "model/tokenizers.h"

namespace autopeft::cli {

namespace {

namespace fs = std::filesystem;

struct TokenizerOptions {
  std::string input, out;
  int vocab_size = 8000;
  double character_coverage = 1.0;
  std::int64_t max_sentences = 300000;
  bool lowercase = false;  // case-fold in the model's normaliser (nmt_nfkc_cf), for uncased tasks
};

int train_tokenizer(const TokenizerOptions& o) {
  if (!fs::is_regular_file(o.input)) throw_user_error("--input", o.input + " is not a file");
  if (o.vocab_size < 16) throw_user_error("--vocab-size", "must be at least 16");
  fs::create_directories(o.out);
  // A unigram model as XLM-R's sentencepiece.bpe.model is (despite its name); ids as fairseq
  // expects them: <unk> 0, <s> 1, </s> 2 in the model (tokenizers.h maps them).
  model::SentencePieceLibrary::instance().train(
      fmt::format("--input={} --model_prefix={} --vocab_size={} --model_type=unigram --character_coverage={} "
                  "--input_sentence_size={} --shuffle_input_sentence=true --num_threads=2 --minloglevel=2 "
                  "--normalization_rule_name={}",
                  o.input, (fs::path(o.out) / "sentencepiece.bpe").string(), o.vocab_size,
                  o.character_coverage, o.max_sentences, o.lowercase ? "nmt_nfkc_cf" : "nmt_nfkc"));
  fs::remove(fs::path(o.out) / "sentencepiece.bpe.vocab");
  std::cout << nlohmann::ordered_json{{"tokenizer", (fs::path(o.out) / "sentencepiece.bpe.model").string()},
                                      {"pieces", o.vocab_size}}
                   .dump()
            << "\n";
  return 0;
}

struct InitOptions {
  std::string tokenizer, out;
  int layers = 4, hidden = 256, heads = 4, ffn = 1024, max_length = 128;
  std::uint64_t seed = 0;
};

int init_model(const InitOptions& o) {
  const fs::path spm = fs::path(o.tokenizer) / "sentencepiece.bpe.model";
  if (!fs::is_regular_file(spm))
    throw_user_error("--tokenizer",
                     o.tokenizer + " has no sentencepiece.bpe.model (autopeft tokenizer train)");
  if (o.hidden % o.heads != 0) throw_user_error("--heads", "must divide --hidden");
  fs::create_directories(o.out);
  if (!fs::equivalent(o.tokenizer, o.out))
    fs::copy_file(spm, fs::path(o.out) / "sentencepiece.bpe.model", fs::copy_options::overwrite_existing);
  model::SentencePieceTokenizer tok((fs::path(o.out) / "sentencepiece.bpe.model").string(),
                                    model::FairseqLayout::xlm_roberta());
  // XLM-R's layout: <s> 0, <pad> 1, </s> 2, <unk> 3, pieces, <mask> last; positions from pad + 1.
  const nlohmann::json cfg = {{"model_type", "xlm-roberta"},
                              {"architectures", {"XLMRobertaForMaskedLM"}},
                              {"vocab_size", tok.vocab_size()},
                              {"hidden_size", o.hidden},
                              {"num_hidden_layers", o.layers},
                              {"num_attention_heads", o.heads},
                              {"intermediate_size", o.ffn},
                              {"max_position_embeddings", o.max_length + 2},
                              {"type_vocab_size", 1},
                              {"pad_token_id", 1},
                              {"bos_token_id", 0},
                              {"eos_token_id", 2},
                              {"hidden_act", "gelu"},
                              {"layer_norm_eps", 1e-5},
                              {"initializer_range", 0.02}};
  std::ofstream(fs::path(o.out) / "tokenizer_config.json")
      << nlohmann::json{{"model_max_length", o.max_length}}.dump(2) << "\n";
  torch::manual_seed(o.seed);
  const auto config = model::parse_encoder_config(cfg, o.out);
  model::EncoderForTask m(config, model::HeadKind::mlm, tok.vocab_size());
  model::initialize_weights(m, 0.02);
  model::save_encoder(o.out, m, cfg);
  std::int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  std::cout
      << nlohmann::ordered_json{{"model", o.out}, {"vocab_size", tok.vocab_size()}, {"parameters", n}}.dump()
      << "\n";
  return 0;
}

}  // namespace

void add_init_commands(CLI::App& app, CommandRegistry& registry, const GlobalOptions&) {
  auto* tok_cmd = app.add_subcommand("tokenizer", "Tokenizers for new backbones");
  tok_cmd->require_subcommand(1);
  auto to = std::make_shared<TokenizerOptions>();
  auto* train_cmd =
      tok_cmd->add_subcommand("train", "Train a sentencepiece (unigram) tokenizer on a text file");
  train_cmd->add_option("--input", to->input, "Text, one sentence per line")->required();
  train_cmd->add_option("--out", to->out, "Folder for sentencepiece.bpe.model")->required();
  train_cmd->add_option("--vocab-size", to->vocab_size, "Pieces")->capture_default_str();
  train_cmd->add_option("--character-coverage", to->character_coverage, "Characters covered")
      ->capture_default_str();
  train_cmd->add_option("--max-sentences", to->max_sentences, "Sentences sampled for training")
      ->capture_default_str();
  train_cmd->add_flag("--lowercase", to->lowercase,
                      "Case-fold text in the tokenizer itself (training and every later encoding)");
  registry.add(train_cmd, [to] { return train_tokenizer(*to); });

  auto io = std::make_shared<InitOptions>();
  auto* model_cmd = app.get_subcommand("model");
  auto* init_cmd = model_cmd->add_subcommand(
      "init",
      "Write a new, randomly initialised XLM-R-style encoder with a masked-LM head (for pretraining)");
  init_cmd->add_option("--tokenizer", io->tokenizer, "Folder with sentencepiece.bpe.model")->required();
  init_cmd->add_option("--out", io->out, "Model folder to write")->required();
  init_cmd->add_option("--layers", io->layers, "Layers")->capture_default_str();
  init_cmd->add_option("--hidden", io->hidden, "Hidden size")->capture_default_str();
  init_cmd->add_option("--heads", io->heads, "Attention heads")->capture_default_str();
  init_cmd->add_option("--ffn", io->ffn, "FFN size")->capture_default_str();
  init_cmd->add_option("--max-length", io->max_length, "Longest input in tokens")->capture_default_str();
  init_cmd->add_option("--seed", io->seed, "Seed of the initial weights")->capture_default_str();
  registry.add(init_cmd, [io] { return init_model(*io); });
}

}  // namespace autopeft::cli
