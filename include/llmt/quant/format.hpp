// format: the quant_format concept every weight/activation block format satisfies, and weight_types<...>
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/type_list.hpp>
#include <llmt/quant/qtype.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

/// A block format tag. Each format header defines one, e.g. `struct q4_0`:
///   using block = block_q4_0;              // C-layout block, sizeof == type_size(id)
///   using vec_dot_type = q8_0;             // the format the activation is converted to
///   static constexpr qtype id = qtype::q4_0;
///   static constexpr std::int64_t block_size = 32;
///   static void quantize_row(const float* x, block* y, std::int64_t n);      // reference quantizer
///   static void dequantize_row(const block* x, float* y, std::int64_t n);
///   static float vec_dot(std::int64_t n, const block* x, const vec_dot_type::block* y);  // scalar reference
/// n is a count of values and a multiple of block_size.
template <typename F>
concept quant_format = requires {
    typename F::block;
    typename F::vec_dot_type;
    typename F::vec_dot_type::block;
    { F::id } -> std::convertible_to<qtype>;
    { F::block_size } -> std::convertible_to<std::int64_t>;
} && requires(const float* x, float* y, typename F::block* b, const typename F::block* cb,
              const typename F::vec_dot_type::block* vb, std::int64_t n) {
    F::quantize_row(x, b, n);
    F::dequantize_row(cb, y, n);
    { F::vec_dot(n, cb, vb) } -> std::same_as<float>;
} && (sizeof(typename F::block) == type_size(F::id)) && (F::block_size == block_size(F::id));

/// The set of weight formats a model type supports (dispatch is over this list).
template <quant_format... Fs>
struct weight_types : type_list<Fs...> {
    using list = type_list<Fs...>;
};

/// Bytes of a row of n values of format F.
template <quant_format F>
constexpr std::size_t row_bytes(std::int64_t n) noexcept {
    return static_cast<std::size_t>(n / F::block_size) * sizeof(typename F::block);
}

}  // namespace quant
LLMT_END_NAMESPACE
