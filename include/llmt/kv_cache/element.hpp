// element: the KV element types (f32, f16, q8_0), the kv_element concept and their row operations
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/kv_cache/kv_type.hpp>
#include <llmt/quant/f16.hpp>
#include <llmt/quant/f32.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/simd/xsimd.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace kv_cache {

/// The formats a KV cache can store its keys and values in.
template <typename E>
concept kv_element = std::same_as<E, quant::f32> || std::same_as<E, quant::f16> || std::same_as<E, quant::q8_0>;

/// The run-time name of a KV element type (load_options::kv_type).
template <kv_element E>
inline constexpr kv_type kv_type_of = std::same_as<E, quant::f32> ? kv_type::f32 : std::same_as<E, quant::f16> ? kv_type::f16 : kv_type::q8_0;

/// Row operations on one cached head vector of n values stored as E. n is a multiple of E::block_size.
/// Scores and sums are computed against the dequantized values in f32 (the query is never quantized).
template <typename E>
struct element_ops;

template <>
struct element_ops<quant::f32> {
    static constexpr std::string_view name = "f32";
    static constexpr std::size_t row_bytes(std::int64_t n) noexcept { return std::size_t(n) * sizeof(float); }
    static void store(const float* x, std::byte* dst, std::int64_t n) noexcept { std::memcpy(dst, x, row_bytes(n)); }
    static float dot(const float* q, const std::byte* row, std::int64_t n) noexcept {
        const float* k = reinterpret_cast<const float*>(row);
        std::int64_t i = 0;
        float s = 0;
#if LLMT_HAS_XSIMD
        // Whole vectors with two accumulators (a scalar reduction is one long chain of dependent adds),
        // then the tail in order. The same sequence whatever the thread: results stay deterministic.
        using b_t = xsimd::batch<float, simd::arch>;
        constexpr std::int64_t N = b_t::size;
        if (n >= 2 * N) {
            b_t a0 = b_t::load_unaligned(q) * b_t::load_unaligned(k);
            b_t a1 = b_t::load_unaligned(q + N) * b_t::load_unaligned(k + N);
            for (i = 2 * N; i + 2 * N <= n; i += 2 * N) {
                a0 = xsimd::fma(b_t::load_unaligned(q + i), b_t::load_unaligned(k + i), a0);
                a1 = xsimd::fma(b_t::load_unaligned(q + i + N), b_t::load_unaligned(k + i + N), a1);
            }
            s = xsimd::hadd(a0 + a1);
        }
#endif
        for (; i < n; ++i) s += q[i] * k[i];
        return s;
    }
    static void axpy(float* y, float a, const std::byte* row, std::int64_t n) noexcept {
        const float* v = reinterpret_cast<const float*>(row);
        for (std::int64_t i = 0; i < n; ++i) y[i] += a * v[i];
    }
};

template <>
struct element_ops<quant::f16> {
    static constexpr std::string_view name = "f16";
    static constexpr std::size_t row_bytes(std::int64_t n) noexcept { return std::size_t(n) * sizeof(fp16_t); }
    static void store(const float* x, std::byte* dst, std::int64_t n) noexcept {
        quant::f16::quantize_row(x, reinterpret_cast<fp16_t*>(dst), n);
    }
    static float dot(const float* q, const std::byte* row, std::int64_t n) noexcept {
        const fp16_t* k = reinterpret_cast<const fp16_t*>(row);
        float s = 0;
        for (std::int64_t i = 0; i < n; ++i) s += q[i] * to_f32(k[i]);
        return s;
    }
    static void axpy(float* y, float a, const std::byte* row, std::int64_t n) noexcept {
        const fp16_t* v = reinterpret_cast<const fp16_t*>(row);
        for (std::int64_t i = 0; i < n; ++i) y[i] += a * to_f32(v[i]);
    }
};

template <>
struct element_ops<quant::q8_0> {
    static constexpr std::string_view name = "q8_0";
    using block = quant::block_q8_0;
    static constexpr std::size_t row_bytes(std::int64_t n) noexcept { return std::size_t(n / 32) * sizeof(block); }
    static void store(const float* x, std::byte* dst, std::int64_t n) noexcept {
        quant::q8_0::quantize_row(x, reinterpret_cast<block*>(dst), n);
    }
    static float dot(const float* q, const std::byte* row, std::int64_t n) noexcept {
        const block* k = reinterpret_cast<const block*>(row);
        float s = 0;
        for (std::int64_t b = 0; b < n / 32; ++b, q += 32) {
            float acc = 0;
            for (int j = 0; j < 32; ++j) acc += q[j] * float(k[b].qs[j]);
            s += acc * to_f32(k[b].d);
        }
        return s;
    }
    static void axpy(float* y, float a, const std::byte* row, std::int64_t n) noexcept {
        const block* v = reinterpret_cast<const block*>(row);
        for (std::int64_t b = 0; b < n / 32; ++b, y += 32) {
            const float ad = a * to_f32(v[b].d);
            for (int j = 0; j < 32; ++j) y[j] += ad * float(v[b].qs[j]);
        }
    }
};

}  // namespace kv_cache
LLMT_END_NAMESPACE
