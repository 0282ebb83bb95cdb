// gemv_k: AVX-512 VNNI decode kernels (one token, many rows) for q4_K and q6_K, unpacked in registers
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/gemm_k.hpp>
#include <llmt/kernels/pack.hpp>
#include <llmt/kernels/quantize_act.hpp>
#include <llmt/quant/q4_k.hpp>
#include <llmt/quant/q6_k.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/simd/x86.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace gemvk {

/// Prefetches the super-block `ahead` bytes further into L2: the same block of the row one group of NR
/// rows below (see gemv_q8x32.hpp: rows are too short for the hardware streamer).
template <std::size_t Bytes>
LLMT_INLINE_AVX512 void prefetch_block(const std::byte* p, std::size_t ahead) {
    for (std::size_t o = 0; o < Bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + ahead + o), _MM_HINT_T1);
}

/// int16 word w of v broadcast per 128-bit lane: lanes 0-1 word w0, lanes 2-3 word w1 (q4_K's two sub-blocks of 32).
LLMT_INLINE_AVX512 __m512i idx_2x16(short w0, short w1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(w0)), _mm256_set1_epi16(w1), 1);
}
/// Lane k (0..3) gets word w + k (q6_K's four sub-blocks of 16).
LLMT_INLINE_AVX512 __m512i idx_4x8(short w) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi16(short(w + 1)), _mm_set1_epi16(w))),
                              _mm256_set_m128i(_mm_set1_epi16(short(w + 3)), _mm_set1_epi16(short(w + 2))), 1);
}

/// The activation's quants of one super-block in q4_K's nibble order: [0-31 | 64-95], [32-63 | 96-127], ...
struct q4_k_act {
    __m512i a[4];
    __m128i bsum2;  // int16 sums of each 32 values
    float d;
};
LLMT_INLINE_AVX512 void load_q4_k_act(const quant::block_q8_k& b, q4_k_act& o) {
    for (int c = 0; c < 2; ++c) {
        const std::int8_t* q = b.qs + 128 * c;
        o.a[2 * c] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q))),
                                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64)), 1);
        o.a[2 * c + 1] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32))),
                                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 96)), 1);
    }
    o.bsum2 = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.bsums)),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.bsums + 8)));
    o.d = b.d;
}

/// One q4_K super-block of a row against the prepared activation: acc += d·da·Σ sc·q·a, macc += -dmin·da·Σ m·bsum.
LLMT_INLINE_AVX512 void q4_k_step(const quant::block_q4_k& x, const q4_k_act& a, __m512& acc, __m128& macc) {
    std::uint64_t sc8, mn8;
    kq::unpack_scale_min6x8(x.scales, sc8, mn8);
    const __m512i s16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(std::int64_t(sc8))));
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512i isum = _mm512_setzero_si512();
    for (int c = 0; c < 2; ++c) {
        const __m512i raw = _mm512_loadu_si512(x.qs + 64 * c);
        const __m512i lo = _mm512_and_si512(raw, m4), hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
        const __m512i slo = _mm512_permutexvar_epi16(idx_2x16(short(4 * c), short(4 * c + 2)), s16);
        const __m512i shi = _mm512_permutexvar_epi16(idx_2x16(short(4 * c + 1), short(4 * c + 3)), s16);
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(lo, a.a[2 * c]), slo);
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(hi, a.a[2 * c + 1]), shi);
    }
    // d and dmin (adjacent fp16 values) converted together by F16C, times the activation's scale
    static_assert(offsetof(quant::block_q4_k, d) == 0 && offsetof(quant::block_q4_k, dmin) == 2);
    std::uint32_t dbits;
    std::memcpy(&dbits, reinterpret_cast<const std::byte*>(&x), 4);
    const __m128 dm = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(int(dbits))), _mm_set1_ps(a.d));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_broadcastss_ps(dm), acc);
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(std::int64_t(mn8)));
    macc = _mm_fnmadd_ps(_mm_cvtepi32_ps(_mm_madd_epi16(m16, a.bsum2)), _mm_shuffle_ps(dm, dm, 0x55), macc);
}

