// gemv_k: AVX-512 VNNI decode kernels (one token, many rows) for q4_K, q5_K and q6_K, unpacked in registers
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/gemm_k.hpp>
#include <llmt/kernels/pack.hpp>
#include <llmt/kernels/quantize_act.hpp>
#include <llmt/quant/q4_k.hpp>
#include <llmt/quant/q5_k.hpp>
#include <llmt/quant/q6_k.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/simd/x86.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

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

/// 16 bytes at p in each 128-bit lane.
LLMT_INLINE_AVX512 __m512i bcast16(const std::int8_t* p) { return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

/// Byte x in the low 256 bits, y in the high 256 bits.
LLMT_INLINE_AVX512 __m512i bytes2(int x, int y) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8(char(x))), _mm256_set1_epi8(char(y)), 1);
}
/// q5_K's fifth bit: 16 added to each byte of v whose byte of h has a bit of `bit` set.
LLMT_INLINE_AVX512 __m512i add_bit5(__m512i v, __m512i h, __m512i bit) {
    return _mm512_mask_add_epi8(v, _mm512_test_epi8_mask(h, bit), v, _mm512_set1_epi8(16));
}

/// q4_K and q5_K share their scales, mins and nibble order; q5_K adds a fifth bit per value (qh).
template <typename Block>
inline constexpr bool has_bit5 = std::is_same_v<Block, quant::block_q5_k>;

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

/// The result of a row from its accumulator, whose lanes 0 and 1 hold the scaled sums (see q45_k_step).
LLMT_INLINE_AVX512 float sum2(__m128 v) { return _mm_cvtss_f32(_mm_add_ss(v, _mm_movehdup_ps(v))); }

/// An int32 vector's lanes summed per 128-bit lane, the sum in every lane of it (exact).
LLMT_INLINE_AVX512 __m128i hsum_lanes(__m128i v) {
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4e));
    return _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xb1));
}

/// One q4_K or q5_K super-block of a row against the prepared activation, in a form the decode
/// layout's kernel (q45_k_packed4) reproduces bit for bit: the exact integers T = Σ sc·q·a and
/// M = Σ m·bsum, then acc[0] += T·(d·da) and acc[1] += M·(-dmin·da), one fused multiply-add; the
/// row's result is acc[0] + acc[1] (sum2).
template <typename Block>
LLMT_INLINE_AVX512 void q45_k_step(const Block& x, const q4_k_act& a, __m128& acc) {
    std::uint64_t sc8, mn8;
    kq::unpack_scale_min6x8(x.scales, sc8, mn8);
    const __m512i s16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(std::int64_t(sc8))));
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512i isum = _mm512_setzero_si512();
    [[maybe_unused]] __m512i qh2;
    if constexpr (has_bit5<Block>) qh2 = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh)));
    for (int c = 0; c < 2; ++c) {
        const __m512i raw = _mm512_loadu_si512(x.qs + 64 * c);
        __m512i lo = _mm512_and_si512(raw, m4), hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
        if constexpr (has_bit5<Block>) {  // bytes 0-31: qs pair 2c (qh bits 4c, 4c + 1), 32-63: pair 2c + 1
            lo = add_bit5(lo, qh2, bytes2(1 << (4 * c), 1 << (4 * c + 2)));
            hi = add_bit5(hi, qh2, bytes2(1 << (4 * c + 1), 1 << (4 * c + 3)));
        }
        const __m512i slo = _mm512_permutexvar_epi16(idx_2x16(short(4 * c), short(4 * c + 2)), s16);
        const __m512i shi = _mm512_permutexvar_epi16(idx_2x16(short(4 * c + 1), short(4 * c + 3)), s16);
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(lo, a.a[2 * c]), slo);
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(hi, a.a[2 * c + 1]), shi);
    }
    const __m256i i8 = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
    const __m128i t = hsum_lanes(_mm_add_epi32(_mm256_castsi256_si128(i8), _mm256_extracti128_si256(i8, 1)));
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(std::int64_t(mn8)));
    const __m128i tm = _mm_unpacklo_epi32(t, hsum_lanes(_mm_madd_epi16(m16, a.bsum2)));  // T, M, T, M
    // d and dmin (adjacent fp16 values) converted together by F16C, times the activation's scale
    static_assert(offsetof(Block, d) == 0 && offsetof(Block, dmin) == 2);
    std::uint32_t dbits;
    std::memcpy(&dbits, reinterpret_cast<const std::byte*>(&x), 4);
    const __m128 dm = _mm_xor_ps(_mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(int(dbits))), _mm_set1_ps(a.d)), _mm_set_ps(-0.0f, 0.0f, -0.0f, 0.0f));
    acc = _mm_fmadd_ps(_mm_cvtepi32_ps(tm), _mm_movelh_ps(dm, dm), acc);
}

