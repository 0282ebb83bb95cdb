// f32: 32-bit float weights (32 bpw), dotted against f32 activations
#pragma once

#include <llmt/config.hpp>
#include <llmt/quant/qtype.hpp>

#include <cstdint>
#include <cstring>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct f32 {
    using block = float;
    using vec_dot_type = f32;
    static constexpr qtype id = qtype::f32;
    static constexpr std::int64_t block_size = 1;

    static void quantize_row(const float* x, block* y, std::int64_t n) { std::memcpy(y, x, sizeof(float) * std::size_t(n)); }
    static void dequantize_row(const block* x, float* y, std::int64_t n) { std::memcpy(y, x, sizeof(float) * std::size_t(n)); }
    static float vec_dot(std::int64_t n, const block* x, const block* y) {
        double s = 0;  // ggml's scalar path accumulates in double
        for (std::int64_t i = 0; i < n; ++i) s += double(x[i]) * double(y[i]);
        return float(s);
    }
};

}  // namespace quant
LLMT_END_NAMESPACE
