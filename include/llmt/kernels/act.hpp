// act: the activation of one token prepared for the SIMD dots (layouts and conversion from f32)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/q8_1.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>

LLMT_BEGIN_NAMESPACE
namespace kernels {

namespace detail {
constexpr std::size_t align64(std::size_t n) noexcept { return (n + 63) & ~std::size_t(63); }
}  // namespace detail

/// The activation of one token in 32-value int8 blocks, split into arrays so that two blocks are one
/// 512-bit load (offsets in bytes from the token's base, all multiples of 64):
///   qs    int8[k]          the quants of q8_0 / q8_1, in value order
///   scale float[k/32][8]   the block scale d repeated over the 8 int32 lanes a block's dot yields
///   aux   32 bytes per block, one of:
///         int32[8]  -offset · Σ of the 4 quants feeding each lane (weights stored as q + offset, q ≥ 0)
///         float[8]  s / 8, q8_1's d·Σq spread over the lanes (weights with a min: x = d·q + m)
///   tmp   the reference (array-of-blocks) conversion, kept for the scalar fallback and as a staging area
struct q8x32_layout {
    std::int64_t nb;
    std::size_t qs, scale, aux, tmp, bytes;
    template <typename V>
    static q8x32_layout make(std::int64_t k) noexcept {
        q8x32_layout l{};
        l.nb = k / 32;
        l.qs = 0;
        l.scale = detail::align64(std::size_t(k));
        l.aux = l.scale + detail::align64(std::size_t(l.nb) * 32);
        l.tmp = l.aux + detail::align64(std::size_t(l.nb) * 32);
        l.bytes = l.tmp + detail::align64(std::size_t(l.nb) * sizeof(typename V::block));
        return l;
    }
};

/// Converts x (k values) to q8_0 with the reference quantizer and spreads it into the q8x32 layout;
/// aux holds -offset · lane sums (nothing when offset is 0).
template <int Offset>
void prepare_q8_0(const float* x, std::byte* out, std::int64_t k) {
    const auto l = q8x32_layout::make<quant::q8_0>(k);
    auto* blocks = reinterpret_cast<quant::block_q8_0*>(out + l.tmp);
    quant::q8_0::quantize_row(x, blocks, k);
    auto* qs = reinterpret_cast<std::int8_t*>(out + l.qs);
    auto* scale = reinterpret_cast<float*>(out + l.scale);
    auto* aux = reinterpret_cast<std::int32_t*>(out + l.aux);
    for (std::int64_t b = 0; b < l.nb; ++b) {
        std::memcpy(qs + 32 * b, blocks[b].qs, 32);
        const float d = to_f32(blocks[b].d);
        for (int i = 0; i < 8; ++i) {
            scale[8 * b + i] = d;
            const std::int8_t* q = blocks[b].qs + 4 * i;
            aux[8 * b + i] = -Offset * (q[0] + q[1] + q[2] + q[3]);
        }
    }
}

/// Converts x to q8_1 (reference quantizer) into the q8x32 layout; aux holds s/8 per lane (floats).
inline void prepare_q8_1(const float* x, std::byte* out, std::int64_t k) {
    const auto l = q8x32_layout::make<quant::q8_1>(k);
    auto* blocks = reinterpret_cast<quant::block_q8_1*>(out + l.tmp);
    quant::q8_1::quantize_row(x, blocks, k);
    auto* qs = reinterpret_cast<std::int8_t*>(out + l.qs);
    auto* scale = reinterpret_cast<float*>(out + l.scale);
    auto* aux = reinterpret_cast<float*>(out + l.aux);
    for (std::int64_t b = 0; b < l.nb; ++b) {
        std::memcpy(qs + 32 * b, blocks[b].qs, 32);
        const float d = to_f32(blocks[b].d), s8 = to_f32(blocks[b].s) * 0.125f;
        for (int i = 0; i < 8; ++i) {
            scale[8 * b + i] = d;
            aux[8 * b + i] = s8;
        }
    }
}

/// Bytes of a token converted to float through vec_dot_type V (f32 / f16 / bf16): k floats + staging.
template <typename V>
constexpr std::size_t float_act_bytes(std::int64_t k) noexcept {
    return detail::align64(std::size_t(k) * 4) + detail::align64(std::size_t(k) * sizeof(typename V::block));
}
/// x rounded through V (as the reference dot sees it), stored as floats.
template <typename V>
void prepare_float(const float* x, std::byte* out, std::int64_t k) {
    auto* staging = reinterpret_cast<typename V::block*>(out + detail::align64(std::size_t(k) * 4));
    V::quantize_row(x, staging, k);
    V::dequantize_row(staging, reinterpret_cast<float*>(out), k);
}

/// Bytes and conversion of the reference array-of-blocks form of V (what F::vec_dot reads).
template <typename V>
constexpr std::size_t blocks_act_bytes(std::int64_t k) noexcept {
    return detail::align64(std::size_t(k / V::block_size) * sizeof(typename V::block));
}
template <typename V>
void prepare_blocks(const float* x, std::byte* out, std::int64_t k) {
    V::quantize_row(x, reinterpret_cast<typename V::block*>(out), k);
}

}  // namespace kernels
LLMT_END_NAMESPACE
