// gemm_q8x32: AVX2 and AVX-512 (VNNI) tiles for the 32-value block formats dotted in int8 (q4_0, q5_0, q8_0, iq4_nl, mxfp4, q4_1, q5_1)
#pragma once

#include <llmt/config.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/quant/iq4_nl.hpp>
#include <llmt/quant/mxfp4.hpp>
#include <llmt/quant/q4_0.hpp>
#include <llmt/quant/q4_1.hpp>
#include <llmt/quant/q5_0.hpp>
#include <llmt/quant/q5_1.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/q8_1.hpp>
#include <llmt/simd/x86.hpp>

#include <cstdint>
#include <cstring>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace q8x32 {

// How a format's 32 values become bytes for the int8 dot:
//   unsigned: bytes q ≥ 0 with x = d·(q - offset)  (offset folded into the activation's aux lanes)
//   signed:   bytes q with x = d·q (VNNI adds 128 to q and folds -128 into aux)
//   has_min:  x = d·q + m, dotted against q8_1 (m·s added through aux)
// Decoders: AVX2 `one` (block → 32 bytes), AVX-512 `two` (blocks b, b+1 → 64 bytes) and `one512`
// (block → low 32 bytes), plus the scales (and mins) spread over the lanes of each block.

LLMT_INLINE_AVX2 __m256i nibbles_avx2(const std::uint8_t* q) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i m = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m), _mm_and_si128(raw, m));
}
/// Bit j of h → 0x10 in byte j (the fifth bit of q5 values).
LLMT_INLINE_AVX2 __m256i bit4_avx2(std::uint32_t h) {
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bits = _mm256_set1_epi64x(std::int64_t(0x8040201008040201ull));
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(std::int32_t(h)), shuf);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, bits), bits), _mm256_set1_epi8(0x10));
}
LLMT_INLINE_AVX512 __m512i nibbles2_avx512(const std::uint8_t* q0, const std::uint8_t* q1) {
    const __m256i raw = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q0))),
                                                _mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)), 1);
    const __m256i m = _mm256_set1_epi8(0x0f);
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(raw, m)),
                                         _mm256_and_si256(_mm256_srli_epi16(raw, 4), m), 1);  // [lo0 lo1 hi0 hi1]
    return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));                              // [lo0 hi0 lo1 hi1]
}
LLMT_INLINE_AVX512 __m512i nibbles1_avx512(const std::uint8_t* q) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i m = _mm_set1_epi8(0x0f);
    return _mm512_zextsi256_si512(_mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m), _mm_and_si128(raw, m)));
}
inline std::uint32_t load_u32(const std::uint8_t* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

template <typename F>
struct traits;

template <>
struct traits<quant::q4_0> {
    using V = quant::q8_0;
    using B = quant::block_q4_0;
    static constexpr bool is_signed = false, has_min = false;
    static constexpr int offset = 8;
    LLMT_INLINE_AVX2 static __m256i one(const B& x) { return nibbles_avx2(x.qs); }
    LLMT_INLINE_AVX2 static __m256 scale(const B& x) { return simd::x86::broadcast_f16(x.d.bits); }
    LLMT_INLINE_AVX512 static __m512i two(const B& x0, const B& x1) { return nibbles2_avx512(x0.qs, x1.qs); }
    LLMT_INLINE_AVX512 static __m512i one512(const B& x) { return nibbles1_avx512(x.qs); }
    LLMT_INLINE_AVX512 static __m512 scale2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.d.bits, x1.d.bits); }
};

template <>
struct traits<quant::q5_0> {
    using V = quant::q8_0;
    using B = quant::block_q5_0;
    static constexpr bool is_signed = false, has_min = false;
    static constexpr int offset = 16;
    LLMT_INLINE_AVX2 static __m256i one(const B& x) { return _mm256_or_si256(nibbles_avx2(x.qs), bit4_avx2(load_u32(x.qh))); }
    LLMT_INLINE_AVX2 static __m256 scale(const B& x) { return simd::x86::broadcast_f16(x.d.bits); }
    LLMT_INLINE_AVX512 static __m512i two(const B& x0, const B& x1) {
        const __mmask64 h = _cvtu64_mask64(std::uint64_t(load_u32(x0.qh)) | std::uint64_t(load_u32(x1.qh)) << 32);
        const __m512i q = nibbles2_avx512(x0.qs, x1.qs);
        return _mm512_mask_add_epi8(q, h, q, _mm512_set1_epi8(0x10));
    }
    LLMT_INLINE_AVX512 static __m512i one512(const B& x) {
        const __mmask64 h = _cvtu64_mask64(std::uint64_t(load_u32(x.qh)));
        const __m512i q = nibbles1_avx512(x.qs);
        return _mm512_mask_add_epi8(q, h, q, _mm512_set1_epi8(0x10));
    }
    LLMT_INLINE_AVX512 static __m512 scale2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.d.bits, x1.d.bits); }
};

