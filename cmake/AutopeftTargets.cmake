# Helpers that every folder uses to declare its targets, and the layering check.
#
# Layering (the design's one-way dependencies): each of our libraries has a rank; a library may
# link only libraries of a lower rank. Torch-free libraries may never reach LibTorch, and no
# LibTorch target may link sentencepiece (the two crash in one process: sentencepiece is only
# reached through the dlmopen'ed module in model/spm).

set(AUTOPEFT_RANKS
  autopeft_core 0           # torch-free: errors, logging, version (used by every library)
  autopeft_model_format 5   # torch-free: safetensors, config.json, checkpoint folders
  autopeft_peft_spec 10     # torch-free: PeftConfig schema, method descriptors, closed-form counts
  autopeft_task 15           # torch-free: task files, data readers, metrics
  autopeft_search 20        # torch-free: Eigen + NLopt
  autopeft_studies 30       # torch-free: SQLite storage, controller, trial-runner interface
  autopeft_model 40         # LibTorch: checkpoints, tokenizers, backbones
  autopeft_peft 50          # LibTorch: PEFT modules and injection
  autopeft_trainer 60       # LibTorch: trials and full training, implements studies' interface
  autopeft_cli 70           # the command line, wires everything together
)

set(AUTOPEFT_COMMON_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2)

if(AUTOPEFT_SANITIZE)
  add_compile_options(-fsanitize=${AUTOPEFT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${AUTOPEFT_SANITIZE})
endif()

# Our compile settings for a target: warnings and the repository root as include directory
# (headers are included as "search/pareto.h").
function(autopeft_target_defaults target)
  target_compile_options(${target} PRIVATE ${AUTOPEFT_COMMON_WARNINGS})
  if(AUTOPEFT_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# The torch precompiled header, built once and reused by every torch target.
if(AUTOPEFT_WITH_TORCH AND AUTOPEFT_TORCH_PCH)
  add_library(autopeft_torch_pch STATIC ${CMAKE_SOURCE_DIR}/cmake/pch_anchor.cpp)
  target_link_libraries(autopeft_torch_pch PUBLIC torch)
  autopeft_target_defaults(autopeft_torch_pch)
  target_precompile_headers(autopeft_torch_pch PRIVATE <torch/torch.h>)
endif()

function(autopeft_use_torch target)
  target_link_libraries(${target} PUBLIC torch)
  if(TARGET autopeft_torch_pch)
    target_precompile_headers(${target} REUSE_FROM autopeft_torch_pch)
  endif()
endfunction()

# autopeft_library(NAME SOURCES ... [TORCH] [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
function(autopeft_library name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${name} PUBLIC ${A_PUBLIC_DEPS} PRIVATE ${A_PRIVATE_DEPS})
  autopeft_target_defaults(${name})
  if(A_TORCH)
    autopeft_use_torch(${name})
    set_property(TARGET ${name} PROPERTY AUTOPEFT_USES_TORCH ON)
  endif()
  set_property(GLOBAL APPEND PROPERTY AUTOPEFT_LIBRARIES ${name})
endfunction()

# autopeft_add_gtest(NAME SOURCES ... LIBS ... [TORCH] [ENVIRONMENT VAR=VALUE ...])
# One GoogleTest binary, registered with ctest. Labels come from the suite name:
#   *Gpu*  -> gpu, *Slow* -> slow, *Integration* -> integration, everything else -> unit.
# Discovery runs at test time (PRE_TEST), so a binary that cannot start fails a test, not the build.
function(autopeft_add_gtest name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;LIBS;ENVIRONMENT" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS} GTest::gtest_main GTest::gmock)
  autopeft_target_defaults(${name})
  if(A_TORCH)
    autopeft_use_torch(${name})
  endif()
  set(common DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60 PROPERTIES)
  if(A_ENVIRONMENT)
    list(APPEND common ENVIRONMENT "${A_ENVIRONMENT}")
  endif()
  gtest_discover_tests(${name} TEST_FILTER "*Gpu*.*" ${common} LABELS gpu)
  gtest_discover_tests(${name} TEST_FILTER "*Slow*.*-*Gpu*.*" ${common} LABELS slow)
  gtest_discover_tests(${name} TEST_FILTER "*Integration*.*-*Gpu*.*:*Slow*.*" ${common} LABELS integration)
  gtest_discover_tests(${name} TEST_FILTER "-*Gpu*.*:*Slow*.*:*Integration*.*" ${common} LABELS unit)
endfunction()

function(_autopeft_rank name out)
  list(FIND AUTOPEFT_RANKS ${name} i)
  if(i EQUAL -1)
    set(${out} "" PARENT_SCOPE)
  else()
    math(EXPR j "${i} + 1")
    list(GET AUTOPEFT_RANKS ${j} r)
    set(${out} ${r} PARENT_SCOPE)
  endif()
endfunction()

function(autopeft_check_layering)
  get_property(libs GLOBAL PROPERTY AUTOPEFT_LIBRARIES)
  foreach(lib IN LISTS libs)
    _autopeft_rank(${lib} rank)
    if(rank STREQUAL "")
      message(FATAL_ERROR "autopeft: library ${lib} has no rank in AUTOPEFT_RANKS (cmake/AutopeftTargets.cmake)")
    endif()
    get_target_property(uses_torch ${lib} AUTOPEFT_USES_TORCH)
    get_target_property(deps ${lib} LINK_LIBRARIES)
    if(NOT deps)
      set(deps "")
    endif()
    foreach(dep IN LISTS deps)
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" dep "${dep}")
      if(dep STREQUAL "torch" AND NOT uses_torch)
        message(FATAL_ERROR "autopeft: torch-free library ${lib} links LibTorch")
      endif()
      if(dep STREQUAL "PkgConfig::SPM")
        message(FATAL_ERROR "autopeft: ${lib} links sentencepiece; only model/spm's module may")
      endif()
      _autopeft_rank(${dep} dep_rank)
      if(NOT dep_rank STREQUAL "")
        if(NOT dep_rank LESS rank)
          message(FATAL_ERROR "autopeft: ${lib} (rank ${rank}) may not link ${dep} (rank ${dep_rank})")
        endif()
        get_target_property(dep_torch ${dep} AUTOPEFT_USES_TORCH)
        if(dep_torch AND NOT uses_torch)
          message(FATAL_ERROR "autopeft: torch-free library ${lib} links ${dep}, which uses LibTorch")
        endif()
      endif()
    endforeach()
  endforeach()
endfunction()
