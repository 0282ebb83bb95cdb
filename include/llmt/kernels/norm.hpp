// norm: rmsnorm and layernorm over one row (scalar reference and xsimd version), numerics as ggml
#pragma once

#include <llmt/config.hpp>
#include <llmt/simd/xsimd.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {

namespace ref {
/// y = x / sqrt(mean(x²) + eps) [* w]. Squares in float, summed in double, then 1/sqrtf (as ggml_rms_norm + ggml_mul).
inline void rmsnorm(float* y, const float* x, const float* w, std::int64_t n, float eps) {
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += double(x[i] * x[i]);
    const float mean = n > 0 ? float(sum / double(n)) : 0.0f;
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (std::int64_t i = 0; i < n; ++i) y[i] = w ? (x[i] * scale) * w[i] : x[i] * scale;
}

/// y = (x - mean) / sqrt(var + eps) [* w] [+ b] (as ggml_norm, then ggml_mul and ggml_add).
inline void layernorm(float* y, const float* x, const float* w, const float* b, std::int64_t n, float eps) {
    if (n <= 0) return;
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += double(x[i]);
    const float mean = float(sum / double(n));
    double sum2 = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = x[i] - mean;
        y[i] = v;
        sum2 += double(v * v);
    }
    const float scale = 1.0f / std::sqrt(float(sum2 / double(n)) + eps);
    for (std::int64_t i = 0; i < n; ++i) {
        float v = y[i] * scale;
        if (w) v *= w[i];
        if (b) v += b[i];
        y[i] = v;
    }
}
}  // namespace ref

#if LLMT_HAS_XSIMD
namespace vec {
template <typename A = simd::arch>
void rmsnorm(float* y, const float* x, const float* w, std::int64_t n, float eps) {
    using b_t = xsimd::batch<float, A>;
    constexpr std::int64_t N = b_t::size;
    b_t acc0(0.0f), acc1(0.0f);
    std::int64_t i = 0;
    for (; i + 2 * N <= n; i += 2 * N) {
        const auto v0 = b_t::load_unaligned(x + i), v1 = b_t::load_unaligned(x + i + N);
        acc0 = xsimd::fma(v0, v0, acc0);
        acc1 = xsimd::fma(v1, v1, acc1);
    }
    for (; i + N <= n; i += N) {
        const auto v = b_t::load_unaligned(x + i);
        acc0 = xsimd::fma(v, v, acc0);
    }
    float sum = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) sum += x[i] * x[i];
    const float mean = n > 0 ? sum / float(n) : 0.0f;
    const float scale = 1.0f / std::sqrt(mean + eps);
    const b_t vs(scale);
    i = 0;
    if (w) {
        for (; i + N <= n; i += N) (b_t::load_unaligned(x + i) * vs * b_t::load_unaligned(w + i)).store_unaligned(y + i);
        for (; i < n; ++i) y[i] = (x[i] * scale) * w[i];
    } else {
        for (; i + N <= n; i += N) (b_t::load_unaligned(x + i) * vs).store_unaligned(y + i);
        for (; i < n; ++i) y[i] = x[i] * scale;
    }
}

template <typename A = simd::arch>
void layernorm(float* y, const float* x, const float* w, const float* b, std::int64_t n, float eps) {
    using b_t = xsimd::batch<float, A>;
    constexpr std::int64_t N = b_t::size;
    if (n <= 0) return;
    b_t acc(0.0f);
    std::int64_t i = 0;
    for (; i + N <= n; i += N) acc += b_t::load_unaligned(x + i);
    float sum = xsimd::hadd(acc);
    for (; i < n; ++i) sum += x[i];
    const float mean = sum / float(n);
    const b_t vm(mean);
    acc = b_t(0.0f);
    for (i = 0; i + N <= n; i += N) {
        const auto v = b_t::load_unaligned(x + i) - vm;
        v.store_unaligned(y + i);
        acc = xsimd::fma(v, v, acc);
    }
    float sum2 = xsimd::hadd(acc);
    for (; i < n; ++i) {
        const float v = x[i] - mean;
        y[i] = v;
        sum2 += v * v;
    }
    const float scale = 1.0f / std::sqrt(sum2 / float(n) + eps);
    const b_t vs(scale);
    for (i = 0; i + N <= n; i += N) {
        auto v = b_t::load_unaligned(y + i) * vs;
        if (w) v *= b_t::load_unaligned(w + i);
        if (b) v += b_t::load_unaligned(b + i);
        v.store_unaligned(y + i);
    }
    for (; i < n; ++i) {
        float v = y[i] * scale;
        if (w) v *= w[i];
        if (b) v += b[i];
        y[i] = v;
    }
}
}  // namespace vec
#endif

/// RMS norm of one row of n values; w (gain, [n]) may be null. y may alias x.
inline void rmsnorm(float* y, const float* x, const float* w, std::int64_t n, float eps) {
#if LLMT_HAS_XSIMD
    vec::rmsnorm(y, x, w, n, eps);
#else
    ref::rmsnorm(y, x, w, n, eps);
#endif
}

/// Layer norm of one row of n values; w (gain) and b (bias) may be null. y may alias x.
inline void layernorm(float* y, const float* x, const float* w, const float* b, std::int64_t n, float eps) {
#if LLMT_HAS_XSIMD
    vec::layernorm(y, x, w, b, n, eps);
#else
    ref::layernorm(y, x, w, b, n, eps);
#endif
}

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
