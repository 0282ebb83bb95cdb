// fuzz_input: reads a libFuzzer input front to back as small numbers, edge-case values and strings
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>

namespace llmt_fuzz {

/// A broken invariant of the code under test (not an input error): report and crash so libFuzzer keeps the input.
[[noreturn]] inline void finding(std::string_view target, std::string_view what) {
    std::fprintf(stderr, "%.*s: %.*s\n", int(target.size()), target.data(), int(what.size()), what.data());
    std::abort();
}

/// The input as a stream of values, consumed from the front (so hand-written seeds read naturally
/// and a mutation changes one value). Past the end every read gives 0 / empty.
class input {
public:
    explicit input(std::span<const std::uint8_t> d) noexcept : d_(d) {}

    [[nodiscard]] bool empty() const noexcept { return at_ >= d_.size(); }
    [[nodiscard]] std::size_t left() const noexcept { return d_.size() - at_; }

    std::uint8_t u8() noexcept { return at_ < d_.size() ? d_[at_++] : 0; }
    bool flag() noexcept { return u8() & 1; }
    template <typename T>
    T raw() noexcept {
        T v{};
        unsigned char b[sizeof(T)] = {};
        const std::size_t n = std::min(sizeof(T), left());
        if (n) std::memcpy(b, d_.data() + at_, n);
        at_ += n;
        std::memcpy(&v, b, sizeof(T));
        return v;
    }
    /// A value in [0, n) (n > 0), from one byte when n <= 256, else two.
    std::size_t below(std::size_t n) noexcept {
        if (n <= 1) return 0;
        if (n <= 256) return u8() % n;
        return raw<std::uint16_t>() % n;
    }
    /// A byte-length-prefixed string of at most 255 bytes (any bytes, invalid UTF-8 included).
    std::string str() {
        const std::size_t n = std::min<std::size_t>(u8(), left());
        std::string s(reinterpret_cast<const char*>(d_.data() + at_), n);
        at_ += n;
        return s;
    }
    /// Everything left.
    std::string_view rest() noexcept {
        const std::string_view s(reinterpret_cast<const char*>(d_.data() + at_), left());
        at_ = d_.size();
        return s;
    }

    /// An integer: mostly small, often a boundary (0, ±1, powers of two, type limits), sometimes raw.
    std::int64_t integer() noexcept {
        static constexpr std::int64_t edge[] = {
            0, 1, -1, 2, 3, 4, 7, 8, 16, 31, 32, 33, 63, 64, 100, 127, 128, 255, 256, 257, 511, 512, 4096, 32768, 65535, 65536,
            std::int64_t(1) << 22, INT32_MAX, std::int64_t(INT32_MAX) + 1, INT32_MIN, UINT32_MAX, std::int64_t(1) << 40,
            std::int64_t(1) << 62, (std::int64_t(1) << 61) + 1, INT64_MAX, INT64_MIN, -2, -64,
        };
        const std::uint8_t k = u8();
        if (k < 128) return k;  // small
        if (k < 128 + std::size(edge)) return edge[k - 128];
        return raw<std::int64_t>();
    }
    /// A float: often an edge (nan, ±inf, 0, -0, denormal, max, ±1), else from a small table or raw bits.
    float real() noexcept {
        static constexpr float edge[] = {
            0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 0.8f, 0.95f, 0.05f, 1.1f, 5.0f, 0.1f, 1e-5f, 100.0f, -100.0f, 1e30f, -1e30f,
            std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
            std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
            -std::numeric_limits<float>::max(), std::numeric_limits<float>::epsilon(), 1.0f + std::numeric_limits<float>::epsilon(),
            1.0f - std::numeric_limits<float>::epsilon(),
        };
        const std::uint8_t k = u8();
        if (k < std::size(edge)) return edge[k];
        if (k < 200) return float(int(k) - 128) / 16.0f;  // -6 .. 4.5 in steps of 1/16
        return raw<float>();
    }

private:
    std::span<const std::uint8_t> d_;
    std::size_t at_ = 0;
};

}  // namespace llmt_fuzz
