// exp and tanh on the vector vocabulary (simd_avx2.h / simd_avx512.h), shared
// by the SIMD bodies of vec_simd.h and attention_tile_simd.h. Included inside
// an ISA-flagged file's namespace, after its vocabulary.
#ifndef ALIGNERS_SIMD_MATH
#define ALIGNERS_SIMD_MATH

// e^x: Cephes expf (range reduction by ln 2 in two parts, degree-6
// polynomial), within ~2 ulp of libm for x in [-87.3, 88]; below -87.3
// (incl. -inf) the result is 0 (libm gives a denormal), above 88 it is e^88.
inline vf vexp(vf x) {
    const vf lo = set1(-87.3365447504f);
    vf xc = vmax(vmin(x, set1(88.0f)), lo);
    vf n = round_nearest(mul(xc, set1(1.44269504088896341f)));
    vf r = fmadd(n, set1(-0.693359375f), xc);
    r = fmadd(n, set1(2.12194440e-4f), r);
    vf r2 = mul(r, r);
    vf p = set1(1.9875691500e-4f);
    p = fmadd(p, r, set1(1.3981999507e-3f));
    p = fmadd(p, r, set1(8.3334519073e-3f));
    p = fmadd(p, r, set1(4.1665795894e-2f));
    p = fmadd(p, r, set1(1.6666665459e-1f));
    p = fmadd(p, r, set1(5.0000001201e-1f));
    p = fmadd(p, r2, add(r, set1(1.0f)));
    return select_lt(x, lo, zero(), mul(p, pow2n(n)));
}

// tanh(x): the 13/6 rational minimax approximation Eigen uses (odd
// numerator, even denominator), clamped to [-9, 9] where tanh rounds to
// +-1. Relative error a few ulp, also near 0 (no 1 - 2/(e^2x+1) cancellation).
inline vf vtanh(vf x) {
    x = vmax(vmin(x, set1(9.0f)), set1(-9.0f));
    vf x2 = mul(x, x);
    vf p = set1(-2.76076847742355e-16f);
    p = fmadd(x2, p, set1(2.00018790482477e-13f));
    p = fmadd(x2, p, set1(-8.60467152213735e-11f));
    p = fmadd(x2, p, set1(5.12229709037114e-08f));
    p = fmadd(x2, p, set1(1.48572235717979e-05f));
    p = fmadd(x2, p, set1(6.37261928875436e-04f));
    p = fmadd(x2, p, set1(4.89352455891786e-03f));
    p = mul(x, p);
    vf q = set1(1.19825839466702e-06f);
    q = fmadd(x2, q, set1(1.18534705686654e-04f));
    q = fmadd(x2, q, set1(2.26843463243900e-03f));
    q = fmadd(x2, q, set1(4.89352518554385e-03f));
    return div(p, q);
}

#endif
