// rng: the sampling PRNG (xoshiro256** seeded by splitmix64) and its uniform draw
#pragma once

#include <llmt/config.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// The seed used when the caller gives none: fixed, so runs are reproducible by default.
inline constexpr std::uint64_t default_seed = 0x853c49e6748fea9bULL;

/// xoshiro256** (Blackman & Vigna): integer-only, so the same seed gives the same stream on
/// every platform and compiler (std::mt19937 is portable too, but std::*_distribution is not).
class rng {
public:
    explicit rng(std::uint64_t seed = default_seed) noexcept { reseed(seed); }

    /// Restarts the stream: the state words come from splitmix64(seed), never all zero.
    void reseed(std::uint64_t seed) noexcept {
        seed_ = seed;
        std::uint64_t x = seed;
        for (auto& w : s_) {
            x += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            w = z ^ (z >> 31);
        }
    }

    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

    /// Sets the raw state (for checking against the published xoshiro256** vectors).
    void set_state(const std::array<std::uint64_t, 4>& s) noexcept {
        for (std::size_t i = 0; i < 4; ++i) s_[i] = s[i];
    }

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform double in [0, 1) from the top 53 bits (exact: every value is k * 2^-53).
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

    std::uint64_t s_[4]{};
    std::uint64_t seed_ = default_seed;
};

}  // namespace sampling
LLMT_END_NAMESPACE