/// NR rows of the file's layout, the next group of rows prefetched.
template <typename Block, int NR>
LLMT_TARGET_AVX512 void q45_k_rows(const gemm_args& g) {
    constexpr std::size_t B = sizeof(Block);
    const std::int64_t nb = g.k / quant::qk_k;
    const auto* ab = reinterpret_cast<const quant::block_q8_k*>(g.a);
    __m128 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
        q4_k_act a;
        load_q4_k_act(ab[b], a);
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
            const std::byte* p = g.w + std::size_t(r) * g.w_stride + std::size_t(b) * B;
            prefetch_block<B>(p, NR * g.w_stride);
            q45_k_step(*reinterpret_cast<const Block*>(p), a, acc[r]);
        }
    }
    for (int r = 0; r < NR; ++r) g.y[r] = sum2(acc[r]);
}

/// The q4_K decode layout (kernels/pack.hpp), for rows of a multiple of 256 values: 4 rows at a time,
/// per super-block 576 bytes (the 4 rows' 4 × 144), one 128-bit lane per row:
///   [64t, 64t + 64), t = 2c + h   16 quant bytes per row, row r at 16r: its qs[32c + 16h, +16)
///                                 (low nibbles: sub-block 2c, high nibbles: sub-block 2c + 1)
///   [512, 520), [520, 528)        the 4 rows' d, then their dmin (f16)
///   [528, 576)                    the 4 rows' 6-bit scales and mins S, S[16r + j] = scale j and
///                                 S[16r + 8 + j] = min j of row r, as 32 bytes of low nibbles
///                                 (byte k: S[k] | S[k + 32] << 4) and 16 bytes of top 2 bits
///                                 (byte k: bits 2q..2q+1 = S[k + 16q] >> 4)
/// The scales then decode for 4 rows with 4 vector operations, and one byte shuffle spreads a
/// sub-block's scale over its rows' lanes, where the file layout needs scalar unpacking and two
/// permutes per row. A lossless rearrangement of the same bytes, so a packed group takes their place.
/// q5_K's layout is q4_K's followed by its fifth bits (704 bytes a step):
///   [576 + 64h, +64), h = 0, 1    16 qh bytes per row, row r at 16r: its qh[16h, +16) (the bits of
///                                 the values in the pieces t = 2c + h: bit 2c low nibbles, 2c + 1 high)
template <typename Block>
inline constexpr std::size_t q45_k_step_bytes = 4 * sizeof(Block);
static_assert(q45_k_step_bytes<quant::block_q4_k> == 576 && q45_k_step_bytes<quant::block_q5_k> == 704);

template <typename Block>
inline void q45_k_pack(const std::byte* src, std::byte* dst, std::int64_t k) {
    const std::int64_t nb = k / quant::qk_k;
    const std::size_t row = std::size_t(nb) * sizeof(Block);
    for (std::int64_t b = 0; b < nb; ++b) {
        std::byte* out = dst + q45_k_step_bytes<Block> * std::size_t(b);
        std::uint8_t S[64];
        for (int r = 0; r < 4; ++r) {
            const auto* x = reinterpret_cast<const Block*>(src + std::size_t(r) * row + std::size_t(b) * sizeof(Block));
            for (int t = 0; t < 8; ++t) std::memcpy(out + 64 * t + 16 * r, x->qs + 16 * t, 16);
            if constexpr (has_bit5<Block>)
                for (int h = 0; h < 2; ++h) std::memcpy(out + 576 + 64 * h + 16 * r, x->qh + 16 * h, 16);
            std::memcpy(out + 512 + 2 * r, &x->d, 2);
            std::memcpy(out + 520 + 2 * r, &x->dmin, 2);
            kq::unpack_scale_min6x8(x->scales, S + 16 * r, S + 16 * r + 8);
        }
        auto* o = reinterpret_cast<std::uint8_t*>(out + 528);
        for (int i = 0; i < 32; ++i) o[i] = std::uint8_t((S[i] & 15) | (S[i + 32] & 15) << 4);
        for (int i = 0; i < 16; ++i)
            o[32 + i] = std::uint8_t((S[i] >> 4) | (S[i + 16] >> 4) << 2 | (S[i + 32] >> 4) << 4 | (S[i + 48] >> 4) << 6);
    }
}

template <typename Block>
inline void q45_k_unpack(const std::byte* src, std::byte* dst, std::int64_t k) {
    const std::int64_t nb = k / quant::qk_k;
    const std::size_t row = std::size_t(nb) * sizeof(Block);
    for (std::int64_t b = 0; b < nb; ++b) {
        const std::byte* in = src + q45_k_step_bytes<Block> * std::size_t(b);
        const auto* o = reinterpret_cast<const std::uint8_t*>(in + 528);
        std::uint8_t S[64];
        for (int i = 0; i < 64; ++i) S[i] = std::uint8_t((o[i % 32] >> (i < 32 ? 0 : 4) & 15) | (o[32 + i % 16] >> (2 * (i / 16)) & 3) << 4);
        for (int r = 0; r < 4; ++r) {
            auto* x = reinterpret_cast<Block*>(dst + std::size_t(r) * row + std::size_t(b) * sizeof(Block));
            for (int t = 0; t < 8; ++t) std::memcpy(x->qs + 16 * t, in + 64 * t + 16 * r, 16);
            if constexpr (has_bit5<Block>)
                for (int h = 0; h < 2; ++h) std::memcpy(x->qh + 16 * h, in + 576 + 64 * h + 16 * r, 16);
            std::memcpy(&x->d, in + 512 + 2 * r, 2);
            std::memcpy(&x->dmin, in + 520 + 2 * r, 2);
            for (int j = 0; j < 8; ++j) quant::detail::pack_scale_min6(j, S[16 * r + j], S[16 * r + 8 + j], x->scales);
        }
    }
}

