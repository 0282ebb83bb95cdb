// temperature: divides logits by t (t < 1 sharpens, t > 1 flattens, t <= 0 keeps the argmax)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/sampling/candidates.hpp>

#include <cmath>
#include <utility>

LLMT_BEGIN_NAMESPACE
namespace sampling {

struct temperature {
    float t = 0.8f;

    temperature(float t_ = 0.8f) : t(t_) {  // NOLINT: temperature{0.7f} reads naturally
        LLMT_CHECK_CODE(std::isfinite(t), errc::invalid_argument, "temperature: must be finite, got {}", t);
    }

    void apply(candidate_array& c) const {
        if (t <= 0.0f) {  // as llama.cpp: only the most likely token survives
            const std::size_t best = c.argmax();
            std::swap(c[0], c[best]);
            c.truncate(1);
            return;
        }
        if (t == 1.0f) return;
        for (auto& x : c) x.logit /= t;  // a positive scale keeps the order: `sorted` stays valid
    }
};

}  // namespace sampling
LLMT_END_NAMESPACE
