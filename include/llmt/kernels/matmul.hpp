// matmul: y = W·x (decode) and Y = W·X (prefill) for any format, activations quantized once to vec_dot_type
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/qtype.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace kernels {

/// Bytes of scratch matmul needs for n tokens (the activations converted to vec_dot_type).
inline std::size_t matmul_scratch_bytes(const weight_ref& w, std::int64_t n_tokens) {
    return quant::row_size(w.fmt->act_type, std::size_t(w.cols)) * std::size_t(n_tokens);
}

/// Y[t][r] = Σ_c W[r][c]·X[t][c] for t < n. x: [n][cols], y: [n][rows], scratch: matmul_scratch_bytes.
/// Rows are split across the pool's threads in contiguous chunks; results do not depend on the thread count.
inline void matmul(thread_pool& pool, const weight_ref& w, const float* x, std::int64_t n, float* y, std::byte* scratch) {
    const std::size_t act_row = quant::row_size(w.fmt->act_type, std::size_t(w.cols));
    for (std::int64_t t = 0; t < n; ++t) w.fmt->quantize_act(x + t * w.cols, scratch + std::size_t(t) * act_row, w.cols);
    pool.run([&](int ith, int nth) {
        const std::int64_t chunk = (w.rows + nth - 1) / nth;
        const std::int64_t r0 = std::min<std::int64_t>(w.rows, chunk * ith);
        const std::int64_t r1 = std::min<std::int64_t>(w.rows, r0 + chunk);
        for (std::int64_t t = 0; t < n; ++t)
            for (std::int64_t r = r0; r < r1; ++r)
                y[t * w.rows + r] = w.fmt->vec_dot(w.cols, w.data + std::size_t(r) * w.row_bytes, scratch + std::size_t(t) * act_row);
    });
}

/// y = W·x for one token.
inline void matvec(thread_pool& pool, const weight_ref& w, const float* x, float* y, std::byte* scratch) {
    matmul(pool, w, x, 1, y, scratch);
}

}  // namespace kernels
LLMT_END_NAMESPACE
