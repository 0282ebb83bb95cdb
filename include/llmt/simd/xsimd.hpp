// xsimd: the xsimd 8.1 include, the compile-time arch llmt's f32 kernels use, and small shims 8.1 lacks
#pragma once

#include <llmt/config.hpp>
#include <llmt/simd/diagnostics.hpp>

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstddef>

#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#define LLMT_HAS_XSIMD 0
#else
#define LLMT_HAS_XSIMD 1
#endif

LLMT_BEGIN_NAMESPACE
namespace simd {

#if LLMT_HAS_XSIMD
/// The best instruction set enabled by the compile flags (avx512bw with -march=native here).
using arch = xsimd::default_arch;

/// Horizontal maximum (xsimd 8.1 has hadd but no reduce_max).
template <typename T, typename A>
inline T hmax(const xsimd::batch<T, A>& v) noexcept {
    alignas(64) T buf[xsimd::batch<T, A>::size];
    v.store_aligned(buf);
    T m = buf[0];
    for (std::size_t i = 1; i < xsimd::batch<T, A>::size; ++i) m = std::max(m, buf[i]);
    return m;
}
#endif

}  // namespace simd
LLMT_END_NAMESPACE
