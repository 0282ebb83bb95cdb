// flash: one query's attention over one KV segment (online softmax over 16-position blocks) and the segment merge
#pragma once

#include <llmt/config.hpp>
#include <llmt/kv_cache/element.hpp>
#include <llmt/simd/diagnostics.hpp>
#include <llmt/simd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // _mm512_reduce_max_ps, the 16×16 transpose
#endif

LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace attention {

/// The fixed order of every attention result. Positions are cut at absolute multiples of
/// block_tokens (one vector of scores) and segment_tokens (one online-softmax pass); a query folds
/// the blocks of a segment in ascending order into (max, sum, acc), then merges its segments in
/// ascending order. Which tile, batch, chunk or thread computes a query changes none of it.
inline constexpr std::int64_t block_tokens = 16;
inline constexpr std::int64_t segment_tokens = 256;

namespace detail {

/// A segment's keys and values widened to f32, as the kernel reads them.
/// kt: [segment_tokens / block_tokens][hd][block_tokens] (keys transposed per block)
/// vt: [segment_tokens][hdp] (values, each row padded with zeros to hdp)
struct segment_buffers {
    float* kt = nullptr;
    float* vt = nullptr;
    float* rows = nullptr;  // [block_tokens][hd] a block's key rows widened, before the transpose
};

/// The lanes the kernel computes with: one xsimd batch, or one float when xsimd has no arch here.
#if LLMT_HAS_XSIMD
using lane_t = xsimd::batch<float, simd::arch>;
inline constexpr std::int64_t lane_count = std::int64_t(lane_t::size);
inline lane_t lane_load(const float* p) noexcept { return lane_t::load_unaligned(p); }
inline void lane_store(const lane_t& v, float* p) noexcept { v.store_unaligned(p); }
inline lane_t lane_fma(const lane_t& a, const lane_t& b, const lane_t& c) noexcept { return xsimd::fma(a, b, c); }
inline lane_t lane_max(const lane_t& a, const lane_t& b) noexcept { return xsimd::max(a, b); }
inline lane_t lane_exp(const lane_t& a) noexcept { return xsimd::exp(a); }
inline float lane_hmax(const lane_t& a) noexcept {
#if defined(__AVX512F__)
    if constexpr (lane_t::size == 16) return _mm512_reduce_max_ps(a);
#endif
    return simd::hmax(a);
}
inline float lane_hadd(const lane_t& a) noexcept { return xsimd::hadd(a); }
#else
struct lane_t {
    float v;
    explicit lane_t(float x = 0.0f) noexcept : v(x) {}
};
inline lane_t operator+(lane_t a, lane_t b) noexcept { return lane_t(a.v + b.v); }
inline lane_t operator-(lane_t a, lane_t b) noexcept { return lane_t(a.v - b.v); }
inline lane_t operator*(lane_t a, lane_t b) noexcept { return lane_t(a.v * b.v); }
inline constexpr std::int64_t lane_count = 1;
inline lane_t lane_load(const float* p) noexcept { return lane_t(*p); }
inline void lane_store(const lane_t& v, float* p) noexcept { *p = v.v; }
inline lane_t lane_fma(const lane_t& a, const lane_t& b, const lane_t& c) noexcept { return lane_t(std::fma(a.v, b.v, c.v)); }
inline lane_t lane_max(const lane_t& a, const lane_t& b) noexcept { return lane_t(std::max(a.v, b.v)); }
inline lane_t lane_exp(const lane_t& a) noexcept { return lane_t(std::exp(a.v)); }
inline float lane_hmax(const lane_t& a) noexcept { return a.v; }
inline float lane_hadd(const lane_t& a) noexcept { return a.v; }
#endif
static_assert(block_tokens % lane_count == 0, "a block of scores is whole vectors");
inline constexpr int block_vectors = int(block_tokens / lane_count);

/// The head size rounded up to whole vectors (the width of a value row in segment_buffers::vt).
constexpr std::int64_t padded_head(std::int64_t hd) noexcept { return (hd + lane_count - 1) / lane_count * lane_count; }

/// dst[i][j] = src[j][i] for j < block_tokens, i < hd: a block of key rows (ld floats apart) transposed.
inline void transpose_block(const float* src, std::int64_t ld, std::int64_t hd, float* dst) noexcept {
#if defined(__AVX512F__) && LLMT_HAS_XSIMD
    if constexpr (lane_count == 16) {
        if (hd % 16 == 0) {
            for (std::int64_t c0 = 0; c0 < hd; c0 += 16) {
                __m512 r[16], t[16];
                for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(src + j * ld + c0);
                for (int k = 0; k < 8; ++k) {
                    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
                    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
                }
                // r[4k + m], 128-bit lane L: column 4L + m of rows 4k .. 4k + 3
                for (int k = 0; k < 4; ++k) {
                    const __m512d a0 = _mm512_castps_pd(t[4 * k]), a1 = _mm512_castps_pd(t[4 * k + 1]);
                    const __m512d a2 = _mm512_castps_pd(t[4 * k + 2]), a3 = _mm512_castps_pd(t[4 * k + 3]);
                    r[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
                    r[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
                    r[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
                    r[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
                }
                for (int m = 0; m < 4; ++m) {
                    const __m512 v0 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x44), v1 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xEE);
                    const __m512 v2 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x44), v3 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xEE);
                    _mm512_storeu_ps(dst + (c0 + m) * 16, _mm512_shuffle_f32x4(v0, v2, 0x88));
                    _mm512_storeu_ps(dst + (c0 + 4 + m) * 16, _mm512_shuffle_f32x4(v0, v2, 0xDD));
                    _mm512_storeu_ps(dst + (c0 + 8 + m) * 16, _mm512_shuffle_f32x4(v1, v3, 0x88));
                    _mm512_storeu_ps(dst + (c0 + 12 + m) * 16, _mm512_shuffle_f32x4(v1, v3, 0xDD));
                }
            }
            return;
        }
    }
#endif
    for (std::int64_t j = 0; j < block_tokens; ++j)
        for (std::int64_t i = 0; i < hd; ++i) dst[i * block_tokens + j] = src[j * ld + i];
}

/// Widens rows lo..hi (absolute positions, inside the segment starting at p0) of KV head g into b:
/// the blocks holding them, other positions of those blocks zero (rows the tile may not read: past
/// the sequence's end, or freed under a window).
template <kv_cache::kv_element E, typename View>
void load_segment(const View& view, std::int64_t layer, std::int64_t g, std::int64_t p0, std::int64_t lo, std::int64_t hi,
                  std::int64_t hd, std::int64_t hdp, const segment_buffers& b) {
    using ops = kv_cache::element_ops<E>;
    const std::int64_t b0 = (lo - p0) / block_tokens, b1 = (hi - p0) / block_tokens;
    for (std::int64_t blk = b0; blk <= b1; ++blk) {
        for (std::int64_t j = 0; j < block_tokens; ++j) {
            const std::int64_t p = p0 + blk * block_tokens + j;
            float* kr = b.rows + j * hd;
            float* vr = b.vt + (p - p0) * hdp;
            if (p < lo || p > hi) {
                std::memset(kr, 0, sizeof(float) * std::size_t(hd));
                std::memset(vr, 0, sizeof(float) * std::size_t(hdp));
                continue;
            }
            ops::load(view.k_row(layer, p, g), kr, hd);
            ops::load(view.v_row(layer, p, g), vr, hd);
            for (std::int64_t i = hd; i < hdp; ++i) vr[i] = 0.0f;
        }
        transpose_block(b.rows, hd, hd, b.kt + blk * hd * block_tokens);
    }
}

/// One query over the positions lo..hi (its visible ones) of the segment starting at p0:
/// m = max score, l = Σ exp(score - m), acc[hdp] = Σ exp(score - m) v, folded block by block in
/// ascending order (online softmax). NV: value vectors per row known at compile time (0 = hdp / lanes).
template <int NV>
void query_segment(const float* kt, const float* vt, const float* q, std::int64_t hd, std::int64_t hdp, float scale,
                   std::int64_t p0, std::int64_t lo, std::int64_t hi, float& m_out, float& l_out, float* acc_out) {
    constexpr int NB = block_vectors;
    constexpr std::int64_t N = lane_count;
    constexpr int NA = NV > 0 ? NV : 1;
    const std::int64_t nv = NV > 0 ? NV : hdp / N;
    lane_t acc[NA];
    if constexpr (NV > 0) {
        for (int c = 0; c < NV; ++c) acc[c] = lane_t(0.0f);
    } else {
        std::memset(acc_out, 0, sizeof(float) * std::size_t(hdp));
    }
    float m = -std::numeric_limits<float>::infinity(), l = 0.0f;
    alignas(64) float w[block_tokens];
    const std::int64_t b0 = (lo - p0) / block_tokens, b1 = (hi - p0) / block_tokens;
    for (std::int64_t blk = b0; blk <= b1; ++blk) {
        const float* k = kt + blk * hd * block_tokens;
        // scores: four chains over i (i mod 4), summed (0 + 1) + (2 + 3)
        lane_t s[4][NB];
        for (int c = 0; c < 4; ++c)
            for (int v = 0; v < NB; ++v) s[c][v] = lane_t(0.0f);
        std::int64_t i = 0;
        for (; i + 4 <= hd; i += 4)
            for (int c = 0; c < 4; ++c) {
                const lane_t qi(q[i + c]);
                for (int v = 0; v < NB; ++v) s[c][v] = lane_fma(qi, lane_load(k + (i + c) * block_tokens + v * N), s[c][v]);
            }
        for (; i < hd; ++i) {
            const lane_t qi(q[i]);
            for (int v = 0; v < NB; ++v) s[0][v] = lane_fma(qi, lane_load(k + i * block_tokens + v * N), s[0][v]);
        }
        const lane_t vscale(scale);
        lane_t sc[NB];
        for (int v = 0; v < NB; ++v) sc[v] = ((s[0][v] + s[1][v]) + (s[2][v] + s[3][v])) * vscale;
        // the visible lanes of this block: [j0, j1]
        const std::int64_t base = p0 + blk * block_tokens;
        const std::int64_t j0 = std::max(lo, base) - base, j1 = std::min(hi, base + block_tokens - 1) - base;
        const bool partial = j0 > 0 || j1 < block_tokens - 1;
        if (partial) {
            for (int v = 0; v < NB; ++v) lane_store(sc[v], w + v * N);
            for (std::int64_t j = 0; j < block_tokens; ++j)
                if (j < j0 || j > j1) w[j] = -std::numeric_limits<float>::infinity();
            for (int v = 0; v < NB; ++v) sc[v] = lane_load(w + v * N);
        }
        lane_t mx = sc[0];
        for (int v = 1; v < NB; ++v) mx = lane_max(mx, sc[v]);
        const float mn = std::max(m, lane_hmax(mx));
        const float alpha = mn == m ? 1.0f : std::exp(m - mn);  // 0 on the first block (m = -inf); exp(0) is 1
        const lane_t vmn(mn);
        lane_t p[NB];
        for (int v = 0; v < NB; ++v) p[v] = lane_exp(sc[v] - vmn);
        for (int v = 0; v < NB; ++v) lane_store(p[v], w + v * N);
        if (partial)
            for (std::int64_t j = 0; j < block_tokens; ++j)
                if (j < j0 || j > j1) w[j] = 0.0f;
        lane_t ps = lane_load(w);
        for (int v = 1; v < NB; ++v) ps = ps + lane_load(w + v * N);
        l = l * alpha + lane_hadd(ps);
        m = mn;
        const float* vb = vt + blk * block_tokens * hdp;
        if constexpr (NV > 0) {
            if (alpha != 1.0f) {
                const lane_t va(alpha);
                for (int c = 0; c < NV; ++c) acc[c] = acc[c] * va;
            }
            for (std::int64_t j = j0; j <= j1; ++j) {
                const lane_t wj(w[j]);
                const float* vr = vb + j * hdp;
                for (int c = 0; c < NV; ++c) acc[c] = lane_fma(wj, lane_load(vr + c * N), acc[c]);
            }
        } else {
            if (alpha != 1.0f) {
                const lane_t va(alpha);
                for (std::int64_t c = 0; c < nv; ++c) lane_store(lane_load(acc_out + c * N) * va, acc_out + c * N);
            }
            for (std::int64_t j = j0; j <= j1; ++j) {
                const lane_t wj(w[j]);
                const float* vr = vb + j * hdp;
                for (std::int64_t c = 0; c < nv; ++c)
                    lane_store(lane_fma(wj, lane_load(vr + c * N), lane_load(acc_out + c * N)), acc_out + c * N);
            }
        }
    }
    if constexpr (NV > 0)
        for (int c = 0; c < NV; ++c) lane_store(acc[c], acc_out + c * N);
    (void)nv;
    m_out = m;
    l_out = l;
}

/// query_segment with the value width known at compile time for the common head sizes.
inline void query_segment_any(const float* kt, const float* vt, const float* q, std::int64_t hd, std::int64_t hdp, float scale,
                              std::int64_t p0, std::int64_t lo, std::int64_t hi, float& m, float& l, float* acc) {
    switch (hdp / lane_count) {
        case 1: return query_segment<1>(kt, vt, q, hd, hdp, scale, p0, lo, hi, m, l, acc);
        case 2: return query_segment<2>(kt, vt, q, hd, hdp, scale, p0, lo, hi, m, l, acc);
        case 4: return query_segment<4>(kt, vt, q, hd, hdp, scale, p0, lo, hi, m, l, acc);
        case 8: return query_segment<8>(kt, vt, q, hd, hdp, scale, p0, lo, hi, m, l, acc);
        default: return query_segment<0>(kt, vt, q, hd, hdp, scale, p0, lo, hi, m, l, acc);
    }
}

/// (M, L, A) ← the merge of (M, L, A) (the earlier segments) with (m, l, a) (the next one).
inline void merge_segment(float& M, float& L, float* A, float m, float l, const float* a, std::int64_t hdp) noexcept {
    const float mn = std::max(M, m);
    const float ea = std::exp(M - mn), eb = std::exp(m - mn);
    L = L * ea + l * eb;
    const lane_t va(ea), vb(eb);
    for (std::int64_t i = 0; i < hdp; i += lane_count)
        lane_store(lane_fma(lane_load(A + i), va, lane_load(a + i) * vb), A + i);
    M = mn;
}

}  // namespace detail
}  // namespace attention
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
