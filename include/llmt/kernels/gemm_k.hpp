// gemm_k: AVX2 and AVX-512 (VNNI) tiles for the K-quants (q2_K..q6_K): each super-block decoded to bytes + int16 scales, one shared int8 dot
#pragma once

#include <llmt/config.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/quant/q2_k.hpp>
#include <llmt/quant/q3_k.hpp>
#include <llmt/quant/q4_k.hpp>
#include <llmt/quant/q5_k.hpp>
#include <llmt/quant/q6_k.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/simd/x86.hpp>

#include <cstdint>
#include <cstring>
#include <type_traits>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace kq {

/// One weight super-block in the form the dot wants:
///   value v = dm_part + d · sc[v / 2] · q[v]  and  the min part  −dm · Σ_j mn[j] · bsums[j]
/// q: 256 unsigned levels; sc: the sub-block scale of each pair of values (int16, the layout of
/// maddubs' output, so one madd applies it); mn: per 16 values the multiplier of the activation's
/// 16-value sum (the sub-block min, or offset · scale for formats stored as q + offset).
struct decoded {
    alignas(64) std::uint8_t q[quant::qk_k];
    alignas(64) std::int16_t sc[quant::qk_k / 2];
    alignas(32) std::int16_t mn[16];
    float d, dm;
};

LLMT_INLINE_AVX2 __m256i low_nibbles(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0f)); }
LLMT_INLINE_AVX2 __m256i high_nibbles(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f)); }
/// 0x10 in each byte of v where (byte & bit) != 0.
LLMT_INLINE_AVX2 __m256i bit_to(__m256i v, int bit, int value) {
    const __m256i b = _mm256_set1_epi8(char(bit));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, b), b), _mm256_set1_epi8(char(value)));
}
LLMT_INLINE_AVX2 __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
LLMT_INLINE_AVX2 void store256(void* p, __m256i v) { _mm256_store_si256(static_cast<__m256i*>(p), v); }

/// sc for 8 sub-blocks of 32 values: 16 equal lanes each.
LLMT_INLINE_AVX2 void scales_32(const std::uint8_t* s8, decoded& o) {
    for (int j = 0; j < 8; ++j) store256(o.sc + 16 * j, _mm256_set1_epi16(s8[j]));
}
/// sc for 16 sub-blocks of 16 values (signed): 8 equal lanes each.
LLMT_INLINE_AVX2 void scales_16(const std::int8_t* s8, decoded& o) {
    const __m256i s = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s8)));  // 16 x int16
    const __m256i lo = _mm256_permute2x128_si256(s, s, 0x00), hi = _mm256_permute2x128_si256(s, s, 0x11);
    for (int i = 0; i < 4; ++i) {
        // low 128-bit lane: int16 #2i repeated, high lane: #2i+1 repeated
        const __m256i ctl = _mm256_setr_epi8(char(4 * i), char(4 * i + 1), char(4 * i), char(4 * i + 1), char(4 * i), char(4 * i + 1), char(4 * i),
                                             char(4 * i + 1), char(4 * i), char(4 * i + 1), char(4 * i), char(4 * i + 1), char(4 * i),
                                             char(4 * i + 1), char(4 * i), char(4 * i + 1), char(4 * i + 2), char(4 * i + 3), char(4 * i + 2),
                                             char(4 * i + 3), char(4 * i + 2), char(4 * i + 3), char(4 * i + 2), char(4 * i + 3), char(4 * i + 2),
                                             char(4 * i + 3), char(4 * i + 2), char(4 * i + 3), char(4 * i + 2), char(4 * i + 3), char(4 * i + 2),
                                             char(4 * i + 3));
        store256(o.sc + 16 * i, _mm256_shuffle_epi8(lo, ctl));
        store256(o.sc + 16 * (i + 4), _mm256_shuffle_epi8(hi, ctl));
    }
    store256(o.mn, s);  // callers scale it
}

