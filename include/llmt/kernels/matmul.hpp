// matmul: y = W·x (decode) and Y = W·X (prefill) for any format, activations prepared once per call, rows split across threads
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/pack.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/qtype.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace kernels {

namespace detail {
/// Rows are handed to threads in units of this many (16 floats of y = one cache line: no false sharing).
inline constexpr std::int64_t row_unit = 16;
/// Prepared activations of one token panel should stay in L2 while every row tile of a thread passes over them.
inline constexpr std::size_t panel_bytes = 512 * 1024;

inline std::byte* align_up(std::byte* p) noexcept {
    const auto u = reinterpret_cast<std::uintptr_t>(p);
    return p + ((64 - (u & 63)) & 63);
}
/// Rows [r0, r1) of thread ith: a balanced split of whole row units.
inline void thread_rows(std::int64_t rows, int ith, int nth, std::int64_t& r0, std::int64_t& r1) noexcept {
    const std::int64_t units = (rows + row_unit - 1) / row_unit;
    r0 = std::min(rows, units * ith / nth * row_unit);
    r1 = std::min(rows, units * (ith + 1) / nth * row_unit);
}
}  // namespace detail

/// Bytes of scratch matmul needs for n tokens (the prepared activations, plus alignment slack).
inline std::size_t matmul_scratch_bytes(const weight_ref& w, std::int64_t n_tokens) {
    if (w.kern) {
        std::size_t bytes = w.kern->act_bytes(w.cols) * std::size_t(n_tokens) + 64;
        if (w.kern->gemv) bytes = std::max(bytes, w.kern->gemv_act_bytes(w.cols) + 64);
        if (w.kern->batched(n_tokens)) bytes = std::max(bytes, w.kern->batch_bytes(w.cols, n_tokens) + 64);
        return bytes;
    }
    return quant::row_size(w.fmt->act_type, std::size_t(w.cols)) * std::size_t(n_tokens) + 64;
}

/// Y[t][r] = Σ_c W[r][c]·X[t][c] for t < n. x: [n][cols], y: [n][rows], scratch: matmul_scratch_bytes(w, n).
/// Rows go to threads in 16-row units; tiles of kern->mr rows × kern->nc tokens run over token panels that
/// stay in L2. Every element is computed the same way whatever the split: results do not depend on the
/// thread count. Allocates nothing. With kern->batched(n) the kernel's batched path (e.g. AMX) does the whole product.
inline void matmul(thread_pool& pool, const weight_ref& w, const float* x, std::int64_t n, float* y, std::byte* scratch) {
    std::byte* act = detail::align_up(scratch);
    if (w.kern != nullptr && w.kern->batched(n)) {
        w.kern->batch(pool, w, x, n, y, act);
        return;
    }
    if (w.kern == nullptr) {  // not resolved at load: the format's scalar dot
        const std::size_t act_row = quant::row_size(w.fmt->act_type, std::size_t(w.cols));
        for (std::int64_t t = 0; t < n; ++t) w.fmt->quantize_act(x + t * w.cols, act + std::size_t(t) * act_row, w.cols);
        pool.run([&](int ith, int nth) {
            std::int64_t r0, r1;
            detail::thread_rows(w.rows, ith, nth, r0, r1);
            for (std::int64_t t = 0; t < n; ++t)
                for (std::int64_t r = r0; r < r1; ++r)
                    y[t * w.rows + r] = w.fmt->vec_dot(w.cols, w.data + std::size_t(r) * w.row_bytes, act + std::size_t(t) * act_row);
        });
        return;
    }
    const kernel_entry& K = *w.kern;
    if (n == 1 && K.gemv != nullptr) {  // decode: the format's one-token kernel over the rows, in 16-row units
        K.gemv_prepare(x, act, w.cols);
        // balanced (thread_pool::run_balanced): each thread streams its share front to back, in about
        // 8 chunks, and then helps with the others' ends, so a thread whose CPU the host takes away
        // for a while does not stall the matrix
        const std::int64_t units = (w.rows + detail::row_unit - 1) / detail::row_unit;
        // a matrix too small to be worth splitting (thread_pool::parallel_min_bytes) is one chunk
        const bool split = w.row_bytes * std::size_t(w.rows) >= thread_pool::parallel_min_bytes * std::size_t(pool.size());
        const std::int64_t grain = split ? std::max<std::int64_t>(1, units / (8 * std::int64_t(pool.size()))) : units;
        pool.run_balanced(units, grain, [&](std::int64_t u0, std::int64_t u1) {
            const std::int64_t r0 = u0 * detail::row_unit, r1 = std::min(w.rows, u1 * detail::row_unit);
            gemm_args g;
            g.k = w.cols;
            g.w_stride = w.row_bytes;
            g.a = act;
            const std::int64_t p1 = std::clamp(w.packed_rows, r0, r1);  // [r0, p1) packed: r0 starts a group
            if (r0 < p1) {
                g.w = w.data + std::size_t(r0) * w.row_bytes;
                g.y = y + r0;
                K.gemv_packed(g, p1 - r0);
            }
            if (p1 < r1) {
                g.w = w.data + std::size_t(p1) * w.row_bytes;
                g.y = y + p1;
                K.gemv(g, r1 - p1);
            }
        });
        return;
    }
    const std::size_t a_stride = K.act_bytes(w.cols);
    if (n == 1 || pool.size() == 1) {
        for (std::int64_t t = 0; t < n; ++t) K.prepare(x + t * w.cols, act + std::size_t(t) * a_stride, w.cols);
    } else {
        pool.run([&](int ith, int nth) {
            for (std::int64_t t = ith; t < n; t += nth) K.prepare(x + t * w.cols, act + std::size_t(t) * a_stride, w.cols);
        });
    }
    const std::int64_t nc = K.nc, mr = K.mr;
    const std::int64_t panel = std::max<std::int64_t>(nc, std::int64_t(detail::panel_bytes / a_stride) / nc * nc);
    pool.run_sized(w.row_bytes * std::size_t(w.rows) + std::size_t(n) * a_stride, [&](int ith, int nth) {
        std::int64_t r0, r1;
        detail::thread_rows(w.rows, ith, nth, r0, r1);
        gemm_args g;
        g.k = w.cols;
        g.w_stride = w.row_bytes;
        g.a_stride = a_stride;
        g.y_stride = std::size_t(w.rows);
        for (std::int64_t p0 = 0; p0 < n; p0 += panel) {
            const std::int64_t p1 = std::min(n, p0 + panel);
            // 16-row chunks (a packed matrix's are unpacked, once per panel, unless the kernel has a tile
            // on its decode layout), tiles of mr rows in each
            for (std::int64_t c = r0; c < r1; c += detail::row_unit) {
                const std::int64_t c1 = std::min(r1, c + detail::row_unit);
                std::int64_t u = c;  // the first row not done by the packed tile
                if (K.tile_packed != nullptr && c < w.packed_rows) {  // whole groups: c starts one, packed_rows ends one
                    const std::int64_t pe = std::min(c1, w.packed_rows);
                    for (std::int64_t r = c; r < pe; r += K.pack_rows) {
                        g.w = w.data + std::size_t(r) * w.row_bytes;
                        for (std::int64_t t = p0; t < p1; t += K.packed_nc) {
                            g.a = act + std::size_t(t) * a_stride;
                            g.y = y + t * w.rows + r;
                            K.tile_packed(g, int(std::min<std::int64_t>(K.packed_nc, p1 - t)));
                        }
                    }
                    u = pe;  // the rows past the last group (if any) are in the file's layout
                }
                if (u == c1) continue;
                const std::byte* rows = unpacked_rows(w, u, c1 - u);
                for (std::int64_t r = u; r < c1; r += mr) {
                    const int nr = int(std::min(mr, c1 - r));
                    g.w = rows + std::size_t(r - u) * w.row_bytes;
                    for (std::int64_t t = p0; t < p1; t += nc) {
                        g.a = act + std::size_t(t) * a_stride;
                        g.y = y + t * w.rows + r;
                        K.tile(g, nr, int(std::min(nc, p1 - t)));
                    }
                }
            }
        }
    });
}

/// y = W·x for one token.
inline void matvec(thread_pool& pool, const weight_ref& w, const float* x, float* y, std::byte* scratch) {
    matmul(pool, w, x, 1, y, scratch);
}

}  // namespace kernels
LLMT_END_NAMESPACE
