// params: the flat sampling settings of a CLI or server request (llama.cpp names and defaults), checked and ordered
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/token.hpp>
#include <llmt/sampling/rng.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// A stage of the sampling order (params::samplers), named as llama.cpp's `--samplers`.
/// dry, top_n_sigma, xtc and infill are accepted so that a llama.cpp order string parses, but
/// they do nothing: llmt has no parameters that turn them on (llama.cpp's defaults leave them off).
enum class sampler_type : std::uint8_t { penalties, dry, top_n_sigma, top_k, typ_p, top_p, min_p, xtc, temperature, infill };

/// The canonical llama.cpp name of a stage ("penalties", "top_k", "typ_p", ...).
constexpr std::string_view name(sampler_type t) noexcept {
    switch (t) {
        case sampler_type::penalties: return "penalties";
        case sampler_type::dry: return "dry";
        case sampler_type::top_n_sigma: return "top_n_sigma";
        case sampler_type::top_k: return "top_k";
        case sampler_type::typ_p: return "typ_p";
        case sampler_type::top_p: return "top_p";
        case sampler_type::min_p: return "min_p";
        case sampler_type::xtc: return "xtc";
        case sampler_type::temperature: return "temperature";
        case sampler_type::infill: return "infill";
    }
    return "?";
}

namespace detail {
// llama.cpp's canonical names and the other spellings its --samplers accepts.
inline constexpr std::array<std::pair<std::string_view, sampler_type>, 21> sampler_names = {{
    {"penalties", sampler_type::penalties},     {"dry", sampler_type::dry},
    {"top_n_sigma", sampler_type::top_n_sigma}, {"top_k", sampler_type::top_k},
    {"typ_p", sampler_type::typ_p},             {"top_p", sampler_type::top_p},
    {"min_p", sampler_type::min_p},             {"xtc", sampler_type::xtc},
    {"temperature", sampler_type::temperature}, {"infill", sampler_type::infill},
    {"top-k", sampler_type::top_k},             {"top-p", sampler_type::top_p},
    {"nucleus", sampler_type::top_p},           {"top-n-sigma", sampler_type::top_n_sigma},
    {"typical_p", sampler_type::typ_p},         {"typical-p", sampler_type::typ_p},
    {"typical", sampler_type::typ_p},           {"typ-p", sampler_type::typ_p},
    {"typ", sampler_type::typ_p},               {"min-p", sampler_type::min_p},
    {"temp", sampler_type::temperature},
}};
}  // namespace detail

/// Parses a llama.cpp `--samplers` string: stage names separated by ';' (spaces around a name
/// and empty names are ignored), canonical names or the aliases llama.cpp accepts (top-k,
/// typical, typical_p, nucleus, temp, ...). An unknown name is an llmt::error(errc::invalid_argument)
/// naming it and the known names (llama.cpp skips it silently).
inline std::vector<sampler_type> parse_samplers(std::string_view s) {
    std::vector<sampler_type> out;
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (true) {
        const std::size_t semi = s.find(';');
        std::string_view item = s.substr(0, semi);
        while (!item.empty() && is_space(item.front())) item.remove_prefix(1);
        while (!item.empty() && is_space(item.back())) item.remove_suffix(1);
        if (!item.empty()) {
            bool found = false;
            for (const auto& [n, t] : detail::sampler_names)
                if (n == item) {
                    out.push_back(t);
                    found = true;
                    break;
                }
            if (!found) {
                std::string known;
                for (const auto& [n, t] : detail::sampler_names) {
                    if (!known.empty()) known += ", ";
                    known += n;
                }
                fail(errc::invalid_argument, "samplers: unknown sampler '{}' in \"{}\"; known names (separated by ';'): {}",
                     item, s, known);
            }
        }
        if (semi == std::string_view::npos) break;
        s.remove_prefix(semi + 1);
    }
    return out;
}

/// The canonical names joined by ';' (the inverse of parse_samplers).
inline std::string to_string(std::span<const sampler_type> order) {
    std::string out;
    for (sampler_type t : order) {
        if (!out.empty()) out += ';';
        out += name(t);
    }
    return out;
}