/// 4 packed rows into y[0, 4): the integers and float operations of q45_k_rows, per 128-bit lane.
/// Each 16-value half of a piece is one sub-block of one row, so the unscaled sums come from vpdpbusd
/// (one instruction per 64 values where vpmaddubsw + vpdpwssd take two; the port both use is what
/// bounds this kernel), two pieces' sums per sub-block fit int16 (|Σ| ≤ 8·15·127), and one vpdpwssd
/// per 2 sub-blocks applies the scales to them packed to words.
/// NS groups (g[0, NS), the same activation) at once, each its own stream: see packed_streams.
/// Prefetch: each stream 4 steps (q4_K 2304 bytes, q5_K 2816) ahead into L2.
template <typename Block, int NS>
LLMT_TARGET_AVX512 inline void q45_k_packed4(const gemm_args* g) {
    constexpr std::size_t step = q45_k_step_bytes<Block>;
    const auto* ab = reinterpret_cast<const quant::block_q8_k*>(g[0].a);
    const std::int64_t nb = g[0].k / quant::qk_k;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const __m512i nib_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);  // S[k + 32]: the high nibbles
    const __m512i top_rot = _mm512_set_epi32(30, 30, 30, 30, 0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4);  // bits 2q..2q+1 → 4..5 in lane q
    const __m512i min_idx = _mm512_broadcast_i32x4(_mm_setr_epi16(short(0x8008), short(0x8009), short(0x800a), short(0x800b),
                                                                  short(0x800c), short(0x800d), short(0x800e), short(0x800f)));
    const __m512i d_idx = _mm512_set_epi32(7, 3, 7, 3, 6, 2, 6, 2, 5, 1, 5, 1, 4, 0, 4, 0);  // lane r: d_r, -dmin_r, d_r, -dmin_r
    const __m256 neg_dmin = _mm256_setr_ps(0.0f, 0.0f, 0.0f, 0.0f, -0.0f, -0.0f, -0.0f, -0.0f);
    __m512 acc[NS];
    for (int st = 0; st < NS; ++st) acc[st] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
        const quant::block_q8_k& a = ab[b];
#pragma GCC unroll 4
        for (int st = 0; st < NS; ++st) {
            const std::byte* p = g[st].w + step * std::size_t(b);
            for (std::size_t c = 0; c < step / 64; ++c) _mm_prefetch(reinterpret_cast<const char*>(p + 4 * step + 64 * c), _MM_HINT_T1);
            [[maybe_unused]] __m512i H0, H1;
            if constexpr (has_bit5<Block>) H0 = _mm512_loadu_si512(p + 576), H1 = _mm512_loadu_si512(p + 640);
            const __m512i lowbits = _mm512_and_si512(_mm512_srlv_epi16(_mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 528))), nib_shift), m4);
            const __m512i topbits = _mm512_rolv_epi32(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 560))), top_rot);
            const __m512i S = _mm512_ternarylogic_epi32(lowbits, topbits, m30, 0xf8);  // lowbits | (topbits & 0x30)
            __m512i is[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 4
            for (int c = 0; c < 4; ++c) {
                const __m512i q0 = _mm512_loadu_si512(p + 128 * c), q1 = _mm512_loadu_si512(p + 128 * c + 64);
                __m512i l0 = _mm512_and_si512(q0, m4), l1 = _mm512_and_si512(q1, m4);
                __m512i h0 = _mm512_and_si512(_mm512_srli_epi16(q0, 4), m4), h1 = _mm512_and_si512(_mm512_srli_epi16(q1, 4), m4);
                if constexpr (has_bit5<Block>) {  // |Σ| ≤ 8·31·128 still fits the int16 packing below
                    const __m512i blo = _mm512_set1_epi8(char(1 << (2 * c))), bhi = _mm512_set1_epi8(char(1 << (2 * c + 1)));
                    l0 = add_bit5(l0, H0, blo);
                    l1 = add_bit5(l1, H1, blo);
                    h0 = add_bit5(h0, H0, bhi);
                    h1 = add_bit5(h1, H1, bhi);
                }
                __m512i slo = simd::x86::dpbusd(_mm512_setzero_si512(), l0, bcast16(a.qs + 64 * c + 0));
                slo = simd::x86::dpbusd(slo, l1, bcast16(a.qs + 64 * c + 16));
                __m512i shi = simd::x86::dpbusd(_mm512_setzero_si512(), h0, bcast16(a.qs + 64 * c + 32));
                shi = simd::x86::dpbusd(shi, h1, bcast16(a.qs + 64 * c + 48));
                // words 0-3 of a row's lane: sub-block 2c's sums, 4-7: 2c + 1's; the scales to match
                const __m512i sc = _mm512_shuffle_epi8(S, _mm512_set_epi16(
                    short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c),
                    short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c),
                    short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c),
                    short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8001 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c), short(0x8000 + 2 * c)));
                is[c % 2] = simd::x86::dpwssd(is[c % 2], _mm512_packs_epi32(slo, shi), sc);
            }
            const __m512i isum = _mm512_add_epi32(is[0], is[1]);
            const __m512i bsum = _mm512_broadcast_i32x4(_mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums)),
                                                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums + 8))));
            const __m512i msum = _mm512_madd_epi16(_mm512_shuffle_epi8(S, min_idx), bsum);
            // per row lane: T, M, T, M (the exact sums of q45_k_step)
            __m512i tm = _mm512_add_epi32(_mm512_unpacklo_epi32(isum, msum), _mm512_unpackhi_epi32(isum, msum));
            tm = _mm512_add_epi32(tm, _mm512_shuffle_epi32(tm, _MM_PERM_BADC));
            const __m256 dd = _mm256_xor_ps(_mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 512))), _mm256_set1_ps(a.d)), neg_dmin);
            acc[st] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tm), _mm512_permutexvar_ps(d_idx, _mm512_castps256_ps512(dd)), acc[st]);
        }
    }
    for (int st = 0; st < NS; ++st) {
        g[st].y[0] = sum2(_mm512_castps512_ps128(acc[st]));
        g[st].y[1] = sum2(_mm512_extractf32x4_ps(acc[st], 1));
        g[st].y[2] = sum2(_mm512_extractf32x4_ps(acc[st], 2));
        g[st].y[3] = sum2(_mm512_extractf32x4_ps(acc[st], 3));
    }
}

