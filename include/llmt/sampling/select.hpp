// select: the final samplers that pick the token (greedy argmax, seeded distribution)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/sampling/candidates.hpp>
#include <llmt/sampling/rng.hpp>

#include <cstdint>
#include <limits>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// Picks the highest logit (the lower id on ties).
struct greedy {
    void apply(candidate_array& c) const {
        LLMT_CHECK_CODE(!c.empty(), errc::invalid_argument, "greedy: no candidate left");
        const std::size_t best = c.argmax();
        LLMT_CHECK_CODE(c[best].logit > -std::numeric_limits<float>::infinity(), errc::invalid_argument,
                        "greedy: every remaining candidate has a -inf logit, no token can be sampled");
        c.selected = std::ptrdiff_t(best);
    }
};

/// Draws a token from softmax(logits) with its own seeded PRNG: the same seed and logits give
/// the same tokens on any platform. reset() restarts the stream from the seed.
class dist {
public:
    dist(std::uint64_t seed = default_seed) noexcept : rng_(seed) {}  // NOLINT: dist{42}

    void apply(candidate_array& c) {
        c.softmax(/*sort_first=*/false);
        c.selected = std::ptrdiff_t(c.draw(rng_));
    }
    void reset() noexcept { rng_.reseed(rng_.seed()); }
    void set_seed(std::uint64_t seed) noexcept { rng_.reseed(seed); }
    [[nodiscard]] std::uint64_t seed() const noexcept { return rng_.seed(); }

private:
    rng rng_;
};

}  // namespace sampling
LLMT_END_NAMESPACE
