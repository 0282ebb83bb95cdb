// gemv_q8x32: AVX-512 VNNI decode kernels (one token, many rows) for q4_0 and q8_0, 2-4 blocks per 512-bit step
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/gemm_q8x32.hpp>
#include <llmt/kernels/pack.hpp>
#include <llmt/kernels/quantize_act.hpp>
#include <llmt/quant/q4_0.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/simd/x86.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace gemv32 {

/// Prefetching: while a group of NR rows is computed, the same offsets of the next NR rows (the next
/// group, right after this one in memory) are prefetched into L2. A row of 4096 q4_0 values is only
/// 2304 bytes, too short for the hardware streamer to get ahead, and prefetching a fixed distance
/// within each row leaves every row's start a demand miss. One group ahead covers those starts too,
/// and keeps about NR·row_bytes in flight. Measured (llmt-kernels, 4096×4096 from DRAM): q8_0 from
/// ~72% to ~90% of the read bandwidth, q4_0 from ~55% to ~66% (T0 into L1 is no better, and the
/// group of f16 rows does not fit L1).

/// The token for q4_0 decode, in groups of 4 blocks (offsets from the token's base, multiples of 64):
///   qs    int8[ng][2][64]   per group: values 0-15 of the 4 blocks, then values 16-31 (the order the nibbles unpack in)
///   scale float[ng][16]     block scale d of block 4g + j in lanes 4j..4j+3
///   aux   int32[ng][16]     -8 · Σ of the 8 values feeding each lane (q4_0 stores q + 8)
///   tmp   the reference q8_0 blocks
/// A last partial group is zero-padded, so that it runs through the same code.
struct q4_0_layout {
    std::int64_t nb, ng;
    std::size_t qs, scale, aux, tmp, bytes;
    static q4_0_layout make(std::int64_t k) noexcept {
        q4_0_layout l{};
        l.nb = k / 32;
        l.ng = (l.nb + 3) / 4;
        l.qs = 0;
        l.scale = std::size_t(l.ng) * 128;
        l.aux = l.scale + std::size_t(l.ng) * 64;
        l.tmp = l.aux + std::size_t(l.ng) * 64;
        l.bytes = l.tmp + detail::align64(std::size_t(l.nb) * sizeof(quant::block_q8_0));
        return l;
    }
};

inline std::size_t q4_0_act_bytes(std::int64_t k) { return q4_0_layout::make(k).bytes; }

inline void q4_0_prepare(const float* x, std::byte* out, std::int64_t k) {
    const auto l = q4_0_layout::make(k);
    auto* blocks = reinterpret_cast<quant::block_q8_0*>(out + l.tmp);
    qact::quantize_q8_0(x, blocks, k);
    auto* qs = reinterpret_cast<std::int8_t*>(out + l.qs);
    auto* scale = reinterpret_cast<float*>(out + l.scale);
    auto* aux = reinterpret_cast<std::int32_t*>(out + l.aux);
    std::memset(out, 0, l.tmp);
    for (std::int64_t b = 0; b < l.nb; ++b) {
        const std::int64_t g = b / 4, j = b % 4;
        std::int8_t* lo = qs + 128 * g + 16 * j;
        std::memcpy(lo, blocks[b].qs, 16);
        std::memcpy(lo + 64, blocks[b].qs + 16, 16);
        const float d = to_f32(blocks[b].d);
        for (int i = 0; i < 4; ++i) {
            scale[16 * g + 4 * j + i] = d;
            int s = 0;
            for (int v = 0; v < 4; ++v) s += blocks[b].qs[4 * i + v] + blocks[b].qs[16 + 4 * i + v];
            aux[16 * g + 4 * j + i] = -8 * s;
        }
    }
}

/// prepare_q8_0<128> (kernels/act.hpp) with the AVX-512 quantizer: the q8x32 layout, aux = -128 · lane sums.
inline void q8_0_prepare(const float* x, std::byte* out, std::int64_t k) {
    const auto l = q8x32_layout::make<quant::q8_0>(k);
    auto* blocks = reinterpret_cast<quant::block_q8_0*>(out + l.tmp);
    qact::quantize_q8_0(x, blocks, k);
    auto* qs = reinterpret_cast<std::int8_t*>(out + l.qs);
    auto* scale = reinterpret_cast<float*>(out + l.scale);
    auto* aux = reinterpret_cast<std::int32_t*>(out + l.aux);
    for (std::int64_t b = 0; b < l.nb; ++b) {
        std::memcpy(qs + 32 * b, blocks[b].qs, 32);
        const float d = to_f32(blocks[b].d);
        for (int i = 0; i < 8; ++i) {
            scale[8 * b + i] = d;
            const std::int8_t* q = blocks[b].qs + 4 * i;
            aux[8 * b + i] = -128 * (q[0] + q[1] + q[2] + q[3]);
        }
    }
}

