// element: the KV element types (f32, f16, q8_0), the kv_element concept and their row operations
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/kv_cache/kv_type.hpp>
#include <llmt/quant/f16.hpp>
#include <llmt/quant/f32.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/simd/diagnostics.hpp>
#include <llmt/simd/xsimd.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // _mm512_cvtph_ps, _mm256_cvtph_ps, _mm512_cvtepi8_epi32
#endif

LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kv_cache {
namespace detail {
#if LLMT_HAS_XSIMD
using kv_batch = xsimd::batch<float, simd::arch>;
#if defined(__AVX512F__)
inline constexpr bool vector_kv = kv_batch::size == 16;
#elif defined(__AVX2__) && defined(__F16C__)
inline constexpr bool vector_kv = kv_batch::size == 8;
#else
inline constexpr bool vector_kv = false;
#endif
/// kv_batch::size f16 values widened to f32 (exact, as to_f32). Only when vector_kv.
inline kv_batch load_f16(const fp16_t* p) noexcept {
#if defined(__AVX512F__)
    if constexpr (kv_batch::size == 16) return kv_batch(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
#elif defined(__AVX2__) && defined(__F16C__)
    if constexpr (kv_batch::size == 8) return kv_batch(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#endif
    (void)p;
    return kv_batch(0.0f);
}
/// kv_batch::size int8 values converted to f32 (exact). Only when vector_kv.
inline kv_batch load_i8(const std::int8_t* p) noexcept {
#if defined(__AVX512F__)
    if constexpr (kv_batch::size == 16)
        return kv_batch(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))));
#elif defined(__AVX2__) && defined(__F16C__)
    if constexpr (kv_batch::size == 8)
        return kv_batch(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
#endif
    (void)p;
    return kv_batch(0.0f);
}
#else
inline constexpr bool vector_kv = false;
#endif
}  // namespace detail

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
    /// The row as f32 (a copy).
    static void load(const std::byte* row, float* y, std::int64_t n) noexcept { std::memcpy(y, row, row_bytes(n)); }
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
        std::int64_t i = 0;
        float s = 0;
#if LLMT_HAS_XSIMD
        // the order of element_ops<f32>::dot on the widened row: two accumulators, then the tail
        if constexpr (detail::vector_kv) {
            using b_t = detail::kv_batch;
            constexpr std::int64_t N = b_t::size;
            if (n >= 2 * N) {
                b_t a0 = b_t::load_unaligned(q) * detail::load_f16(k);
                b_t a1 = b_t::load_unaligned(q + N) * detail::load_f16(k + N);
                for (i = 2 * N; i + 2 * N <= n; i += 2 * N) {
                    a0 = xsimd::fma(b_t::load_unaligned(q + i), detail::load_f16(k + i), a0);
                    a1 = xsimd::fma(b_t::load_unaligned(q + i + N), detail::load_f16(k + i + N), a1);
                }
                s = xsimd::hadd(a0 + a1);
            }
        }
#endif
        for (; i < n; ++i) s += q[i] * to_f32(k[i]);
        return s;
    }
    static void axpy(float* y, float a, const std::byte* row, std::int64_t n) noexcept {
        const fp16_t* v = reinterpret_cast<const fp16_t*>(row);
        std::int64_t i = 0;
#if LLMT_HAS_XSIMD
        if constexpr (detail::vector_kv) {
            using b_t = detail::kv_batch;
            const b_t va(a);
            for (; i + std::int64_t(b_t::size) <= n; i += b_t::size)
                xsimd::fma(va, detail::load_f16(v + i), b_t::load_unaligned(y + i)).store_unaligned(y + i);
        }
#endif
        for (; i < n; ++i) y[i] += a * to_f32(v[i]);
    }
    /// The row widened to f32 (exact).
    static void load(const std::byte* row, float* y, std::int64_t n) noexcept {
        const fp16_t* v = reinterpret_cast<const fp16_t*>(row);
        std::int64_t i = 0;
#if LLMT_HAS_XSIMD
        if constexpr (detail::vector_kv) {
            using b_t = detail::kv_batch;
            for (; i + std::int64_t(b_t::size) <= n; i += b_t::size) detail::load_f16(v + i).store_unaligned(y + i);
        }
#endif
        for (; i < n; ++i) y[i] = to_f32(v[i]);
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
#if LLMT_HAS_XSIMD
            if constexpr (detail::vector_kv) {
                // per block: lane sums in a vector, then one horizontal add
                using b_t = detail::kv_batch;
                b_t a(0.0f);
                for (int j = 0; j < 32; j += int(b_t::size)) a = xsimd::fma(b_t::load_unaligned(q + j), detail::load_i8(k[b].qs + j), a);
                acc = xsimd::hadd(a);
            } else
#endif
            {
                for (int j = 0; j < 32; ++j) acc += q[j] * float(k[b].qs[j]);
            }
            s += acc * to_f32(k[b].d);
        }
        return s;
    }
    static void axpy(float* y, float a, const std::byte* row, std::int64_t n) noexcept {
        const block* v = reinterpret_cast<const block*>(row);
        for (std::int64_t b = 0; b < n / 32; ++b, y += 32) {
            const float ad = a * to_f32(v[b].d);
#if LLMT_HAS_XSIMD
            if constexpr (detail::vector_kv) {
                using b_t = detail::kv_batch;
                const b_t vad(ad);
                for (int j = 0; j < 32; j += int(b_t::size))
                    xsimd::fma(vad, detail::load_i8(v[b].qs + j), b_t::load_unaligned(y + j)).store_unaligned(y + j);
                continue;
            }
#endif
            for (int j = 0; j < 32; ++j) y[j] += ad * float(v[b].qs[j]);
        }
    }
    /// The row dequantized to f32: d · q, one rounding per value.
    static void load(const std::byte* row, float* y, std::int64_t n) noexcept {
        const block* v = reinterpret_cast<const block*>(row);
        for (std::int64_t b = 0; b < n / 32; ++b, y += 32) {
            const float d = to_f32(v[b].d);
#if LLMT_HAS_XSIMD
            if constexpr (detail::vector_kv) {
                using b_t = detail::kv_batch;
                const b_t vd(d);
                for (int j = 0; j < 32; j += int(b_t::size)) (detail::load_i8(v[b].qs + j) * vd).store_unaligned(y + j);
                continue;
            }
#endif
            for (int j = 0; j < 32; ++j) y[j] = d * float(v[b].qs[j]);
        }
    }
};

}  // namespace kv_cache
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
