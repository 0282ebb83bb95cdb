// attend: causal (optionally windowed) scaled dot-product attention of a batch of queries over a KV store
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/attention/flash.hpp>
#include <llmt/kv_cache/store.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>

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
/// Tokens of one sequence computed together (times the query heads sharing a KV head).
inline constexpr std::int64_t tile_tokens = 16;
}  // namespace detail

/// Floats of scratch one thread needs (the scores argument of attend / attend_views, per thread).
constexpr std::int64_t scratch_floats(const attention_shape& s) noexcept {
    const std::int64_t hdp = detail::padded_head(s.head_dim);
    const std::int64_t group = s.n_head_kv > 0 ? s.n_head / s.n_head_kv : 1;
    return segment_tokens * (s.head_dim + hdp) + block_tokens * s.head_dim  // a segment's keys and values, a block of key rows
           + hdp                                                  // one segment's sum for one query
           + detail::tile_tokens * group * (hdp + 2);                             // the running (max, sum, acc) of a tile's queries
}

namespace detail {
/// Whether two tokens' views read the same rows (the same sequence).
template <typename View>
bool same_rows(const View& a, const View& b) noexcept {
    if constexpr (requires { a.table; }) return a.table == b.table;
    else return &a == &b;
}

/// The queries of tokens t0..t1-1 (one sequence) and query heads g·group .. g·group + group - 1, over every
/// position each sees: segment by segment, each segment's K and V widened once and read by every query
/// of the tile; each query's own sequence of operations is the fixed one (flash.hpp).
template <kv_cache::kv_element E, typename ViewAt, typename PosAt>
void attend_tile(const ViewAt& view_at, const PosAt& pos_at, std::int64_t layer, const attention_shape& s, const float* q,
                 std::int64_t t0, std::int64_t t1, std::int64_t g, float* out, float* ws) {
    const std::int64_t hd = s.head_dim, hdp = padded_head(hd);
    const std::int64_t group = s.n_head / s.n_head_kv;
    const auto& view = view_at(t0);
    segment_buffers b{ws, ws + segment_tokens * hd, ws + segment_tokens * (hd + hdp)};
    float* tmp = b.rows + block_tokens * hd;  // [hdp]
    float* acc = tmp + hdp;       // [tile queries][hdp]
    float* M = acc + (t1 - t0) * group * hdp;  // [tile queries]
    float* L = M + (t1 - t0) * group;          // [tile queries]
    std::int64_t rlo = pos_at(t0), rhi = pos_at(t0);
    for (std::int64_t t = t0; t < t1; ++t) {
        rlo = std::min(rlo, first_visible(pos_at(t), s.window));
        rhi = std::max(rhi, pos_at(t));
    }
    for (std::int64_t p0 = rlo / segment_tokens * segment_tokens; p0 <= rhi; p0 += segment_tokens) {
        const std::int64_t p1 = p0 + segment_tokens - 1;
        load_segment<E>(view, layer, g, p0, std::max(rlo, p0), std::min(rhi, p1), hd, hdp, b);
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t pos = pos_at(t), first = first_visible(pos, s.window);
            const std::int64_t lo = std::max(first, p0), hi = std::min(pos, p1);
            if (lo > hi) continue;
            for (std::int64_t hl = 0; hl < group; ++hl) {
                const std::int64_t qi = (t - t0) * group + hl;
                const float* qh = q + (t * s.n_head + g * group + hl) * hd;
                if (first >= p0) {  // the query's first segment
                    query_segment_any(b.kt, b.vt, qh, hd, hdp, s.scale, p0, lo, hi, M[qi], L[qi], acc + qi * hdp);
                } else {
                    float m = 0, l = 0;
                    query_segment_any(b.kt, b.vt, qh, hd, hdp, s.scale, p0, lo, hi, m, l, tmp);
                    merge_segment(M[qi], L[qi], acc + qi * hdp, m, l, tmp, hdp);
                }
            }
        }
    }
    for (std::int64_t t = t0; t < t1; ++t)
        for (std::int64_t hl = 0; hl < group; ++hl) {
            const std::int64_t qi = (t - t0) * group + hl;
            float* o = out + (t * s.n_head + g * group + hl) * hd;
            const float* a = acc + qi * hdp;
            for (std::int64_t i = 0; i < hd; ++i) o[i] = a[i] / L[qi];
        }
}

