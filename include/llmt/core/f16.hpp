// f16: fp16_t and bf16_t, 16-bit float storage scalars with exact (round-to-nearest-even) conversions
#pragma once

#include <llmt/config.hpp>

#include <bit>
#include <cstdint>

LLMT_BEGIN_NAMESPACE

/// IEEE 754 binary16 bits. Conversions round to nearest even, like F16C's vcvtps2ph (imm 0).
struct fp16_t {
    std::uint16_t bits = 0;
};

/// bfloat16 bits: the top half of a binary32.
struct bf16_t {
    std::uint16_t bits = 0;
};

static_assert(sizeof(fp16_t) == 2 && sizeof(bf16_t) == 2);

constexpr float f16_to_f32(std::uint16_t h) noexcept {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);  // inf / nan (payload kept)
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {  // subnormal: normalise
        std::uint32_t e = 113;
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            --e;
        }
        bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
    }
    return std::bit_cast<float>(bits);
}

constexpr std::uint16_t f32_to_f16_bits(float f) noexcept {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t sign = (x >> 16) & 0x8000u;
    const std::uint32_t abs = x & 0x7fffffffu;
    if (abs > 0x7f800000u) return std::uint16_t(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));  // nan, quiet
    if (abs >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // rounds to >= 65520: inf
    if (abs < 0x38800000u) {  // result is subnormal or zero
        if (abs < 0x33000000u) return std::uint16_t(sign);  // < 2^-25: rounds to 0
        const std::uint32_t e = abs >> 23;
        const std::uint32_t m = (abs & 0x7fffffu) | 0x800000u;
        const std::uint32_t shift = 126u - e;  // 14..24
        std::uint32_t r = m >> shift;
        const std::uint32_t rem = m & ((1u << shift) - 1u);
        const std::uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) ++r;
        return std::uint16_t(sign | r);
    }
    // normal: rebias exponent, round mantissa to 10 bits (carry may bump the exponent)
    std::uint32_t r = abs - 0x38000000u;  // exponent - 112
    const std::uint32_t rem = r & 0x1fffu;
    r >>= 13;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
    return std::uint16_t(sign | r);
}

constexpr float bf16_to_f32(std::uint16_t h) noexcept {
    return std::bit_cast<float>(std::uint32_t(h) << 16);
}

/// Round to nearest even; NaN stays NaN (quiet bit forced), as ggml does.
constexpr std::uint16_t f32_to_bf16_bits(float f) noexcept {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 64u);
    return std::uint16_t((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

constexpr float to_f32(fp16_t h) noexcept { return f16_to_f32(h.bits); }
constexpr float to_f32(bf16_t h) noexcept { return bf16_to_f32(h.bits); }
constexpr fp16_t to_fp16(float f) noexcept { return fp16_t{f32_to_f16_bits(f)}; }
constexpr bf16_t to_bf16(float f) noexcept { return bf16_t{f32_to_bf16_bits(f)}; }

LLMT_END_NAMESPACE
