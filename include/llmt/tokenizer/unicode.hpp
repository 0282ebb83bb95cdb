// unicode: UTF-8 decoding (lenient, never throws), code point classes, lowercase, NFD, GPT-2 byte encoding
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/unicode_tables.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

inline constexpr std::uint32_t replacement_char = 0xFFFD;
inline constexpr std::uint32_t max_codepoint = 0x10FFFF;

/// Length of the UTF-8 sequence a lead byte announces (1 for continuation and invalid bytes),
/// read from the high nibble like SentencePiece does.
constexpr std::size_t utf8_len(char lead) noexcept {
    constexpr std::uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[static_cast<std::uint8_t>(lead) >> 4];
}

/// Decodes one code point at s[pos] and advances pos. An invalid or truncated sequence yields
/// U+FFFD and advances one byte. Like llama.cpp, the structure is checked (lead and continuation
/// bits) but not the value: overlong forms and surrogates decode to their arithmetic value.
constexpr std::uint32_t decode_utf8(std::string_view s, std::size_t& pos) noexcept {
    const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    const std::size_t n = s.size();
    const std::uint8_t c0 = b(pos);
    if (c0 < 0x80) { pos += 1; return c0; }
    auto cont = [&](std::size_t i) { return i < n && (b(i) & 0xC0) == 0x80; };
    if ((c0 & 0xE0) == 0xC0) {
        if (cont(pos + 1)) {
            const std::uint32_t c = (std::uint32_t(c0 & 0x1F) << 6) | (b(pos + 1) & 0x3F);
            pos += 2;
            return c;
        }
    } else if ((c0 & 0xF0) == 0xE0) {
        if (cont(pos + 1) && cont(pos + 2)) {
            const std::uint32_t c = (std::uint32_t(c0 & 0x0F) << 12) | (std::uint32_t(b(pos + 1) & 0x3F) << 6) | (b(pos + 2) & 0x3F);
            pos += 3;
            return c;
        }
    } else if ((c0 & 0xF8) == 0xF0) {
        if (cont(pos + 1) && cont(pos + 2) && cont(pos + 3)) {
            const std::uint32_t c = (std::uint32_t(c0 & 0x07) << 18) | (std::uint32_t(b(pos + 1) & 0x3F) << 12) |
                                    (std::uint32_t(b(pos + 2) & 0x3F) << 6) | (b(pos + 3) & 0x3F);
            pos += 4;
            return c;
        }
    }
    pos += 1;
    return replacement_char;
}

/// All code points of s (see decode_utf8 for invalid input).
inline std::vector<std::uint32_t> decode_utf8(std::string_view s) {
    std::vector<std::uint32_t> out;
    out.reserve(s.size());
    for (std::size_t pos = 0; pos < s.size();) out.push_back(decode_utf8(s, pos));
    return out;
}

/// Appends the UTF-8 encoding of cpt (a value above U+10FFFF is written as U+FFFD).
inline void append_utf8(std::string& out, std::uint32_t cpt) {
    if (cpt > max_codepoint) cpt = replacement_char;
    if (cpt < 0x80) {
        out.push_back(char(cpt));
    } else if (cpt < 0x800) {
        out.push_back(char(0xC0 | (cpt >> 6)));
        out.push_back(char(0x80 | (cpt & 0x3F)));
    } else if (cpt < 0x10000) {
        out.push_back(char(0xE0 | (cpt >> 12)));
        out.push_back(char(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cpt & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cpt >> 18)));
        out.push_back(char(0x80 | ((cpt >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cpt >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cpt & 0x3F)));
    }
}

inline std::string utf8_encode(std::uint32_t cpt) {
    std::string s;
    append_utf8(s, cpt);
    return s;
}

/// Number of bytes append_utf8 writes for cpt.
constexpr std::size_t utf8_size(std::uint32_t cpt) noexcept {
    if (cpt > max_codepoint) return 3;
    return cpt < 0x80 ? 1 : cpt < 0x800 ? 2 : cpt < 0x10000 ? 3 : 4;
}

/// General category class of a code point (the grouping of the \p{..} classes the tokenizers use).
enum class cpt_class : std::uint8_t { undefined = 0, number = 1, letter = 2, separator = 3, mark = 4, punctuation = 5, symbol = 6, control = 7 };

