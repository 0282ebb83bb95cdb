// x86: target attributes for run-time dispatched kernels and raw-intrinsic building blocks xsimd 8.1 lacks
#pragma once

#include <llmt/config.hpp>
#include <llmt/simd/diagnostics.hpp>

#if LLMT_HAS_X86_64 && (defined(__GNUC__) || defined(__clang__))
#define LLMT_HAS_X86_KERNELS 1
#include <immintrin.h>
#else
#define LLMT_HAS_X86_KERNELS 0
#endif

#if LLMT_HAS_X86_KERNELS

// Functions carrying these attributes may use the instruction set whatever the compile flags, so
// one binary holds every path; our CPU detection (simd/cpu.hpp) decides which one runs.
#define LLMT_TARGET_AVX2 __attribute__((target("avx2,fma,f16c,bmi,bmi2,popcnt")))
#define LLMT_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c,bmi,bmi2,popcnt")))
#define LLMT_INLINE_AVX2 LLMT_TARGET_AVX2 inline __attribute__((always_inline))
#define LLMT_INLINE_AVX512 LLMT_TARGET_AVX512 inline __attribute__((always_inline))

#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace simd::x86 {

// ---- AVX2 ----

/// Sum of the 8 lanes, in a fixed order: (lo128 + hi128), then pairs.
LLMT_INLINE_AVX2 float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Σ over groups of 4 bytes of u8(a) · s8(b), as 8 int32 lanes (maddubs pairs must not saturate:
/// |a·b + a'·b'| < 32768, true for a ≤ 127 or for 4..6-bit a).
LLMT_INLINE_AVX2 __m256i dot_u8s8(__m256i a, __m256i b) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}
/// Same for signed a (|a| ≤ 127): the sign of a moves onto b.
LLMT_INLINE_AVX2 __m256i dot_s8s8(__m256i a, __m256i b) {
    return dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}
/// One f16 scale → 8 equal float lanes.
LLMT_INLINE_AVX2 __m256 broadcast_f16(std::uint16_t h) {
    return _mm256_set1_ps(_mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))));
}

// ---- AVX-512 ----

/// Sum of the 16 lanes in a fixed order (halving tree).
LLMT_INLINE_AVX512 float hsum(__m512 v) {
    const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    return hsum(s);
}
LLMT_INLINE_AVX512 __m512i dot_u8s8(__m512i a, __m512i b) {
    return _mm512_madd_epi16(_mm512_maddubs_epi16(a, b), _mm512_set1_epi16(1));
}
/// acc + Σ over groups of 4 bytes of u8(a) · s8(b), exact (vpdpbusd). The instruction is emitted
/// with inline assembly when the compile flags lack AVX512-VNNI, so this dispatched path needs no flags.
LLMT_INLINE_AVX512 __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
#if defined(__AVX512VNNI__)
    return _mm512_dpbusd_epi32(acc, a, b);
#else
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
#endif
}
/// acc + Σ over pairs of s16(a) · s16(b) (vpdpwssd), as dpbusd.
LLMT_INLINE_AVX512 __m512i dpwssd(__m512i acc, __m512i a, __m512i b) {
#if defined(__AVX512VNNI__)
    return _mm512_dpwssd_epi32(acc, a, b);
#else
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
#endif
}
/// Two f16 scales → [h0 ×8 | h1 ×8] as floats.
LLMT_INLINE_AVX512 __m512 scales_2x8(std::uint16_t h0, std::uint16_t h1) {
    const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(int(std::uint32_t(h0) | std::uint32_t(h1) << 16)));
    const __m512i idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(f));
}
/// Two floats → [f0 ×8 | f1 ×8].
LLMT_INLINE_AVX512 __m512 floats_2x8(float f0, float f1) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(f0)), _mm256_set1_ps(f1), 1);
}

}  // namespace simd::x86
LLMT_END_NAMESPACE

#endif  // LLMT_HAS_X86_KERNELS
