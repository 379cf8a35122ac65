// The vec.h kernels on AVX-512 (16 lanes): the vector vocabulary of
// vec_simd.h, then its bodies. Compiled with AVX-512 flags; reached only
// through vec_kernels() after cpu_path_supported(CpuPath::avx512).
// GCC 12's AVX-512 intrinsics pass _mm512_undefined_*() as the unused
// pass-through operand, which -Wuninitialized reports at every inlined use;
// the values are never read, so the warning is silenced for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/vec.h"

namespace aligners::cpu {
namespace vec_avx512 {

#include "kernels/cpu/simd_avx512.h"

#define ALIGNERS_VEC_SIMD_BODY
#include "kernels/cpu/vec_simd.h"
#undef ALIGNERS_VEC_SIMD_BODY

}  // namespace vec_avx512

const VecKernels kVecAvx512 = {
    vec_avx512::gelu_forward,      vec_avx512::gelu_backward, vec_avx512::swiglu_forward,
    vec_avx512::swiglu_backward,   vec_avx512::cross_entropy_row, vec_avx512::adamw,
    vec_avx512::sum_squares,       vec_avx512::dot,           vec_avx512::axpy,
    vec_avx512::scale,             vec_avx512::attn_pair_backward, vec_avx512::layernorm_row};

}  // namespace aligners::cpu
