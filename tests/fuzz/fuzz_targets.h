#pragma once
// The bodies of the fuzz targets, shared by the libFuzzer binaries (clang, -DAUTOPEFT_FUZZ=ON)
// and by the corpus replay test that runs in every build.
#include <cstddef>
#include <cstdint>

namespace autopeft::fuzz {

// Parses bytes as a whole safetensors file. Bad input must end in UserError, nothing else.
void safetensors_header(const std::uint8_t* data, std::size_t size);
// Parses bytes as a config.json of an encoder.
void encoder_config(const std::uint8_t* data, std::size_t size);

}  // namespace autopeft::fuzz
