// weight_ref: a non-owning view of a weight matrix (format entry, resolved kernel, data, rows × cols)
#pragma once

#include <llmt/config.hpp>
#include <llmt/quant/dispatch.hpp>

#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace kernels {

struct kernel_entry;  // kernels/gemm.hpp

/// A weight matrix: rows × cols values of one format, row-major (GGUF ne[0] = cols, ne[1] = rows).
/// Build it with kernels::make_weight_ref<List>(...) (kernels/kernel_table.hpp) so that `kern` holds
/// the SIMD kernel chosen once at load; with kern == nullptr matmul uses the format's scalar dot.
struct weight_ref {
    const quant::format_entry* fmt = nullptr;  // resolved once at load
    const std::byte* data = nullptr;           // [rows][row_bytes]
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::size_t row_bytes = 0;
    const kernel_entry* kern = nullptr;        // resolved once at load (matmul's fast path)
    std::int64_t packed_rows = 0;              // rows [0, packed_rows) are in kern's decode layout (kernels/pack.hpp)
};

}  // namespace kernels
LLMT_END_NAMESPACE