/// One 4-block group of a q4_0 row at p (72 bytes) against the prepared group; adds into acc.
/// Block j's 16 quant bytes start at byte 18j + 2, i.e. at word 9j + 1: one two-source word
/// permute over the group's 72 bytes (a 64-byte load and an 8-byte load) lines them up in the
/// 128-bit lanes, and one more gathers the four scales (words 0, 9, 18, 27).
LLMT_INLINE_AVX512 __m512 q4_0_step(const std::byte* p, __m512i alo, __m512i ahi, __m512i aux, __m512 as, __m512 acc) {
    const __m512i didx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // upper half unused
                                          27, 27, 27, 27, 18, 18, 18, 18, 9, 9, 9, 9, 0, 0, 0, 0);
    const __m512i qidx = _mm512_set_epi16(35, 34, 33, 32, 31, 30, 29, 28, 26, 25, 24, 23, 22, 21, 20, 19,  //
                                          17, 16, 15, 14, 13, 12, 11, 10, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i v0 = _mm512_loadu_si512(p);
    const __m512i v1 = _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 64)));
    const __m512i q = _mm512_permutex2var_epi16(v0, qidx, v1);
    __m512i s = simd::x86::dpbusd(aux, _mm512_and_si512(q, m4), alo);
    s = simd::x86::dpbusd(s, _mm512_and_si512(_mm512_srli_epi16(q, 4), m4), ahi);
    const __m512 d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(didx, v0)));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, as), acc);
}

template <int NR>
LLMT_TARGET_AVX512 void q4_0_rows(const gemm_args& g, const q4_0_layout& L) {
    const std::byte* a = g.a;
    __m512 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm512_setzero_ps();
    const std::int64_t full = L.nb / 4;
    const std::size_t ahead = NR * g.w_stride;
    for (std::int64_t gi = 0; gi < full; ++gi) {
        const __m512i alo = _mm512_load_si512(a + L.qs + 128 * gi), ahi = _mm512_load_si512(a + L.qs + 128 * gi + 64);
        const __m512i aux = _mm512_load_si512(a + L.aux + 64 * gi);
        const __m512 as = _mm512_load_ps(reinterpret_cast<const float*>(a + L.scale) + 16 * gi);
        for (int r = 0; r < NR; ++r) {
            const std::byte* p = g.w + std::size_t(r) * g.w_stride + 72 * std::size_t(gi);
            _mm_prefetch(reinterpret_cast<const char*>(p + ahead), _MM_HINT_T1);
            acc[r] = q4_0_step(p, alo, ahi, aux, as, acc[r]);
        }
    }
    if (full < L.ng) {  // 1-3 blocks left: zero-padded copies through the same step
        const std::int64_t gi = full;
        const __m512i alo = _mm512_load_si512(a + L.qs + 128 * gi), ahi = _mm512_load_si512(a + L.qs + 128 * gi + 64);
        const __m512i aux = _mm512_load_si512(a + L.aux + 64 * gi);
        const __m512 as = _mm512_load_ps(reinterpret_cast<const float*>(a + L.scale) + 16 * gi);
        for (int r = 0; r < NR; ++r) {
            alignas(64) std::byte buf[128] = {};
            std::memcpy(buf, g.w + std::size_t(r) * g.w_stride + 72 * std::size_t(gi), std::size_t(L.nb - 4 * full) * 18);
            acc[r] = q4_0_step(buf, alo, ahi, aux, as, acc[r]);
        }
    }
    for (int r = 0; r < NR; ++r) g.y[r] = simd::x86::hsum(acc[r]);
}