/// The prefill tile on the q4_K / q5_K decode layout: one packed group of 4 rows × NC tokens, each
/// token through exactly the operations of q45_k_packed4 (so a token's rows equal its decode result
/// bit for bit, DESIGN.md §8), the rows' nibbles, fifth bits and scales decoded once for the NC tokens.
/// matmul uses it on packed rows instead of unpacking them for the file-layout tiles: the per-row
/// reductions are in-lane (4 rows per vector) and vpdpbusd does the products (~9 integer operations per
/// row, token and super-block where the file-layout tile needs ~16 to end a super-block as decode does).
template <typename Block, int NC>
LLMT_TARGET_AVX512 void q45_k_packed_tile(const gemm_args& g) {
    constexpr std::size_t step = q45_k_step_bytes<Block>;
    const std::int64_t nb = g.k / quant::qk_k;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const __m512i nib_shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    const __m512i top_rot = _mm512_set_epi32(30, 30, 30, 30, 0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4);
    const __m512i min_idx = _mm512_broadcast_i32x4(_mm_setr_epi16(short(0x8008), short(0x8009), short(0x800a), short(0x800b),
                                                                  short(0x800c), short(0x800d), short(0x800e), short(0x800f)));
    const __m512i d_idx = _mm512_set_epi32(7, 3, 7, 3, 6, 2, 6, 2, 5, 1, 5, 1, 4, 0, 4, 0);
    const __m256 neg_dmin = _mm256_setr_ps(0.0f, 0.0f, 0.0f, 0.0f, -0.0f, -0.0f, -0.0f, -0.0f);
    __m512 acc[NC];
    for (int t = 0; t < NC; ++t) acc[t] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
        const std::byte* p = g.w + step * std::size_t(b);
        const quant::block_q8_k* a[NC];
        for (int t = 0; t < NC; ++t) a[t] = reinterpret_cast<const quant::block_q8_k*>(g.a + std::size_t(t) * g.a_stride) + b;
        [[maybe_unused]] __m512i H0, H1;
        if constexpr (has_bit5<Block>) H0 = _mm512_loadu_si512(p + 576), H1 = _mm512_loadu_si512(p + 640);
        const __m512i lowbits = _mm512_and_si512(_mm512_srlv_epi16(_mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 528))), nib_shift), m4);
        const __m512i topbits = _mm512_rolv_epi32(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 560))), top_rot);
        const __m512i S = _mm512_ternarylogic_epi32(lowbits, topbits, m30, 0xf8);
        __m512i is[NC][2];
        for (int t = 0; t < NC; ++t) is[t][0] = is[t][1] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
            const __m512i q0 = _mm512_loadu_si512(p + 128 * c), q1 = _mm512_loadu_si512(p + 128 * c + 64);
            __m512i l0 = _mm512_and_si512(q0, m4), l1 = _mm512_and_si512(q1, m4);
            __m512i h0 = _mm512_and_si512(_mm512_srli_epi16(q0, 4), m4), h1 = _mm512_and_si512(_mm512_srli_epi16(q1, 4), m4);
            if constexpr (has_bit5<Block>) {
                const __m512i blo = _mm512_set1_epi8(char(1 << (2 * c))), bhi = _mm512_set1_epi8(char(1 << (2 * c + 1)));
                l0 = add_bit5(l0, H0, blo);
                l1 = add_bit5(l1, H1, blo);
                h0 = add_bit5(h0, H0, bhi);
                h1 = add_bit5(h1, H1, bhi);
            }
            const short w0 = short(0x8000 + 2 * c), w1 = short(0x8001 + 2 * c);
            const __m512i sc = _mm512_shuffle_epi8(S, _mm512_broadcast_i32x4(_mm_setr_epi16(w0, w0, w0, w0, w1, w1, w1, w1)));
            for (int t = 0; t < NC; ++t) {
                __m512i slo = simd::x86::dpbusd(_mm512_setzero_si512(), l0, bcast16(a[t]->qs + 64 * c + 0));
                slo = simd::x86::dpbusd(slo, l1, bcast16(a[t]->qs + 64 * c + 16));
                __m512i shi = simd::x86::dpbusd(_mm512_setzero_si512(), h0, bcast16(a[t]->qs + 64 * c + 32));
                shi = simd::x86::dpbusd(shi, h1, bcast16(a[t]->qs + 64 * c + 48));
                is[t][c % 2] = simd::x86::dpwssd(is[t][c % 2], _mm512_packs_epi32(slo, shi), sc);
            }
        }
        const __m256 d8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 512)));
        const __m512i mins = _mm512_shuffle_epi8(S, min_idx);
        for (int t = 0; t < NC; ++t) {
            const __m512i isum = _mm512_add_epi32(is[t][0], is[t][1]);
            const __m512i bsum = _mm512_broadcast_i32x4(_mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[t]->bsums)),
                                                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(a[t]->bsums + 8))));
            const __m512i msum = _mm512_madd_epi16(mins, bsum);
            __m512i tm = _mm512_add_epi32(_mm512_unpacklo_epi32(isum, msum), _mm512_unpackhi_epi32(isum, msum));
            tm = _mm512_add_epi32(tm, _mm512_shuffle_epi32(tm, _MM_PERM_BADC));
            const __m256 dd = _mm256_xor_ps(_mm256_mul_ps(d8, _mm256_set1_ps(a[t]->d)), neg_dmin);
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tm), _mm512_permutexvar_ps(d_idx, _mm512_castps256_ps512(dd)), acc[t]);
        }
    }
    for (int t = 0; t < NC; ++t) {
        float* y = g.y + std::size_t(t) * g.y_stride;
        y[0] = sum2(_mm512_castps512_ps128(acc[t]));
        y[1] = sum2(_mm512_extractf32x4_ps(acc[t], 1));
        y[2] = sum2(_mm512_extractf32x4_ps(acc[t], 2));
        y[3] = sum2(_mm512_extractf32x4_ps(acc[t], 3));
    }
}

