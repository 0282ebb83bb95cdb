// bpe: byte-level BPE encoding (pre-tokenizer words, lowest-rank pair merges over bytes)
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/pre_tokenizer.hpp>
#include <llmt/tokenizer/unicode.hpp>
#include <llmt/tokenizer/vocab.hpp>
#include <llmt/tokenizer/word_cache.hpp>

#include <array>
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// Encodes text with a byte-level BPE vocab. Each pre-tokenizer word starts as one symbol per
/// byte (the GPT-2 byte characters); a priority queue keyed by merge rank (then position) merges
/// pairs through a linked list, O(n log n) per word. Holds scratch buffers: one per thread.
class bpe_encoder {
public:
    bpe_encoder(const vocab& v, pre_tokenizer pre) : v_(v), pre_(std::move(pre)) {
        for (int b = 0; b < 256; ++b) byte_chars_[std::size_t(b)] = utf8_encode(byte_to_unicode(std::uint8_t(b)));
    }

    void encode(std::string_view text, std::vector<token_id>& out) {
        pre_.split(text, clean_, ends_);
        std::size_t b = 0;
        for (std::size_t e : ends_) {
            const std::string_view word = std::string_view(clean_).substr(b, e - b);
            b = e;
            if (cache_.lookup(word, out)) continue;
            const std::size_t from = out.size();
            encode_word(word, out);
            cache_.store(word, out, from);
        }
    }

    /// The words of text after pre-tokenization (for tests and tools).
    std::vector<std::string> words(std::string_view text) {
        pre_.split(text, clean_, ends_);
        std::vector<std::string> w;
        std::size_t b = 0;
        for (std::size_t e : ends_) {
            w.emplace_back(clean_.substr(b, e - b));
            b = e;
        }
        return w;
    }

private:
    struct symbol {
        std::int32_t prev, next;  // neighbours, -1 at the ends
        std::uint32_t start, n;   // bytes of the word; n == 0 once merged away
        token_id id;              // token of these bytes, or null_token
    };
    struct pair {
        std::int32_t rank;
        std::int32_t left;
        token_id left_id, right_id, result;
    };
    struct later {  // the lowest rank first; on ties the leftmost pair
        bool operator()(const pair& a, const pair& b) const noexcept {
            return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
        }
    };

    void encode_word(std::string_view word, std::vector<token_id>& out) {
        if (word.empty()) return;
        if (v_.ignore_merges && word.size() <= std::size_t(v_.max_token_len)) {
            encoded_.clear();
            for (char c : word) encoded_ += byte_chars_[static_cast<std::uint8_t>(c)];
            const token_id id = v_.find(encoded_);
            if (id != null_token) {
                out.push_back(id);
                return;
            }
        }
        symbols_.clear();
        queue_ = {};
        const auto n = std::int32_t(word.size());
        for (std::int32_t i = 0; i < n; ++i)
            symbols_.push_back({i - 1, i + 1 == n ? -1 : i + 1, std::uint32_t(i), 1,
                                v_.byte_tokens[static_cast<std::uint8_t>(word[std::size_t(i)])]});
        for (std::int32_t i = 1; i < n; ++i) try_pair(i - 1, i);
        while (!queue_.empty()) {
            const pair p = queue_.top();
            queue_.pop();
            symbol& l = symbols_[std::size_t(p.left)];
            if (l.n == 0 || l.next < 0 || l.id != p.left_id) continue;
            symbol& r = symbols_[std::size_t(l.next)];
            if (r.n == 0 || r.id != p.right_id) continue;  // stale: a side was merged since
            l.n += r.n;
            l.id = p.result;
            r.n = 0;
            l.next = r.next;
            if (l.next >= 0) symbols_[std::size_t(l.next)].prev = p.left;
            try_pair(l.prev, p.left);
            try_pair(p.left, l.next);
        }
        for (std::int32_t i = 0; i != -1; i = symbols_[std::size_t(i)].next) {
            const symbol& s = symbols_[std::size_t(i)];
            if (s.id != null_token) {
                out.push_back(s.id);
                continue;
            }
            for (char c : word.substr(s.start, s.n)) {  // not a token: its bytes one by one
                const token_id t = v_.byte_tokens[static_cast<std::uint8_t>(c)];
                if (t != null_token) out.push_back(t);
            }
        }
    }

    void try_pair(std::int32_t left, std::int32_t right) {
        if (left < 0 || right < 0) return;
        const symbol& l = symbols_[std::size_t(left)];
        const symbol& r = symbols_[std::size_t(right)];
        const bpe_merge m = v_.merges.find(l.id, r.id);
        if (m.rank < 0) return;
        queue_.push({m.rank, left, l.id, r.id, m.result});
    }

    const vocab& v_;
    pre_tokenizer pre_;
    std::array<std::string, 256> byte_chars_;  // UTF-8 of each byte's GPT-2 character
    std::string clean_, encoded_;
    std::vector<std::size_t> ends_;
    std::vector<symbol> symbols_;  // [bytes of the word]
    std::priority_queue<pair, std::vector<pair>, later> queue_;
    word_cache cache_;
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
