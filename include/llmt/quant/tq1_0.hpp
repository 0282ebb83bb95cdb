// tq1_0: 1.6875 bpw ternary, 256 values in {-1, 0, 1} packed five per byte in base 3, one f16 scale
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/k_quant_common.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

/// A byte holds up to 5 trits t0..t4 (t0 most significant) as ceil(256 * T / 243), T their base-3
/// number: trit k is recovered as the top bits of (byte * 3^k mod 256) * 3, without a division.
struct block_tq1_0 {
    std::uint8_t qs[48]; // 5 trits per byte: byte m < 32 holds values m + 32k, byte 32 + m (m < 16) values 160 + m + 16k
    std::uint8_t qh[4];  // 4 trits per byte (t0..t3): byte m holds values 240 + m + 4k
    fp16_t d;            // scale: x = d * t, t in {-1, 0, 1}
};
static_assert(sizeof(block_tq1_0) == 54, "tq1_0 block is 48 + 4 + 2 bytes");

LLMT_STRICT_FP_BEGIN
struct tq1_0 {
    using block = block_tq1_0;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::tq1_0;
    static constexpr std::int64_t block_size = qk_k;

    /// Trit k (0 = most significant) of a packed byte, 0..2.
    static int trit(std::uint8_t byte, int k) noexcept {
        constexpr std::uint8_t pow3[5] = {1, 3, 9, 27, 81};
        const auto shifted = std::uint8_t(byte * pow3[k]);
        return (int(shifted) * 3) >> 8;
    }
    /// The 256 values of a block as -1, 0, 1 (in value order).
    static void unpack(const block& o, std::int8_t* t) noexcept {
        for (int k = 0; k < 5; ++k)
            for (int m = 0; m < 32; ++m) t[m + 32 * k] = std::int8_t(trit(o.qs[m], k) - 1);
        for (int k = 0; k < 5; ++k)
            for (int m = 0; m < 16; ++m) t[160 + m + 16 * k] = std::int8_t(trit(o.qs[32 + m], k) - 1);
        for (int k = 0; k < 4; ++k)
            for (int m = 0; m < 4; ++m) t[240 + m + 4 * k] = std::int8_t(trit(o.qh[m], k) - 1);
    }

    /// ggml's reference: d = max|x|, t = round(x / d) (half away from zero); trits packed as above.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float amax = 0;
            for (int j = 0; j < qk_k; ++j) amax = std::max(amax, std::fabs(x[j]));
            const float id = amax != 0 ? 1.0f / amax : 0.0f;
            o.d = to_fp16(amax);
            auto code = [&](int i) { return detail::round_clamp(x[i] * id, -1, 1) + 1; };
            auto pack = [](int v) { return std::uint8_t((v * 256 + 242) / 243); };  // ceil(256 v / 243)
            for (int m = 0; m < 32; ++m) {
                int v = 0;
                for (int k = 0; k < 5; ++k) v = v * 3 + code(m + 32 * k);
                o.qs[m] = pack(v);
            }
            for (int m = 0; m < 16; ++m) {
                int v = 0;
                for (int k = 0; k < 5; ++k) v = v * 3 + code(160 + m + 16 * k);
                o.qs[32 + m] = pack(v);
            }
            for (int m = 0; m < 4; ++m) {
                int v = 0;
                for (int k = 0; k < 4; ++k) v = v * 3 + code(240 + m + 4 * k);
                o.qh[m] = pack(v * 3);  // four trits in the top positions of five
            }
        }
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        std::int8_t t[qk_k];
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            unpack(x[b], t);
            const float d = to_f32(x[b].d);
            for (int i = 0; i < qk_k; ++i) *y++ = float(t[i]) * d;
        }
    }

    static float vec_dot(std::int64_t n, const block* x, const q8_k::block* y) {
        std::int8_t t[qk_k];
        double s = 0;  // exact integer sums, combined in double
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            unpack(x[b], t);
            int acc = 0;
            for (int i = 0; i < qk_k; ++i) acc += t[i] * y[b].qs[i];
            s += double(to_f32(x[b].d)) * y[b].d * acc;
        }
        return float(s);
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