/// One q6_K super-block of a row against the q8_K block: values q - 32, so acc += T·(d·da) for the
/// exact integer T = Σ sc·q·a - 32·Σ sc·bsum (in every lane; the row's result is lane 0). The decode
/// layout's kernel (q6_k_packed4) forms the same T and applies the same float operation.
LLMT_INLINE_AVX512 void q6_k_step(const quant::block_q6_k& x, const quant::block_q8_k& a, __m128& acc) {
    const __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales)));
    const __m512i s16 = _mm512_castsi256_si512(sc);
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    __m512i isum = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512(x.ql + 64 * h);
        const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qh + 32 * h));
        const __m512i hz = _mm512_inserti64x4(_mm512_castsi256_si512(hb), _mm256_srli_epi16(hb, 2), 1);
        const __m512i qlo = _mm512_ternarylogic_epi32(_mm512_and_si512(l, m4), _mm512_slli_epi16(hz, 4), m30, 0xf8);
        const __m512i qhi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), hz, m30, 0xf8);
        const __m512i alo = _mm512_loadu_si512(a.qs + 128 * h), ahi = _mm512_loadu_si512(a.qs + 128 * h + 64);
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(qlo, alo), _mm512_permutexvar_epi16(idx_4x8(short(8 * h)), s16));
        isum = simd::x86::dpwssd(isum, _mm512_maddubs_epi16(qhi, ahi), _mm512_permutexvar_epi16(idx_4x8(short(8 * h + 4)), s16));
    }
    const __m256i i8 = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
    __m128i i4 = _mm_add_epi32(_mm256_castsi256_si128(i8), _mm256_extracti128_si256(i8, 1));
    const __m256i c8 = _mm256_madd_epi16(sc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums)));
    i4 = _mm_sub_epi32(i4, _mm_slli_epi32(_mm_add_epi32(_mm256_castsi256_si128(c8), _mm256_extracti128_si256(c8, 1)), 5));
    acc = _mm_fmadd_ps(_mm_cvtepi32_ps(hsum_lanes(i4)), _mm_set1_ps(_cvtsh_ss(x.d.bits) * a.d), acc);  // F16C
}

