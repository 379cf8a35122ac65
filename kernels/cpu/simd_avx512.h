// The AVX-512 (16 lanes) vector vocabulary the SIMD bodies are written
// against (vec_simd.h, simd_math.h, attention_tile_simd.h): W, vf, vd and the
// one-line wrappers listed in vec_simd.h. Included inside the namespace of an
// AVX-512-flagged file (vec_avx512.cpp, attention_tile_avx512.cpp) only: each
// file keeps its own copies, so no AVX-512 code can leak into the portable path.
// The includer silences GCC 12's -Wuninitialized (see vec_avx512.cpp).
#ifndef ALIGNERS_SIMD_AVX512_VOCAB
#define ALIGNERS_SIMD_AVX512_VOCAB

constexpr int W = 16;
using vf = __m512;
using vd = __m512d;

inline vf load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, vf v) { _mm512_storeu_ps(p, v); }
inline vf set1(float x) { return _mm512_set1_ps(x); }
inline vf zero() { return _mm512_setzero_ps(); }
inline vf add(vf a, vf b) { return _mm512_add_ps(a, b); }
inline vf sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
inline vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
inline vf div(vf a, vf b) { return _mm512_div_ps(a, b); }
inline vf fmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
inline vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
inline vf round_nearest(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline vf pow2n(vf n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
}
inline vf select_lt(vf x, vf t, vf a, vf b) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, t, _CMP_LT_OQ), b, a); }
// Fixed trees over the lanes (deterministic); maskz_ forms because the plain
// ones use _mm512_undefined_ps, which trips GCC 12's -Wuninitialized.
inline __m256 fold256(vf v) {
    return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(v), 1));
}
inline float hsum(vf v) {
    __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), fold256(v));
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}
inline float hmax(vf v) {
    __m256 s = _mm256_max_ps(_mm512_castps512_ps256(v), fold256(v));
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}
inline vd dzero() { return _mm512_setzero_pd(); }
inline vd dset1(double x) { return _mm512_set1_pd(x); }
inline vd dadd(vd a, vd b) { return _mm512_add_pd(a, b); }
inline vd dsub(vd a, vd b) { return _mm512_sub_pd(a, b); }
inline vd dfmadd(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
inline double dhsum(vd v) {
    __m256d s = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_maskz_extractf64x4_pd(0xF, v, 1));
    __m128d x = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    x = _mm_add_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}
inline vd to_d_lo(vf x) { return _mm512_cvtps_pd(_mm512_castps512_ps256(x)); }
inline vd to_d_hi(vf x) { return _mm512_cvtps_pd(fold256(x)); }

#endif
