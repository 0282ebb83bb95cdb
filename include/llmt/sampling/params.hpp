// params: the flat sampling settings of a CLI or server request (llama.cpp names and defaults)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/token.hpp>
#include <llmt/sampling/rng.hpp>

#include <cstdint>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// Turned into a chain by chain::from_params(). Neutral values disable a stage
/// (top_k <= 0, top_p >= 1, min_p <= 0, typical_p >= 1, repeat_penalty = 1, ...).
struct params {
    float temp = 0.8f;             ///< <= 0: greedy
    int top_k = 40;                ///< <= 0: off
    float top_p = 0.95f;           ///< >= 1: off
    float min_p = 0.05f;           ///< <= 0: off
    float typical_p = 1.0f;        ///< >= 1: off
    float repeat_penalty = 1.0f;   ///< 1: off
    int repeat_last_n = 64;        ///< window of the penalties; 0: off, < 0: whole history
    float freq_penalty = 0, presence_penalty = 0;
    int mirostat = 0;              ///< 0: off, 1: Mirostat, 2: Mirostat 2.0
    float mirostat_tau = 5.0f, mirostat_eta = 0.1f;
    std::uint64_t seed = default_seed;
    std::vector<std::pair<token_id, float>> logit_bias;  ///< (token, bias); -inf bans the token
};

}  // namespace sampling
LLMT_END_NAMESPACE