/// Q4_K/Q5_K: the 8 six-bit scales and mins of detail::unpack_scale_min6, four at a time, as the
/// bytes 0-7 of sc and mn (scale j in byte j, this being little-endian like the block layout).
inline void unpack_scale_min6x8(const std::uint8_t* b, std::uint64_t& sc, std::uint64_t& mn) noexcept {
    std::uint32_t u0, u1, u2;
    std::memcpy(&u0, b, 4);
    std::memcpy(&u1, b + 4, 4);
    std::memcpy(&u2, b + 8, 4);
    sc = (u0 & 0x3f3f3f3fu) | std::uint64_t((u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4)) << 32;
    mn = (u1 & 0x3f3f3f3fu) | std::uint64_t(((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4)) << 32;
}
/// The same into byte arrays.
inline void unpack_scale_min6x8(const std::uint8_t* b, std::uint8_t* sc, std::uint8_t* m) noexcept {
    std::uint64_t s, n;
    unpack_scale_min6x8(b, s, n);
    std::memcpy(sc, &s, 8);
    std::memcpy(m, &n, 8);
}
/// mn[2j] = mn[2j+1] = m[j] (a 32-value min applies to two 16-value activation sums).
LLMT_INLINE_AVX2 void mins_32(const std::uint8_t* m, decoded& o) {
    const __m128i v = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(m)));
    store256(o.mn, _mm256_set_m128i(_mm_unpackhi_epi16(v, v), _mm_unpacklo_epi16(v, v)));
}

template <typename F>
struct decoder;

template <>
struct decoder<quant::q4_k> {
    LLMT_INLINE_AVX2 static void run(const quant::block_q4_k& x, decoded& o) {
        for (int c = 0; c < 4; ++c) {
            const __m256i raw = load256(x.qs + 32 * c);
            store256(o.q + 64 * c, low_nibbles(raw));
            store256(o.q + 64 * c + 32, high_nibbles(raw));
        }
        std::uint8_t sc[8], m[8];
        unpack_scale_min6x8(x.scales, sc, m);
        scales_32(sc, o);
        mins_32(m, o);
        o.d = to_f32(x.d);
        o.dm = to_f32(x.dmin);
    }
};

template <>
struct decoder<quant::q5_k> {
    LLMT_INLINE_AVX2 static void run(const quant::block_q5_k& x, decoded& o) {
        const __m256i qh = load256(x.qh);
        for (int c = 0; c < 4; ++c) {
            const __m256i raw = load256(x.qs + 32 * c);
            store256(o.q + 64 * c, _mm256_or_si256(low_nibbles(raw), bit_to(qh, 1 << (2 * c), 0x10)));
            store256(o.q + 64 * c + 32, _mm256_or_si256(high_nibbles(raw), bit_to(qh, 1 << (2 * c + 1), 0x10)));
        }
        std::uint8_t sc[8], m[8];
        unpack_scale_min6x8(x.scales, sc, m);
        scales_32(sc, o);
        mins_32(m, o);
        o.d = to_f32(x.d);
        o.dm = to_f32(x.dmin);
    }
};

template <>
struct decoder<quant::q6_k> {
    LLMT_INLINE_AVX2 static void run(const quant::block_q6_k& x, decoded& o) {
        const __m256i m3 = _mm256_set1_epi8(3);
        for (int h = 0; h < 2; ++h) {
            const __m256i l0 = load256(x.ql + 64 * h), l1 = load256(x.ql + 64 * h + 32), qh = load256(x.qh + 32 * h);
            store256(o.q + 128 * h, _mm256_or_si256(low_nibbles(l0), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)));
            store256(o.q + 128 * h + 32, _mm256_or_si256(low_nibbles(l1), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)));
            store256(o.q + 128 * h + 64, _mm256_or_si256(high_nibbles(l0), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)));
            store256(o.q + 128 * h + 96, _mm256_or_si256(high_nibbles(l1), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)));
        }
        scales_16(x.scales, o);
        store256(o.mn, _mm256_slli_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(o.mn)), 5));  // 32 · scale
        o.d = to_f32(x.d);
        o.dm = o.d;
    }
};