/// The q4_0 decode layout (kernels/pack.hpp), for rows of a multiple of 128 values: 8 rows at a time,
/// per group of 4 blocks (128 values) 576 bytes (64-aligned when the data is: a copy is, a file's
/// tensor packed in place may be only 32-aligned):
///   [64·r, 64·r + 64)   row r's 4 blocks' 16 quant bytes, block j at 16j (the unpack order of q4_0_step)
///   [512, 576)          the 32 block scales (f16), row r's block j at 4r + j
/// The same bytes as the 8 GGUF rows, so a packed group takes their place.
inline constexpr int q4_0_pack_rows = 8;
inline bool q4_0_packable(std::int64_t k) { return k > 0 && k % 128 == 0; }

inline void q4_0_pack(const std::byte* src, std::byte* dst, std::int64_t k) {
    const std::int64_t nb = k / 32, ng = nb / 4;
    const std::size_t row = std::size_t(nb) * sizeof(quant::block_q4_0);
    for (std::int64_t g = 0; g < ng; ++g) {
        std::byte* out = dst + 576 * std::size_t(g);
        for (int r = 0; r < 8; ++r)
            for (int j = 0; j < 4; ++j) {
                const std::byte* b = src + std::size_t(r) * row + std::size_t(4 * g + j) * sizeof(quant::block_q4_0);
                std::memcpy(out + 64 * r + 16 * j, b + 2, 16);
                std::memcpy(out + 512 + 2 * (4 * r + j), b, 2);
            }
    }
}

inline void q4_0_unpack(const std::byte* src, std::byte* dst, std::int64_t k) {
    const std::int64_t nb = k / 32, ng = nb / 4;
    const std::size_t row = std::size_t(nb) * sizeof(quant::block_q4_0);
    for (std::int64_t g = 0; g < ng; ++g) {
        const std::byte* in = src + 576 * std::size_t(g);
        for (int r = 0; r < 8; ++r)
            for (int j = 0; j < 4; ++j) {
                std::byte* b = dst + std::size_t(r) * row + std::size_t(4 * g + j) * sizeof(quant::block_q4_0);
                std::memcpy(b + 2, in + 64 * r + 16 * j, 16);
                std::memcpy(b, in + 512 + 2 * (4 * r + j), 2);
            }
    }
}

/// 8 packed rows (one group column after another, 576 bytes each) into y[0, 8). The same operations
/// as q4_0_rows, so the same results bit for bit: the product d·as is formed once per step for all
/// 8 rows (two multiplies instead of eight) and each row picks its lanes with one permute.
/// NS groups at once (g[0, NS), the same activation), each its own stream (see packed_streams).
/// Prefetch: each stream 4 steps (2304 bytes) ahead into L2.
template <int NS>
LLMT_TARGET_AVX512 inline void q4_0_packed8(const gemm_args* g) {
    const auto L = q4_0_layout::make(g[0].k);
    const std::byte* a = g[0].a;
    __m512 acc[NS][8];
    for (auto& row : acc)
        for (auto& v : row) v = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const __m512i spread = _mm512_set_epi32(12, 8, 4, 0, 12, 8, 4, 0, 12, 8, 4, 0, 12, 8, 4, 0);  // as of block j → lane 4r + j
    for (std::int64_t gi = 0; gi < L.ng; ++gi) {
        const __m512i alo = _mm512_load_si512(a + L.qs + 128 * gi), ahi = _mm512_load_si512(a + L.qs + 128 * gi + 64);
        const __m512i aux = _mm512_load_si512(a + L.aux + 64 * gi);
        const __m512 as = _mm512_permutexvar_ps(spread, _mm512_load_ps(reinterpret_cast<const float*>(a + L.scale) + 16 * gi));
#pragma GCC unroll 4
        for (int st = 0; st < NS; ++st) {
            const std::byte* p = g[st].w + 576 * std::size_t(gi);
            for (int c = 0; c < 9; ++c) _mm_prefetch(reinterpret_cast<const char*>(p + 2304 + 64 * c), _MM_HINT_T1);
            const __m512i dv = _mm512_loadu_si512(p + 512);
            const __m512 ds[2] = {_mm512_mul_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(dv)), as),
                                  _mm512_mul_ps(_mm512_cvtph_ps(_mm512_extracti64x4_epi64(dv, 1)), as)};
#pragma GCC unroll 8
            for (int r = 0; r < 8; ++r) {
                const __m512i q = _mm512_loadu_si512(p + 64 * r);
                __m512i s = simd::x86::dpbusd(aux, _mm512_and_si512(q, m4), alo);
                s = simd::x86::dpbusd(s, _mm512_and_si512(_mm512_srli_epi16(q, 4), m4), ahi);
                const int b = 4 * (r % 4);  // row r's 4 scales → lanes 4j..4j+3
                const __m512i pick = _mm512_set_epi32(b + 3, b + 3, b + 3, b + 3, b + 2, b + 2, b + 2, b + 2, b + 1, b + 1, b + 1, b + 1, b, b, b, b);
                acc[st][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_permutexvar_ps(pick, ds[r / 4]), acc[st][r]);
            }
        }
    }
    for (int st = 0; st < NS; ++st)
        for (int r = 0; r < 8; ++r) g[st].y[r] = simd::x86::hsum(acc[st][r]);
}

