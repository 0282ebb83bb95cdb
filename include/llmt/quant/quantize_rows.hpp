// quantize_rows: converts the rows of a tensor from f32 to any format and back, rows split across a thread pool
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/qtype.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

namespace detail {
/// Calls f(r0, r1) for each thread's contiguous share of n_rows rows.
template <typename F>
void split_rows(thread_pool& pool, std::int64_t n_rows, F&& f) {
    pool.run([&](int ith, int nth) {
        const std::int64_t chunk = (n_rows + nth - 1) / nth;
        const std::int64_t r0 = std::min(n_rows, chunk * ith);
        const std::int64_t r1 = std::min(n_rows, r0 + chunk);
        if (r0 < r1) f(r0, r1);
    });
}
inline void check_rows(const format_entry& fmt, std::int64_t n_rows, std::int64_t n_per_row, const char* what) {
    LLMT_CHECK_CODE(fmt.valid(), errc::unsupported, "{}: format not available", what);
    LLMT_CHECK_CODE(n_rows >= 0 && n_per_row > 0 && n_per_row % block_size(fmt.type) == 0, errc::invalid_argument,
                    "{}: {} rows of {} values do not fit {} (block size {})", what, n_rows, n_per_row, name(fmt.type),
                    block_size(fmt.type));
}
}  // namespace detail

/// dst[r] = quantize(src[r]) for n_rows rows of n_per_row floats. Each row is quantized on its own,
/// as llama-quantize does, so the bytes do not depend on the pool size.
/// dst holds n_rows * row_size(to.type, n_per_row) bytes.
inline void quantize_rows(thread_pool& pool, const format_entry& to, const float* src, std::int64_t n_rows,
                          std::int64_t n_per_row, std::byte* dst) {
    detail::check_rows(to, n_rows, n_per_row, "quantize_rows");
    const std::size_t rb = row_size(to.type, std::size_t(n_per_row));
    detail::split_rows(pool, n_rows, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) to.quantize_row(src + r * n_per_row, dst + std::size_t(r) * rb, n_per_row);
    });
}

/// dst[r] = dequantize(src[r]): rows of format from.type to floats.
inline void dequantize_rows(thread_pool& pool, const format_entry& from, const std::byte* src, std::int64_t n_rows,
                            std::int64_t n_per_row, float* dst) {
    detail::check_rows(from, n_rows, n_per_row, "dequantize_rows");
    const std::size_t rb = row_size(from.type, std::size_t(n_per_row));
    detail::split_rows(pool, n_rows, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) from.dequantize_row(src + std::size_t(r) * rb, dst + r * n_per_row, n_per_row);
    });
}

}  // namespace quant
LLMT_END_NAMESPACE
