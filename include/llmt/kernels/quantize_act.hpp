// quantize_act: AVX-512 f32 → q8_0 / q8_K conversion of one token, bit-identical to the reference quantizers
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/simd/x86.hpp>

#include <cstdint>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace qact {

/// roundf(v) (half away from zero) lane-wise: truncate, then step away from zero when the dropped part is ≥ 0.5.
LLMT_INLINE_AVX512 __m512i round_away(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));  // exact
    const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 one = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_set1_ps(1.0f)),
                                                           _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(std::int32_t(0x80000000u)))));
    return _mm512_cvttps_epi32(_mm512_mask_add_ps(t, up, t, one));
}

/// quant::q8_0::quantize_row: d = max|x| / 127, q = roundf(x / d), for k a multiple of 32.
LLMT_TARGET_AVX512 inline void quantize_q8_0(const float* x, quant::block_q8_0* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / 32; ++b, x += 32) {
        const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float d = amax / 127.0f;
        const float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = to_fp16(d);
        const __m512 s = _mm512_set1_ps(id);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs), _mm512_cvtepi32_epi8(round_away(_mm512_mul_ps(v0, s))));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16), _mm512_cvtepi32_epi8(round_away(_mm512_mul_ps(v1, s))));
    }
}

/// quant::q8_k::quantize_row: the first value of largest magnitude maps to -127, q = nearest (ties to even)
/// capped at 127, 16-value sums, for k a multiple of 256.
LLMT_TARGET_AVX512 inline void quantize_q8_k(const float* x, quant::block_q8_k* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / quant::qk_k; ++b, x += quant::qk_k) {
        __m512 m = _mm512_setzero_ps();
        for (int i = 0; i < quant::qk_k; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
        const float amax = _mm512_reduce_max_ps(m);
        quant::block_q8_k& o = y[b];
        if (!(amax > 0)) {  // all zero (the reference's amax stays 0)
            o = quant::block_q8_k{};
            continue;
        }
        float max = 0;
        for (int i = 0; i < quant::qk_k; i += 16) {
            const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + i)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) {
                max = x[i + __builtin_ctz(unsigned(hit))];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m512 s = _mm512_set1_ps(iscale);
        for (int i = 0; i < quant::qk_k; i += 16) {
            const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), s)), _mm512_set1_epi32(127));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(o.qs + i), _mm512_cvtepi32_epi8(q));
            o.bsums[i / 16] = std::int16_t(_mm512_reduce_add_epi32(q));
        }
        o.d = 1 / iscale;
    }
}

}  // namespace qact
}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
