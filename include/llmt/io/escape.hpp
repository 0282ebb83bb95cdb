// escape: printable, bounded renderings of untrusted bytes (file strings) for messages and listings
#pragma once

#include <llmt/config.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace io {

/// Length of the valid UTF-8 sequence starting at s[0], or 0 if it is not one (overlong forms,
/// surrogates and code points past U+10FFFF are invalid).
constexpr std::size_t utf8_sequence_length(std::string_view s) noexcept {
    if (s.empty()) return 0;
    const auto b0 = static_cast<unsigned char>(s[0]);
    if (b0 < 0x80) return 1;
    std::size_t n;
    std::uint32_t cp;
    if (b0 >= 0xc2 && b0 <= 0xdf) { n = 2; cp = b0 & 0x1fu; }
    else if (b0 >= 0xe0 && b0 <= 0xef) { n = 3; cp = b0 & 0x0fu; }
    else if (b0 >= 0xf0 && b0 <= 0xf4) { n = 4; cp = b0 & 0x07u; }
    else return 0;
    if (s.size() < n) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[k]);
        if ((b & 0xc0u) != 0x80u) return 0;
        cp = (cp << 6) | (b & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    return n;
}

/// True when every byte of s belongs to a valid UTF-8 sequence.
constexpr bool is_valid_utf8(std::string_view s) noexcept {
    while (!s.empty()) {
        const std::size_t n = utf8_sequence_length(s);
        if (n == 0) return false;
        s.remove_prefix(n);
    }
    return true;
}

/// s made safe to print on one line: control characters and bytes that are not valid UTF-8
/// become escapes (\n, \t, \r, \\, \xNN), valid UTF-8 passes through. Past max_bytes of input
/// the rest is cut and "... (N bytes)" tells the full length.
inline std::string escape(std::string_view s, std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) {
    std::string out;
    const std::size_t total = s.size();
    const bool cut = total > max_bytes;
    if (cut) s = s.substr(0, max_bytes);
    out.reserve(s.size());
    constexpr char hex[] = "0123456789abcdef";
    while (!s.empty()) {
        const auto c = static_cast<unsigned char>(s[0]);
        std::size_t n = 1;
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else if ((n = utf8_sequence_length(s)) != 0) {
            // C1 control characters (U+0080..U+009F) are escaped too: terminals act on them
            if (n == 2 && c == 0xc2 && static_cast<unsigned char>(s[1]) < 0xa0) {
                out += "\\u00";
                out += hex[static_cast<unsigned char>(s[1]) >> 4];
                out += hex[static_cast<unsigned char>(s[1]) & 15];
            } else {
                out.append(s.data(), n);
            }
        } else {
            n = 1;
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
        s.remove_prefix(n);
    }
    if (cut) out += "... (" + std::to_string(total) + " bytes)";
    return out;
}

}  // namespace io
LLMT_END_NAMESPACE
