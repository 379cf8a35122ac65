# The real CUDA backend: kernels/cuda/*.cu compiled by nvcc for sm_80 and sm_90,
# linked against cudart, cuBLASLt/cuBLAS and cuDNN. The same .cu sources are
# also compiled by g++ against the SIMT emulator for the tests (see
# tests/cuda/tests.cmake and tools/simt/), so nothing here is needed to test
# the kernels.
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
# CMake 3.25 predates nvcc 13 and does not know its C++20 flag (the CUDA
# standard follows the project's CXX_STANDARD 20 and generation fails): tell it.
if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
set(CMAKE_CUDA_STANDARD 20)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_ARCHITECTURES 80 90)

# cuDNN ships with the toolkit here (or under CUDNN_ROOT / the pip wheel layout).
find_path(ALIGNERS_CUDNN_INCLUDE cudnn.h HINTS ENV CUDNN_ROOT ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
find_library(ALIGNERS_CUDNN_LIB cudnn HINTS ENV CUDNN_ROOT ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
if(NOT ALIGNERS_CUDNN_INCLUDE OR NOT ALIGNERS_CUDNN_LIB)
  message(FATAL_ERROR "cuDNN not found (cudnn.h / libcudnn): install it or set CUDNN_ROOT")
endif()

# NCCL (data-parallel training, kernels/cuda/comm_nccl.cu): in the toolkit
# here, else under NCCL_ROOT (libnccl-dev or the pip wheel layout).
find_path(ALIGNERS_NCCL_INCLUDE nccl.h HINTS ENV NCCL_ROOT ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
find_library(ALIGNERS_NCCL_LIB nccl HINTS ENV NCCL_ROOT ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}
             PATH_SUFFIXES lib lib64)
if(NOT ALIGNERS_NCCL_INCLUDE OR NOT ALIGNERS_NCCL_LIB)
  message(FATAL_ERROR "NCCL not found (nccl.h / libnccl): install it or set NCCL_ROOT")
endif()

file(GLOB ALIGNERS_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/kernels/cuda/*.cu)
add_library(aligners_cuda STATIC ${ALIGNERS_CUDA_SOURCES})
# The project-wide add_compile_options() are g++ flags: nvcc gets them through
# -Xcompiler instead.
set_property(TARGET aligners_cuda PROPERTY COMPILE_OPTIONS "")
string(REPLACE ";" "," ALIGNERS_NVCC_HOST_FLAGS "${ALIGNERS_BASE_FLAGS}")
target_compile_options(aligners_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo -Xcompiler=${ALIGNERS_NVCC_HOST_FLAGS}>)
target_include_directories(aligners_cuda PUBLIC ${CMAKE_SOURCE_DIR})
target_include_directories(aligners_cuda SYSTEM PUBLIC ${ALIGNERS_CUDNN_INCLUDE} ${ALIGNERS_NCCL_INCLUDE})
target_link_libraries(aligners_cuda PUBLIC CUDA::cudart CUDA::cublasLt CUDA::cublas ${ALIGNERS_CUDNN_LIB}
                      ${ALIGNERS_NCCL_LIB} aligners_core)
target_compile_definitions(aligners_cuda PUBLIC ALIGNERS_WITH_CUDA=1)
