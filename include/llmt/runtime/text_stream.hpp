// text_stream: the generated text, released to the caller in UTF-8-safe pieces that never show part of a stop string
#pragma once

#include <llmt/config.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace runtime {

/// Length of the longest prefix of s that does not end inside a UTF-8 character. Malformed bytes
/// count as complete characters (they are passed through, never held forever).
inline std::size_t utf8_complete_prefix(std::string_view s) noexcept {
    auto cont = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
    std::size_t i = s.size(), back = 0;
    while (i > 0 && back < 3 && cont(s[i - 1])) --i, ++back;
    if (i == 0) return s.size();
    const auto lead = static_cast<unsigned char>(s[i - 1]);
    std::size_t need = 1;
    if ((lead & 0xE0) == 0xC0) need = 2;
    else if ((lead & 0xF0) == 0xE0) need = 3;
    else if ((lead & 0xF8) == 0xF0) need = 4;
    return back + 1 < need ? i - 1 : s.size();
}

/// Accumulates decoded pieces. push() releases the text that is safe to show: complete UTF-8
/// characters, minus a tail that could be the start of a stop string.
class text_stream {
public:
    explicit text_stream(std::vector<std::string> stops = {}) : stops_(std::move(stops)) {
        std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
    }

    /// Appends a piece and returns the newly releasable text (valid until the next call).
    std::string_view push(std::string_view piece) {
        text_.append(piece);
        std::size_t safe = released_ + utf8_complete_prefix(std::string_view(text_).substr(released_));
        for (const auto& s : stops_) safe = std::min(safe, text_.find(s, released_));  // a complete stop string
        for (const auto& s : stops_)
            for (std::size_t k = std::min(s.size() - 1, text_.size() - released_); k > 0; --k)
                if (std::string_view(text_).substr(text_.size() - k) == std::string_view(s).substr(0, k)) {
                    safe = std::min(safe, text_.size() - k);
                    break;
                }
        return release(std::max(safe, released_));
    }

    /// Where the first stop string starts, if one is complete (searching the text added since `from`).
    [[nodiscard]] std::size_t find_stop(std::size_t from) const {
        std::size_t best = std::string::npos;
        for (const auto& s : stops_) {
            const std::size_t start = from > s.size() ? from - s.size() : 0;
            best = std::min(best, text_.find(s, start));
        }
        return best;
    }

    /// Releases everything up to end (npos: all) and cuts the text there.
    std::string_view finish(std::size_t end = std::string::npos) {
        end = std::min(end, text_.size());
        std::string_view out = end > released_ ? release(end) : std::string_view{};
        text_.resize(std::max(end, std::size_t(0)));
        return out;
    }

    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    [[nodiscard]] std::size_t released() const noexcept { return released_; }

private:
    std::string_view release(std::size_t end) {
        std::string_view out = std::string_view(text_).substr(released_, end - released_);
        released_ = end;
        return out;
    }

    std::vector<std::string> stops_;
    std::string text_;          // everything generated so far
    std::size_t released_ = 0;  // bytes of text_ given to the caller
};

}  // namespace runtime
LLMT_END_NAMESPACE