template <>
struct traits<quant::q8_0> {
    using V = quant::q8_0;
    using B = quant::block_q8_0;
    static constexpr bool is_signed = true, has_min = false;
    static constexpr int offset = 0;
    LLMT_INLINE_AVX2 static __m256i one(const B& x) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs)); }
    LLMT_INLINE_AVX2 static __m256 scale(const B& x) { return simd::x86::broadcast_f16(x.d.bits); }
    LLMT_INLINE_AVX512 static __m512i two(const B& x0, const B& x1) {
        return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x0.qs))),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x1.qs)), 1);
    }
    LLMT_INLINE_AVX512 static __m512i one512(const B& x) {
        return _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs)));
    }
    LLMT_INLINE_AVX512 static __m512 scale2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.d.bits, x1.d.bits); }
};

/// Formats whose 4-bit indices select int8 values from a 16-entry table.
template <typename Self, typename Block>
struct table_traits {
    using V = quant::q8_0;
    using B = Block;
    static constexpr bool is_signed = true, has_min = false;
    static constexpr int offset = 0;
    LLMT_INLINE_AVX2 static __m256i one(const B& x) {
        const __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(Self::grid)));
        return _mm256_shuffle_epi8(t, nibbles_avx2(x.qs));
    }
    LLMT_INLINE_AVX512 static __m512i two(const B& x0, const B& x1) {
        const __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(Self::grid)));
        return _mm512_shuffle_epi8(t, nibbles2_avx512(x0.qs, x1.qs));
    }
    LLMT_INLINE_AVX512 static __m512i one512(const B& x) {
        const __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(Self::grid)));
        return _mm512_maskz_shuffle_epi8(0xffffffffull, t, nibbles1_avx512(x.qs));
    }
};

template <>
struct traits<quant::iq4_nl> : table_traits<traits<quant::iq4_nl>, quant::block_iq4_nl> {
    static constexpr const std::int8_t* grid = quant::iq4nl_grid;
    LLMT_INLINE_AVX2 static __m256 scale(const B& x) { return simd::x86::broadcast_f16(x.d.bits); }
    LLMT_INLINE_AVX512 static __m512 scale2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.d.bits, x1.d.bits); }
};

template <>
struct traits<quant::mxfp4> : table_traits<traits<quant::mxfp4>, quant::block_mxfp4> {
    static constexpr const std::int8_t* grid = quant::e2m1_grid;
    LLMT_INLINE_AVX2 static __m256 scale(const B& x) { return _mm256_set1_ps(quant::e8m0_to_f32_half(x.e)); }
    LLMT_INLINE_AVX512 static __m512 scale2(const B& x0, const B& x1) {
        return simd::x86::floats_2x8(quant::e8m0_to_f32_half(x0.e), quant::e8m0_to_f32_half(x1.e));
    }
};

template <>
struct traits<quant::q4_1> {
    using V = quant::q8_1;
    using B = quant::block_q4_1;
    static constexpr bool is_signed = false, has_min = true;
    static constexpr int offset = 0;
    LLMT_INLINE_AVX2 static __m256i one(const B& x) { return nibbles_avx2(x.qs); }
    LLMT_INLINE_AVX2 static __m256 scale(const B& x) { return simd::x86::broadcast_f16(x.d.bits); }
    LLMT_INLINE_AVX2 static __m256 min(const B& x) { return simd::x86::broadcast_f16(x.m.bits); }
    LLMT_INLINE_AVX512 static __m512i two(const B& x0, const B& x1) { return nibbles2_avx512(x0.qs, x1.qs); }
    LLMT_INLINE_AVX512 static __m512i one512(const B& x) { return nibbles1_avx512(x.qs); }
    LLMT_INLINE_AVX512 static __m512 scale2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.d.bits, x1.d.bits); }
    LLMT_INLINE_AVX512 static __m512 min2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.m.bits, x1.m.bits); }
};

