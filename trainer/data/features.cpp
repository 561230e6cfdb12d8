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
  if (task.generative())
    throw_user_error("task " + task.name, "type '" + task.type +
                                              "' needs a generative backbone (T5 for seq2seq, GPT-2 or "
                                              "Llama for causal-lm)");
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

FeatureSet make_generation_features(const TaskSpec& task, const Dataset& data, const GenerationCodec& codec,
                                    std::int64_t max_length, std::int64_t max_target_length) {
  if (!task.generative())
    throw_user_error("task " + task.name, "'" + task.type + "' is not a generative task");
  const bool causal = task.type == "causal-lm";
  FeatureSet out;
  out.task_type = task.type;
  out.pad_id = codec.pad;
  out.items.reserve(data.examples.size());
  const auto target_cap = static_cast<std::size_t>(
      std::max<std::int64_t>(1, causal ? std::min(max_target_length, max_length - 1) : max_target_length));
  for (std::size_t i = 0; i < data.examples.size(); ++i) {
    const auto& e = data.examples[i];
    Feature f;
    f.example = i;
    bool truncated = false;
    f.target_ids = codec.encode_target(e.target);
    if (codec.eos >= 0) f.target_ids.push_back(codec.eos);
    if (f.target_ids.size() > target_cap) {
      const auto last = f.target_ids.back();
      f.target_ids.resize(target_cap);
      if (codec.eos >= 0) f.target_ids.back() = last;
      truncated = true;
    }
    f.input_ids = codec.encode_source(e.text);
    if (f.input_ids.empty())
      throw_user_error(data.source + ":" + std::to_string(e.line), "the source (prompt) has no token");
    const auto budget = causal ? static_cast<std::size_t>(max_length) - f.target_ids.size()
                               : static_cast<std::size_t>(max_length);
    if (f.input_ids.size() > budget) {
      truncated = true;
      auto& ids = f.input_ids;
      if (causal) {  // keep the end (and BOS)
        const bool keep_bos = codec.bos >= 0 && ids.front() == codec.bos && budget > 1;
        std::vector<std::int64_t> kept;
        if (keep_bos) kept.push_back(ids.front());
        kept.insert(kept.end(), ids.end() - static_cast<std::ptrdiff_t>(budget - kept.size()), ids.end());
        ids = std::move(kept);
      } else {  // keep the beginning and the last id
        const auto last = ids.back();
        ids.resize(budget);
        ids.back() = last;
      }
    }
    out.truncated += truncated ? 1 : 0;
    out.items.push_back(std::move(f));
  }
  return out;
}

}  // namespace autopeft::trainer
