// bpe: byte-level BPE encoding (pre-tokenizer words, lowest-rank pair merges over bytes)
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/pre_tokenizer.hpp>
#include <llmt/tokenizer/unicode.hpp>
#include <llmt/tokenizer/vocab.hpp>
#include <llmt/tokenizer/word_cache.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
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

    /// Words of at least this many bytes merge rank by rank instead of through the queue (only
    /// with a well-formed merge list, see vocab::merges_well_formed). Tests move it to compare.
    void set_sweep_threshold(std::size_t bytes) noexcept { sweep_threshold_ = bytes; }

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
        const auto n = std::int32_t(word.size());
        for (std::int32_t i = 0; i < n; ++i)
            symbols_.push_back({i - 1, i + 1 == n ? -1 : i + 1, std::uint32_t(i), 1,
                                v_.byte_tokens[static_cast<std::uint8_t>(word[std::size_t(i)])]});
        sweep_ = v_.merges_well_formed && word.size() >= sweep_threshold_;
        if (sweep_) merge_by_sweeps();
        else merge_by_queue();
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

    // Applies the merge p if both sides are still what they were when it was queued.
    void apply(const pair& p) {
        symbol& l = symbols_[std::size_t(p.left)];
        if (l.n == 0 || l.next < 0 || l.id != p.left_id) return;
        symbol& r = symbols_[std::size_t(l.next)];
        if (r.n == 0 || r.id != p.right_id) return;  // stale: a side was merged since
        l.n += r.n;
        l.id = p.result;
        r.n = 0;
        l.next = r.next;
        if (l.next >= 0) symbols_[std::size_t(l.next)].prev = p.left;
        try_pair(l.prev, p.left);
        try_pair(p.left, l.next);
    }

    // llama.cpp's order: the lowest (rank, left position) first, through a priority queue.
    void merge_by_queue() {
        queue_ = {};
        for (std::int32_t i = 1; i < std::int32_t(symbols_.size()); ++i) try_pair(i - 1, i);
        while (!queue_.empty()) {
            const pair p = queue_.top();
            queue_.pop();
            apply(p);
        }
    }

    // The same order for long words: when every merge's result only takes part in later merges,
    // the pairs a merge creates rank after it, so the queue would pop all pairs of the lowest rank
    // left to right before anything else. Pairs go to per-rank buckets; each bucket is sorted by
    // position once and swept. A run of one character then costs a few sweeps, not n heap pops.
    void merge_by_sweeps() {
        buckets_.clear();
        ranks_ = {};
        for (std::int32_t i = 1; i < std::int32_t(symbols_.size()); ++i) try_pair(i - 1, i);
        std::vector<pair> todo;
        while (!ranks_.empty()) {
            const std::int32_t rank = ranks_.top();
            ranks_.pop();
            auto it = buckets_.find(rank);
            if (it == buckets_.end() || it->second.empty()) continue;
            todo.swap(it->second);
            it->second.clear();
            std::sort(todo.begin(), todo.end(), [](const pair& a, const pair& b) { return a.left < b.left; });
            for (const pair& p : todo) apply(p);
            todo.clear();
        }
    }

    void try_pair(std::int32_t left, std::int32_t right) {
        if (left < 0 || right < 0) return;
        const symbol& l = symbols_[std::size_t(left)];
        const symbol& r = symbols_[std::size_t(right)];
        const bpe_merge m = v_.merges.find(l.id, r.id);
        if (m.rank < 0) return;
        const pair p{m.rank, left, l.id, r.id, m.result};
        if (!sweep_) {
            queue_.push(p);
            return;
        }
        auto& bucket = buckets_[m.rank];
        if (bucket.empty()) ranks_.push(m.rank);
        bucket.push_back(p);
    }

    const vocab& v_;
    pre_tokenizer pre_;
    std::array<std::string, 256> byte_chars_;  // UTF-8 of each byte's GPT-2 character
    std::string clean_, encoded_;
    std::vector<std::size_t> ends_;
    std::vector<symbol> symbols_;  // [bytes of the word]
    std::priority_queue<pair, std::vector<pair>, later> queue_;
    bool sweep_ = false;
    std::size_t sweep_threshold_ = 256;
    std::unordered_map<std::int32_t, std::vector<pair>> buckets_;  // rank -> pending pairs (sweep mode)
    std::priority_queue<std::int32_t, std::vector<std::int32_t>, std::greater<>> ranks_;  // ranks with pending pairs
    word_cache cache_;
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