template <int NR>
LLMT_TARGET_AVX512 void q6_k_rows(const gemm_args& g) {
    constexpr std::size_t B = sizeof(quant::block_q6_k);
    const std::int64_t nb = g.k / quant::qk_k;
    const auto* ab = reinterpret_cast<const quant::block_q8_k*>(g.a);
    __m128 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
            const std::byte* p = g.w + std::size_t(r) * g.w_stride + std::size_t(b) * B;
            prefetch_block<B>(p, NR * g.w_stride);
            q6_k_step(*reinterpret_cast<const quant::block_q6_k*>(p), ab[b], acc[r]);
        }
    }
    for (int r = 0; r < NR; ++r) g.y[r] = _mm_cvtss_f32(acc[r]);
}

/// The q6_K decode layout (kernels/pack.hpp), for rows of a multiple of 256 values: 4 rows at a time,
/// per super-block 840 bytes (the 4 rows' 4 × 210), one 128-bit lane per row:
///   [64t, 64t + 64), t = 4n + u   16 ql bytes per row, row r at 16r: its ql[16t, +16) (low nibbles:
///                                 sub-block 8n + u, high nibbles: 8n + u + 4)
///   [512 + 64v, +64), v = 2n + e  16 qh bytes per row: its qh[32n + 16e, +16) (pieces t = 4n + e and
///                                 4n + e + 2 take their top bits from it)
///   [768, 832)                    16 scales per row
///   [832, 840)                    the 4 rows' d (f16)
/// Every 16 values of a piece's nibble half are one sub-block, so one in-lane shuffle gives each row
/// the scales of a piece. A rearrangement of the same bytes, so a packed group takes their place.
inline constexpr std::size_t q6_k_step_bytes = 4 * sizeof(quant::block_q6_k);
static_assert(q6_k_step_bytes == 840);

template <bool Pack>
inline void q6_k_shuffle(const std::byte* src, std::byte* dst, std::int64_t k) {
    const std::int64_t nb = k / quant::qk_k;
    const std::size_t row = std::size_t(nb) * sizeof(quant::block_q6_k);
    for (std::int64_t b = 0; b < nb; ++b) {
        for (int r = 0; r < 4; ++r) {
            const std::size_t file = std::size_t(r) * row + std::size_t(b) * sizeof(quant::block_q6_k);
            const std::size_t packed = q6_k_step_bytes * std::size_t(b) + 16 * std::size_t(r);
            const auto move = [&](std::size_t file_off, std::size_t packed_off, std::size_t n) {
                if constexpr (Pack) std::memcpy(dst + packed - 16 * std::size_t(r) + packed_off, src + file + file_off, n);
                else std::memcpy(dst + file + file_off, src + packed - 16 * std::size_t(r) + packed_off, n);
            };
            for (std::size_t t = 0; t < 8; ++t) move(offsetof(quant::block_q6_k, ql) + 16 * t, 64 * t + 16 * std::size_t(r), 16);
            for (std::size_t v = 0; v < 4; ++v) move(offsetof(quant::block_q6_k, qh) + 16 * v, 512 + 64 * v + 16 * std::size_t(r), 16);
            move(offsetof(quant::block_q6_k, scales), 768 + 16 * std::size_t(r), 16);
            move(offsetof(quant::block_q6_k, d), 832 + 2 * std::size_t(r), 2);
        }
    }
}

