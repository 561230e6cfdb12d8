// The one translation unit of autopeft_torch_pch: the target exists only to build the precompiled
// <torch/torch.h> that every torch target reuses (cmake/AutopeftTargets.cmake).
namespace autopeft::detail {
int torch_pch_anchor() { return 0; }
}  // namespace autopeft::detail
