// AdamW's element loop with AVX2 (8 floats per step): same operations in the
// same order as the portable loop in adamw.cpp (sqrt and division are
// correctly rounded in both), so both paths give identical results. Called
// only when cpu_path() >= avx2.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace aligners::cpu {

void adamw_range_avx2(float* __restrict param, const float* __restrict grad, float* __restrict m,
                      float* __restrict v, int64_t i0, int64_t i1, float decay, float beta1, float beta2,
                      float step_size, float bc2_sqrt, float eps, float grad_scale) {
    const __m256 vdecay = _mm256_set1_ps(decay), vb1 = _mm256_set1_ps(1.0f - beta1), vb2 = _mm256_set1_ps(beta2),
                 v1b2 = _mm256_set1_ps(1.0f - beta2), vstep = _mm256_set1_ps(step_size),
                 vbc2 = _mm256_set1_ps(bc2_sqrt), veps = _mm256_set1_ps(eps), vscale = _mm256_set1_ps(grad_scale);
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256 g = _mm256_mul_ps(_mm256_loadu_ps(grad + i), vscale);
        __m256 p = _mm256_mul_ps(_mm256_loadu_ps(param + i), vdecay);
        __m256 mi = _mm256_loadu_ps(m + i);
        mi = _mm256_add_ps(mi, _mm256_mul_ps(_mm256_sub_ps(g, mi), vb1));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), vb2), _mm256_mul_ps(_mm256_mul_ps(v1b2, g), g));
        __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vbc2), veps);
        p = _mm256_sub_ps(p, _mm256_mul_ps(vstep, _mm256_div_ps(mi, denom)));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(param + i, p);
    }
    for (; i < i1; ++i) {
        float g = grad[i] * grad_scale;
        float p = param[i] * decay;
        m[i] = m[i] + (g - m[i]) * (1.0f - beta1);
        v[i] = v[i] * beta2 + (1.0f - beta2) * g * g;
        float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
        param[i] = p - step_size * (m[i] / denom);
    }
}

}  // namespace aligners::cpu
