#pragma once
// Tokenised examples ("features") of a task split, ready to batch. Torch-free.
//   classification / pair-classification: ids of the text (pair) and the label's index in the
//     label vocabulary
//   regression: ids and the number
//   token-classification: the words are tokenised one by one (as transformers'
//     is_split_into_words); a word's tag goes on its first piece and the other pieces get -100
//     (ignored), as run_ner does with label_all_tokens=False; words cut off by truncation are
//     predicted "O" (kept in `words` so that entity F1 counts them as missed)
//   mlm: ids of the text; masking happens per batch (batching.h)
//   seq2seq / causal-lm: ids of the source (prompt), with the family's special tokens, and of the
//     target (its plain pieces and EOS); make_generation_features
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/format/tokenizer.h"
#include "trainer/data/task.h"

namespace autopeft::trainer {

constexpr std::int64_t kIgnoreIndex = -100;  // torch's cross-entropy ignore_index

struct Feature {
  std::vector<std::int64_t> input_ids;
  std::vector<std::int64_t> token_type_ids;
  std::int64_t label = kIgnoreIndex;         // class index (classification)
  double target = 0;                         // regression target
  std::vector<std::int64_t> token_labels;    // per piece (token classification), kIgnoreIndex elsewhere
  std::vector<std::int64_t> word_positions;  // piece position of each word's first piece, -1 when
                                             // the word has no piece or was truncated (token tasks)
  std::vector<std::int64_t> target_ids;      // generative tasks: the target, EOS last
  std::size_t example = 0;                   // index of the example in its split
  std::size_t length() const { return input_ids.size() + target_ids.size(); }
};

struct FeatureSet {
  std::string task_type;
  std::vector<Feature> items;
  std::int64_t pad_id = 0;
  std::size_t truncated = 0;   // examples that lost tokens to max_length
  std::size_t tokens() const;  // sum of lengths (no padding)
};

// Tokenises a split. `vocabulary` maps labels (tags) to indices; max_length counts special tokens.
FeatureSet make_features(const TaskSpec& task, const Dataset& data, const model::Tokenizer& tokenizer,
                         const std::vector<std::string>& vocabulary, std::int64_t max_length);

// How a generative model's tokenizer turns a source (prompt) and a target into ids.
struct GenerationCodec {
  std::function<std::vector<std::int64_t>(const std::string&)> encode_source;  // with special tokens
  std::function<std::vector<std::int64_t>(const std::string&)> encode_target;  // plain pieces
  std::int64_t eos = -1;  // appended to every target (-1: none)
  std::int64_t bos = -1;  // a source's first token that truncation keeps (-1: none)
  std::int64_t pad = 0;
};

// Features of a seq2seq or causal-lm split. Targets keep their first max_target_length - 1 pieces
// and EOS. seq2seq: sources keep their first max_length - 1 ids and their last (T5's EOS).
// causal-lm: prompt and target together fit max_length (the target first takes at most
// max_length - 1); a long prompt loses its beginning, BOS excepted, so that the text next to the
// completion stays.
FeatureSet make_generation_features(const TaskSpec& task, const Dataset& data, const GenerationCodec& codec,
                                    std::int64_t max_length, std::int64_t max_target_length);

}  // namespace autopeft::trainer
