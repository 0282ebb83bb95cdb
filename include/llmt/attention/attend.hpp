// attend: causal (optionally windowed) scaled dot-product attention of a batch of queries over a KV store
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kernels/softmax.hpp>
#include <llmt/kv_cache/store.hpp>
#include <llmt/simd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

LLMT_BEGIN_NAMESPACE
namespace attention {

/// Sizes of one attention call.
struct attention_shape {
    std::int64_t n_head = 0;
    std::int64_t n_head_kv = 0;
    std::int64_t head_dim = 0;
    std::int64_t window = 0;  // a position sees the last `window` positions, itself included; 0 = all
    float scale = 1.0f;       // applied to q·k before the softmax (1/sqrt(head_dim))
};

/// The first position visible from position pos.
constexpr std::int64_t first_visible(std::int64_t pos, std::int64_t window) noexcept {
    return window > 0 ? std::max<std::int64_t>(0, pos - window + 1) : 0;
}

namespace detail {
#if LLMT_HAS_XSIMD
/// o = Σ_{p = first..last} w[p - first]·v[p] for f32 rows of NB whole vectors, summed in registers
/// (a load-add-store of o per position is a chain through memory).
template <int NB, typename KV>
void weighted_rows_f32(const KV& kv, std::int64_t layer, std::int64_t g, std::int64_t first,
                       std::int64_t last, const float* w, float* o) {
    using b_t = xsimd::batch<float, simd::arch>;
    constexpr std::int64_t N = b_t::size;
    b_t acc[NB];
    for (int c = 0; c < NB; ++c) acc[c] = b_t(0.0f);
    for (std::int64_t p = first; p <= last; ++p) {
        const float* v = reinterpret_cast<const float*>(kv.v_row(layer, p, g));
        const b_t s(w[p - first]);
        for (int c = 0; c < NB; ++c) acc[c] = xsimd::fma(s, b_t::load_unaligned(v + c * N), acc[c]);
    }
    for (int c = 0; c < NB; ++c) acc[c].store_unaligned(o + c * N);
}
#endif
/// Heads narrower than a vector (tiny models: head_dim 4 or 8), f32 cache: the q·k dots and the
/// weighted sum of v with the head size known at compile time, so the sum stays in registers. Same
/// operations in the same order as the generic loop (element_ops<f32>::dot's tail loop and axpy).
template <int HD, typename KV>
void small_head_f32(const KV& kv, std::int64_t layer, std::int64_t g, std::int64_t first,
                    std::int64_t last, const float* qh, float scale, float* sc, float* o) {
    float qv[HD];  // a copy in registers: as far as the compiler knows, the stores to sc could change qh
    for (int i = 0; i < HD; ++i) qv[i] = qh[i];
    for (std::int64_t p = first; p <= last; ++p) {
        const float* k = reinterpret_cast<const float*>(kv.k_row(layer, p, g));
        float d = 0;
        for (int i = 0; i < HD; ++i) d += qv[i] * k[i];
        sc[p - first] = d * scale;
    }
    kernels::softmax(sc, last - first + 1);
    float acc[HD] = {};
    for (std::int64_t p = first; p <= last; ++p) {
        const float* v = reinterpret_cast<const float*>(kv.v_row(layer, p, g));
        const float w = sc[p - first];
        for (int i = 0; i < HD; ++i) acc[i] += w * v[i];
    }
    for (int i = 0; i < HD; ++i) o[i] = acc[i];
}
template <kv_cache::kv_element E, typename KV>
bool small_head(const KV& kv, std::int64_t layer, std::int64_t g, std::int64_t first, std::int64_t last,
                const float* qh, float scale, float* sc, float* o, std::int64_t hd) {
    if constexpr (std::is_same_v<E, quant::f32>) {
        if (hd == 8) return small_head_f32<8, KV>(kv, layer, g, first, last, qh, scale, sc, o), true;
        if (hd == 4) return small_head_f32<4, KV>(kv, layer, g, first, last, qh, scale, sc, o), true;
    }
    (void)kv, (void)layer, (void)g, (void)first, (void)last, (void)qh, (void)scale, (void)sc, (void)o, (void)hd;
    return false;
}

/// The register-summed form when E is f32 and hd is 1, 2, 4 or 8 vectors; false otherwise.
template <kv_cache::kv_element E, typename KV>
bool weighted_rows(const KV& kv, std::int64_t layer, std::int64_t g, std::int64_t first, std::int64_t last,
                   const float* w, float* o, std::int64_t hd) {
#if LLMT_HAS_XSIMD
    if constexpr (std::is_same_v<E, quant::f32>) {
        constexpr std::int64_t N = xsimd::batch<float, simd::arch>::size;
        if (hd % N == 0) {
            switch (hd / N) {
                case 1: weighted_rows_f32<1, KV>(kv, layer, g, first, last, w, o); return true;
                case 2: weighted_rows_f32<2, KV>(kv, layer, g, first, last, w, o); return true;
                case 4: weighted_rows_f32<4, KV>(kv, layer, g, first, last, w, o); return true;
                case 8: weighted_rows_f32<8, KV>(kv, layer, g, first, last, w, o); return true;
                default: break;
            }
        }
    }
#endif
    (void)kv, (void)layer, (void)g, (void)first, (void)last, (void)w, (void)o, (void)hd;
    return false;
}
}  // namespace detail

/// o = Σ_{p = first..pos} softmax_p(scale · qh·k[p][g]) v[p][g] for one query head: the one computation
/// every attention entry point runs, in one fixed order, so a row's result depends only on its query
/// and the rows it sees (never on the batch, the chunk or the thread that computes it).
/// KV: any store with k_row / v_row(layer, pos, head) returning E rows; sc: ≥ pos - first + 1 floats.
template <kv_cache::kv_element E, typename KV>
void attend_head(const KV& kv, std::int64_t layer, std::int64_t g, std::int64_t first, std::int64_t pos, const float* qh,
                 float scale, float* sc, float* o, std::int64_t hd) {
    using ops = kv_cache::element_ops<E>;
    if (detail::small_head<E>(kv, layer, g, first, pos, qh, scale, sc, o, hd)) return;
    for (std::int64_t p = first; p <= pos; ++p) sc[p - first] = ops::dot(qh, kv.k_row(layer, p, g), hd) * scale;
    kernels::softmax(sc, pos - first + 1);
    if (detail::weighted_rows<E>(kv, layer, g, first, pos, sc, o, hd)) return;
    std::memset(o, 0, sizeof(float) * std::size_t(hd));
    for (std::int64_t p = first; p <= pos; ++p) ops::axpy(o, sc[p - first], kv.v_row(layer, p, g), hd);
}

/// out[t][h] = Σ_p softmax_p(scale · q[t][h]·k[p][g(h)]) v[p][g(h)] for tokens t < n at positions pos0 + t,
/// over the visible positions p ≤ pos0 + t (keys of the batch must already be stored), g(h) = h / (n_head / n_head_kv).
/// q, out: [n][n_head][head_dim]; scores: [pool.size()][scores_stride], scores_stride ≥ the visible count.
/// Work is split over (token, head) pairs; each result is computed by one thread in a fixed order.
template <kv_cache::kv_element E>
void attend(thread_pool& pool, const kv_cache::store<E>& kv, std::int64_t layer, const attention_shape& s,
            const float* q, std::int64_t n, std::int64_t pos0, float* out, float* scores, std::int64_t scores_stride) {
    using ops = kv_cache::element_ops<E>;
    const std::int64_t group = s.n_head / s.n_head_kv;
    const std::int64_t hd = s.head_dim;
    const std::int64_t items = n * s.n_head;
    // K and V rows read: for each item, up to pos0 + n positions, one K and one V row each
    const std::size_t touched = std::size_t(items) * std::size_t(pos0 + n) * 2 * ops::row_bytes(hd);
    pool.run_sized(touched, [&](int ith, int nth) {
        const std::int64_t chunk = (items + nth - 1) / nth;
        const std::int64_t i0 = std::min(items, chunk * ith), i1 = std::min(items, i0 + chunk);
        float* sc = scores + std::int64_t(ith) * scores_stride;
        for (std::int64_t it = i0; it < i1; ++it) {
            const std::int64_t t = it / s.n_head, h = it % s.n_head;
            const std::int64_t pos = pos0 + t;
            attend_head<E>(kv, layer, h / group, first_visible(pos, s.window), pos, q + (t * s.n_head + h) * hd, s.scale, sc,
                           out + (t * s.n_head + h) * hd, hd);
        }
    });
}

/// The same for tokens of many sequences: token t at position pos[t] sees the rows 0..pos[t] of views[t]
/// (its sequence, through its block table; its own key and value already written). Work is split over
/// (token, head) pairs; each result is computed by attend_head whatever the split.
template <kv_cache::kv_element E, typename View>
void attend_views(thread_pool& pool, const View* views, const std::int64_t* pos, std::int64_t layer, const attention_shape& s,
                  const float* q, std::int64_t n, float* out, float* scores, std::int64_t scores_stride) {
    using ops = kv_cache::element_ops<E>;
    const std::int64_t group = s.n_head / s.n_head_kv;
    const std::int64_t hd = s.head_dim;
    const std::int64_t items = n * s.n_head;
    std::size_t rows = 0;
    for (std::int64_t t = 0; t < n; ++t) rows += std::size_t(pos[t] + 1);
    const std::size_t touched = rows * std::size_t(s.n_head) * 2 * ops::row_bytes(hd);
    pool.run_sized(touched, [&](int ith, int nth) {
        const std::int64_t chunk = (items + nth - 1) / nth;
        const std::int64_t i0 = std::min(items, chunk * ith), i1 = std::min(items, i0 + chunk);
        float* sc = scores + std::int64_t(ith) * scores_stride;
        for (std::int64_t it = i0; it < i1; ++it) {
            const std::int64_t t = it / s.n_head, h = it % s.n_head;
            attend_head<E>(views[t], layer, h / group, first_visible(pos[t], s.window), pos[t], q + (t * s.n_head + h) * hd,
                           s.scale, sc, out + (t * s.n_head + h) * hd, hd);
        }
    });
}

}  // namespace attention
LLMT_END_NAMESPACE