/// One 2-block group of a q8_0 row at p (68 bytes) against the q8x32 layout (aux = -128 · lane sums).
LLMT_INLINE_AVX512 __m512 q8_0_step(const std::byte* p, __m512i aq, __m512i aux, __m512 as, __m512 acc) {
    const __m512i didx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          17, 17, 17, 17, 17, 17, 17, 17, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512i q = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2)));
    q = _mm512_inserti64x4(q, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 36)), 1);
    const __m512i s = simd::x86::dpbusd(aux, _mm512_xor_si512(q, _mm512_set1_epi8(char(0x80))), aq);
    const __m512 d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(didx, _mm512_loadu_si512(p))));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d, as), acc);
}

/// NR rows of the file's layout, the next group of rows prefetched.
template <int NR>
LLMT_TARGET_AVX512 void q8_0_rows(const gemm_args& g, const q8x32_layout& L) {
    const std::byte* a = g.a;
    __m512 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm512_setzero_ps();
    const std::int64_t pairs = L.nb / 2;
    const std::size_t row_step = g.w_stride, pair_step = 68, ahead = NR * g.w_stride;
    for (std::int64_t gi = 0; gi < pairs; ++gi) {
        const __m512i aq = _mm512_load_si512(a + L.qs + 64 * gi);
        const __m512i aux = _mm512_load_si512(a + L.aux + 64 * gi);
        const __m512 as = _mm512_load_ps(reinterpret_cast<const float*>(a + L.scale) + 16 * gi);
        for (int r = 0; r < NR; ++r) {
            const std::byte* p = g.w + std::size_t(r) * row_step + pair_step * std::size_t(gi);
            _mm_prefetch(reinterpret_cast<const char*>(p + ahead), _MM_HINT_T1);
            acc[r] = q8_0_step(p, aq, aux, as, acc[r]);
        }
    }
    if (L.nb % 2) {  // the last block alone: the activation's second half is masked to zero
        const std::int64_t gi = pairs;
        const __m512i aq = _mm512_maskz_loadu_epi32(0x00ff, a + L.qs + 64 * gi);
        const __m512i aux = _mm512_maskz_loadu_epi32(0x00ff, a + L.aux + 64 * gi);
        const __m512 as = _mm512_maskz_loadu_ps(0x00ff, reinterpret_cast<const float*>(a + L.scale) + 16 * gi);
        for (int r = 0; r < NR; ++r) {
            alignas(64) std::byte buf[128] = {};
            std::memcpy(buf, g.w + std::size_t(r) * g.w_stride + 68 * std::size_t(gi), 34);
            acc[r] = q8_0_step(buf, aq, aux, as, acc[r]);
        }
    }
    for (int r = 0; r < NR; ++r) g.y[r] = simd::x86::hsum(acc[r]);
}

/// q8_0's decode layout: per step of 2 blocks (64 values), 8 rows side by side in 544 bytes (the
/// bytes of the 8 rows' block pairs, so a group takes exactly the bytes of its 8 GGUF rows):
///   [64r, 64r + 64)        row r's 64 values, each stored as q + 128 (the unsigned operand vpdpbusd
///                          takes, so the kernel needs no flip)
///   [512 + 4r + 2j, +2)    row r's scale d of block j of the pair (f16)
/// The kernel converts the 16 scales and multiplies them by the activation's scales once per step,
/// and each row picks its two with one permute: the same products as the file layout's kernel (the
/// same bits), in about half the operations on port 0.
inline constexpr std::size_t q8_0_step_bytes = 8 * 2 * sizeof(quant::block_q8_0);
static_assert(q8_0_step_bytes == 544);

