// truncate: the samplers that cut the candidate list (top_k, top_p, min_p, typical)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/sampling/candidates.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// Keeps the k highest logits (sorted). k <= 0 keeps everything; k > size keeps all, sorted.
struct top_k {
    int k = 40;

    top_k(int k_ = 40) noexcept : k(k_) {}  // NOLINT: top_k{40} reads naturally

    void apply(candidate_array& c) const {
        if (k <= 0) return;
        c.keep_top(static_cast<std::size_t>(k));
    }
};

/// Nucleus sampling: keeps the smallest prefix of the sorted list whose mass reaches p
/// (and at least min_keep). p >= 1 keeps everything.
struct top_p {
    float p = 0.95f;
    std::size_t min_keep = 1;

    top_p(float p_ = 0.95f, std::size_t min_keep_ = 1) : p(p_), min_keep(min_keep_) {  // NOLINT
        LLMT_CHECK_CODE(p >= 0.0f, errc::invalid_argument, "top_p: p must be >= 0, got {}", p);
    }

    void apply(candidate_array& c) const {
        if (p >= 1.0f) return;
        c.softmax(/*sort_first=*/false);
        // Sort a head of 256, then 1024, ... until it holds the mass: O(n) for peaked distributions.
        std::size_t k = c.sorted() ? c.size() : std::min<std::size_t>(c.size(), 256);
        for (;;) {
            c.sort_prefix(k);
            double cum = 0.0;
            for (std::size_t i = 0; i < k; ++i) {
                cum += c[i].p;
                if (cum >= p && i + 1 >= min_keep) {
                    c.keep_sorted_prefix(i + 1);
                    return;
                }
            }
            if (k == c.size()) return;
            k = std::min(c.size(), k * 4);
        }
    }
};

/// Keeps tokens whose probability is at least p times the best one's (logit >= max + ln p).
/// Order is kept; on a sorted list this is a prefix cut. p <= 0 keeps everything.
struct min_p {
    float p = 0.05f;
    std::size_t min_keep = 1;

    min_p(float p_ = 0.05f, std::size_t min_keep_ = 1) : p(p_), min_keep(min_keep_) {  // NOLINT
        LLMT_CHECK_CODE(p >= 0.0f && p <= 1.0f, errc::invalid_argument, "min_p: p must be in [0, 1], got {}", p);
    }

    void apply(candidate_array& c) const {
        if (p <= 0.0f || c.empty()) return;
        const float threshold = c[c.argmax()].logit + std::log(p);
        if (c.sorted()) {
            std::size_t n = 0;
            while (n < c.size() && c[n].logit >= threshold) ++n;
            c.truncate(std::max(n, min_keep));
            return;
        }
        std::size_t passing = 0;
        for (const auto& x : c) passing += x.logit >= threshold;
        if (passing < min_keep) {
            c.keep_top(min_keep);
            return;
        }
        c.keep_if([&](const candidate& x) { return x.logit >= threshold; });  // keeps the order
    }
};

/// Locally typical sampling (Meister et al. 2022): keeps the tokens whose surprise -ln p is
/// closest to the entropy, until their mass exceeds p. p >= 1 keeps everything.
struct typical {
    float p = 1.0f;
    std::size_t min_keep = 1;

    typical(float p_ = 1.0f, std::size_t min_keep_ = 1) : p(p_), min_keep(min_keep_) {  // NOLINT
        LLMT_CHECK_CODE(p >= 0.0f, errc::invalid_argument, "typical: p must be >= 0, got {}", p);
    }

    void apply(candidate_array& c) const {
        if (p >= 1.0f) return;
        c.softmax(/*sort_first=*/false);
        double entropy = 0.0;
        for (const auto& x : c)
            if (x.p > 0.0f) entropy -= double(x.p) * std::log(double(x.p));
        auto s = c.scratch();
        for (std::size_t i = 0; i < c.size(); ++i) {
            const double surprise = c[i].p > 0.0f ? -std::log(double(c[i].p)) : HUGE_VAL;
            s[i] = {static_cast<float>(std::fabs(surprise - entropy)), c[i]};
        }
        const auto by_key = [](const candidate_array::keyed& a, const candidate_array::keyed& b) {
            return a.key < b.key || (a.key == b.key && by_logit_desc(a.c, b.c));
        };
        // As top_p: order a growing head by key until it holds the mass.
        for (std::size_t k = std::min<std::size_t>(s.size(), 256);; k = std::min(s.size(), k * 4)) {
            if (k < s.size()) std::nth_element(s.begin(), s.begin() + std::ptrdiff_t(k) - 1, s.end(), by_key);
            std::sort(s.begin(), s.begin() + std::ptrdiff_t(k), by_key);
            double cum = 0.0;
            for (std::size_t i = 0; i < k; ++i) {
                cum += s[i].c.p;
                if (cum > p && i + 1 >= min_keep) {
                    c.assign_from_scratch(i + 1);
                    return;
                }
            }
            if (k == s.size()) {
                c.assign_from_scratch(k);
                return;
            }
        }
    }
};

}  // namespace sampling
LLMT_END_NAMESPACE
