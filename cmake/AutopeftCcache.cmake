# Use ccache when it is installed (CCACHE_DISABLE=1 in the environment turns it off at run time).
find_program(AUTOPEFT_CCACHE ccache)
if(AUTOPEFT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER ${AUTOPEFT_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${AUTOPEFT_CCACHE})
  message(STATUS "autopeft: compiling through ${AUTOPEFT_CCACHE}")
endif()
