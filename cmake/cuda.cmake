# The real CUDA backend: kernels/cuda/*.cu compiled by nvcc for sm_80 and sm_90,
# linked against cudart and cuBLASLt (cuDNN and NCCL when the backend uses them).
# The same .cu sources are also compiled by g++ against the SIMT emulator for
# the tests (see tests/cuda/), so nothing here is needed to test the kernels.
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 20)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_ARCHITECTURES 80 90)

file(GLOB ALIGNERS_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/kernels/cuda/*.cu)
add_library(aligners_cuda STATIC ${ALIGNERS_CUDA_SOURCES})
target_include_directories(aligners_cuda PUBLIC ${CMAKE_SOURCE_DIR})
target_compile_options(aligners_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo>)
target_link_libraries(aligners_cuda PUBLIC CUDA::cudart CUDA::cublasLt CUDA::cublas aligners_core)
target_compile_definitions(aligners_cuda PUBLIC ALIGNERS_WITH_CUDA=1)
