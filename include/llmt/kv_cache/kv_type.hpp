// kv_type: the run-time names of the KV cache element types (load_options::kv_type, llama.cpp's -ctk / -ctv)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

LLMT_BEGIN_NAMESPACE

/// How the KV cache stores keys and values: the element types of kv_cache::contiguous<E> and
/// sliding_window<E> (llmt::f32, llmt::f16, llmt::q8_0), named as llama.cpp's --cache-type-k/-v.
enum class kv_type : std::uint8_t { f32, f16, q8_0 };

/// Every kv_type, in the order of the enum.
inline constexpr std::array<kv_type, 3> all_kv_types{kv_type::f32, kv_type::f16, kv_type::q8_0};

/// "f32", "f16" or "q8_0" (llama.cpp's names).
constexpr std::string_view to_string(kv_type t) noexcept {
    switch (t) {
        case kv_type::f32: return "f32";
        case kv_type::f16: return "f16";
        case kv_type::q8_0: return "q8_0";
    }
    return "unknown";
}

/// The kv_type named s: "f32", "f16" or "q8_0", in any case (llama.cpp's -ctk / -ctv values).
/// Anything else is an errc::invalid_argument error listing the accepted names.
inline kv_type parse_kv_type(std::string_view s) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    for (const kv_type t : all_kv_types) {
        const std::string_view n = to_string(t);
        bool same = n.size() == s.size();
        for (std::size_t i = 0; same && i < n.size(); ++i) same = lower(s[i]) == n[i];
        if (same) return t;
    }
    std::string shown;
    for (const char c : s.substr(0, 32)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    fail(errc::invalid_argument, "unknown KV cache type '{}'{}: llmt stores the KV cache as f32, f16 or q8_0", shown,
         s.size() > 32 ? "..." : "");
}

LLMT_END_NAMESPACE