/// Class bits of one code point: the category class in bits 0-2, White_Space in bit 3.
struct cpt_flags {
    std::uint8_t bits = 0;
    static constexpr std::uint8_t whitespace_bit = 8;

    [[nodiscard]] constexpr cpt_class category() const noexcept { return cpt_class(bits & 7); }
    [[nodiscard]] constexpr bool is_whitespace() const noexcept { return bits & whitespace_bit; }
    [[nodiscard]] constexpr bool is_number() const noexcept { return category() == cpt_class::number; }
    [[nodiscard]] constexpr bool is_letter() const noexcept { return category() == cpt_class::letter; }
    [[nodiscard]] constexpr bool is_separator() const noexcept { return category() == cpt_class::separator; }
    [[nodiscard]] constexpr bool is_mark() const noexcept { return category() == cpt_class::mark; }
    [[nodiscard]] constexpr bool is_punctuation() const noexcept { return category() == cpt_class::punctuation; }
    [[nodiscard]] constexpr bool is_symbol() const noexcept { return category() == cpt_class::symbol; }
    [[nodiscard]] constexpr bool is_control() const noexcept { return category() == cpt_class::control; }
};

/// The class bits of cpt; values above U+10FFFF are undefined.
constexpr cpt_flags flags_of(std::uint32_t cpt) noexcept {
    if (cpt > max_codepoint) return {};
    const std::uint32_t block = tables::class_stage1[cpt / tables::block_size];
    return {std::uint8_t(tables::class_stage2[block * tables::block_size + cpt % tables::block_size] - tables::class_base)};
}

/// Simple lowercase mapping (UnicodeData field 13); cpt itself when there is none.
constexpr std::uint32_t to_lower(std::uint32_t cpt) noexcept {
    if (cpt < 0x80) return (cpt >= 'A' && cpt <= 'Z') ? cpt + 32 : cpt;
    const auto* b = std::begin(tables::lowercase);
    const auto* e = std::end(tables::lowercase);
    const auto* it = std::lower_bound(b, e, cpt, [](const tables::cpt_pair& p, std::uint32_t c) { return p.from < c; });
    return (it != e && it->from == cpt) ? it->to : cpt;
}

/// First code point of the canonical decomposition (NFD) of cpt; cpt itself when it does not decompose.
constexpr std::uint32_t nfd_first(std::uint32_t cpt) noexcept {
    if (cpt < 0xC0) return cpt;
    const auto* b = std::begin(tables::nfd_first);
    const auto* e = std::end(tables::nfd_first);
    const auto* it = std::upper_bound(b, e, cpt, [](std::uint32_t c, const tables::cpt_range& r) { return c < r.first; });
    if (it == b) return cpt;
    --it;
    return (cpt >= it->first && cpt <= it->last) ? it->to : cpt;
}

namespace detail {
struct byte_maps {
    std::array<std::uint16_t, 256> to_cpt{};    // byte -> code point
    std::array<std::int16_t, 324> from_cpt{};   // code point (< 324) -> byte, or -1
};
constexpr byte_maps make_byte_maps() {
    byte_maps m{};
    for (auto& x : m.from_cpt) x = -1;
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        const int c = printable ? b : 256 + extra++;
        m.to_cpt[std::size_t(b)] = std::uint16_t(c);
        m.from_cpt[std::size_t(c)] = std::int16_t(b);
    }
    return m;
}
inline constexpr byte_maps gpt2_bytes = make_byte_maps();
}  // namespace detail

/// GPT-2 byte-level encoding: printable Latin-1 bytes map to themselves, the others to U+0100...
constexpr std::uint32_t byte_to_unicode(std::uint8_t b) noexcept { return detail::gpt2_bytes.to_cpt[b]; }

/// Inverse of byte_to_unicode, or -1 for a code point no byte maps to.
constexpr int unicode_to_byte(std::uint32_t cpt) noexcept {
    return cpt < detail::gpt2_bytes.from_cpt.size() ? detail::gpt2_bytes.from_cpt[cpt] : -1;
}

}  // namespace tokenizer
LLMT_END_NAMESPACE