/// 4 packed rows into y[0, 4): the integer T and float operation of q6_k_rows, per 128-bit lane. As in
/// q45_k_packed4, the unscaled sums of a piece come from vpdpbusd and one vpdpwssd scales both halves.
/// NS groups at once, each its own stream (see packed_streams). Prefetch: each stream 4 steps (3360
/// bytes) ahead into L2.
template <int NS>
LLMT_TARGET_AVX512 inline void q6_k_packed4(const gemm_args* g) {
    const auto* ab = reinterpret_cast<const quant::block_q8_k*>(g[0].a);
    const std::int64_t nb = g[0].k / quant::qk_k;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const __m512i d_idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 acc[NS];
    for (int st = 0; st < NS; ++st) acc[st] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
        const quant::block_q8_k& a = ab[b];
#pragma GCC unroll 4
        for (int st = 0; st < NS; ++st) {
            const std::byte* p = g[st].w + q6_k_step_bytes * std::size_t(b);
            for (int c = 0; c < 14; ++c) _mm_prefetch(reinterpret_cast<const char*>(p + 4 * q6_k_step_bytes + 64 * c), _MM_HINT_T1);
            const __m512i sc8 = _mm512_loadu_si512(p + 768);
            const __m512i w16[2] = {_mm512_srai_epi16(_mm512_unpacklo_epi8(sc8, sc8), 8), _mm512_srai_epi16(_mm512_unpackhi_epi8(sc8, sc8), 8)};
            __m512i is[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 8
            for (int t = 0; t < 8; ++t) {
                const int n = t / 4, u = t % 4, lo = u, hi = u + 4;  // the sub-blocks 8n + lo and 8n + hi
                const __m512i q = _mm512_loadu_si512(p + 64 * t);
                const __m512i h = _mm512_loadu_si512(p + 512 + 64 * (2 * n + u % 2));
                const __m512i hlo = u < 2 ? _mm512_slli_epi16(h, 4) : _mm512_slli_epi16(h, 2);
                const __m512i hhi = u < 2 ? h : _mm512_srli_epi16(h, 2);
                const __m512i qlo = _mm512_ternarylogic_epi32(_mm512_and_si512(q, m4), hlo, m30, 0xf8);
                const __m512i qhi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(q, 4), m4), hhi, m30, 0xf8);
                const __m512i alo = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.qs + 16 * (8 * n + lo))));
                const __m512i ahi = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.qs + 16 * (8 * n + hi))));
                // unscaled sums (|Σ| ≤ 4·63·128 fits int16), packed to words: 0-3 sub-block lo, 4-7 hi; the scales to match
                const __m512i sums = _mm512_packs_epi32(simd::x86::dpbusd(_mm512_setzero_si512(), qlo, alo), simd::x86::dpbusd(_mm512_setzero_si512(), qhi, ahi));
                const short wl = short((2 * lo + 1) << 8 | 2 * lo), wh = short((2 * hi + 1) << 8 | 2 * hi);
                const __m512i sc = _mm512_shuffle_epi8(w16[n], _mm512_broadcast_i32x4(_mm_setr_epi16(wl, wl, wl, wl, wh, wh, wh, wh)));
                is[t % 2] = simd::x86::dpwssd(is[t % 2], sums, sc);
            }
            __m512i isum = _mm512_add_epi32(is[0], is[1]);
            const __m512i bs_lo = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums)));
            const __m512i bs_hi = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums + 8)));
            const __m512i corr = _mm512_add_epi32(_mm512_madd_epi16(w16[0], bs_lo), _mm512_madd_epi16(w16[1], bs_hi));
            isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(corr, 5));
            isum = _mm512_add_epi32(isum, _mm512_shuffle_epi32(isum, _MM_PERM_BADC));
            isum = _mm512_add_epi32(isum, _mm512_shuffle_epi32(isum, _MM_PERM_CDAB));  // T of row r in every lane of r
            const __m128 d4 = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 832))), _mm_set1_ps(a.d));
            acc[st] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permutexvar_ps(d_idx, _mm512_castps128_ps512(d4)), acc[st]);
        }
    }
    for (int st = 0; st < NS; ++st) {
        g[st].y[0] = _mm512_cvtss_f32(acc[st]);
        g[st].y[1] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[st], 1));
        g[st].y[2] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[st], 2));
        g[st].y[3] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[st], 3));
    }
}

/// The prefill tile on the q6_K decode layout: one packed group of 4 rows × NC tokens, each token
/// through exactly the operations of q6_k_packed4 (the same bits as decode), the rows' values and
/// scales decoded once for the NC tokens (see q45_k_packed_tile).
template <int NC>
LLMT_TARGET_AVX512 void q6_k_packed_tile(const gemm_args& g) {
    const std::int64_t nb = g.k / quant::qk_k;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const __m512i d_idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 acc[NC];
    for (int t = 0; t < NC; ++t) acc[t] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
        const std::byte* p = g.w + q6_k_step_bytes * std::size_t(b);
        const quant::block_q8_k* a[NC];
        for (int t = 0; t < NC; ++t) a[t] = reinterpret_cast<const quant::block_q8_k*>(g.a + std::size_t(t) * g.a_stride) + b;
        const __m512i sc8 = _mm512_loadu_si512(p + 768);
        const __m512i w16[2] = {_mm512_srai_epi16(_mm512_unpacklo_epi8(sc8, sc8), 8), _mm512_srai_epi16(_mm512_unpackhi_epi8(sc8, sc8), 8)};
        __m512i is[NC][2];
        for (int t = 0; t < NC; ++t) is[t][0] = is[t][1] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int pc = 0; pc < 8; ++pc) {
            const int n = pc / 4, u = pc % 4, lo = u, hi = u + 4;  // the sub-blocks 8n + lo and 8n + hi
            const __m512i q = _mm512_loadu_si512(p + 64 * pc);
            const __m512i h = _mm512_loadu_si512(p + 512 + 64 * (2 * n + u % 2));
            const __m512i hlo = u < 2 ? _mm512_slli_epi16(h, 4) : _mm512_slli_epi16(h, 2);
            const __m512i hhi = u < 2 ? h : _mm512_srli_epi16(h, 2);
            const __m512i qlo = _mm512_ternarylogic_epi32(_mm512_and_si512(q, m4), hlo, m30, 0xf8);
            const __m512i qhi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(q, 4), m4), hhi, m30, 0xf8);
            const short wl = short((2 * lo + 1) << 8 | 2 * lo), wh = short((2 * hi + 1) << 8 | 2 * hi);
            const __m512i sc = _mm512_shuffle_epi8(w16[n], _mm512_broadcast_i32x4(_mm_setr_epi16(wl, wl, wl, wl, wh, wh, wh, wh)));
            for (int t = 0; t < NC; ++t) {
                const __m512i alo = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[t]->qs + 16 * (8 * n + lo))));
                const __m512i ahi = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[t]->qs + 16 * (8 * n + hi))));
                const __m512i sums = _mm512_packs_epi32(simd::x86::dpbusd(_mm512_setzero_si512(), qlo, alo), simd::x86::dpbusd(_mm512_setzero_si512(), qhi, ahi));
                is[t][pc % 2] = simd::x86::dpwssd(is[t][pc % 2], sums, sc);
            }
        }
        const __m128 d4 = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 832)));
        for (int t = 0; t < NC; ++t) {
            __m512i isum = _mm512_add_epi32(is[t][0], is[t][1]);
            const __m512i bs_lo = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[t]->bsums)));
            const __m512i bs_hi = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[t]->bsums + 8)));
            const __m512i corr = _mm512_add_epi32(_mm512_madd_epi16(w16[0], bs_lo), _mm512_madd_epi16(w16[1], bs_hi));
            isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(corr, 5));
            isum = _mm512_add_epi32(isum, _mm512_shuffle_epi32(isum, _MM_PERM_BADC));
            isum = _mm512_add_epi32(isum, _mm512_shuffle_epi32(isum, _MM_PERM_CDAB));
            const __m128 dd = _mm_mul_ps(d4, _mm_set1_ps(a[t]->d));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permutexvar_ps(d_idx, _mm512_castps128_ps512(dd)), acc[t]);
        }
    }
    for (int t = 0; t < NC; ++t) {
        float* y = g.y + std::size_t(t) * g.y_stride;
        y[0] = _mm512_cvtss_f32(acc[t]);
        y[1] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[t], 1));
        y[2] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[t], 2));
        y[3] = _mm_cvtss_f32(_mm512_extractf32x4_ps(acc[t], 3));
    }
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