/// 32 bytes copied with their top bits flipped (q ↔ q + 128), 8 at a time.
inline void copy_flip32(std::byte* dst, const std::byte* src) {
    for (int w = 0; w < 4; ++w) {
        std::uint64_t v;
        std::memcpy(&v, src + 8 * w, 8);
        v ^= 0x8080808080808080ull;
        std::memcpy(dst + 8 * w, &v, 8);
    }
}

inline void q8_0_pack(const std::byte* src, std::byte* dst, std::int64_t k) {
    const std::int64_t pairs = k / 64;
    const std::size_t row = std::size_t(pairs) * 2 * sizeof(quant::block_q8_0);
    for (std::int64_t u = 0; u < pairs; ++u) {
        std::byte* out = dst + q8_0_step_bytes * std::size_t(u);
        for (int r = 0; r < 8; ++r)
            for (int j = 0; j < 2; ++j) {
                const std::byte* b = src + std::size_t(r) * row + std::size_t(2 * u + j) * sizeof(quant::block_q8_0);
                copy_flip32(out + 64 * r + 32 * j, b + 2);
                std::memcpy(out + 512 + 4 * r + 2 * j, b, 2);
            }
    }
}

inline void q8_0_unpack(const std::byte* src, std::byte* dst, std::int64_t k) {
    const std::int64_t pairs = k / 64;
    const std::size_t row = std::size_t(pairs) * 2 * sizeof(quant::block_q8_0);
    for (std::int64_t u = 0; u < pairs; ++u) {
        const std::byte* in = src + q8_0_step_bytes * std::size_t(u);
        for (int r = 0; r < 8; ++r)
            for (int j = 0; j < 2; ++j) {
                std::byte* b = dst + std::size_t(r) * row + std::size_t(2 * u + j) * sizeof(quant::block_q8_0);
                std::memcpy(b, in + 512 + 4 * r + 2 * j, 2);
                copy_flip32(b + 2, in + 64 * r + 32 * j);
            }
    }
}

/// NS groups of 8 packed q8_0 rows at once (g[0, NS), the same activation), each its own stream (see
/// packed_streams), into g[s].y[0, 8). Prefetch: each stream 4 steps ahead.
template <int NS>
LLMT_TARGET_AVX512 inline void q8_0_packed8(const gemm_args* g) {
    const auto L = q8x32_layout::make<quant::q8_0>(g[0].k);
    const std::byte* a = g[0].a;
    __m512 acc[NS][8];
    for (auto& row : acc)
        for (auto& v : row) v = _mm512_setzero_ps();
    // activation scales: lanes 0-7 block 0, 8-15 block 1 → lane 2r + j takes block j's
    const __m512i alt = _mm512_set_epi32(8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0);
    const std::int64_t pairs = L.nb / 2;
    for (std::int64_t gi = 0; gi < pairs; ++gi) {
        const __m512i aq = _mm512_load_si512(a + L.qs + 64 * gi);
        const __m512i aux = _mm512_load_si512(a + L.aux + 64 * gi);
        const __m512 as = _mm512_permutexvar_ps(alt, _mm512_load_ps(reinterpret_cast<const float*>(a + L.scale) + 16 * gi));
#pragma GCC unroll 4
        for (int st = 0; st < NS; ++st) {
            const std::byte* p = g[st].w + q8_0_step_bytes * std::size_t(gi);
            for (int c = 0; c < 9; ++c) _mm_prefetch(reinterpret_cast<const char*>(p + 4 * q8_0_step_bytes + 64 * c), _MM_HINT_T1);
            const __m512 ds = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 512))), as);
#pragma GCC unroll 8
            for (int r = 0; r < 8; ++r) {
                const __m512i s = simd::x86::dpbusd(aux, _mm512_loadu_si512(p + 64 * r), aq);
                const __m512i pick = _mm512_set_epi32(2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1,
                                                      2 * r, 2 * r, 2 * r, 2 * r, 2 * r, 2 * r, 2 * r, 2 * r);
                acc[st][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_permutexvar_ps(pick, ds), acc[st][r]);
            }
        }
    }
    for (int st = 0; st < NS; ++st)
        for (int r = 0; r < 8; ++r) g[st].y[r] = simd::x86::hsum(acc[st][r]);
}