/// Turned into a chain by chain::from_params(), which calls validate(). Neutral values disable a
/// stage (top_k <= 0, top_p >= 1, min_p <= 0, typical_p >= 1, repeat_penalty = 1, ...).
struct params {
    float temp = 0.8f;             ///< <= 0: greedy
    int top_k = 40;                ///< <= 0: off
    float top_p = 0.95f;           ///< in [0, 1]; 1: off
    float min_p = 0.05f;           ///< in [0, 1]; 0: off
    float typical_p = 1.0f;        ///< in (0, 1]; 1: off
    float repeat_penalty = 1.0f;   ///< > 0; 1: off
    int repeat_last_n = 64;        ///< window of the penalties; 0: off, -1: whole history
    float freq_penalty = 0, presence_penalty = 0;
    int mirostat = 0;              ///< 0: off, 1: Mirostat, 2: Mirostat 2.0
    float mirostat_tau = 5.0f, mirostat_eta = 0.1f;
    std::uint64_t seed = default_seed;
    std::vector<std::pair<token_id, float>> logit_bias;  ///< (token, bias); -inf bans the token
    /// The order of the stages before the final random pick (llama.cpp's --samplers); a stage
    /// not listed does not run (leave out temperature and the logits are not scaled). The
    /// logit bias runs before the first listed stage that is not penalties. Mirostat (1, 2) and
    /// greedy (temp <= 0) keep llama.cpp's meaning: only the penalties of the list run, then
    /// temperature + mirostat, or greedy. The default is llama.cpp's default order.
    std::vector<sampler_type> samplers = default_samplers();

    /// llama.cpp's default order: "penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature".
    static std::vector<sampler_type> default_samplers() {
        static constexpr std::array<sampler_type, 9> order = {sampler_type::penalties, sampler_type::dry,   sampler_type::top_n_sigma,
                                                              sampler_type::top_k,     sampler_type::typ_p, sampler_type::top_p,
                                                              sampler_type::min_p,     sampler_type::xtc,   sampler_type::temperature};
        return std::vector<sampler_type>(order.begin(), order.end());
    }

    /// Refuses values that would be silently reinterpreted (NaN temperature as greedy, ...):
    /// llmt::error(errc::invalid_argument) naming the field as the command-line option is named.
    void validate() const {
        auto finite = [](float x) { return std::isfinite(x); };
        LLMT_CHECK_CODE(finite(temp), errc::invalid_argument, "temp is {}; expected a finite number (<= 0 means greedy)", temp);
        LLMT_CHECK_CODE(finite(top_p) && top_p >= 0.0f && top_p <= 1.0f, errc::invalid_argument,
                        "top-p is {}; expected a number in [0, 1] (1 turns it off)", top_p);
        LLMT_CHECK_CODE(finite(min_p) && min_p >= 0.0f && min_p <= 1.0f, errc::invalid_argument,
                        "min-p is {}; expected a number in [0, 1] (0 turns it off)", min_p);
        LLMT_CHECK_CODE(finite(typical_p) && typical_p > 0.0f && typical_p <= 1.0f, errc::invalid_argument,
                        "typical (typical_p) is {}; expected a number in (0, 1] (1 turns it off)", typical_p);
        LLMT_CHECK_CODE(finite(repeat_penalty) && repeat_penalty > 0.0f, errc::invalid_argument,
                        "repeat-penalty is {}; expected a finite number > 0 (1 turns it off)", repeat_penalty);
        LLMT_CHECK_CODE(repeat_last_n >= -1, errc::invalid_argument,
                        "repeat-last-n is {}; expected -1 (the whole history), 0 (off) or a window of tokens > 0", repeat_last_n);
        LLMT_CHECK_CODE(finite(freq_penalty), errc::invalid_argument,
                        "frequency-penalty is {}; expected a finite number (0 turns it off)", freq_penalty);
        LLMT_CHECK_CODE(finite(presence_penalty), errc::invalid_argument,
                        "presence-penalty is {}; expected a finite number (0 turns it off)", presence_penalty);
        LLMT_CHECK_CODE(mirostat >= 0 && mirostat <= 2, errc::invalid_argument,
                        "mirostat is {}; expected 0 (off), 1 (Mirostat) or 2 (Mirostat 2.0)", mirostat);
        LLMT_CHECK_CODE(finite(mirostat_tau) && mirostat_tau > 0.0f, errc::invalid_argument,
                        "mirostat-ent (mirostat_tau) is {}; expected a finite number > 0", mirostat_tau);
        LLMT_CHECK_CODE(finite(mirostat_eta) && mirostat_eta >= 0.0f, errc::invalid_argument,
                        "mirostat-lr (mirostat_eta) is {}; expected a finite number >= 0", mirostat_eta);
        for (const auto& [id, b] : logit_bias) {
            LLMT_CHECK_CODE(id >= 0, errc::invalid_argument, "logit-bias: the token id {} is negative", id);
            LLMT_CHECK_CODE(!std::isnan(b) && b != std::numeric_limits<float>::infinity(), errc::invalid_argument,
                            "logit-bias: the bias of token {} is {}; expected a finite number or -inf (never sampled)", id, b);
        }
    }
};

}  // namespace sampling
LLMT_END_NAMESPACE