/// Decode layout: gemvk::q45_k_pack (kernels/pack.hpp); q4_K and q5_K.
template <typename F>
struct gemv_q45_k_impl {
    using Block = typename F::block;
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return blocks_act_bytes<quant::q8_k>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { qact::quantize_q8_k(x, reinterpret_cast<quant::block_q8_k*>(out), k); }
    static void gemv(const gemm_args& g, std::int64_t nr) {
        gemvk::by_rows<&gemvk::q45_k_rows<Block, 1>, &gemvk::q45_k_rows<Block, 2>, &gemvk::q45_k_rows<Block, 3>, &gemvk::q45_k_rows<Block, 4>>(g, nr);
    }
    static constexpr int pack_rows = 4;
    static bool packable(std::int64_t k) { return k > 0 && k % quant::qk_k == 0; }
    static void pack(const std::byte* src, std::byte* dst, std::int64_t k) { gemvk::q45_k_pack<Block>(src, dst, k); }
    static void unpack(const std::byte* src, std::byte* dst, std::int64_t k) { gemvk::q45_k_unpack<Block>(src, dst, k); }
    static void gemv_packed(const gemm_args& g, std::int64_t nr) {
        packed_streams<4, &gemvk::q45_k_packed4<Block, 1>, &gemvk::q45_k_packed4<Block, 2>>(g, nr);
    }
    static constexpr int packed_nc = 4;
    template <int NC>
    static void tile_packed(const gemm_args& g) { gemvk::q45_k_packed_tile<Block, NC>(g); }
};
template <>
struct gemv_impl<quant::q4_k, simd::isa::avx512vnni> : gemv_q45_k_impl<quant::q4_k> {};
template <>
struct gemv_impl<quant::q5_k, simd::isa::avx512vnni> : gemv_q45_k_impl<quant::q5_k> {};

/// Decode layout: gemvk::q6_k_shuffle (kernels/pack.hpp).
template <>
struct gemv_impl<quant::q6_k, simd::isa::avx512vnni> {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return blocks_act_bytes<quant::q8_k>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { qact::quantize_q8_k(x, reinterpret_cast<quant::block_q8_k*>(out), k); }
    static void gemv(const gemm_args& g, std::int64_t nr) {
        gemvk::by_rows<&gemvk::q6_k_rows<1>, &gemvk::q6_k_rows<2>, &gemvk::q6_k_rows<3>, &gemvk::q6_k_rows<4>>(g, nr);
    }
    static constexpr int pack_rows = 4;
    static bool packable(std::int64_t k) { return k > 0 && k % quant::qk_k == 0; }
    static void pack(const std::byte* src, std::byte* dst, std::int64_t k) { gemvk::q6_k_shuffle<true>(src, dst, k); }
    static void unpack(const std::byte* src, std::byte* dst, std::int64_t k) { gemvk::q6_k_shuffle<false>(src, dst, k); }
    static void gemv_packed(const gemm_args& g, std::int64_t nr) { packed_streams<4, &gemvk::q6_k_packed4<1>, &gemvk::q6_k_packed4<2>>(g, nr); }
    static constexpr int packed_nc = 4;
    template <int NC>
    static void tile_packed(const gemm_args& g) { gemvk::q6_k_packed_tile<NC>(g); }
};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
