#include "trainer/training_run.h"

#include <filesystem>

#include "core/errors.h"
#include "core/json_file.h"
#include "model/format/decoder_config.h"
#include "model/format/t5_config.h"
#include "model/tensor_io.h"
#include "model/tokenizers.h"
#include "peft/export.h"
#include "peft/spec/model_dims.h"

namespace autopeft::trainer {

namespace {

// The features of a generative task's split, with the folder's tokenizer.
FeatureSet generation_features(const TaskSpec& task, const Dataset& data,
                               const model::GenerationTokenizer& tok, std::int64_t eos, std::int64_t bos,
                               std::int64_t pad, std::int64_t max_length) {
  GenerationCodec codec;
  codec.encode_source = [&](const std::string& t) { return tok.encode(t); };
  codec.encode_target = [&](const std::string& t) { return tok.encode_plain(t); };
  codec.eos = eos;
  codec.bos = bos;
  codec.pad = pad;
  return make_generation_features(task, data, codec, max_length, task.max_target_length);
}

}  // namespace

PreparedTask::PreparedTask(const std::string& model_dir, const TaskSpec& task, const TrainOptions& options)
    : model_dir_(model_dir), task_(task) {
  max_length_ = options.max_length > 0 ? options.max_length : task.max_length;
  const auto type = model::model_type_of(model_dir);
  const bool causal = model::is_decoder_model_type(type), t5 = model::is_t5_model_type(type);
  if (task_.generative() || causal || t5) {
    const bool want_t5 = task_.type == "seq2seq";
    if (!task_.generative() || (want_t5 ? !t5 : !causal))
      throw_user_error(model_dir, "a " + task_.type + " task needs " +
                                      (!task_.generative() ? std::string("an encoder (BERT, RoBERTa, ...)")
                                       : want_t5           ? std::string("a T5")
                                                           : std::string("a GPT-2 or Llama")) +
                                      " model; this folder holds '" + type + "'");
    splits_ = read_splits(task_, options);
    std::int64_t eos = -1, bos = -1, pad = 0;
    if (t5) {
      const auto c = model::load_t5_config(model_dir);
      dims_ = peft::dims_of(c);
      generation_tokenizer_ = model::load_t5_tokenizer(model_dir, c);
      eos = c.eos_token_id;
      pad = c.pad_token_id;
      decoder_start_ = c.decoder_start_token_id;
    } else {
      const auto c = model::load_decoder_config(model_dir);
      if (max_length_ > c.max_positions)
        throw_user_error("max_length", std::to_string(max_length_) + " is more than the model's " +
                                           std::to_string(c.max_positions) + " positions");
      dims_ = peft::dims_of(c);
      generation_tokenizer_ = model::load_causal_lm_tokenizer(model_dir, c);
      eos = c.eos_token_ids.empty() ? -1 : c.eos_token_ids.front();
      bos = c.bos_token_id;
      pad = c.pad_token_id >= 0 ? c.pad_token_id : std::max<std::int64_t>(eos, 0);
    }
    const auto features = [&](const Dataset& d) {
      return generation_features(task_, d, *generation_tokenizer_, eos, bos, pad, max_length_);
    };
    train_ = features(splits_.train);
    eval_ = features(splits_.eval);
    if (!splits_.test.examples.empty()) test_ = features(splits_.test);
    return;
  }
  config_ = model::load_encoder_config(model_dir);
  dims_ = peft::dims_of(config_, model::task_model_has_pooler(config_, head_for_task(task_.type)));
  tokenizer_ = model::load_tokenizer(model_dir, config_);
  if (max_length_ > tokenizer_->model_max_length())
    throw_user_error("max_length", std::to_string(max_length_) + " is more than the model's limit of " +
                                       std::to_string(tokenizer_->model_max_length()) + " tokens");
  splits_ = read_splits(task_, options);
  if (task_.type != "mlm" && task_.type != "regression") {
    vocabulary_ = label_vocabulary(task_, splits_.train);
    check_labels(task_, splits_.eval, vocabulary_);
  } else if (task_.type == "regression") {
    check_labels(task_, splits_.eval, vocabulary_);
  }
  train_ = make_features(task_, splits_.train, *tokenizer_, vocabulary_, max_length_);
  eval_ = make_features(task_, splits_.eval, *tokenizer_, vocabulary_, max_length_);
  if (!splits_.test.examples.empty()) {
    if (task_.type != "mlm") check_labels(task_, splits_.test, vocabulary_);
    test_ = make_features(task_, splits_.test, *tokenizer_, vocabulary_, max_length_);
  }
}

TaskContext PreparedTask::context() const {
  TaskContext c;
  c.type = task_.type;
  c.metric = task_.metric;
  c.vocabulary = vocabulary_;
  c.eval_examples = &splits_.eval;
  if (generation_tokenizer_) {
    const auto* tok = generation_tokenizer_.get();
    c.decode = [tok](const std::vector<std::int64_t>& ids) { return tok->decode(ids); };
    c.max_new_tokens = task_.max_target_length;
    c.decoder_start = decoder_start_;
    return c;
  }
  const auto& sp = tokenizer_->special();
  for (const auto id : {sp.cls, sp.sep, sp.pad, sp.unk, sp.mask})
    if (id >= 0) c.special_ids.insert(id);
  c.mask_id = sp.mask;
  c.vocab_size = config_.vocab_size;
  if (task_.type == "mlm" && sp.mask < 0)
    throw_user_error(model_dir_, "the tokenizer has no mask token for masked-LM");
  return c;
}

TaskContext PreparedTask::test_context() const {
  TaskContext c = context();
  c.eval_examples = &splits_.test;
  return c;
}

std::int64_t PreparedTask::num_labels() const {
  if (task_.type == "regression") return 1;
  if (task_.type == "mlm") return config_.vocab_size;
  if (task_.generative()) return 0;
  return static_cast<std::int64_t>(vocabulary_.size());
}

nlohmann::json PreparedTask::summary() const {
  return {{"train_examples", train_.items.size()},
          {"eval_examples", eval_.items.size()},
          {"eval_on", splits_.eval_name},
          {"test_examples", test_.items.size()},
          {"skipped_rows", splits_.train.skipped},
          {"truncated", train_.truncated + eval_.truncated},
          {"max_length", max_length_},
          {"labels", vocabulary_}};
}

peft::CountReport count_target(const PreparedTask& prepared, const TrainTarget& target) {
  const std::string head_name(model::head_kind_name(head_for_task(prepared.task().type)));
  if (!target.full_finetune)
    return peft::count_parameters(target.config, prepared.dims(), head_name, prepared.num_labels());
  peft::CountReport r =
      peft::count_parameters(peft::PeftConfig{}, prepared.dims(), head_name, prepared.num_labels());
  r.trainable = r.backbone;
  r.stored = r.backbone;
  r.params_percent = 100.0;
  return r;
}

RunResult run_training(const PreparedTask& prepared, const TrainTarget& target, const TrainOptions& options,
                       const TrainEvents& events, c10::Device device, ActivationCache* cache) {
  TaskModelOptions mo;
  mo.model_dir = prepared.model_dir();
  mo.task_type = prepared.task().type;
  mo.num_labels = prepared.num_labels();
  mo.full_finetune = target.full_finetune;
  mo.config = target.config;
  mo.config_source = target.source;
  mo.dropout = options.dropout;
  mo.init_seed = options.seed;
  mo.device = device;
  RunResult out;
  out.counts = count_target(prepared, target);
  out.model = std::make_unique<TaskModel>(mo);
  TrainOptions effective = options;
  effective.max_length = prepared.max_length();
  Trainer trainer(*out.model, effective, prepared.context());
  if (cache)
    trainer.use_cache(cache, prepared.model_dir() + "|" + prepared.task().name + "|" +
                                 prepared.summary().dump() + "|" + device.str());
  out.train = trainer.train(prepared.train_features(), prepared.eval_features(), events);
  return out;
}

EvalResult evaluate_test(RunResult& run, const PreparedTask& prepared, const TrainOptions& options) {
  if (!prepared.has_test()) throw_user_error(prepared.task().name, "no test split was prepared (test_on)");
  TrainOptions effective = options;
  effective.max_length = prepared.max_length();
  Trainer trainer(*run.model, effective, prepared.test_context());
  return trainer.evaluate(prepared.test_features());
}

}  // namespace autopeft::trainer

