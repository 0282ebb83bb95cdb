// softmax: in-place, max-subtracted softmax over one row (scalar reference and xsimd version)
#pragma once

#include <llmt/config.hpp>
#include <llmt/simd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {

namespace ref {
/// x = exp(x - max) / Σ exp(x - max); the sum in double, as ggml_soft_max.
inline void softmax(float* x, std::int64_t n) {
    if (n <= 0) return;
    float mx = -std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += double(x[i] = std::exp(x[i] - mx));
    const float scale = float(1.0 / sum);
    for (std::int64_t i = 0; i < n; ++i) x[i] *= scale;
}
}  // namespace ref

#if LLMT_HAS_XSIMD
namespace vec {
template <typename A = simd::arch>
void softmax(float* x, std::int64_t n) {
    using b_t = xsimd::batch<float, A>;
    constexpr std::int64_t N = b_t::size;
    if (n <= 0) return;
    float mx = -std::numeric_limits<float>::infinity();
    std::int64_t i = 0;
    if (n >= N) {
        b_t vmx = b_t::load_unaligned(x);
        for (i = N; i + N <= n; i += N) vmx = xsimd::max(vmx, b_t::load_unaligned(x + i));
        mx = simd::hmax(vmx);
    }
    for (; i < n; ++i) mx = std::max(mx, x[i]);
    const b_t vmax(mx);
    b_t acc(0.0f);
    for (i = 0; i + N <= n; i += N) {
        const auto e = xsimd::exp(b_t::load_unaligned(x + i) - vmax);
        e.store_unaligned(x + i);
        acc += e;
    }
    double sum = double(xsimd::hadd(acc));
    for (; i < n; ++i) sum += double(x[i] = std::exp(x[i] - mx));
    const float scale = float(1.0 / sum);
    const b_t vs(scale);
    for (i = 0; i + N <= n; i += N) (b_t::load_unaligned(x + i) * vs).store_unaligned(x + i);
    for (; i < n; ++i) x[i] *= scale;
}
}  // namespace vec
#endif

/// In-place softmax of n values.
inline void softmax(float* x, std::int64_t n) {
#if LLMT_HAS_XSIMD
    vec::softmax(x, n);
#else
    ref::softmax(x, n);
#endif
}

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