template <>
struct decoder<quant::q3_k> {
    LLMT_INLINE_AVX2 static void run(const quant::block_q3_k& x, decoded& o) {
        const __m256i m3 = _mm256_set1_epi8(3), hm = load256(x.hmask);
        for (int c = 0; c < 2; ++c) {
            const __m256i qs = load256(x.qs + 32 * c);
            store256(o.q + 128 * c, _mm256_or_si256(_mm256_and_si256(qs, m3), bit_to(hm, 1 << (4 * c), 4)));
            store256(o.q + 128 * c + 32, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 2), m3), bit_to(hm, 1 << (4 * c + 1), 4)));
            store256(o.q + 128 * c + 64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 4), m3), bit_to(hm, 1 << (4 * c + 2), 4)));
            store256(o.q + 128 * c + 96, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 6), m3), bit_to(hm, 1 << (4 * c + 3), 4)));
        }
        // 16 six-bit scales stored +32: low nibbles in bytes 0-7 (0-7 low, 8-15 high), top 2 bits in bytes 8-11
        std::uint32_t u0, u1, u2;
        std::memcpy(&u0, x.scales, 4);
        std::memcpy(&u1, x.scales + 4, 4);
        std::memcpy(&u2, x.scales + 8, 4);
        const std::uint32_t s[4] = {(u0 & 0x0f0f0f0fu) | ((u2 & 0x03030303u) << 4), (u1 & 0x0f0f0f0fu) | (((u2 >> 2) & 0x03030303u) << 4),
                                    ((u0 >> 4) & 0x0f0f0f0fu) | (((u2 >> 4) & 0x03030303u) << 4),
                                    ((u1 >> 4) & 0x0f0f0f0fu) | (((u2 >> 6) & 0x03030303u) << 4)};
        alignas(16) std::int8_t sc[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(sc),
                        _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)), _mm_set1_epi8(32)));
        scales_16(sc, o);
        store256(o.mn, _mm256_slli_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(o.mn)), 2));  // 4 · scale
        o.d = to_f32(x.d);
        o.dm = o.d;
    }
};

template <>
struct decoder<quant::q2_k> {
    LLMT_INLINE_AVX2 static void run(const quant::block_q2_k& x, decoded& o) {
        const __m256i m3 = _mm256_set1_epi8(3);
        for (int c = 0; c < 2; ++c) {
            const __m256i qs = load256(x.qs + 32 * c);
            store256(o.q + 128 * c, _mm256_and_si256(qs, m3));
            store256(o.q + 128 * c + 32, _mm256_and_si256(_mm256_srli_epi16(qs, 2), m3));
            store256(o.q + 128 * c + 64, _mm256_and_si256(_mm256_srli_epi16(qs, 4), m3));
            store256(o.q + 128 * c + 96, _mm256_and_si256(_mm256_srli_epi16(qs, 6), m3));
        }
        const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales));
        alignas(16) std::int8_t sc[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(sc), _mm_and_si128(raw, _mm_set1_epi8(0x0f)));
        scales_16(sc, o);
        store256(o.mn, _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f))));
        o.d = to_f32(x.d);
        o.dm = to_f32(x.dmin);
    }
};

template <typename F>
inline constexpr bool covered = false;
template <> inline constexpr bool covered<quant::q2_k> = true;
template <> inline constexpr bool covered<quant::q3_k> = true;
template <> inline constexpr bool covered<quant::q4_k> = true;
template <> inline constexpr bool covered<quant::q5_k> = true;
template <> inline constexpr bool covered<quant::q6_k> = true;

// ---- AVX2 ----
template <typename F, int NR, int NC>
LLMT_TARGET_AVX2 void tile_avx2(const gemm_args& g) {
    using B = typename F::block;
    const std::int64_t nb = g.k / quant::qk_k;
    __m256 acc[NR][NC];
    for (int r = 0; r < NR; ++r)
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_setzero_ps();
    decoded w[NR];
    for (std::int64_t b = 0; b < nb; ++b) {
        for (int r = 0; r < NR; ++r) decoder<F>::run(reinterpret_cast<const B*>(g.w + std::size_t(r) * g.w_stride)[b], w[r]);
        const quant::block_q8_k* a[NC];
        for (int c = 0; c < NC; ++c) a[c] = reinterpret_cast<const quant::block_q8_k*>(g.a + std::size_t(c) * g.a_stride) + b;
        __m256i isum[NR][NC];
        for (int r = 0; r < NR; ++r)
            for (int c = 0; c < NC; ++c) isum[r][c] = _mm256_setzero_si256();
        for (int i = 0; i < 8; ++i) {
            for (int c = 0; c < NC; ++c) {
                const __m256i av = load256(a[c]->qs + 32 * i);
                for (int r = 0; r < NR; ++r) {
                    const __m256i p = _mm256_maddubs_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(w[r].q + 32 * i)), av);
                    isum[r][c] = _mm256_add_epi32(isum[r][c], _mm256_madd_epi16(p, _mm256_load_si256(reinterpret_cast<const __m256i*>(w[r].sc + 16 * i))));
                }
            }
        }
        for (int c = 0; c < NC; ++c) {
            const __m256i bs = load256(a[c]->bsums);
            for (int r = 0; r < NR; ++r) {
                const __m256i ms = _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(w[r].mn)), bs);
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][c]), _mm256_set1_ps(w[r].d * a[c]->d), acc[r][c]);
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ms), _mm256_set1_ps(-(w[r].dm * a[c]->d)), acc[r][c]);
            }
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int r = 0; r < NR; ++r) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][c]);
}

