// The attention tile kernels on AVX-512: register blocks of 4 rows x 64
// columns (16 accumulators of 16 lanes). Compiled with AVX-512 flags; reached
// only through attn_tile_kernels() after cpu_path_supported(CpuPath::avx512).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/attention_tile.h"

namespace aligners::cpu {
namespace attn_tile_avx512 {

#include "kernels/cpu/simd_avx512.h"

constexpr int kMR = 6, kNV = 4;

#define ALIGNERS_ATTN_TILE_SIMD_BODY
#include "kernels/cpu/attention_tile_simd.h"
#undef ALIGNERS_ATTN_TILE_SIMD_BODY

}  // namespace attn_tile_avx512

const AttnTileKernels kAttnTileAvx512 = {attn_tile_avx512::mm, attn_tile_avx512::exp_sub,
                                         attn_tile_avx512::row_max, attn_tile_avx512::softcap, attn_tile_avx512::ds_row};

}  // namespace aligners::cpu
