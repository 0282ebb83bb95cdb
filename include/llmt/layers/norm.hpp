// norm: the normalization policies rms_norm and layer_norm, and the norm_policy concept
#pragma once

#include <llmt/config.hpp>
#include <llmt/kernels/norm.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace layers {

/// A normalization policy: how a block normalizes its input, and which GGUF key holds its epsilon.
template <typename N>
concept norm_policy = requires(float* y, const float* x, const float* w, const float* b, std::int64_t n, float eps) {
    { N::name } -> std::convertible_to<std::string_view>;
    { N::eps_key } -> std::convertible_to<std::string_view>;  // "{arch}." + eps_key
    { N::has_bias } -> std::convertible_to<bool>;
    N::apply(y, x, w, b, n, eps);
};

/// RMSNorm (Llama, Mistral, Qwen, Gemma): y = x / sqrt(mean(x²) + eps) * w.
struct rms_norm {
    static constexpr std::string_view name = "rms_norm";
    static constexpr std::string_view eps_key = "attention.layer_norm_rms_epsilon";
    static constexpr bool has_bias = false;
    static void apply(float* y, const float* x, const float* w, const float* /*b*/, std::int64_t n, float eps) {
        kernels::rmsnorm(y, x, w, n, eps);
    }
};

/// LayerNorm (GPT-2, Phi-2, Falcon): y = (x - mean) / sqrt(var + eps) * w + b; b may be null.
struct layer_norm {
    static constexpr std::string_view name = "layer_norm";
    static constexpr std::string_view eps_key = "attention.layer_norm_epsilon";
    static constexpr bool has_bias = true;
    static void apply(float* y, const float* x, const float* w, const float* b, std::int64_t n, float eps) {
        kernels::layernorm(y, x, w, b, n, eps);
    }
};

static_assert(norm_policy<rms_norm> && norm_policy<layer_norm>);

}  // namespace layers

using layers::layer_norm;
using layers::norm_policy;
using layers::rms_norm;
LLMT_END_NAMESPACE
