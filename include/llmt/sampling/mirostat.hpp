// mirostat: Mirostat v1 and v2 (Basu et al. 2021), target-surprise samplers that pick the token
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/sampling/candidates.hpp>
#include <llmt/sampling/rng.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace sampling {

namespace detail {
inline void check_mirostat(float tau, float eta) {
    LLMT_CHECK_CODE(std::isfinite(tau) && tau > 0.0f, errc::invalid_argument, "mirostat: tau must be finite and > 0, got {}", tau);
    LLMT_CHECK_CODE(std::isfinite(eta) && eta >= 0.0f, errc::invalid_argument, "mirostat: eta must be finite and >= 0, got {}", eta);
}
}  // namespace detail

/// Mirostat v1 as in llama.cpp: estimates the Zipf exponent s from the m most likely tokens,
/// derives k so that top-k sampling has surprise mu, draws, then moves mu toward tau by
/// eta * (observed surprise - tau). mu starts at 2 tau.
class mirostat {
public:
    mirostat(float tau = 5.0f, float eta = 0.1f, std::uint64_t seed = default_seed, int m = 100)  // NOLINT
        : tau_(tau), eta_(eta), m_(m), mu_(2.0f * tau), rng_(seed) {
        detail::check_mirostat(tau, eta);
        LLMT_CHECK_CODE(m >= 1, errc::invalid_argument, "mirostat: m must be >= 1, got {}", m);
    }

    [[nodiscard]] float mu() const noexcept { return mu_; }
    [[nodiscard]] float tau() const noexcept { return tau_; }
    [[nodiscard]] float eta() const noexcept { return eta_; }
    void reset() noexcept {
        mu_ = 2.0f * tau_;
        rng_.reseed(rng_.seed());
    }
    void set_seed(std::uint64_t seed) noexcept { rng_.reseed(seed); }

    void apply(candidate_array& c) {
        c.softmax(/*sort_first=*/false);
        c.sort_prefix(std::size_t(m_));  // only the head is needed for the fit
        // Least-squares fit of log(p_i / p_i+1) = s * log((i+2) / (i+1)) over the head.
        double sum_ti_bi = 0.0, sum_ti_sq = 0.0;
        for (std::size_t i = 0; i + 1 < std::size_t(m_) && i + 1 < c.size(); ++i) {
            if (c[i + 1].p <= 0.0f) break;
            const double t_i = std::log(double(i + 2) / double(i + 1));
            const double b_i = std::log(double(c[i].p) / double(c[i + 1].p));
            sum_ti_bi += t_i * b_i;
            sum_ti_sq += t_i * t_i;
        }
        double k = double(c.size());
        if (sum_ti_sq > 0.0) {
            const double s_hat = sum_ti_bi / sum_ti_sq;
            const double eps = s_hat - 1.0;
            const double n = double(c.n_vocab());
            const double kk = std::pow(eps * std::pow(2.0, double(mu_)) / (1.0 - std::pow(n, -eps)), 1.0 / s_hat);
            if (std::isfinite(kk)) k = kk;
        }
        k = std::clamp(k, 1.0, double(c.size()));  // clamp before the cast: no overflow UB
        const auto keep = static_cast<std::size_t>(k);
        if (c.sorted() || keep <= std::size_t(m_)) c.keep_sorted_prefix(keep);
        else c.keep_top(keep);
        c.softmax(/*sort_first=*/false);
        const std::size_t idx = c.draw(rng_);
        c.selected = std::ptrdiff_t(idx);
        update(c[idx].p);
    }

private:
    void update(float p) noexcept {
        const float surprise = -std::log2(p);
        mu_ -= eta_ * (surprise - tau_);
    }

    float tau_, eta_;
    int m_;
    float mu_;
    rng rng_;
};

/// Mirostat v2 as in llama.cpp: drops the tokens whose surprise -log2 p exceeds mu (keeping at
/// least one), draws from the rest renormalized, then moves mu by eta * (surprise - tau).
class mirostat_v2 {
public:
    mirostat_v2(float tau = 5.0f, float eta = 0.1f, std::uint64_t seed = default_seed)  // NOLINT
        : tau_(tau), eta_(eta), mu_(2.0f * tau), rng_(seed) {
        detail::check_mirostat(tau, eta);
    }

    [[nodiscard]] float mu() const noexcept { return mu_; }
    [[nodiscard]] float tau() const noexcept { return tau_; }
    [[nodiscard]] float eta() const noexcept { return eta_; }
    void reset() noexcept {
        mu_ = 2.0f * tau_;
        rng_.reseed(rng_.seed());
    }
    void set_seed(std::uint64_t seed) noexcept { rng_.reseed(seed); }

    void apply(candidate_array& c) {
        // The sorted prefix with surprise <= mu is the set with p >= 2^-mu: filter, then sort it.
        c.softmax(/*sort_first=*/false);
        c.keep_if([&](const candidate& x) { return -std::log2(x.p) <= mu_; });
        c.sort();
        c.softmax(/*sort_first=*/false);
        const std::size_t idx = c.draw(rng_);
        c.selected = std::ptrdiff_t(idx);
        mu_ -= eta_ * (-std::log2(c[idx].p) - tau_);
    }

private:
    float tau_, eta_;
    float mu_;
    rng rng_;
};

}  // namespace sampling
LLMT_END_NAMESPACE
