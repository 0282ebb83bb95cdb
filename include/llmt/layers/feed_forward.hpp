// feed_forward: the feed-forward policies swiglu, geglu, gelu_mlp and the feed_forward_policy concept
#pragma once

#include <llmt/config.hpp>
#include <llmt/kernels/activation.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace layers {

/// A feed-forward policy. Gated kinds compute down(act(gate·x) ⊙ up·x); ungated ones down(act(up·x)).
/// activate(y, gate, up, n): gate is null for ungated kinds; y may alias gate or up.
template <typename F>
concept feed_forward_policy = requires(float* y, const float* g, const float* u, std::int64_t n) {
    { F::name } -> std::convertible_to<std::string_view>;
    { F::gated } -> std::convertible_to<bool>;
    F::activate(y, g, u, n);
};

/// SiLU-gated (Llama, Mistral, Qwen): silu(gate) ⊙ up.
struct swiglu {
    static constexpr std::string_view name = "swiglu";
    static constexpr bool gated = true;
    static void activate(float* y, const float* gate, const float* up, std::int64_t n) { kernels::swiglu(y, gate, up, n); }
};

/// GELU-gated (Gemma): gelu(gate) ⊙ up, GELU with ggml's tanh approximation.
struct geglu {
    static constexpr std::string_view name = "geglu";
    static constexpr bool gated = true;
    static void activate(float* y, const float* gate, const float* up, std::int64_t n) { kernels::geglu(y, gate, up, n); }
};

/// Plain two-layer MLP with GELU (GPT-2, Phi-2): gelu(up).
struct gelu_mlp {
    static constexpr std::string_view name = "gelu_mlp";
    static constexpr bool gated = false;
    static void activate(float* y, const float* /*gate*/, const float* up, std::int64_t n) { kernels::gelu(y, up, n); }
};

static_assert(feed_forward_policy<swiglu> && feed_forward_policy<geglu> && feed_forward_policy<gelu_mlp>);

}  // namespace layers

using layers::feed_forward_policy;
using layers::gelu_mlp;
using layers::geglu;
using layers::swiglu;
LLMT_END_NAMESPACE