/// The formats with an AVX-512 VNNI decode kernel (kernels/gemv_k.hpp), whose VNNI tiles therefore
/// finish each super-block as that kernel does (see tile_avx512).
template <typename F>
inline constexpr bool decode_exact = false;
template <> inline constexpr bool decode_exact<quant::q4_k> = true;
template <> inline constexpr bool decode_exact<quant::q5_k> = true;
template <> inline constexpr bool decode_exact<quant::q6_k> = true;

/// The exact sums of the 16 int32 lanes of each of u[0..3], per 128-bit lane: lane 4j + p of the
/// result holds Σ of u[p]'s lanes 4j..4j+3.
LLMT_INLINE_AVX512 __m512i sum4x4(const __m512i (&u)[4]) {
    const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(u[0], u[1]), _mm512_unpackhi_epi32(u[0], u[1]));
    const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(u[2], u[3]), _mm512_unpackhi_epi32(u[2], u[3]));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
}

// ---- AVX-512 (VNNI: the scale madd + add is one vpdpwssd) ----
/// With VNNI, for the formats of decode_exact, a super-block ends as in the decode kernel
/// (gemvk::q45_k_step, q6_k_step): the exact integers T = Σ sc·q·a and M = Σ m·bsum of each row and
/// token (q6_K: T − 32·Σ sc·bsum, no M), then accT += T·(d·da) and accM += M·(−(dmin·da)), one fused
/// multiply-add each, and the result accT + accM: a token's row of a batch equals its decode result bit
/// for bit (DESIGN.md §8). The other paths keep 16 float lanes per row and token (fewer operations).
template <typename F, bool Vnni, int NR, int NC>
LLMT_TARGET_AVX512 void tile_avx512(const gemm_args& g) {
    constexpr bool exact = Vnni && decode_exact<F>;
    constexpr bool q6 = std::is_same_v<F, quant::q6_k>;
    // exact: per row, lanes c (T) and 8 + c (M) of accx[r] for token c < NC
    [[maybe_unused]] __m512 accx[NR];
    for (int r = 0; r < NR; ++r) accx[r] = _mm512_setzero_ps();
    using B = typename F::block;
    const std::int64_t nb = g.k / quant::qk_k;
    __m512 acc[NR][NC];
    for (int r = 0; r < NR; ++r)
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_setzero_ps();
    decoded w[NR];
    for (std::int64_t b = 0; b < nb; ++b) {
        for (int r = 0; r < NR; ++r) decoder<F>::run(reinterpret_cast<const B*>(g.w + std::size_t(r) * g.w_stride)[b], w[r]);
        const quant::block_q8_k* a[NC];
        for (int c = 0; c < NC; ++c) a[c] = reinterpret_cast<const quant::block_q8_k*>(g.a + std::size_t(c) * g.a_stride) + b;
        __m512i isum[NR][NC];
        for (int r = 0; r < NR; ++r)
            for (int c = 0; c < NC; ++c) isum[r][c] = _mm512_setzero_si512();
        for (int i = 0; i < 4; ++i) {
            for (int c = 0; c < NC; ++c) {
                const __m512i av = _mm512_loadu_si512(a[c]->qs + 64 * i);
                for (int r = 0; r < NR; ++r) {
                    const __m512i p = _mm512_maddubs_epi16(_mm512_load_si512(w[r].q + 64 * i), av);
                    const __m512i s = _mm512_load_si512(w[r].sc + 32 * i);
                    if constexpr (Vnni) isum[r][c] = simd::x86::dpwssd(isum[r][c], p, s);
                    else isum[r][c] = _mm512_add_epi32(isum[r][c], _mm512_madd_epi16(p, s));
                }
            }
        }
        if constexpr (exact) {
            // the NC tokens' activation scales in lanes c and 8 + c
            alignas(16) float da[4] = {};
            for (int c = 0; c < NC; ++c) da[c] = a[c]->d;
            const __m512 da16 = _mm512_broadcast_f32x4(_mm_load_ps(da));
            for (int r = 0; r < NR; ++r) {
                __m512i u[4];  // lanes 0-7: the row's Σ sc·q·a partial sums (q6_K: minus 32·Σ sc·bsum), 8-15: Σ m·bsum partial sums
                for (int c = 0; c < 4; ++c) {
                    if (c >= NC) {
                        u[c] = _mm512_setzero_si512();
                        continue;
                    }
                    const __m256i ms = _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(w[r].mn)), load256(a[c]->bsums));
                    const __m256i i8 = _mm256_add_epi32(_mm512_castsi512_si256(isum[r][c]), _mm512_extracti64x4_epi64(isum[r][c], 1));
                    if constexpr (q6) u[c] = _mm512_zextsi256_si512(_mm256_sub_epi32(i8, ms));
                    else u[c] = _mm512_inserti64x4(_mm512_castsi256_si512(i8), ms, 1);
                }
                __m512i tm = sum4x4(u);
                tm = _mm512_add_epi32(tm, _mm512_shuffle_i32x4(tm, tm, _MM_SHUFFLE(2, 3, 0, 1)));  // lanes c: T, 8 + c: M
                __m512 mult;
                if constexpr (q6) {
                    mult = _mm512_mul_ps(_mm512_set1_ps(w[r].d), da16);
                } else {
                    const __m512 dd = _mm512_insertf32x8(_mm512_set1_ps(w[r].d), _mm256_set1_ps(w[r].dm), 1);
                    mult = _mm512_xor_ps(_mm512_mul_ps(dd, da16), _mm512_insertf32x8(_mm512_setzero_ps(), _mm256_set1_ps(-0.0f), 1));
                }
                accx[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tm), mult, accx[r]);
            }
        } else {
            for (int c = 0; c < NC; ++c) {
                const __m256i bs = load256(a[c]->bsums);
                for (int r = 0; r < NR; ++r) {
                    const __m256i ms = _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(w[r].mn)), bs);
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][c]), _mm512_set1_ps(w[r].d * a[c]->d), acc[r][c]);
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_zextsi256_si512(ms)), _mm512_set1_ps(-(w[r].dm * a[c]->d)), acc[r][c]);
                }
            }
        }
    }
    if constexpr (exact) {
        for (int r = 0; r < NR; ++r) {
            alignas(64) float v[16];
            _mm512_store_ps(v, accx[r]);
            for (int c = 0; c < NC; ++c) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = q6 ? v[c] : v[c] + v[8 + c];
        }
    } else {
        for (int c = 0; c < NC; ++c)
            for (int r = 0; r < NR; ++r) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][c]);
    }
}

template <typename F>
struct impl_base {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return blocks_act_bytes<quant::q8_k>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { prepare_blocks<quant::q8_k>(x, out, k); }
};
}  // namespace kq

template <typename F>
    requires kq::covered<F>
struct gemm_impl<F, simd::isa::avx2> : kq::impl_base<F> {
    static constexpr int mr = 2, nc = 2;
    template <int NR, int NC>
    static void tile(const gemm_args& g) { kq::tile_avx2<F, NR, NC>(g); }
};
template <typename F, bool Vnni>
struct kq_avx512_impl : kq::impl_base<F> {
    static constexpr int mr = 2, nc = 4;
    template <int NR, int NC>
    static void tile(const gemm_args& g) { kq::tile_avx512<F, Vnni, NR, NC>(g); }
};
template <typename F>
    requires kq::covered<F>
struct gemm_impl<F, simd::isa::avx512> : kq_avx512_impl<F, false> {};
template <typename F>
    requires kq::covered<F>
struct gemm_impl<F, simd::isa::avx512vnni> : kq_avx512_impl<F, true> {};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
