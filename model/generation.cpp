#include "model/generation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.h"
#include "model/t5.h"

namespace autopeft::model {

namespace {

// Log-probabilities [b, V] of the next token after each row of the sequences so far; `fresh`
// is how many tokens the last step added (all of them at first); select() keeps beams.
class Stepper {
 public:
  virtual ~Stepper() = default;
  virtual torch::Tensor next_log_probs(const torch::Tensor& sequences, std::int64_t fresh) = 0;
  virtual void select(const torch::Tensor& index) = 0;
};

torch::Tensor last_log_probs(const torch::Tensor& logits) {
  return torch::log_softmax(logits.select(1, logits.size(1) - 1).to(torch::kFloat64), -1);
}

// A causal LM reads the prompt and its continuation as one sequence.
class CausalLmStepper : public Stepper {
 public:
  CausalLmStepper(CausalLmImpl& model, bool cached) : model_(model), cached_(cached) {}
  torch::Tensor next_log_probs(const torch::Tensor& sequences, std::int64_t fresh) override {
    if (!cached_) return last_log_probs(model_.forward(sequences, {}, nullptr).logits);
    return last_log_probs(
        model_.forward(sequences.narrow(1, sequences.size(1) - fresh, fresh), {}, &cache_).logits);
  }
  void select(const torch::Tensor& index) override {
    if (cached_) cache_.select(index);
  }

 private:
  CausalLmImpl& model_;
  bool cached_;
  KvCache cache_;
};

// T5: the encoder runs once; the sequences are the decoder's (from decoder_start_token_id).
class Seq2SeqStepper : public Stepper {
 public:
  Seq2SeqStepper(T5ModelImpl& model, const torch::Tensor& input_ids, bool cached)
      : model_(model), cached_(cached) {
    memory_ = model.encode(input_ids, {});
  }
  torch::Tensor next_log_probs(const torch::Tensor& sequences, std::int64_t fresh) override {
    if (!cached_) return last_log_probs(model_.decode(sequences, memory_, {}, nullptr).logits);
    return last_log_probs(
        model_.decode(sequences.narrow(1, sequences.size(1) - fresh, fresh), memory_, {}, &cache_).logits);
  }
  void select(const torch::Tensor& index) override {
    memory_ = memory_.index_select(0, index);
    if (cached_) cache_.select(index);
  }

