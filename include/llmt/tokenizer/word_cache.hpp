// word_cache: remembers the tokens of words already encoded during one encode call
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/token_index.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// Word -> token ids, bounded in entries and word length. Natural text repeats its words, so an
/// encoder looks a word up here before merging it. Not shared between threads.
class word_cache {
public:
    static constexpr std::size_t max_entries = 1u << 16;
    static constexpr std::size_t max_word_bytes = 64;

    /// Appends the cached ids of word to out and returns true, or returns false.
    bool lookup(std::string_view word, std::vector<token_id>& out) const {
        if (word.size() > max_word_bytes || map_.empty()) return false;
        auto it = map_.find(word);
        if (it == map_.end()) return false;
        out.insert(out.end(), ids_.begin() + it->second.first, ids_.begin() + it->second.first + it->second.second);
        return true;
    }

    /// Remembers ids [from, end) of out as the tokens of word.
    void store(std::string_view word, const std::vector<token_id>& out, std::size_t from) {
        if (word.size() > max_word_bytes || map_.size() >= max_entries) return;
        const auto at = std::uint32_t(ids_.size());
        ids_.insert(ids_.end(), out.begin() + std::ptrdiff_t(from), out.end());
        map_.emplace(std::string(word), std::pair<std::uint32_t, std::uint32_t>{at, std::uint32_t(out.size() - from)});
    }

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return detail::hash_bytes(s); }
    };
    std::unordered_map<std::string, std::pair<std::uint32_t, std::uint32_t>, hash, std::equal_to<>> map_;  // word -> ids_ range
    std::vector<token_id> ids_;
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
