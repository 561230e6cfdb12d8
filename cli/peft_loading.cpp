#include "cli/peft_loading.h"

#include "model/causal_lm.h"
#include "model/encoder_task.h"
#include "model/format/decoder_config.h"
#include "model/format/t5_config.h"
#include "model/t5.h"
#include "peft/spec/model_dims.h"

namespace autopeft::cli {

InstalledPeft install_peft(const std::string& model_dir,
                           const std::function<peft::PeftConfig(const peft::ModelDims&)>& config_for,
                           const std::string& source) {
  InstalledPeft out;
  out.info.base_model = model_dir;
  const auto type = model::model_type_of(model_dir);
  if (model::is_decoder_model_type(type)) {
    auto lm = model::load_causal_lm(model_dir);
    out.config = config_for(peft::dims_of(lm.config));
    out.model = std::make_unique<peft::PeftModel>(lm.model, out.config, source);
    out.info.task_type = "CAUSAL_LM";
  } else if (model::is_t5_model_type(type)) {
    auto t5 = model::load_t5(model_dir);
    out.config = config_for(peft::dims_of(t5.config));
    out.model = std::make_unique<peft::PeftModel>(t5.model, out.config, source);
    out.info.task_type = "SEQ_2_SEQ_LM";
  } else {
    auto loaded = model::load_encoder(model_dir, model::LoadOptions{});
    out.config = config_for(peft::dims_of(loaded.config, loaded.model->base->has_pooler()));
    out.model = std::make_unique<peft::PeftModel>(loaded.model->base, out.config, source);
    const auto head = loaded.model->head();
    out.info.task_type = head == model::HeadKind::sequence ? "SEQ_CLS"
                         : head == model::HeadKind::token  ? "TOKEN_CLS"
                                                           : "";
    out.info.task_model = head != model::HeadKind::none;
    out.info.head = loaded.model->named_head_parameters();
  }
  return out;
}

}  // namespace autopeft::cli
