// spm: SentencePiece encoding (highest-score pair merges over UTF-8 characters, byte fallback)
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/unicode.hpp>
#include <llmt/tokenizer/vocab.hpp>
#include <llmt/tokenizer/word_cache.hpp>

#include <cstdint>
#include <queue>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// Encodes text that is already normalized (spaces escaped to U+2581, prefix added) with an SPM vocab.
/// Symbols are a doubly linked list over the characters; a priority queue holds candidate pairs by
/// the score of the token they would form, so the whole merge is O(n log n).
class spm_encoder {
public:
    explicit spm_encoder(const vocab& v) : v_(v) {}

    /// When no token holds "▁" after another character (vocab::spm_words), no merge can cross the
    /// start of a "▁" run, so the text is merged word by word (small queues, a word cache) with the
    /// same result as merging it whole.
    void encode(std::string_view text, std::vector<token_id>& out) {
        if (!v_.spm_words) return encode_word(text, out);
        constexpr std::string_view sp = "\xE2\x96\x81";
        std::size_t start = 0;
        bool prev_sp = false;
        for (std::size_t off = 0; off < text.size();) {
            const bool is_sp = text.compare(off, 3, sp) == 0;
            if (is_sp && !prev_sp && off > start) {
                encode_cached(text.substr(start, off - start), out);
                start = off;
            }
            prev_sp = is_sp;
            off += is_sp ? 3 : std::min(utf8_len(text[off]), text.size() - off);
        }
        if (start < text.size()) encode_cached(text.substr(start), out);
    }

private:
    void encode_cached(std::string_view word, std::vector<token_id>& out) {
        if (cache_.lookup(word, out)) return;
        const std::size_t from = out.size();
        encode_word(word, out);
        cache_.store(word, out, from);
    }

    void encode_word(std::string_view text, std::vector<token_id>& out) {
        text_ = text;
        symbols_.clear();
        queue_ = {};
        for (std::size_t off = 0; off < text.size();) {
            const std::size_t n = std::min(utf8_len(text[off]), text.size() - off);
            const auto i = std::int32_t(symbols_.size());
            symbols_.push_back({i - 1, off + n == text.size() ? -1 : i + 1, std::uint32_t(off), std::uint32_t(n)});
            off += n;
        }
        for (std::int32_t i = 1; i < std::int32_t(symbols_.size()); ++i) try_pair(i - 1, i);

        while (!queue_.empty()) {
            const pair p = queue_.top();
            queue_.pop();
            symbol& l = symbols_[std::size_t(p.left)];
            if (l.n == 0 || l.next < 0) continue;
            symbol& r = symbols_[std::size_t(l.next)];
            if (r.n == 0 || l.n + r.n != p.size) continue;  // stale: one side changed since it was queued
            l.n += r.n;
            r.n = 0;
            l.next = r.next;
            if (l.next >= 0) symbols_[std::size_t(l.next)].prev = p.left;
            try_pair(l.prev, p.left);
            try_pair(p.left, l.next);
        }

        for (std::int32_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[std::size_t(i)].next) {
            const symbol& s = symbols_[std::size_t(i)];
            const std::string_view piece = text_.substr(s.start, s.n);
            const token_id id = v_.find(piece);
            if (id != null_token) {
                out.push_back(id);
                continue;
            }
            for (char c : piece) {  // byte fallback
                const token_id b = v_.byte_tokens[static_cast<std::uint8_t>(c)];
                if (b != null_token) out.push_back(b);
                else if (v_.unk != null_token) out.push_back(v_.unk);
            }
        }
    }

    struct symbol {
        std::int32_t prev, next;  // neighbours in the list, -1 at the ends
        std::uint32_t start, n;   // bytes of text_; n == 0 once merged into the left neighbour
    };
    struct pair {
        float score;
        std::int32_t left;
        std::uint32_t size;  // bytes of left + right when queued
        // Highest score first; on ties the leftmost pair.
        bool operator<(const pair& o) const noexcept { return score < o.score || (score == o.score && left > o.left); }
    };

    void try_pair(std::int32_t left, std::int32_t right) {
        if (left < 0 || right < 0) return;
        const symbol& l = symbols_[std::size_t(left)];
        const symbol& r = symbols_[std::size_t(right)];
        if (l.n + r.n > std::uint32_t(v_.max_token_len)) return;
        const token_id id = v_.find(text_.substr(l.start, l.n + r.n));
        if (id == null_token) return;
        queue_.push({v_.scores[std::size_t(id)], left, l.n + r.n});
    }

    const vocab& v_;
    std::string_view text_;
    std::vector<symbol> symbols_;  // [n characters]
    std::priority_queue<pair> queue_;
    word_cache cache_;
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
