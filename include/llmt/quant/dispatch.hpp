// dispatch: a per-format entry of type-erased row functions, resolved once per tensor from a compile-time format list
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/type_list.hpp>
#include <llmt/quant/format.hpp>
#include <llmt/quant/qtype.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace quant {

/// Row functions of one format with its blocks erased to bytes. n counts values.
struct format_entry {
    qtype type = qtype::f32;
    qtype act_type = qtype::f32;  // vec_dot_type's id
    void (*quantize_row)(const float* x, void* y, std::int64_t n) = nullptr;
    void (*dequantize_row)(const void* x, float* y, std::int64_t n) = nullptr;
    void (*quantize_act)(const float* x, void* y, std::int64_t n) = nullptr;  // to vec_dot_type
    float (*vec_dot)(std::int64_t n, const void* x, const void* y) = nullptr;  // scalar reference
    [[nodiscard]] bool valid() const noexcept { return quantize_row != nullptr; }
};

template <quant_format F>
constexpr format_entry make_format_entry() noexcept {
    using B = typename F::block;
    using V = typename F::vec_dot_type;
    format_entry e;
    e.type = F::id;
    e.act_type = V::id;
    e.quantize_row = [](const float* x, void* y, std::int64_t n) { F::quantize_row(x, static_cast<B*>(y), n); };
    e.dequantize_row = [](const void* x, float* y, std::int64_t n) { F::dequantize_row(static_cast<const B*>(x), y, n); };
    e.quantize_act = [](const float* x, void* y, std::int64_t n) {
        V::quantize_row(x, static_cast<typename V::block*>(y), n);
    };
    e.vec_dot = [](std::int64_t n, const void* x, const void* y) {
        return F::vec_dot(n, static_cast<const B*>(x), static_cast<const typename V::block*>(y));
    };
    return e;
}

/// A table indexed by qtype id, filled for the formats of the list.
template <typename List>
struct format_table;
template <quant_format... Fs>
struct format_table<type_list<Fs...>> {
    static constexpr std::array<format_entry, qtype_count> entries = [] {
        std::array<format_entry, qtype_count> t{};
        ((t[std::size_t(Fs::id)] = make_format_entry<Fs>()), ...);
        return t;
    }();
};
template <quant_format... Fs>
struct format_table<weight_types<Fs...>> : format_table<type_list<Fs...>> {};

/// The entry for a tensor's run-time type; a type outside the list is an error naming both.
template <typename List>
const format_entry& resolve(qtype t, std::string_view tensor_name) {
    const auto id = static_cast<std::uint32_t>(t);
    if (id >= qtype_count || !format_table<List>::entries[id].valid())
        fail(errc::unsupported, "tensor '{}' has type {}, which this model type does not support: add llmt::quant::{} to its weight_types<...>",
             tensor_name, id < qtype_count ? name(t) : std::string_view("?"), id < qtype_count ? name(t) : std::string_view("?"));
    return format_table<List>::entries[id];
}

}  // namespace quant
LLMT_END_NAMESPACE