/// The prefill tile of q4_0 on AVX-512 VNNI: NR rows × NC tokens prepared by q4_0_prepare (the decode
/// layout), each element through the operations of q4_0_step in the same order (the same integers per
/// lane, one fused multiply-add per lane and group, the same horizontal sum), so that a token's row of a
/// batch equals its decode result bit for bit (DESIGN.md §8). A row's group is decoded once for the NC tokens.
template <int NR, int NC>
LLMT_TARGET_AVX512 void q4_0_tile(const gemm_args& g) {
    const auto L = q4_0_layout::make(g.k);
    const __m512i didx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                          27, 27, 27, 27, 18, 18, 18, 18, 9, 9, 9, 9, 0, 0, 0, 0);
    const __m512i qidx = _mm512_set_epi16(35, 34, 33, 32, 31, 30, 29, 28, 26, 25, 24, 23, 22, 21, 20, 19,  //
                                          17, 16, 15, 14, 13, 12, 11, 10, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 acc[NR][NC];
    for (int r = 0; r < NR; ++r)
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_setzero_ps();
    const std::int64_t full = L.nb / 4;
    for (std::int64_t gi = 0; gi < L.ng; ++gi) {
        __m512i lo[NR], hi[NR];
        __m512 d[NR];
        for (int r = 0; r < NR; ++r) {
            const std::byte* p = g.w + std::size_t(r) * g.w_stride + 72 * std::size_t(gi);
            alignas(64) std::byte buf[128] = {};
            if (gi == full) {  // 1-3 blocks left: zero-padded, as q4_0_rows
                std::memcpy(buf, p, std::size_t(L.nb - 4 * full) * 18);
                p = buf;
            }
            const __m512i v0 = _mm512_loadu_si512(p);
            const __m512i v1 = _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 64)));
            const __m512i q = _mm512_permutex2var_epi16(v0, qidx, v1);
            lo[r] = _mm512_and_si512(q, m4);
            hi[r] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
            d[r] = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(didx, v0)));
        }
        for (int c = 0; c < NC; ++c) {
            const std::byte* a = g.a + std::size_t(c) * g.a_stride;
            const __m512i alo = _mm512_load_si512(a + L.qs + 128 * gi), ahi = _mm512_load_si512(a + L.qs + 128 * gi + 64);
            const __m512i aux = _mm512_load_si512(a + L.aux + 64 * gi);
            const __m512 as = _mm512_load_ps(reinterpret_cast<const float*>(a + L.scale) + 16 * gi);
            for (int r = 0; r < NR; ++r) {
                __m512i s = simd::x86::dpbusd(aux, lo[r], alo);
                s = simd::x86::dpbusd(s, hi[r], ahi);
                acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(d[r], as), acc[r][c]);
            }
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int r = 0; r < NR; ++r) g.y[std::size_t(c) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][c]);
}

/// The prefill tiles on the q4_0 and q8_0 decode layouts: one packed group of 8 rows × NC tokens, each
/// (row, token) through exactly the operations of q4_0_packed8 / q8_0_packed8 (the same integers per lane,
/// one fused multiply-add per lane and step with the same scale product, the same horizontal sum), so a
/// token's rows equal its decode result bit for bit (DESIGN.md §8). The decode forms d·as for the 8 rows
/// and then picks a row's lanes; here the row's scales are picked first and multiplied by the token's
/// scales: the same two operands per lane, the same product. A row's quants are loaded and split once
/// for the NC ≤ 2 tokens (8 × NC accumulators in registers). CPU time per token, 2048×4096 packed, 1 thread
/// (against unpacking for the file-layout tiles): q4_0 n = 4: 207 → 81 us, n = 16: 151 → 83 us;
/// q8_0 n = 4: 371 → 141 us, n = 16: 232 → 175 us (decode, n = 1: 96 and 141 us).
template <int NC>
LLMT_TARGET_AVX512 void q4_0_packed_tile(const gemm_args& g) {
    const auto L = q4_0_layout::make(g.k);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 acc[8][NC];
    for (auto& row : acc)
        for (auto& v : row) v = _mm512_setzero_ps();
    for (std::int64_t gi = 0; gi < L.ng; ++gi) {
        const std::byte* p = g.w + 576 * std::size_t(gi);
        const std::size_t ao = L.qs + 128 * std::size_t(gi), xo = L.aux + 64 * std::size_t(gi), so = L.scale + 64 * std::size_t(gi);
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
            const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 512 + 32 * h)));
