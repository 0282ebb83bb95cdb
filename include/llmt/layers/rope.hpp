// rope: the RoPE policies rope_normal / rope_neox and the rotation table with linear, YaRN and llama3 scaling
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/kernels/rope.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace layers {

/// A RoPE policy: which values of a head form a rotated pair.
template <typename R>
concept rope_policy = requires {
    { R::name } -> std::convertible_to<std::string_view>;
    { R::style } -> std::convertible_to<kernels::rope_style>;
};

/// Adjacent pairs (x[2i], x[2i+1]): Llama, Mistral (llama.cpp's LLAMA_ROPE_TYPE_NORM).
struct rope_normal {
    static constexpr std::string_view name = "rope_normal";
    static constexpr kernels::rope_style style = kernels::rope_style::normal;
};
/// Halves (x[i], x[i + n_rot/2]): Qwen, Gemma, Phi-3, GPT-NeoX (LLAMA_ROPE_TYPE_NEOX).
struct rope_neox {
    static constexpr std::string_view name = "rope_neox";
    static constexpr kernels::rope_style style = kernels::rope_style::neox;
};

static_assert(rope_policy<rope_normal> && rope_policy<rope_neox>);

/// How the file stretches the positions (GGUF `{arch}.rope.scaling.type`). Llama 3's scaling is
/// not a type: it is carried as per-frequency divisors in the tensor `rope_freqs.weight`.
enum class rope_scaling { none, linear, yarn };

constexpr std::string_view name(rope_scaling s) noexcept {
    switch (s) {
        case rope_scaling::none: return "none";
        case rope_scaling::linear: return "linear";
        case rope_scaling::yarn: return "yarn";
    }
    return "?";
}

/// Everything that determines the rotation angles (read from GGUF by model/hparams.hpp).
struct rope_params {
    std::int64_t n_rot = 0;          // rotated values per head (even, ≤ head_dim)
    float freq_base = 10000.0f;      // θ_i = pos · base^(-2i/n_rot)
    rope_scaling scaling = rope_scaling::none;
    float freq_scale = 1.0f;         // 1 / scaling factor (linear and YaRN)
    std::int64_t n_ctx_orig = 0;     // training context (YaRN correction range)
    float ext_factor = 0.0f;         // YaRN extrapolation mix (1 when YaRN is on)
    float attn_factor = 1.0f;        // multiplies cos and sin
    float beta_fast = 32.0f;         // YaRN ramp bounds, in rotations over the training context
    float beta_slow = 1.0f;
    std::vector<float> freq_factors;  // [n_rot/2] llama3 divisors of θ_i, or empty
};

namespace detail {
// The pair index range over which YaRN blends interpolation and extrapolation (as ggml computes it).
inline void yarn_corr_dims(const rope_params& p, float dims[2]) {
    auto corr_dim = [&](float n_rotations) {
        return float(p.n_rot) * std::log(float(p.n_ctx_orig) / (n_rotations * 2.0f * std::numbers::pi_v<float>)) /
               (2.0f * std::log(p.freq_base));
    };
    dims[0] = std::max(0.0f, std::floor(corr_dim(p.beta_fast)));
    dims[1] = std::min(float(p.n_rot - 1), std::ceil(corr_dim(p.beta_slow)));
}
}  // namespace detail

/// Fills cos_sin: [n_pos][n_rot/2][2] = (cos θ, sin θ) for positions 0..n_pos-1, with the file's scaling.
inline void fill_rope_table(const rope_params& p, std::int64_t n_pos, float* cos_sin) {
    LLMT_CHECK_CODE(p.n_rot > 0 && p.n_rot % 2 == 0, errc::config, "rope: n_rot {} must be positive and even", p.n_rot);
    const std::int64_t half = p.n_rot / 2;
    LLMT_CHECK_CODE(p.freq_factors.empty() || std::int64_t(p.freq_factors.size()) == half, errc::format,
                    "rope: rope_freqs has {} values, expected n_rot/2 = {}", p.freq_factors.size(), half);
    float corr[2] = {0, 0};
    if (p.ext_factor != 0.0f) detail::yarn_corr_dims(p, corr);
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    const float theta_scale = std::pow(p.freq_base, -2.0f / float(p.n_rot));
    for (std::int64_t pos = 0; pos < n_pos; ++pos) {
        float theta_base = float(pos);  // pos · theta_scale^i, by repeated products as ggml does
        float* out = cos_sin + pos * p.n_rot;
        for (std::int64_t i = 0; i < half; ++i, theta_base *= theta_scale) {
            const float extrap = p.freq_factors.empty() ? theta_base : theta_base / p.freq_factors[std::size_t(i)];
            const float interp = p.freq_scale * extrap;
            float theta = interp;
            if (p.ext_factor != 0.0f) {
                const float y = (float(i) - corr[0]) / std::max(0.001f, corr[1] - corr[0]);
                const float ramp = (1.0f - std::min(1.0f, std::max(0.0f, y))) * p.ext_factor;
                theta = interp * (1.0f - ramp) + extrap * ramp;
            }
            out[2 * i] = std::cos(theta) * mscale;
            out[2 * i + 1] = std::sin(theta) * mscale;
        }
    }
}

}  // namespace layers

using layers::rope_neox;
using layers::rope_normal;
using layers::rope_params;
using layers::rope_policy;
using layers::rope_scaling;
LLMT_END_NAMESPACE
