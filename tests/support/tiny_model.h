#pragma once
// Small real inputs for trainer and CLI tests: a random BERT folder with a WordPiece vocabulary
// (hidden 32, 2 layers) and a synthetic but learnable task written as GLUE-style TSV files.
#include <filesystem>
#include <string>
#include <vector>

namespace autopeft::testing {

// The words of the tiny vocabulary (besides the special tokens).
const std::vector<std::string>& tiny_words();

// Writes config.json, model.safetensors (random, seeded) and vocab.txt into `dir`.
void write_tiny_bert(const std::filesystem::path& dir, int layers = 2, int hidden = 32);

// A random RoBERTa folder (config.json, model.safetensors) with a byte-level BPE tokenizer
// (vocab.json, merges.txt): every byte, and merges that make each tiny word (with and without its
// leading space) one piece.
void write_tiny_roberta(const std::filesystem::path& dir, int layers = 2, int hidden = 32);

// A random GPT-2 folder in Hugging Face's layout (Conv1D weights [in, out], keys without the
// "transformer." prefix, the causal-mask buffers) with a byte-level BPE tokenizer whose last id is
// <|endoftext|> (BOS and EOS). 4 heads, 64 positions.
void write_tiny_gpt2(const std::filesystem::path& dir, int layers = 2, int hidden = 32);

// A random Llama folder (config.json, model.safetensors): vocabulary 50, 4 query heads and 2
// key/value heads (grouped-query attention), rope_theta 500, lm_head tied or not. No tokenizer.
void write_tiny_llama(const std::filesystem::path& dir, int layers = 2, int hidden = 32, bool tied = false);

// A random T5 folder in Hugging Face's layout: vocabulary 40, d_model 32, 4 heads of d_kv 6 (inner
// size 24), d_ff 48, 2 encoder and 3 decoder blocks, 8 relative-position buckets up to distance
// 20; ReLU (v1.0) or gated-GELU (v1.1) FFN; tied (with the stacks' embed_tokens copies) or not.
void write_tiny_t5(const std::filesystem::path& dir, bool gated, bool tied);

// Writes train.tsv / dev.tsv (header "sentence\tlabel") and task.json into `dir`: sentences of
// 3-8 random words; label "pos" when the sentence holds "good", else "neg" (balanced).
// Returns the task file. `type` "classification" or "token-classification" (then CoNLL files:
// "good" tagged B-POS, "very good" B-POS I-POS, other words O; metric entity_f1).
std::string write_tiny_task(const std::filesystem::path& dir, int train, int dev,
                            const std::string& type = "classification", unsigned seed = 0);

}  // namespace autopeft::testing