#pragma GCC unroll 4
            for (int r = 0; r < 4; ++r) {
                const __m512i q = _mm512_loadu_si512(p + 64 * (4 * h + r));
                const __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
                const int b = 4 * r;
                const __m512 dr = _mm512_permutexvar_ps(_mm512_set_epi32(b + 3, b + 3, b + 3, b + 3, b + 2, b + 2, b + 2, b + 2, b + 1, b + 1, b + 1, b + 1, b, b, b, b), d);
#pragma GCC unroll 4
                for (int t = 0; t < NC; ++t) {
                    const std::byte* a = g.a + std::size_t(t) * g.a_stride;
                    __m512i s = simd::x86::dpbusd(_mm512_load_si512(a + xo), lo, _mm512_load_si512(a + ao));
                    s = simd::x86::dpbusd(s, hi, _mm512_load_si512(a + ao + 64));
                    acc[4 * h + r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dr, _mm512_load_ps(reinterpret_cast<const float*>(a + so))), acc[4 * h + r][t]);
                }
            }
        }
    }
    for (int t = 0; t < NC; ++t)
        for (int r = 0; r < 8; ++r) g.y[std::size_t(t) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][t]);
}

/// See q4_0_packed_tile; q8_0's 544-byte steps of 2 blocks.
template <int NC>
LLMT_TARGET_AVX512 void q8_0_packed_tile(const gemm_args& g) {
    const auto L = q8x32_layout::make<quant::q8_0>(g.k);
    const std::int64_t pairs = L.nb / 2;
    __m512 acc[8][NC];
    for (auto& row : acc)
        for (auto& v : row) v = _mm512_setzero_ps();
    for (std::int64_t gi = 0; gi < pairs; ++gi) {
        const std::byte* p = g.w + q8_0_step_bytes * std::size_t(gi);
        // the 8 rows' 16 scales, row r's block j in lane 2r + j
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 512)));
        const std::size_t ao = L.qs + 64 * std::size_t(gi), xo = L.aux + 64 * std::size_t(gi), so = L.scale + 64 * std::size_t(gi);
#pragma GCC unroll 8
        for (int r = 0; r < 8; ++r) {
            const __m512i q = _mm512_loadu_si512(p + 64 * r);
            const __m512 dr = _mm512_permutexvar_ps(_mm512_set_epi32(2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1, 2 * r + 1,
                                                                     2 * r, 2 * r, 2 * r, 2 * r, 2 * r, 2 * r, 2 * r, 2 * r), d);
#pragma GCC unroll 4
            for (int t = 0; t < NC; ++t) {
                const std::byte* a = g.a + std::size_t(t) * g.a_stride;
                const __m512i s = simd::x86::dpbusd(_mm512_load_si512(a + xo), q, _mm512_load_si512(a + ao));
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dr, _mm512_load_ps(reinterpret_cast<const float*>(a + so))), acc[r][t]);
            }
        }
    }
    for (int t = 0; t < NC; ++t)
        for (int r = 0; r < 8; ++r) g.y[std::size_t(t) * g.y_stride + std::size_t(r)] = simd::x86::hsum(acc[r][t]);
}

/// Rows in groups of 8, then 4 (the last 1-3 alone); each row's operations do not depend on its group.
template <typename Layout, void (*R1)(const gemm_args&, const Layout&), void (*R2)(const gemm_args&, const Layout&),
          void (*R3)(const gemm_args&, const Layout&), void (*R4)(const gemm_args&, const Layout&), void (*R8)(const gemm_args&, const Layout&)>
