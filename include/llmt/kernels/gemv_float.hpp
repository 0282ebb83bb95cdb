// gemv_float: AVX-512 decode kernel (one token, many rows) for f16 weights: 8 rows per pass, prefetch, F16C activation rounding
#pragma once

#include <llmt/config.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/quant/f16.hpp>
#include <llmt/simd/x86.hpp>

#include <cstddef>
#include <cstdint>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace gemvf {

/// Bytes ahead of the current column at which each row stream is prefetched. f16 rows are long (8 KiB
/// for 4096 columns) and the hardware streamer follows them; prefetching the next group of rows, as
/// the quantized kernels do, measured 5-7% slower here.
inline constexpr std::size_t prefetch_ahead = 512;

/// prepare_float<f16> (kernels/act.hpp) with F16C: x rounded to f16 (nearest even, as to_fp16) and back, stored as floats.
LLMT_TARGET_AVX512 inline void prepare_f16(const float* x, std::byte* out, std::int64_t k) {
    auto* y = reinterpret_cast<float*>(out);
    std::int64_t i = 0;
    for (; i + 16 <= k; i += 16)
        _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    if (i < k) {
        const __mmask16 m = __mmask16((1u << (k - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, m,
                              _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    }
}

/// Rows [0, NR): per row one 16-lane accumulator over columns in order, masked tail, one horizontal sum
/// (the operations of floatk::tile_avx512 for one token, so decode and batched results agree bit for bit).
template <int NR>
LLMT_TARGET_AVX512 void f16_rows(const gemm_args& g) {
    __m512 acc[NR];
    const fp16_t* w[NR];
    for (int r = 0; r < NR; ++r) {
        acc[r] = _mm512_setzero_ps();
        w[r] = reinterpret_cast<const fp16_t*>(g.w + std::size_t(r) * g.w_stride);
    }
    const float* a = reinterpret_cast<const float*>(g.a);
    const std::int64_t k32 = g.k & ~std::int64_t(31), k16 = g.k & ~std::int64_t(15);
    std::int64_t i = 0;
    for (; i < k32; i += 32) {
        const __m512 a0 = _mm512_loadu_ps(a + i), a1 = _mm512_loadu_ps(a + i + 16);
        for (int r = 0; r < NR; ++r) {
            _mm_prefetch(reinterpret_cast<const char*>(w[r] + i) + prefetch_ahead, _MM_HINT_T0);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r] + i))), a0, acc[r]);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r] + i + 16))), a1, acc[r]);
        }
    }
    for (; i < k16; i += 16) {
        const __m512 av = _mm512_loadu_ps(a + i);
        for (int r = 0; r < NR; ++r)
            acc[r] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r] + i))), av, acc[r]);
    }
    if (k16 < g.k) {
        const __mmask16 m = __mmask16((1u << (g.k - k16)) - 1u);
        const __m512 av = _mm512_maskz_loadu_ps(m, a + k16);
        for (int r = 0; r < NR; ++r) acc[r] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w[r] + k16)), av, acc[r]);
    }
    for (int r = 0; r < NR; ++r) g.y[r] = simd::x86::hsum(acc[r]);
}

}  // namespace gemvf

template <>
struct gemv_impl<quant::f16, simd::isa::avx512> {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return float_act_bytes<quant::f16>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { gemvf::prepare_f16(x, out, k); }
    static void gemv(const gemm_args& g0, std::int64_t nr) {
        gemm_args g = g0;
        std::int64_t r = 0;
        for (; r + 8 <= nr; r += 8) {
            g.w = g0.w + std::size_t(r) * g0.w_stride;
            g.y = g0.y + r;
            gemvf::f16_rows<8>(g);
        }
        for (; r < nr; ++r) {
            g.w = g0.w + std::size_t(r) * g0.w_stride;
            g.y = g0.y + r;
            gemvf::f16_rows<1>(g);
        }
    }
};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
