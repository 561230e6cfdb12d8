#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  autopeft::fuzz::safetensors_header(data, size);
  return 0;
}
