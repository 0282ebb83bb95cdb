// limits: overflow-checked size arithmetic and the machine's physical memory, to refuse absurd sizes before allocating
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#if LLMT_HAS_MMAP
#include <unistd.h>
#endif

LLMT_BEGIN_NAMESPACE

/// a · b, or nullopt when a factor is negative or the product does not fit in T.
template <std::integral T>
[[nodiscard]] constexpr std::optional<T> checked_mul(T a, T b) noexcept {
    if constexpr (std::is_signed_v<T>)
        if (a < 0 || b < 0) return std::nullopt;
    if (a != 0 && b > std::numeric_limits<T>::max() / a) return std::nullopt;
    return T(a * b);
}

/// a + b, or nullopt when a term is negative or the sum does not fit in T.
template <std::integral T>
[[nodiscard]] constexpr std::optional<T> checked_add(T a, T b) noexcept {
    if constexpr (std::is_signed_v<T>)
        if (a < 0 || b < 0) return std::nullopt;
    if (b > std::numeric_limits<T>::max() - a) return std::nullopt;
    return T(a + b);
}

/// The product of non-negative sizes as std::size_t, or nullopt when a factor is negative or the
/// product overflows.
template <std::integral... Ts>
[[nodiscard]] constexpr std::optional<std::size_t> checked_size(Ts... factors) noexcept {
    std::optional<std::size_t> r = std::size_t(1);
    auto step = [&](auto f) {
        if (!r) return;
        if constexpr (std::is_signed_v<decltype(f)>)
            if (f < 0) {
                r.reset();
                return;
            }
        if (std::uint64_t(f) > std::numeric_limits<std::size_t>::max()) {
            r.reset();
            return;
        }
        r = checked_mul(*r, std::size_t(f));
    };
    (step(factors), ...);
    return r;
}

/// The product of sizes as std::size_t; throws llmt::error(code, "<what>: the size overflows") when it does not fit.
template <std::integral... Ts>
[[nodiscard]] std::size_t size_product(errc code, std::string_view what, Ts... factors) {
    const auto r = checked_size(factors...);
    if (!r) fail(code, "{}: the size overflows (a product of {} factors does not fit in {} bits)", what, sizeof...(Ts),
                 std::numeric_limits<std::size_t>::digits);
    return *r;
}

/// Bytes of physical memory of the machine (sysconf), or SIZE_MAX where the OS does not tell.
[[nodiscard]] inline std::size_t physical_memory_bytes() noexcept {
#if LLMT_HAS_MMAP && defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0)
        if (const auto b = checked_mul(std::size_t(pages), std::size_t(page))) return *b;
#endif
    return std::numeric_limits<std::size_t>::max();
}

/// A byte count for messages: "3.5 GiB", "512 KiB", "100 bytes".
[[nodiscard]] inline std::string format_bytes(std::size_t n) {
    constexpr const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) return fmt::format("{} bytes", n);
    double v = double(n);
    int u = 0;
    while (v >= 1024.0 && u < 6) v /= 1024.0, ++u;
    return fmt::format("{:.1f} {}", v, units[u]);
}

LLMT_END_NAMESPACE
