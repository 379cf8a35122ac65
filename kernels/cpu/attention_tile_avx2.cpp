// The attention tile kernels on AVX2/FMA: register blocks of 4 rows x 16
// columns (8 accumulators of 8 lanes; 16 ymm registers in all). Compiled with
// AVX2 flags; reached only through attn_tile_kernels() after
// cpu_path_supported(CpuPath::avx2).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/attention_tile.h"

namespace aligners::cpu {
namespace attn_tile_avx2 {

#include "kernels/cpu/simd_avx2.h"

constexpr int kMR = 4, kNV = 2;

#define ALIGNERS_ATTN_TILE_SIMD_BODY
#include "kernels/cpu/attention_tile_simd.h"
#undef ALIGNERS_ATTN_TILE_SIMD_BODY

}  // namespace attn_tile_avx2

const AttnTileKernels kAttnTileAvx2 = {attn_tile_avx2::mm, attn_tile_avx2::exp_sub, attn_tile_avx2::row_max,
                                       attn_tile_avx2::softcap, attn_tile_avx2::ds_row};

}  // namespace aligners::cpu
