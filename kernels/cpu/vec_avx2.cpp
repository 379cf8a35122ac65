// The vec.h kernels on AVX2/FMA (8 lanes): the vector vocabulary of
// vec_simd.h, then its bodies. Compiled with AVX2 flags; reached only through
// vec_kernels() after cpu_path_supported(CpuPath::avx2).
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/vec.h"

namespace aligners::cpu {
namespace vec_avx2 {

#include "kernels/cpu/simd_avx2.h"

#define ALIGNERS_VEC_SIMD_BODY
#include "kernels/cpu/vec_simd.h"
#undef ALIGNERS_VEC_SIMD_BODY

}  // namespace vec_avx2

const VecKernels kVecAvx2 = {
    vec_avx2::gelu_forward,    vec_avx2::gelu_backward,     vec_avx2::swiglu_forward,
    vec_avx2::swiglu_backward, vec_avx2::cross_entropy_row, vec_avx2::adamw,
    vec_avx2::sum_squares,     vec_avx2::dot,               vec_avx2::axpy,
    vec_avx2::scale,           vec_avx2::attn_pair_backward, vec_avx2::layernorm_row};

}  // namespace aligners::cpu
