// presets: ready-made model specs per architecture (llama: Llama 1/2/3, Mistral)
#pragma once

#include <llmt/config.hpp>
#include <llmt/kv_cache/contiguous.hpp>
#include <llmt/model/model_spec.hpp>
#include <llmt/quant/formats.hpp>

#include <array>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace presets {

/// Llama 1/2/3, Mistral and their fine-tunes (general.architecture "llama"): RMSNorm, grouped-query
/// attention, adjacent-pair RoPE (linear / YaRN / llama3 rope_freqs scaling from the file), SwiGLU,
/// every weight format llmt implements, the KV cache stored as E (llmt::f32, f16 or q8_0). A
/// sliding window set by the file masks attention.
template <typename E>
struct llama_kv : model_spec<rms_norm, gqa<>, rope_normal, swiglu, kv_cache::contiguous<E>, quant::all_formats> {
    static constexpr std::array<std::string_view, 1> architectures{"llama"};
};

/// llama_kv with an f32 KV cache (the exact one).
struct llama : llama_kv<quant::f32> {};

}  // namespace presets
LLMT_END_NAMESPACE