/// Every (tile, KV head) of the batch, handed out one at a time to the threads (the latest tokens,
/// the costliest under a causal mask, first). view_at(t): the rows token t sees; pos_at(t): its position.
template <kv_cache::kv_element E, typename ViewAt, typename PosAt>
void attend_batch(thread_pool& pool, const ViewAt& view_at, const PosAt& pos_at, std::int64_t layer, const attention_shape& s,
                  const float* q, std::int64_t n, float* out, float* scratch, std::int64_t scratch_stride) {
    using ops = kv_cache::element_ops<E>;
    if (n <= 0) return;
    std::size_t rows = 0;
    for (std::int64_t t = 0; t < n; ++t) rows += std::size_t(pos_at(t) - first_visible(pos_at(t), s.window) + 1);
    const std::size_t touched = rows * std::size_t(s.n_head) * 2 * ops::row_bytes(s.head_dim);
    const auto starts_tile = [&](std::int64_t t) {
        return t == 0 || t % tile_tokens == 0 || !same_rows(view_at(t), view_at(t - 1));
    };
    const std::int64_t units = n * s.n_head_kv;
    std::atomic<std::int64_t> next{0};
    pool.run_sized(touched, [&](int ith, int) {
        float* ws = scratch + std::int64_t(ith) * scratch_stride;
        for (std::int64_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < units;) {
            const std::int64_t t0 = n - 1 - u / s.n_head_kv, g = u % s.n_head_kv;
            if (!starts_tile(t0)) continue;
            std::int64_t t1 = t0 + 1;
            while (t1 < n && !starts_tile(t1)) ++t1;
            attend_tile<E>(view_at, pos_at, layer, s, q, t0, t1, g, out, ws);
        }
    });
}
}  // namespace detail

/// out[t][h] = Σ_p softmax_p(scale · q[t][h]·k[p][g(h)]) v[p][g(h)] for tokens t < n at positions pos0 + t,
/// over the visible positions p ≤ pos0 + t (keys of the batch must already be stored), g(h) = h / (n_head / n_head_kv).
/// q, out: [n][n_head][head_dim]; scratch: [pool.size()][scratch_stride], scratch_stride ≥ scratch_floats(s).
/// Each result is computed in the fixed order of flash.hpp, whatever the batch, the chunk or the threads.
template <kv_cache::kv_element E>
void attend(thread_pool& pool, const kv_cache::store<E>& kv, std::int64_t layer, const attention_shape& s,
            const float* q, std::int64_t n, std::int64_t pos0, float* out, float* scratch, std::int64_t scratch_stride) {
    detail::attend_batch<E>(
        pool, [&](std::int64_t) -> const kv_cache::store<E>& { return kv; }, [&](std::int64_t t) { return pos0 + t; }, layer, s, q,
        n, out, scratch, scratch_stride);
}

/// The same for tokens of many sequences: token t at position pos[t] sees the rows 0..pos[t] of views[t]
/// (its sequence, through its block table; its own key and value already written). Tokens of one
/// sequence next to each other in the batch are computed as tiles; the result is the same either way.
template <kv_cache::kv_element E, typename View>
void attend_views(thread_pool& pool, const View* views, const std::int64_t* pos, std::int64_t layer, const attention_shape& s,
                  const float* q, std::int64_t n, float* out, float* scratch, std::int64_t scratch_stride) {
    detail::attend_batch<E>(
        pool, [&](std::int64_t t) -> const View& { return views[t]; }, [&](std::int64_t t) { return pos[t]; }, layer, s, q, n, out,
        scratch, scratch_stride);
}

}  // namespace attention
LLMT_END_NAMESPACE
