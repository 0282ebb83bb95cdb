// presets: ready-made model specs per architecture (llama, qwen2, qwen3, gemma3, phi3)
#pragma once

#include <llmt/config.hpp>
#include <llmt/kv_cache/contiguous.hpp>
#include <llmt/model/arch/gemma3.hpp>
#include <llmt/model/arch/llama.hpp>
#include <llmt/model/arch/phi3.hpp>
#include <llmt/model/arch/qwen2.hpp>
#include <llmt/model/arch/qwen3.hpp>
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
    using arch = llmt::arch::llama;
    static constexpr auto architectures = arch::names;
};

/// llama_kv with an f32 KV cache (the exact one).
struct llama : llama_kv<quant::f32> {};

/// Qwen 2 / 2.5 (arch::qwen2): biases on Q, K, V; NeoX RoPE; SwiGLU.
template <typename E>
struct qwen2_kv : model_spec<rms_norm, gqa<>, rope_neox, swiglu, kv_cache::contiguous<E>, quant::all_formats> {
    using arch = llmt::arch::qwen2;
    static constexpr auto architectures = arch::names;
};
struct qwen2 : qwen2_kv<quant::f32> {};

/// Qwen 3 (arch::qwen3): per-head QK RMSNorm; NeoX RoPE; SwiGLU.
template <typename E>
struct qwen3_kv : model_spec<rms_norm, gqa<>, rope_neox, swiglu, kv_cache::contiguous<E>, quant::all_formats> {
    using arch = llmt::arch::qwen3;
    static constexpr auto architectures = arch::names;
};
struct qwen3 : qwen3_kv<quant::f32> {};

/// Gemma 3 (arch::gemma3): sandwich norms, QK-norm, local/global layers; NeoX RoPE; GELU-gated.
template <typename E>
struct gemma3_kv : model_spec<rms_norm, gqa<>, rope_neox, geglu, kv_cache::contiguous<E>, quant::all_formats> {
    using arch = llmt::arch::gemma3;
    static constexpr auto architectures = arch::names;
};
struct gemma3 : gemma3_kv<quant::f32> {};

/// Phi-3 (arch::phi3): fused QKV and gate-up; NeoX RoPE with LongRoPE factors; SwiGLU.
template <typename E>
struct phi3_kv : model_spec<rms_norm, gqa<>, rope_neox, swiglu, kv_cache::contiguous<E>, quant::all_formats> {
    using arch = llmt::arch::phi3;
    static constexpr auto architectures = arch::names;
};
struct phi3 : phi3_kv<quant::f32> {};

}  // namespace presets
LLMT_END_NAMESPACE
