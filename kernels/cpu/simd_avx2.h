// The AVX2/FMA (8 lanes) vector vocabulary the SIMD bodies are written
// against (vec_simd.h, simd_math.h, attention_tile_simd.h): W, vf, vd and the
// one-line wrappers listed in vec_simd.h. Included inside the namespace of an
// AVX2-flagged file (vec_avx2.cpp, attention_tile_avx2.cpp) only: each file
// keeps its own copies, so no AVX2 code can leak into the portable path.
#ifndef ALIGNERS_SIMD_AVX2_VOCAB
#define ALIGNERS_SIMD_AVX2_VOCAB

constexpr int W = 8;
using vf = __m256;
using vd = __m256d;

inline vf load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, vf v) { _mm256_storeu_ps(p, v); }
inline vf set1(float x) { return _mm256_set1_ps(x); }
inline vf zero() { return _mm256_setzero_ps(); }
inline vf add(vf a, vf b) { return _mm256_add_ps(a, b); }
inline vf sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
inline vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
inline vf div(vf a, vf b) { return _mm256_div_ps(a, b); }
inline vf fmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
inline vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
inline vf round_nearest(vf a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vf pow2n(vf n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
}
inline vf select_lt(vf x, vf t, vf a, vf b) { return _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, t, _CMP_LT_OQ)); }
inline float hsum(vf v) {  // fixed tree over the lanes
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}
inline float hmax(vf v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}
inline vd dzero() { return _mm256_setzero_pd(); }
inline vd dset1(double x) { return _mm256_set1_pd(x); }
inline vd dadd(vd a, vd b) { return _mm256_add_pd(a, b); }
inline vd dsub(vd a, vd b) { return _mm256_sub_pd(a, b); }
inline vd dfmadd(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }
inline double dhsum(vd v) {
    __m128d x = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    x = _mm_add_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}
inline vd to_d_lo(vf x) { return _mm256_cvtps_pd(_mm256_castps256_ps128(x)); }
inline vd to_d_hi(vf x) { return _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)); }

#endif
