// get_rows: gather rows of a weight matrix by id, dequantized to f32 (token embedding lookup)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/kernels/weight_ref.hpp>

#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace kernels {

/// out[i] = dequantize(W[ids[i]]) for i < n. out: [n][w.cols]. An id outside [0, rows) is an
/// errc::invalid_argument error, raised before anything is written.
inline void get_rows(const weight_ref& w, const std::int32_t* ids, std::int64_t n, float* out) {
    LLMT_CHECK_CODE(w.fmt != nullptr && w.fmt->dequantize_row != nullptr, errc::invalid_argument, "get_rows: weight has no format");
    for (std::int64_t i = 0; i < n; ++i)
        LLMT_CHECK_CODE(ids[i] >= 0 && ids[i] < w.rows, errc::invalid_argument,
                        "get_rows: id {} (at position {}) is outside [0, {})", ids[i], i, w.rows);
    for (std::int64_t i = 0; i < n; ++i)
        w.fmt->dequantize_row(w.data + std::size_t(ids[i]) * w.row_bytes, out + i * w.cols, w.cols);
}

}  // namespace kernels
LLMT_END_NAMESPACE