template <>
struct traits<quant::q5_1> {
    using V = quant::q8_1;
    using B = quant::block_q5_1;
    static constexpr bool is_signed = false, has_min = true;
    static constexpr int offset = 0;
    LLMT_INLINE_AVX2 static __m256i one(const B& x) { return _mm256_or_si256(nibbles_avx2(x.qs), bit4_avx2(load_u32(x.qh))); }
    LLMT_INLINE_AVX2 static __m256 scale(const B& x) { return simd::x86::broadcast_f16(x.d.bits); }
    LLMT_INLINE_AVX2 static __m256 min(const B& x) { return simd::x86::broadcast_f16(x.m.bits); }
    LLMT_INLINE_AVX512 static __m512i two(const B& x0, const B& x1) {
        const __mmask64 h = _cvtu64_mask64(std::uint64_t(load_u32(x0.qh)) | std::uint64_t(load_u32(x1.qh)) << 32);
        const __m512i q = nibbles2_avx512(x0.qs, x1.qs);
        return _mm512_mask_add_epi8(q, h, q, _mm512_set1_epi8(0x10));
    }
    LLMT_INLINE_AVX512 static __m512i one512(const B& x) {
        const __mmask64 h = _cvtu64_mask64(std::uint64_t(load_u32(x.qh)));
        const __m512i q = nibbles1_avx512(x.qs);
        return _mm512_mask_add_epi8(q, h, q, _mm512_set1_epi8(0x10));
    }
    LLMT_INLINE_AVX512 static __m512 scale2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.d.bits, x1.d.bits); }
    LLMT_INLINE_AVX512 static __m512 min2(const B& x0, const B& x1) { return simd::x86::scales_2x8(x0.m.bits, x1.m.bits); }
};

/// The activation preparation a format needs on a path (the aux lanes differ).
template <typename F, bool Vnni>
void prepare(const float* x, std::byte* out, std::int64_t k) {
    using T = traits<F>;
    if constexpr (T::has_min) prepare_q8_1(x, out, k);
    else if constexpr (T::is_signed) prepare_q8_0<Vnni ? 128 : 0>(x, out, k);
    else prepare_q8_0<T::offset>(x, out, k);
}

// ---- AVX2: one block per 256-bit register ----
template <typename F, int NR, int NC>
LLMT_TARGET_AVX2 void tile_avx2(const gemm_args& g) {
    using T = traits<F>;
    using B = typename T::B;
    const auto L = q8x32_layout::make<typename T::V>(g.k);
    __m256 acc[NR][NC];
    for (int r = 0; r < NR; ++r)
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_setzero_ps();
    for (std::int64_t b = 0; b < L.nb; ++b) {
        __m256i q[NR];
        __m256 d[NR], m[NR];
        for (int r = 0; r < NR; ++r) {
            const B& x = reinterpret_cast<const B*>(g.w + std::size_t(r) * g.w_stride)[b];
            q[r] = T::one(x);
            d[r] = T::scale(x);
            if constexpr (T::has_min) m[r] = T::min(x);
        }
        for (int c = 0; c < NC; ++c) {
            const std::byte* a = g.a + std::size_t(c) * g.a_stride;
            const __m256i aq = _mm256_load_si256(reinterpret_cast<const __m256i*>(a + L.qs) + b);
            const __m256 as = _mm256_load_ps(reinterpret_cast<const float*>(a + L.scale) + 8 * b);
            for (int r = 0; r < NR; ++r) {
                __m256i s;
                if constexpr (T::is_signed) {
                    s = simd::x86::dot_s8s8(q[r], aq);
                } else {
                    s = simd::x86::dot_u8s8(q[r], aq);
                    if constexpr (T::offset != 0)
                        s = _mm256_add_epi32(s, _mm256_load_si256(reinterpret_cast<const __m256i*>(a + L.aux) + b));
                }
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d[r], as), acc[r][c]);
                if constexpr (T::has_min)
                    acc[r][c] = _mm256_fmadd_ps(m[r], _mm256_load_ps(reinterpret_cast<const float*>(a + L.aux) + 8 * b), acc[r][c]);
            }
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int r = 0; r < NR; ++r) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][c]);
}

