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
        c.softmax(/*sort_first=*/true);
        double cum = 0.0;
        for (std::size_t i = 0; i < c.size(); ++i) {
            cum += c[i].p;
            if (cum >= p && i + 1 >= min_keep) {
                c.truncate(i + 1);
                return;
            }
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
        // Stable in-place filter; if fewer than min_keep pass, fall back to the best min_keep.
        std::size_t passing = 0;
        for (const auto& x : c) passing += x.logit >= threshold;
        if (passing < min_keep) {
            c.keep_top(min_keep);
            return;
        }
        std::size_t n = 0;
        for (std::size_t i = 0; i < c.size(); ++i)
            if (c[i].logit >= threshold) c[n++] = c[i];
        if (n < c.size()) {
            c.truncate(n);
            c.mark_reordered();  // ids no longer match positions
        }
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
        std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) {
            return a.key < b.key || (a.key == b.key && by_logit_desc(a.c, b.c));
        });
        double cum = 0.0;
        std::size_t keep = s.size();
        for (std::size_t i = 0; i < s.size(); ++i) {
            cum += s[i].c.p;
            if (cum > p && i + 1 >= min_keep) {
                keep = i + 1;
                break;
            }
        }
        c.assign_from_scratch(keep);
    }
};

}  // namespace sampling
LLMT_END_NAMESPACE
