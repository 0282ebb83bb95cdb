// kernel_table: kernel entries for every (format of a list, instruction set), resolved once per tensor at load
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/type_list.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/gemm_amx.hpp>
#include <llmt/kernels/gemm_amx_bf16.hpp>
#include <llmt/kernels/gemm_float.hpp>
#include <llmt/kernels/gemm_k.hpp>
#include <llmt/kernels/gemm_q8x32.hpp>
#include <llmt/kernels/gemv_float.hpp>
#include <llmt/kernels/gemv_k.hpp>
#include <llmt/kernels/gemv_q8x32.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/format.hpp>
#include <llmt/simd/cpu.hpp>

#include <array>
#include <cstddef>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace kernels {

/// entries[isa][qtype id], filled for the formats of the list (a format without a hand path on a
/// level gets the best lower one, down to its scalar reference dot).
template <typename List>
struct kernel_table;
template <quant::quant_format... Fs>
struct kernel_table<type_list<Fs...>> {
    static constexpr std::array<std::array<kernel_entry, quant::qtype_count>, simd::isa_count> entries = [] {
        std::array<std::array<kernel_entry, quant::qtype_count>, simd::isa_count> t{};
        for (int i = 0; i < simd::isa_count; ++i)
            ((t[std::size_t(i)][std::size_t(Fs::id)] = make_kernel_entry<Fs>(simd::isa(i))), ...);
        return t;
    }();
};
template <quant::quant_format... Fs>
struct kernel_table<quant::weight_types<Fs...>> : kernel_table<type_list<Fs...>> {};

/// The kernel of type t for path `level` (default: simd::active_isa(), i.e. this CPU or LLMT_ISA).
/// A type outside the list is an errc::unsupported error naming the tensor.
template <typename List>
const kernel_entry& resolve_kernel(quant::qtype t, std::string_view tensor_name = {}, simd::isa level = simd::active_isa()) {
    const auto id = static_cast<std::uint32_t>(t);
    if (id >= quant::qtype_count || !kernel_table<List>::entries[0][id].valid())
        fail(errc::unsupported, "tensor '{}' has type {}, which this model type does not support: add llmt::quant::{} to its weight_types<...>",
             tensor_name, id < quant::qtype_count ? quant::name(t) : std::string_view("?"),
             id < quant::qtype_count ? quant::name(t) : std::string_view("?"));
    return kernel_table<List>::entries[std::size_t(level)][id];
}

/// A weight_ref with its format and kernel resolved (data: [rows][row_bytes] of type t).
template <typename List>
weight_ref make_weight_ref(quant::qtype t, const void* data, std::int64_t rows, std::int64_t cols,
                           std::string_view tensor_name = {}, simd::isa level = simd::active_isa()) {
    weight_ref w;
    w.fmt = &quant::resolve<List>(t, tensor_name);
    w.kern = &resolve_kernel<List>(t, tensor_name, level);
    LLMT_CHECK_CODE(cols % quant::block_size(t) == 0, errc::format, "tensor '{}': {} columns are not a multiple of the {} block size {}",
                    tensor_name, cols, quant::name(t), quant::block_size(t));
    w.data = static_cast<const std::byte*>(data);
    w.rows = rows;
    w.cols = cols;
    w.row_bytes = quant::row_size(t, std::size_t(cols));
    return w;
}

}  // namespace kernels
LLMT_END_NAMESPACE