/// Packed (the decode layout, kernels/pack.hpp): the NR = 4 rows' super-blocks interleaved, one
/// sequential stream prefetched 4 steps ahead; else NR rows of the file's layout, the next group of
/// rows prefetched. The same operations either way.
template <int NR, bool Packed = false>
LLMT_TARGET_AVX512 void q4_k_rows(const gemm_args& g) {
    constexpr std::size_t B = sizeof(quant::block_q4_k);
    const std::size_t row_step = Packed ? B : g.w_stride, block_step = Packed ? NR * B : B;
    const std::size_t ahead = Packed ? 4 * NR * B : NR * g.w_stride;
    const std::int64_t nb = g.k / quant::qk_k;
    const auto* ab = reinterpret_cast<const quant::block_q8_k*>(g.a);
    __m512 acc[NR];
    __m128 macc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm512_setzero_ps(), macc[r] = _mm_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
        q4_k_act a;
        load_q4_k_act(ab[b], a);
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
            const std::byte* p = g.w + std::size_t(r) * row_step + std::size_t(b) * block_step;
            prefetch_block<B>(p, ahead);
            const auto* x = reinterpret_cast<const quant::block_q4_k*>(p);
            q4_k_step(*x, a, acc[r], macc[r]);
        }
    }
    for (int r = 0; r < NR; ++r) {
        __m128 m = _mm_add_ps(macc[r], _mm_movehl_ps(macc[r], macc[r]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        g.y[r] = simd::x86::hsum(acc[r]) + _mm_cvtss_f32(m);
    }
}

/// One q6_K super-block of a row against the reference q8_K block: values q - 32 (q ≥ 0 in the int8 dot,
/// -32·Σ sc·bsum in macc).
LLMT_INLINE_AVX512 void q6_k_step(const quant::block_q6_k& x, const quant::block_q8_k& a, __m512& acc, __m256& macc) {
    const __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
    const __m512i s16 = _mm512_castsi256_si512(sc);
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    __m512i isum = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512(x.ql + 64 * h);
        const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h));
        const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(hb), _mm256_srli_epi16(hb, 2), 1);
        const __m512i qlo = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_slli_epi16(hz, 4), m30));
        const __m512i qhi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_and_si512(hz, m30));
        const __m512i alo = _mm512_loadu_si512(a.qs + 128 * h), ahi = _mm512_loadu_si512(a.qs + 128 * h + 64);
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(qlo, alo), _mm512_permutexvar_epi16(idx_4x8(short(8 * h)), s16));
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(qhi, ahi), _mm512_permutexvar_epi16(idx_4x8(short(8 * h + 4)), s16));
    }
    const float dd = _cvtsh_ss(x.d.bits) * a.d;  // F16C
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(dd), acc);
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
    macc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(sc, bs)), _mm256_set1_ps(-32.0f * dd), macc);
}

template <int NR, bool Packed = false>
LLMT_TARGET_AVX512 void q6_k_rows(const gemm_args& g) {
    constexpr std::size_t B = sizeof(quant::block_q6_k);
    const std::size_t row_step = Packed ? B : g.w_stride, block_step = Packed ? NR * B : B;
    const std::size_t ahead = Packed ? 4 * NR * B : NR * g.w_stride;
    const std::int64_t nb = g.k / quant::qk_k;
    const auto* ab = reinterpret_cast<const quant::block_q8_k*>(g.a);
    __m512 acc[NR];
    __m256 macc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm512_setzero_ps(), macc[r] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
            const std::byte* p = g.w + std::size_t(r) * row_step + std::size_t(b) * block_step;
            prefetch_block<B>(p, ahead);
            const auto* x = reinterpret_cast<const quant::block_q6_k*>(p);
            q6_k_step(*x, ab[b], acc[r], macc[r]);
        }
    }
    for (int r = 0; r < NR; ++r) g.y[r] = simd::x86::hsum(acc[r]) + simd::x86::hsum(macc[r]);
}

/// Rows in groups of 4 (the last 1-3 alone); each row's operations do not depend on its group.
template <void (*R1)(const gemm_args&), void (*R2)(const gemm_args&), void (*R3)(const gemm_args&), void (*R4)(const gemm_args&)>
void by_rows(const gemm_args& g0, std::int64_t nr) {
    gemm_args g = g0;
    std::int64_t r = 0;
    for (; r + 4 <= nr; r += 4) {
        g.w = g0.w + std::size_t(r) * g0.w_stride;
        g.y = g0.y + r;
        R4(g);
    }
    g.w = g0.w + std::size_t(r) * g0.w_stride;
    g.y = g0.y + r;
    switch (nr - r) {
        case 1: R1(g); break;
        case 2: R2(g); break;
        case 3: R3(g); break;
        default: break;
    }
}

}  // namespace gemvk

/// Decode layout: 4 rows' super-blocks interleaved (kernels/pack.hpp).
template <>
struct gemv_impl<quant::q4_k, simd::isa::avx512vnni> : interleaved_layout<4, sizeof(quant::block_q4_k), quant::qk_k> {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return blocks_act_bytes<quant::q8_k>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { qact::quantize_q8_k(x, reinterpret_cast<quant::block_q8_k*>(out), k); }
    static void gemv(const gemm_args& g, std::int64_t nr) {
        gemvk::by_rows<&gemvk::q4_k_rows<1>, &gemvk::q4_k_rows<2>, &gemvk::q4_k_rows<3>, &gemvk::q4_k_rows<4>>(g, nr);
    }
    static void gemv_packed(const gemm_args& g, std::int64_t nr) { packed_groups<4, &gemvk::q4_k_rows<4, true>>(g, nr); }
};

/// Decode layout: 4 rows' super-blocks interleaved (kernels/pack.hpp).
template <>
struct gemv_impl<quant::q6_k, simd::isa::avx512vnni> : interleaved_layout<4, sizeof(quant::block_q6_k), quant::qk_k> {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return blocks_act_bytes<quant::q8_k>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { qact::quantize_q8_k(x, reinterpret_cast<quant::block_q8_k*>(out), k); }
    static void gemv(const gemm_args& g, std::int64_t nr) {
        gemvk::by_rows<&gemvk::q6_k_rows<1>, &gemvk::q6_k_rows<2>, &gemvk::q6_k_rows<3>, &gemvk::q6_k_rows<4>>(g, nr);
    }
    static void gemv_packed(const gemm_args& g, std::int64_t nr) { packed_groups<4, &gemvk::q6_k_rows<4, true>>(g, nr); }
};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
