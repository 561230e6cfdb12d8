#include "trainer/data/features.h"

#include <algorithm>
#include <map>
#include <optional>

#include "core/errors.h"

namespace autopeft::trainer {

std::size_t FeatureSet::tokens() const {
  std::size_t n = 0;
  for (const auto& f : items) n += f.length();
  return n;
}

namespace {

std::map<std::string, std::int64_t> index_of(const std::vector<std::string>& vocabulary) {
  std::map<std::string, std::int64_t> m;
  for (std::size_t i = 0; i < vocabulary.size(); ++i) m[vocabulary[i]] = static_cast<std::int64_t>(i);
  return m;
}

std::int64_t label_index(const std::map<std::string, std::int64_t>& index, const std::string& label,
                         const Dataset& data, const Example& e) {
  const auto it = index.find(label);
  if (it == index.end())
    throw_user_error(data.source + ":" + std::to_string(e.line),
                     "label '" + label + "' is not in the label vocabulary");
  return it->second;
}

double parse_target(const std::string& s, const Dataset& data, const Example& e) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw_user_error(data.source + ":" + std::to_string(e.line),
                   "regression label '" + s + "' is not a number");
}

Feature token_feature(const Example& e, const model::Tokenizer& tok,
                      const std::map<std::string, std::int64_t>& index, const Dataset& data,
                      std::int64_t max_length, bool& truncated) {
  Feature f;
  const auto& sp = tok.special();
  const auto budget = static_cast<std::size_t>(std::max<std::int64_t>(0, max_length - 2));
  f.input_ids.push_back(sp.cls);
  f.token_labels.push_back(kIgnoreIndex);
  std::size_t pieces = 0;
  f.word_positions.assign(e.tokens.size(), -1);
  for (std::size_t w = 0; w < e.tokens.size(); ++w) {
    const auto ids = tok.to_ids(e.tokens[w]);
    const std::int64_t tag = label_index(index, e.tags[w], data, e);
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (pieces == budget) {
        truncated = true;
        break;
      }
      if (k == 0) f.word_positions[w] = static_cast<std::int64_t>(f.input_ids.size());
      f.input_ids.push_back(ids[k]);
      f.token_labels.push_back(k == 0 ? tag : kIgnoreIndex);
      ++pieces;
    }
  }
  f.input_ids.push_back(sp.sep);
  f.token_labels.push_back(kIgnoreIndex);
  f.token_type_ids.assign(f.input_ids.size(), 0);
  return f;
}

}  // namespace

FeatureSet make_features(const TaskSpec& task, const Dataset& data, const model::Tokenizer& tokenizer,
                         const std::vector<std::string>& vocabulary, std::int64_t max_length) {
  if (task.type == "seq2seq" || task.type == "causal-lm")
    throw_user_error("task " + task.name, "type '" + task.type +
                                              "' needs a decoder backbone (T5, GPT-2, Llama), "
                                              "which this build does not have yet");
  FeatureSet out;
  out.task_type = task.type;
  out.pad_id = tokenizer.special().pad;
  const auto index = index_of(vocabulary);
  out.items.reserve(data.examples.size());
  for (std::size_t i = 0; i < data.examples.size(); ++i) {
    const auto& e = data.examples[i];
    Feature f;
    bool truncated = false;
    if (task.type == "token-classification") {
      f = token_feature(e, tokenizer, index, data, max_length, truncated);
    } else {
      const std::optional<std::string> pair =
          task.pair() ? std::optional<std::string>(e.text_pair) : std::nullopt;
      auto enc = tokenizer.encode(e.text, pair, max_length, /*truncation=*/true);
      truncated = enc.truncated;
      f.input_ids = std::move(enc.input_ids);
      f.token_type_ids = std::move(enc.token_type_ids);
      if (task.classification()) f.label = label_index(index, e.label, data, e);
      if (task.type == "regression") f.target = parse_target(e.label, data, e);
    }
    f.example = i;
    out.truncated += truncated ? 1 : 0;
    out.items.push_back(std::move(f));
  }
  return out;
}

}  // namespace autopeft::trainer
