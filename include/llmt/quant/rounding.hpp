// rounding: ggml's float-to-int roundings made defined for every input, and its nearest-grid-value search
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/strict_fp.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant::detail {

/// Truncation toward zero clamped to [0, hi]: ggml's `MIN(hi, (int8_t)v)` for the values a
/// finite input produces, and defined (0) for NaN where the C cast would be undefined.
constexpr int trunc_clamp(float v, int hi) noexcept {
    if (!(v > 0.0f)) return 0;
    if (v >= float(hi)) return hi;
    return static_cast<int>(v);
}

/// roundf (half away from zero) clamped to [lo, hi]; NaN gives 0.
inline int round_clamp(float v, int lo, int hi) noexcept {
    if (!(v == v)) return 0;
    if (v <= float(lo)) return lo;
    if (v >= float(hi)) return hi;
    return static_cast<int>(std::roundf(v));
}

/// Index of the grid value nearest to x in a sorted grid of n int8 values; a tie goes to the
/// upper neighbour, as ggml's best_index_int8 (binary search) does.
LLMT_STRICT_FP_BEGIN
inline int nearest_in_grid(int n, const std::int8_t* grid, float x) noexcept {
    if (!(x > float(grid[0]))) return 0;  // also NaN
    if (x >= float(grid[n - 1])) return n - 1;
    int lo = 0, hi = n - 1;  // grid[lo] < x < grid[hi]
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (x < float(grid[mid])) hi = mid;
        else lo = mid;
    }
    return x - float(grid[lo]) < float(grid[hi]) - x ? lo : hi;
}
LLMT_STRICT_FP_END

}  // namespace quant::detail
LLMT_END_NAMESPACE
