// gemm_float: AVX2 and AVX-512 tiles for f32, f16 and bf16 weights (converted to f32 in registers, FMA against f32 activations)
#pragma once

#include <llmt/config.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/quant/bf16.hpp>
#include <llmt/quant/f16.hpp>
#include <llmt/quant/f32.hpp>
#include <llmt/simd/x86.hpp>

#include <cstdint>
#include <cstring>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace floatk {

template <typename F>
struct load;
template <>
struct load<quant::f32> {
    using B = float;
    LLMT_INLINE_AVX2 static __m256 l8(const B* p) { return _mm256_loadu_ps(p); }
    LLMT_INLINE_AVX512 static __m512 l16(const B* p) { return _mm512_loadu_ps(p); }
    LLMT_INLINE_AVX512 static __m512 l16(const B* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
template <>
struct load<quant::f16> {
    using B = fp16_t;
    LLMT_INLINE_AVX2 static __m256 l8(const B* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    LLMT_INLINE_AVX512 static __m512 l16(const B* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    LLMT_INLINE_AVX512 static __m512 l16(const B* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
};
template <>
struct load<quant::bf16> {
    using B = bf16_t;
    LLMT_INLINE_AVX2 static __m256 l8(const B* p) {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
    }
    LLMT_INLINE_AVX512 static __m512 l16(const B* p) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
    }
    LLMT_INLINE_AVX512 static __m512 l16(const B* p, __mmask16 m) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
    }
};

template <typename F, int NR, int NC>
LLMT_TARGET_AVX2 void tile_avx2(const gemm_args& g) {
    using B = typename load<F>::B;
    __m256 acc[NR][NC];
    for (int r = 0; r < NR; ++r)
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_setzero_ps();
    const B* w[NR];
    const float* a[NC];
    for (int r = 0; r < NR; ++r) w[r] = reinterpret_cast<const B*>(g.w + std::size_t(r) * g.w_stride);
    for (int c = 0; c < NC; ++c) a[c] = reinterpret_cast<const float*>(g.a + std::size_t(c) * g.a_stride);
    const std::int64_t k8 = g.k & ~std::int64_t(7);
    for (std::int64_t i = 0; i < k8; i += 8) {
        __m256 wv[NR];
        for (int r = 0; r < NR; ++r) wv[r] = load<F>::l8(w[r] + i);
        for (int c = 0; c < NC; ++c) {
            const __m256 av = _mm256_loadu_ps(a[c] + i);
            for (int r = 0; r < NR; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], av, acc[r][c]);
        }
    }
    if (k8 < g.k) {  // tail: copied into zero-filled registers
        const int rem = int(g.k - k8);
        __m256 wv[NR];
        for (int r = 0; r < NR; ++r) {
            B buf[8] = {};
            std::memcpy(buf, w[r] + k8, sizeof(B) * std::size_t(rem));
            wv[r] = load<F>::l8(buf);
        }
        for (int c = 0; c < NC; ++c) {
            float buf[8] = {};
            std::memcpy(buf, a[c] + k8, sizeof(float) * std::size_t(rem));
            const __m256 av = _mm256_loadu_ps(buf);
            for (int r = 0; r < NR; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], av, acc[r][c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int r = 0; r < NR; ++r) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][c]);
}

template <typename F, int NR, int NC>
LLMT_TARGET_AVX512 void tile_avx512(const gemm_args& g) {
    using B = typename load<F>::B;
    __m512 acc[NR][NC];
    for (int r = 0; r < NR; ++r)
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_setzero_ps();
    const B* w[NR];
    const float* a[NC];
    for (int r = 0; r < NR; ++r) w[r] = reinterpret_cast<const B*>(g.w + std::size_t(r) * g.w_stride);
    for (int c = 0; c < NC; ++c) a[c] = reinterpret_cast<const float*>(g.a + std::size_t(c) * g.a_stride);
    const std::int64_t k16 = g.k & ~std::int64_t(15);
    for (std::int64_t i = 0; i < k16; i += 16) {
        __m512 wv[NR];
        for (int r = 0; r < NR; ++r) wv[r] = load<F>::l16(w[r] + i);
        for (int c = 0; c < NC; ++c) {
            const __m512 av = _mm512_loadu_ps(a[c] + i);
            for (int r = 0; r < NR; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], av, acc[r][c]);
        }
    }
    if (k16 < g.k) {
        const __mmask16 m = __mmask16((1u << (g.k - k16)) - 1u);
        __m512 wv[NR];
        for (int r = 0; r < NR; ++r) wv[r] = load<F>::l16(w[r] + k16, m);
        for (int c = 0; c < NC; ++c) {
            const __m512 av = _mm512_maskz_loadu_ps(m, a[c] + k16);
            for (int r = 0; r < NR; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], av, acc[r][c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int r = 0; r < NR; ++r) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][c]);
}

template <typename F>
inline constexpr bool covered = false;
template <> inline constexpr bool covered<quant::f32> = true;
template <> inline constexpr bool covered<quant::f16> = true;
template <> inline constexpr bool covered<quant::bf16> = true;

template <typename F>
struct impl_base {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return float_act_bytes<typename F::vec_dot_type>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { prepare_float<typename F::vec_dot_type>(x, out, k); }
};
}  // namespace floatk

template <typename F>
    requires floatk::covered<F>
struct gemm_impl<F, simd::isa::avx2> : floatk::impl_base<F> {
    static constexpr int mr = 4, nc = 2;
    template <int NR, int NC>
    static void tile(const gemm_args& g) { floatk::tile_avx2<F, NR, NC>(g); }
};
template <typename F>
    requires floatk::covered<F>
struct gemm_impl<F, simd::isa::avx512> : floatk::impl_base<F> {
    static constexpr int mr = 4, nc = 4;
    template <int NR, int NC>
    static void tile(const gemm_args& g) { floatk::tile_avx512<F, NR, NC>(g); }
};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