// ---- AVX-512: two blocks per 512-bit register ----
/// Blocks [b, b + 2) when Pair, else block b alone (the upper halves stay zero).
template <typename F, bool Vnni, int NR, int NC, bool Pair>
LLMT_INLINE_AVX512 void step_avx512(const gemm_args& g, const q8x32_layout& L, std::int64_t b, __m512 (&acc)[NR][NC]) {
    using T = traits<F>;
    using B = typename T::B;
    __m512i q[NR];
    __m512 d[NR], m[NR];
    __mmask64 neg[NR];
    for (int r = 0; r < NR; ++r) {
        const B* x = reinterpret_cast<const B*>(g.w + std::size_t(r) * g.w_stride) + b;
        if constexpr (Pair) {
            q[r] = T::two(x[0], x[1]);
            d[r] = T::scale2(x[0], x[1]);
            if constexpr (T::has_min) m[r] = T::min2(x[0], x[1]);
        } else {
            q[r] = T::one512(x[0]);
            d[r] = _mm512_maskz_mov_ps(0x00ff, T::scale2(x[0], x[0]));
            if constexpr (T::has_min) m[r] = _mm512_maskz_mov_ps(0x00ff, T::min2(x[0], x[0]));
        }
        if constexpr (T::is_signed) {
            if constexpr (Vnni) {
                q[r] = _mm512_xor_si512(q[r], _mm512_set1_epi8(char(0x80)));
            } else {
                neg[r] = _mm512_movepi8_mask(q[r]);
                q[r] = _mm512_abs_epi8(q[r]);
            }
        }
    }
    constexpr __mmask16 lanes = Pair ? 0xffff : 0x00ff;
    for (int c = 0; c < NC; ++c) {
        const std::byte* a = g.a + std::size_t(c) * g.a_stride;
        const __m512i aq = _mm512_maskz_loadu_epi32(lanes, reinterpret_cast<const std::int32_t*>(a + L.qs) + 8 * b);
        const __m512 as = _mm512_maskz_loadu_ps(lanes, reinterpret_cast<const float*>(a + L.scale) + 8 * b);
        __m512i aux = _mm512_setzero_si512();
        if constexpr ((T::is_signed && Vnni) || T::offset != 0 || T::has_min)
            aux = _mm512_maskz_loadu_epi32(lanes, reinterpret_cast<const std::int32_t*>(a + L.aux) + 8 * b);
        for (int r = 0; r < NR; ++r) {
            __m512i s;
            if constexpr (Vnni) {
                s = simd::x86::dpbusd(T::has_min ? _mm512_setzero_si512() : aux, q[r], aq);
            } else if constexpr (T::is_signed) {
                s = simd::x86::dot_u8s8(q[r], _mm512_mask_sub_epi8(aq, neg[r], _mm512_setzero_si512(), aq));
            } else {
                s = simd::x86::dot_u8s8(q[r], aq);
                if constexpr (T::offset != 0) s = _mm512_add_epi32(s, aux);
            }
            acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d[r], as), acc[r][c]);
            if constexpr (T::has_min) acc[r][c] = _mm512_fmadd_ps(m[r], _mm512_castsi512_ps(aux), acc[r][c]);
        }
    }
}

template <typename F, bool Vnni, int NR, int NC>
LLMT_TARGET_AVX512 void tile_avx512(const gemm_args& g) {
    const auto L = q8x32_layout::make<typename traits<F>::V>(g.k);
    __m512 acc[NR][NC];
    for (int r = 0; r < NR; ++r)
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_setzero_ps();
    std::int64_t b = 0;
    for (; b + 2 <= L.nb; b += 2) step_avx512<F, Vnni, NR, NC, true>(g, L, b, acc);
    if (b < L.nb) step_avx512<F, Vnni, NR, NC, false>(g, L, b, acc);
    for (int c = 0; c < NC; ++c)
        for (int r = 0; r < NR; ++r) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][c]);
}

template <typename F>
inline constexpr bool covered = false;
template <> inline constexpr bool covered<quant::q4_0> = true;
template <> inline constexpr bool covered<quant::q5_0> = true;
template <> inline constexpr bool covered<quant::q8_0> = true;
template <> inline constexpr bool covered<quant::iq4_nl> = true;
template <> inline constexpr bool covered<quant::mxfp4> = true;
template <> inline constexpr bool covered<quant::q4_1> = true;
template <> inline constexpr bool covered<quant::q5_1> = true;

}  // namespace q8x32

template <typename F>
    requires q8x32::covered<F>
struct gemm_impl<F, simd::isa::avx2> {
    static constexpr bool available = true;
    static constexpr int mr = 2, nc = 4;
    static std::size_t act_bytes(std::int64_t k) { return q8x32_layout::make<typename q8x32::traits<F>::V>(k).bytes; }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { q8x32::prepare<F, false>(x, out, k); }
    template <int NR, int NC>
    static void tile(const gemm_args& g) { q8x32::tile_avx2<F, NR, NC>(g); }
};

template <typename F, bool Vnni>
struct q8x32_avx512_impl {
    static constexpr bool available = true;
    static constexpr int mr = 4, nc = q8x32::traits<F>::has_min ? 3 : 4;
    static std::size_t act_bytes(std::int64_t k) { return q8x32_layout::make<typename q8x32::traits<F>::V>(k).bytes; }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { q8x32::prepare<F, Vnni>(x, out, k); }
    template <int NR, int NC>
    static void tile(const gemm_args& g) { q8x32::tile_avx512<F, Vnni, NR, NC>(g); }
};
template <typename F>
    requires q8x32::covered<F>
struct gemm_impl<F, simd::isa::avx512> : q8x32_avx512_impl<F, false> {};
template <typename F>
    requires q8x32::covered<F>
struct gemm_impl<F, simd::isa::avx512vnni> : q8x32_avx512_impl<F, true> {};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