void by_rows(const gemm_args& g0, std::int64_t nr, const Layout& L) {
    gemm_args g = g0;
    std::int64_t r = 0;
    for (; r + 8 <= nr; r += 8) {
        g.w = g0.w + std::size_t(r) * g0.w_stride;
        g.y = g0.y + r;
        R8(g, L);
    }
    for (; r + 4 <= nr; r += 4) {
        g.w = g0.w + std::size_t(r) * g0.w_stride;
        g.y = g0.y + r;
        R4(g, L);
    }
    g.w = g0.w + std::size_t(r) * g0.w_stride;
    g.y = g0.y + r;
    switch (nr - r) {
        case 1: R1(g, L); break;
        case 2: R2(g, L); break;
        case 3: R3(g, L); break;
        default: break;
    }
}

}  // namespace gemv32

template <>
struct gemv_impl<quant::q4_0, simd::isa::avx512vnni> {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return gemv32::q4_0_act_bytes(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { gemv32::q4_0_prepare(x, out, k); }
    static void gemv(const gemm_args& g, std::int64_t nr) {
        using L = gemv32::q4_0_layout;
        gemv32::by_rows<L, &gemv32::q4_0_rows<1>, &gemv32::q4_0_rows<2>, &gemv32::q4_0_rows<3>, &gemv32::q4_0_rows<4>, &gemv32::q4_0_rows<8>>(g, nr, L::make(g.k));
    }
    static constexpr int pack_rows = gemv32::q4_0_pack_rows;
    static bool packable(std::int64_t k) { return gemv32::q4_0_packable(k); }
    static void pack(const std::byte* src, std::byte* dst, std::int64_t k) { gemv32::q4_0_pack(src, dst, k); }
    static void unpack(const std::byte* src, std::byte* dst, std::int64_t k) { gemv32::q4_0_unpack(src, dst, k); }
    /// nr: whole groups of 8 packed rows.
    static void gemv_packed(const gemm_args& g, std::int64_t nr) {
        packed_streams<8, &gemv32::q4_0_packed8<1>, &gemv32::q4_0_packed8<2>>(g, nr);
    }
    static constexpr int packed_nc = 2;
    template <int NC>
    static void tile_packed(const gemm_args& g) { gemv32::q4_0_packed_tile<NC>(g); }
};

/// q4_0's prefill tiles on AVX-512 VNNI take the decode kernel's activation layout and operations
/// (gemv32::q4_0_tile): batched rows equal decode bit for bit. The AMX level inherits them for few tokens.
template <>
struct gemm_impl<quant::q4_0, simd::isa::avx512vnni> {
    static constexpr bool available = true;
    static constexpr int mr = 4, nc = 4;
    static std::size_t act_bytes(std::int64_t k) { return gemv32::q4_0_act_bytes(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { gemv32::q4_0_prepare(x, out, k); }
    template <int NR, int NC>
    static void tile(const gemm_args& g) { gemv32::q4_0_tile<NR, NC>(g); }
};

/// Decode layout: 8 rows' block pairs in 544-byte steps, values offset to unsigned, scales together
/// (gemv32::q8_0_pack).
template <>
struct gemv_impl<quant::q8_0, simd::isa::avx512vnni> {
    static constexpr bool available = true;
    static std::size_t act_bytes(std::int64_t k) { return q8x32_layout::make<quant::q8_0>(k).bytes; }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { gemv32::q8_0_prepare(x, out, k); }
    static void gemv(const gemm_args& g, std::int64_t nr) {
        using L = q8x32_layout;
        gemv32::by_rows<L, &gemv32::q8_0_rows<1>, &gemv32::q8_0_rows<2>, &gemv32::q8_0_rows<3>, &gemv32::q8_0_rows<4>, &gemv32::q8_0_rows<8>>(
            g, nr, L::make<quant::q8_0>(g.k));
    }
    static constexpr int pack_rows = 8;
    static bool packable(std::int64_t k) { return k > 0 && k % 64 == 0; }
    static void pack(const std::byte* src, std::byte* dst, std::int64_t k) { gemv32::q8_0_pack(src, dst, k); }
    static void unpack(const std::byte* src, std::byte* dst, std::int64_t k) { gemv32::q8_0_unpack(src, dst, k); }
    /// nr: whole groups of 8 packed rows.
    static void gemv_packed(const gemm_args& g, std::int64_t nr) {
        packed_streams<8, &gemv32::q8_0_packed8<1>, &gemv32::q8_0_packed8<2>>(g, nr);
    }
    static constexpr int packed_nc = 2;
    template <int NC>
    static void tile_packed(const gemm_args& g) { gemv32::q8_0_packed_tile<NC>(g); }
};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
