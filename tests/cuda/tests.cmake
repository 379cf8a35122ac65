# CUDA backend tests without a GPU: kernels/cuda/*.cu compiled by g++ against
# the SIMT emulator (tools/simt/) into aligners_cuda_emu, and a doctest binary
# (build/aligners_cuda_tests) that runs every kernel under the emulator and
# compares it with the CPU reference. Only CUDA's headers are needed (for
# __nv_bfloat16 and the cudart/cuBLASLt declarations); no CUDA library is linked.
find_path(ALIGNERS_CUDA_INCLUDE cuda_runtime.h
          HINTS ENV CUDA_HOME ENV CUDA_PATH /usr/local/cuda
          PATH_SUFFIXES include)
if(NOT ALIGNERS_CUDA_INCLUDE)
  message(WARNING "CUDA headers not found: the CUDA emulator tests are not built")
  return()
endif()

# One wrapper per .cu so g++ compiles it as C++ (a .cu is not a C++ file to g++).
file(GLOB ALIGNERS_CU_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/kernels/cuda/*.cu)
set(ALIGNERS_CU_WRAPPERS "")
foreach(cu ${ALIGNERS_CU_SOURCES})
  get_filename_component(cu_name ${cu} NAME_WE)
  set(wrapper ${CMAKE_BINARY_DIR}/cuda_emu/${cu_name}.cpp)
  file(CONFIGURE OUTPUT ${wrapper} CONTENT "// generated: ${cu} compiled by g++ against the SIMT emulator\n#include \"kernels/cuda/${cu_name}.cu\"\n")
  list(APPEND ALIGNERS_CU_WRAPPERS ${wrapper})
endforeach()

file(GLOB ALIGNERS_SIMT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tools/simt/*.cpp)
file(GLOB ALIGNERS_CUDA_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cuda/*.cpp)
# The NCCL emulation compiles against the real nccl.h (in the toolkit here;
# libnccl-dev elsewhere). Without it, the comm and its tests are left out.
find_path(ALIGNERS_NCCL_HEADER nccl.h HINTS ${ALIGNERS_CUDA_INCLUDE} ENV NCCL_ROOT PATH_SUFFIXES include)
if(NOT ALIGNERS_NCCL_HEADER)
  message(WARNING "nccl.h not found: the NCCL emulation and the data-parallel tests are not built")
  list(FILTER ALIGNERS_CU_WRAPPERS EXCLUDE REGEX "comm_nccl")
  list(FILTER ALIGNERS_SIMT_SOURCES EXCLUDE REGEX "simt_nccl")
  list(FILTER ALIGNERS_CUDA_TEST_SOURCES EXCLUDE REGEX "emu_nccl|emu_zero")
endif()
add_library(aligners_cuda_emu STATIC ${ALIGNERS_SIMT_SOURCES} ${ALIGNERS_CU_WRAPPERS})
target_include_directories(aligners_cuda_emu PUBLIC ${CMAKE_SOURCE_DIR})
target_include_directories(aligners_cuda_emu SYSTEM PUBLIC ${ALIGNERS_CUDA_INCLUDE})
if(ALIGNERS_NCCL_HEADER)
  target_include_directories(aligners_cuda_emu SYSTEM PUBLIC ${ALIGNERS_NCCL_HEADER})
endif()
target_compile_definitions(aligners_cuda_emu PUBLIC ALIGNERS_CUDA_EMU=1)
target_link_libraries(aligners_cuda_emu PUBLIC aligners_core)

add_executable(aligners_cuda_tests ${CMAKE_CURRENT_SOURCE_DIR}/test_main.cpp ${CMAKE_CURRENT_SOURCE_DIR}/test_util.cpp
               ${ALIGNERS_CUDA_TEST_SOURCES})
target_include_directories(aligners_cuda_tests PRIVATE ${DOCTEST_INCLUDE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(aligners_cuda_tests PRIVATE aligners_cuda_emu)
target_compile_definitions(aligners_cuda_tests PRIVATE
    ALIGNERS_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    ALIGNERS_BINARY_DIR="${CMAKE_BINARY_DIR}")
set_target_properties(aligners_cuda_tests PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
add_test(NAME cuda_emulator COMMAND aligners_cuda_tests)
