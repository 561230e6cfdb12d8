#include "trainer/collate.h"

#include <algorithm>

#include "trainer/data/batching.h"

namespace autopeft::trainer {

namespace {

Batch collate_generation(const FeatureSet& features, const std::vector<std::size_t>& indices,
                         const CollateOptions& o) {
  const bool causal = features.task_type == "causal-lm";
  const auto b = static_cast<std::int64_t>(indices.size());
  std::int64_t s = o.pad_to, t = 1;
  for (const auto i : indices) {
    const auto& f = features.items[i];
    s = std::max<std::int64_t>(s, static_cast<std::int64_t>(causal ? f.length() : f.input_ids.size()));
    t = std::max<std::int64_t>(t, static_cast<std::int64_t>(f.target_ids.size()));
  }
  auto ids = torch::full({b, s}, features.pad_id, torch::kLong);
  auto mask = torch::zeros({b, s}, torch::kLong);
  auto labels = torch::full(causal ? std::vector<std::int64_t>{b, s} : std::vector<std::int64_t>{b, t},
                            kIgnoreIndex, torch::kLong);
  auto decoder = causal ? torch::Tensor() : torch::full({b, t}, features.pad_id, torch::kLong);
  auto ia = ids.accessor<std::int64_t, 2>();
  auto ma = mask.accessor<std::int64_t, 2>();
  auto la = labels.accessor<std::int64_t, 2>();
  Batch out;
  for (std::int64_t r = 0; r < b; ++r) {
    const auto& f = features.items[indices[static_cast<std::size_t>(r)]];
    std::vector<std::int64_t> row = f.input_ids;
    if (causal) row.insert(row.end(), f.target_ids.begin(), f.target_ids.end());
    out.tokens += static_cast<std::int64_t>(f.length());
    for (std::size_t c = 0; c < row.size(); ++c) {
      ia[r][static_cast<std::int64_t>(c)] = row[c];
      ma[r][static_cast<std::int64_t>(c)] = 1;
    }
    if (causal) {  // the logits at position c predict the token at c + 1
      for (std::size_t c = f.input_ids.size(); c < row.size(); ++c)
        la[r][static_cast<std::int64_t>(c) - 1] = row[c];
    } else {
      auto da = decoder.accessor<std::int64_t, 2>();
      for (std::size_t c = 0; c < f.target_ids.size(); ++c) {
        la[r][static_cast<std::int64_t>(c)] = f.target_ids[c];
        da[r][static_cast<std::int64_t>(c)] = c == 0 ? o.decoder_start : f.target_ids[c - 1];
      }
    }
  }
  out.input_ids = ids.to(o.device);
  out.attention_mask = mask.to(o.device);
  out.token_type_ids = torch::zeros_like(out.input_ids);
  out.labels = labels.to(o.device);
  if (!causal) out.decoder_input_ids = decoder.to(o.device);
  return out;
}

}  // namespace

Batch collate(const FeatureSet& features, const std::vector<std::size_t>& indices, const CollateOptions& o,
              std::mt19937_64& rng) {
  if (features.task_type == "seq2seq" || features.task_type == "causal-lm")
    return collate_generation(features, indices, o);
  const auto b = static_cast<std::int64_t>(indices.size());
  std::int64_t s = o.pad_to;
  for (const auto i : indices)
    s = std::max<std::int64_t>(s, static_cast<std::int64_t>(features.items[i].length()));
  const bool mlm = features.task_type == "mlm";
  const bool token = features.task_type == "token-classification";
  const bool regression = features.task_type == "regression";
  auto ids = torch::full({b, s}, features.pad_id, torch::kLong);
  auto types = torch::zeros({b, s}, torch::kLong);
  auto mask = torch::zeros({b, s}, torch::kLong);
  torch::Tensor labels = (mlm || token) ? torch::full({b, s}, kIgnoreIndex, torch::kLong)
                         : regression   ? torch::zeros({b}, torch::kFloat)
                                        : torch::zeros({b}, torch::kLong);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto types_a = types.accessor<std::int64_t, 2>();
  auto mask_a = mask.accessor<std::int64_t, 2>();
  Batch out;
  for (std::int64_t r = 0; r < b; ++r) {
    const auto& f = features.items[indices[static_cast<std::size_t>(r)]];
    const auto n = static_cast<std::int64_t>(f.length());
    out.tokens += n;
    const std::vector<std::int64_t>* row_ids = &f.input_ids;
    MaskedTokens masked;
    if (mlm) {
      masked = mask_tokens(f.input_ids, *o.special, o.mask_id, o.vocab_size, o.mlm_probability, rng);
      row_ids = &masked.input_ids;
    }
    for (std::int64_t c = 0; c < n; ++c) {
      ids_a[r][c] = (*row_ids)[static_cast<std::size_t>(c)];
      types_a[r][c] = f.token_type_ids.empty() ? 0 : f.token_type_ids[static_cast<std::size_t>(c)];
      mask_a[r][c] = 1;
    }
    if (mlm || token) {
      const auto& l = mlm ? masked.labels : f.token_labels;
      auto la = labels.accessor<std::int64_t, 2>();
      for (std::int64_t c = 0; c < n; ++c) la[r][c] = l[static_cast<std::size_t>(c)];
    } else if (regression) {
      labels.accessor<float, 1>()[r] = static_cast<float>(f.target);
    } else {
      labels.accessor<std::int64_t, 1>()[r] = f.label;
    }
  }
  out.input_ids = ids.to(o.device);
  out.token_type_ids = types.to(o.device);
  out.attention_mask = mask.to(o.device);
  out.labels = labels.to(o.device);
  return out;
}

}  // namespace autopeft::trainer