namespace autopeft::trainer {

nlohmann::json export_run(RunResult& run, const PreparedTask& prepared, const TrainTarget& target,
                          const std::string& out_dir) {
  nlohmann::json written = nlohmann::json::array(), skipped = nlohmann::json::object();
  std::filesystem::create_directories(out_dir);
  if (target.full_finetune) {
    const auto dir = (std::filesystem::path(out_dir) / "model").string();
    auto config_json = read_json_file((std::filesystem::path(prepared.model_dir()) / "config.json").string(),
                                      "model config");
    if (auto* lm = run.model->causal_lm())
      model::save_causal_lm(dir, *lm, config_json);
    else if (auto* t5 = run.model->t5())
      model::save_t5(dir, *t5, config_json);
    else
      model::save_encoder(dir, run.model->model(), config_json);
    // The tokenizer goes with the weights, so that the folder is a model folder of its own.
    for (const char* f : {"vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model",
                          "tokenizer.model", "spiece.model", "tokenizer.json", "tokenizer_config.json",
                          "special_tokens_map.json", "generation_config.json"}) {
      const auto from = std::filesystem::path(prepared.model_dir()) / f;
      if (std::filesystem::exists(from))
        std::filesystem::copy_file(from, std::filesystem::path(dir) / f,
                                   std::filesystem::copy_options::overwrite_existing);
    }
    written.push_back(dir);
    for (const char* f : {"native", "hf-peft", "adapters"})
      skipped[f] = "full fine-tuning: the whole model is saved";
    return {{"written", written}, {"skipped", skipped}};
  }
  peft::ExportInfo info;
  info.base_model = prepared.model_dir();
  if (run.model->generative()) {
    info.task_type = run.model->t5() ? "SEQ_2_SEQ_LM" : "CAUSAL_LM";
  } else {
    const auto head = run.model->model()->head();
    info.task_type = head == model::HeadKind::sequence ? "SEQ_CLS"
                     : head == model::HeadKind::token  ? "TOKEN_CLS"
                                                       : "";
    info.task_model = head != model::HeadKind::none;
    info.head = run.model->head_tensors();  // the trained head
  }
  const std::vector<std::pair<std::string, peft::ExportFormat>> formats = {
      {"native", peft::ExportFormat::native},
      {"hf-peft", peft::ExportFormat::hf_peft},
      {"adapters", peft::ExportFormat::adapters}};
  for (const auto& [name, format] : formats) {
    const auto dir = (std::filesystem::path(out_dir) / name).string();
    try {
      peft::export_peft(*run.model->peft(), target.config, format, info, dir);
    } catch (const UserError& e) {
      skipped[name] = e.what();
      continue;
    }
    if (!run.model->generative())
      model::save_safetensors((std::filesystem::path(dir) / "head.safetensors").string(),
                              run.model->head_tensors());
    written.push_back(dir);
  }
  return {{"written", written}, {"skipped", skipped}};
}

}  // namespace autopeft::trainer
