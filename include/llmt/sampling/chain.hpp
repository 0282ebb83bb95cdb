// chain: an ordered list of samplers run over one shared candidate array to pick the next token
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/token.hpp>
#include <llmt/sampling/candidates.hpp>
#include <llmt/sampling/mirostat.hpp>
#include <llmt/sampling/params.hpp>
#include <llmt/sampling/penalties.hpp>
#include <llmt/sampling/select.hpp>
#include <llmt/sampling/temperature.hpp>
#include <llmt/sampling/truncate.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// A user-defined stage: any callable over the candidate array (it may set `selected`).
struct custom {
    std::function<void(candidate_array&)> fn;
    void apply(candidate_array& c) const {
        LLMT_CHECK_CODE(static_cast<bool>(fn), errc::invalid_argument, "sampling::custom: empty function");
        fn(c);
    }
};

/// Every stage a chain can hold.
using any_sampler = std::variant<penalties, logit_bias, top_k, typical, top_p, min_p, temperature, mirostat,
                                 mirostat_v2, greedy, dist, custom>;

/// What a stage must provide.
template <typename S>
concept sampler = requires(S s, candidate_array& c) { s.apply(c); };

/// The samplers run in order over one candidate array. A chain that does not end with a
/// selecting stage (greedy, dist, mirostat, mirostat_v2) gets a dist{default_seed} appended:
/// `chain{top_k{40}, top_p{0.95f}, temperature{0.8f}}` samples. Use set_seed() to reseed.
///
/// sample() does not record the token: call accept(token) for every token that joins the
/// context (prompt tokens too, if they should count for the repetition penalties).
class chain {
public:
    chain() { finish(); }

    template <typename... S>
        requires(sizeof...(S) > 0 && (std::constructible_from<any_sampler, S&&> && ...))
    chain(S&&... s) {  // NOLINT: chain{top_k{40}, dist{42}}
        stages_.reserve(sizeof...(S) + 1);
        (stages_.emplace_back(std::forward<S>(s)), ...);
        finish();
    }

    explicit chain(std::vector<any_sampler> stages) : stages_(std::move(stages)) { finish(); }

    /// Builds the chain of `p` after p.validate(). The stages run in the order of p.samplers
    /// (llama.cpp's default: penalties, top-k, typical, top-p, min-p, temperature), the logit bias
    /// before the first listed stage that is not penalties, then dist. Mirostat 1/2 run the listed
    /// penalties, the logit bias, temperature + mirostat; temp <= 0 the penalties, the bias, greedy.
    static chain from_params(const params& p) {
        p.validate();
        std::vector<any_sampler> s;
        s.reserve(p.samplers.size() + 3);
        bool bias_done = p.logit_bias.empty();
        auto add_bias = [&] {
            if (!bias_done) s.emplace_back(logit_bias{p.logit_bias});
            bias_done = true;
        };
        auto add_penalties = [&] {
            penalties pen{p.repeat_last_n, p.repeat_penalty, p.freq_penalty, p.presence_penalty};
            if (pen.enabled()) s.emplace_back(std::move(pen));
        };
        const bool truncate = p.temp > 0.0f && p.mirostat == 0;
        for (sampler_type t : p.samplers) {
            if (t == sampler_type::penalties) {
                add_penalties();
                continue;
            }
            if (!truncate) continue;
            add_bias();
            switch (t) {
                case sampler_type::top_k: s.emplace_back(top_k{p.top_k}); break;
                case sampler_type::typ_p: s.emplace_back(typical{p.typical_p}); break;
                case sampler_type::top_p: s.emplace_back(top_p{p.top_p}); break;
                case sampler_type::min_p: s.emplace_back(min_p{p.min_p}); break;
                case sampler_type::temperature: s.emplace_back(temperature{p.temp}); break;
                default: break;  // dry, top_n_sigma, xtc, infill: off (no parameters turn them on)
            }
        }
        add_bias();
        if (!(p.temp > 0.0f)) {
            s.emplace_back(greedy{});
        } else if (p.mirostat == 1) {
            s.emplace_back(temperature{p.temp});
            s.emplace_back(mirostat{p.mirostat_tau, p.mirostat_eta, p.seed});
        } else if (p.mirostat == 2) {
            s.emplace_back(temperature{p.temp});
            s.emplace_back(mirostat_v2{p.mirostat_tau, p.mirostat_eta, p.seed});
        } else {
            s.emplace_back(dist{p.seed});
        }
        return chain{std::move(s)};
    }

    /// Runs every stage over `logits` (one per vocabulary entry) and returns the chosen token.
    /// Throws llmt::error on empty logits, NaN, or when no token can be chosen (all -inf).
    token_id sample(std::span<const float> logits) {
        cand_.fill(logits);
        for (auto& st : stages_) {
            std::visit([&](auto& x) { x.apply(cand_); }, st);
            LLMT_CHECK_CODE(!cand_.empty(), errc::runtime, "sampling: a stage removed every candidate");
            if (cand_.selected >= 0) break;
        }
        LLMT_CHECK_CODE(cand_.selected >= 0 && std::size_t(cand_.selected) < cand_.size(), errc::runtime,
                        "sampling: no stage selected a token");
        return cand_[std::size_t(cand_.selected)].id;
    }

    /// Records a token of the context (feeds the penalties' window).
    void accept(token_id id) {
        for (auto& st : stages_)
            if (auto* p = std::get_if<penalties>(&st)) p->accept(id);
    }

    /// Back to the freshly built state: empty penalty window, mirostat mu = 2 tau, PRNGs
    /// restarted from their seeds.
    void reset() {
        for (auto& st : stages_)
            std::visit([](auto& x) {
                if constexpr (requires { x.reset(); }) x.reset();
            }, st);
    }

    /// Reseeds every random stage (dist, mirostat, mirostat_v2).
    void set_seed(std::uint64_t seed) {
        for (auto& st : stages_)
            std::visit([&](auto& x) {
                if constexpr (requires { x.set_seed(seed); }) x.set_seed(seed);
            }, st);
    }

    /// The stages, in order (for inspection: e.g. find<mirostat>()->mu()).
    [[nodiscard]] std::span<const any_sampler> stages() const noexcept { return stages_; }

    /// The first stage of type S, or nullptr.
    template <typename S>
    [[nodiscard]] const S* find() const noexcept {
        for (const auto& st : stages_)
            if (const auto* p = std::get_if<S>(&st)) return p;
        return nullptr;
    }

    /// The candidates left after the last sample() (the selected one is at index selected).
    [[nodiscard]] const candidate_array& candidates() const noexcept { return cand_; }

private:
    static bool selects(const any_sampler& s) noexcept {
        return std::holds_alternative<greedy>(s) || std::holds_alternative<dist>(s) ||
               std::holds_alternative<mirostat>(s) || std::holds_alternative<mirostat_v2>(s);
    }
    void finish() {
        if (stages_.empty() || !selects(stages_.back())) stages_.emplace_back(dist{default_seed});
    }

    std::vector<any_sampler> stages_;
    candidate_array cand_;
};

}  // namespace sampling

// The everyday names, re-exported into llmt (llmt::sampling::chain{llmt::top_k{40}, ...}).
using sampling::top_k;
using sampling::top_p;
using sampling::min_p;
using sampling::typical;
using sampling::temperature;
using sampling::penalties;
using sampling::logit_bias;
using sampling::mirostat;
using sampling::mirostat_v2;
using sampling::greedy;

LLMT_END_NAMESPACE