 private:
  T5ModelImpl& model_;
  bool cached_;
  torch::Tensor memory_;
  Seq2SeqCache cache_;
};

bool is_eos(std::int64_t token, const std::vector<std::int64_t>& eos) {
  return std::find(eos.begin(), eos.end(), token) != eos.end();
}

struct Hypothesis {
  std::vector<std::int64_t> tokens;
  double score;
};

// Greedy decoding or beam search over `stepper`, continuing `start` (every row begins with it).
Generation search(Stepper& stepper, const std::vector<std::int64_t>& start,
                  const std::vector<std::int64_t>& eos, const torch::Device& device,
                  const GenerationOptions& o) {
  const auto P = static_cast<std::int64_t>(start.size());
  auto sequences = torch::tensor(start, torch::kInt64).view({1, P}).to(device);
  Generation out;

  if (o.beams == 1) {
    std::int64_t fresh = P;
    for (std::int64_t step = 0; step < o.max_new_tokens; ++step) {
      const auto lp = stepper.next_log_probs(sequences, fresh)[0];
      const auto token = lp.argmax().item<std::int64_t>();
      out.tokens.push_back(token);
      out.score += lp[token].item<double>();
      if (is_eos(token, eos)) break;
      sequences = torch::cat({sequences, torch::tensor({token}, torch::kInt64).view({1, 1}).to(device)}, 1);
      fresh = 1;
    }
    return out;
  }

  const auto K = static_cast<std::int64_t>(o.beams);
  auto normalised = [&](double sum, std::size_t length) {
    return sum / std::pow(static_cast<double>(std::max<std::size_t>(1, length)), o.length_penalty);
  };
  std::vector<Hypothesis> finished;
  auto worst_finished = [&] {
    double w = std::numeric_limits<double>::infinity();
    for (const auto& h : finished) w = std::min(w, h.score);
    return w;
  };
  auto add_finished = [&](Hypothesis h) {
    finished.push_back(std::move(h));
    if (static_cast<std::int64_t>(finished.size()) > K) {  // drop the worst
      auto worst = std::min_element(finished.begin(), finished.end(),
                                    [](const auto& a, const auto& b) { return a.score < b.score; });
      finished.erase(worst);
    }
  };
  // Beams: token lists and summed log-probabilities; the first step starts from one beam.
  std::vector<std::vector<std::int64_t>> beams = {{}};
  std::vector<double> scores = {0.0};
  std::int64_t fresh = P;
  for (std::int64_t step = 0; step < o.max_new_tokens; ++step) {
    const auto lp = stepper.next_log_probs(sequences, fresh).to(torch::kCPU);  // [b, V]
    const auto b = lp.size(0), V = lp.size(1);
    const auto totals = (lp + torch::tensor(scores, torch::kFloat64).unsqueeze(1)).view({-1});
    const auto [values, indices] = totals.topk(std::min(2 * K, b * V));
    std::vector<std::vector<std::int64_t>> next_beams;
    std::vector<double> next_scores;
    std::vector<std::int64_t> parents, tokens;
    for (std::int64_t r = 0; r < values.size(0) && static_cast<std::int64_t>(next_beams.size()) < K; ++r) {
      const auto flat = indices[r].item<std::int64_t>();
      const auto parent = flat / V, token = flat % V;
      const double total = values[r].item<double>();
      auto seq = beams[static_cast<std::size_t>(parent)];
      seq.push_back(token);
      if (is_eos(token, eos)) {
        if (r < K) add_finished({seq, normalised(total, seq.size())});
        continue;
      }
      next_beams.push_back(std::move(seq));
      next_scores.push_back(total);
      parents.push_back(parent);
      tokens.push_back(token);
    }
    if (next_beams.empty()) break;  // every candidate ended (tiny vocabularies)
    beams = std::move(next_beams);
    scores = std::move(next_scores);
    const auto parent_index = torch::tensor(parents, torch::kInt64).to(device);
    sequences = torch::cat({sequences.index_select(0, parent_index),
                            torch::tensor(tokens, torch::kInt64).view({-1, 1}).to(device)},
                           1);
    stepper.select(parent_index);
    fresh = 1;
    if (static_cast<std::int64_t>(finished.size()) >= K) {
      const double best_running = *std::max_element(scores.begin(), scores.end());
      if (normalised(best_running, beams.front().size()) <= worst_finished()) break;
    }
  }
  for (std::size_t i = 0; i < beams.size(); ++i)
    if (!beams[i].empty()) add_finished({beams[i], normalised(scores[i], beams[i].size())});
  if (finished.empty()) return out;  // max_new_tokens = 0
  const auto best = std::max_element(finished.begin(), finished.end(),
                                     [](const auto& a, const auto& b) { return a.score < b.score; });
  out.tokens = best->tokens;
  out.score = best->score;
  return out;
}

void check_options(const GenerationOptions& o) {
  if (o.beams < 1) throw_user_error("beams", "must be at least 1, got " + std::to_string(o.beams));
  if (o.max_new_tokens < 0) throw_user_error("max_new_tokens", "must not be negative");
}

void check_ids(const std::vector<std::int64_t>& ids, std::int64_t vocab, const char* what) {
  if (ids.empty()) throw_user_error(what, "generation needs at least one input token");
  for (auto id : ids)
    if (id < 0 || id >= vocab)
      throw_user_error(
          what, "token id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab));
}

// Rows of ids padded to one length with their 0/1 mask, on `device`; `left` pads in front.
std::pair<torch::Tensor, torch::Tensor> padded(const std::vector<std::vector<std::int64_t>>& rows, bool left,
                                               const torch::Device& device) {
  std::size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  const auto B = static_cast<std::int64_t>(rows.size()), S = static_cast<std::int64_t>(longest);
  auto ids = torch::zeros({B, S}, torch::kInt64), mask = torch::zeros({B, S}, torch::kInt64);
  auto ia = ids.accessor<std::int64_t, 2>();
  auto ma = mask.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& r = rows[static_cast<std::size_t>(b)];
    const auto offset = left ? S - static_cast<std::int64_t>(r.size()) : 0;
    for (std::size_t t = 0; t < r.size(); ++t) {
      ia[b][offset + static_cast<std::int64_t>(t)] = r[t];
      ma[b][offset + static_cast<std::int64_t>(t)] = 1;
    }
  }
  return {ids.to(device), mask.to(device)};
}

// The greedy loop over a batch: `step(tokens [B, 1] or undefined at the first call)` gives the
// next-token logits [B, V]. Rows stop at their first EOS (kept) or after max_new_tokens.
template <typename Step>
std::vector<std::vector<std::int64_t>> greedy_rows(std::size_t rows, const std::vector<std::int64_t>& eos,
                                                   const GenerationOptions& o, const torch::Device& device,
                                                   Step step) {
  std::vector<std::vector<std::int64_t>> out(rows);
  std::vector<bool> done(rows, false);
  std::size_t running = rows;
  torch::Tensor tokens;
  for (std::int64_t n = 0; n < o.max_new_tokens && running > 0; ++n) {
    const torch::Tensor next = step(tokens).argmax(-1).to(torch::kCPU).contiguous();
    const auto* p = next.data_ptr<std::int64_t>();
    for (std::size_t r = 0; r < rows; ++r) {
      if (done[r]) continue;
      out[r].push_back(p[r]);
      if (is_eos(p[r], eos)) {
        done[r] = true;
        --running;
      }
    }
    tokens = next.view({static_cast<std::int64_t>(rows), 1}).to(device);
  }
  return out;
}

void check_greedy(const GenerationOptions& o) {
  check_options(o);
  if (o.beams != 1) throw_user_error("beams", "batched generation is greedy (beams 1)");
}

}  // namespace

std::vector<std::vector<std::int64_t>> generate_greedy(CausalLmImpl& model,
                                                       const std::vector<std::vector<std::int64_t>>& prompts,
                                                       const GenerationOptions& o) {
  check_greedy(o);
  for (const auto& p : prompts) check_ids(p, model.config().vocab_size, "prompt");
  if (prompts.empty()) return {};
  torch::InferenceMode guard;
  const auto device = model.word_embeddings().device();
  auto [ids, mask] = padded(prompts, /*left=*/true, device);
  KvCache cache;
  const auto ones = torch::ones({mask.size(0), 1}, mask.options());
  return greedy_rows(prompts.size(), o.eos ? *o.eos : model.config().eos_token_ids, o, device,
                     [&](const torch::Tensor& tokens) {
                       if (tokens.defined()) mask = torch::cat({mask, ones}, 1);
                       const auto logits =
                           model.forward(tokens.defined() ? tokens : ids, mask, &cache).logits;
                       return logits.select(1, logits.size(1) - 1);
                     });
}

std::vector<std::vector<std::int64_t>> generate_greedy(T5ModelImpl& model,
                                                       const std::vector<std::vector<std::int64_t>>& inputs,
                                                       const GenerationOptions& o) {
  check_greedy(o);
  const auto& c = model.config();
  for (const auto& p : inputs) check_ids(p, c.vocab_size, "input");
  if (inputs.empty()) return {};
  torch::InferenceMode guard;
  const auto device = model.word_embeddings().device();
  const auto [ids, mask] = padded(inputs, /*left=*/false, device);
  const auto memory = model.encode(ids, mask);
  const auto start = torch::full({ids.size(0), 1}, c.decoder_start_token_id, ids.options());
  Seq2SeqCache cache;
  return greedy_rows(
      inputs.size(), o.eos ? *o.eos : std::vector<std::int64_t>{c.eos_token_id}, o, device,
      [&](const torch::Tensor& tokens) {
        return model.decode(tokens.defined() ? tokens : start, memory, mask, &cache).logits.select(1, 0);
      });
}

Generation generate(CausalLmImpl& model, const std::vector<std::int64_t>& prompt,
                    const GenerationOptions& o) {
  check_options(o);
  check_ids(prompt, model.config().vocab_size, "prompt");
  torch::InferenceMode guard;
  CausalLmStepper stepper(model, o.use_cache);
  return search(stepper, prompt, o.eos ? *o.eos : model.config().eos_token_ids,
                model.word_embeddings().device(), o);
}

Generation generate(T5ModelImpl& model, const std::vector<std::int64_t>& input, const GenerationOptions& o) {
  check_options(o);
  const auto& c = model.config();
  check_ids(input, c.vocab_size, "input");
  torch::InferenceMode guard;
  const auto device = model.word_embeddings().device();
  const auto ids =
      torch::tensor(input, torch::kInt64).view({1, static_cast<std::int64_t>(input.size())}).to(device);
  Seq2SeqStepper stepper(model, ids, o.use_cache);
  return search(stepper, {c.decoder_start_token_id},
                o.eos ? *o.eos : std::vector<std::int64_t>{c.eos_token_id}, device, o);
}

}  // namespace autopeft::model
