// special_tokens: splits text into raw fragments and special tokens (longest special first, as llama.cpp)
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/vocab.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// A piece of the input: raw text [begin, end) to tokenize, or one special token.
struct fragment {
    std::size_t begin = 0, end = 0;
    token_id token = null_token;  // null_token: raw text
};

/// Finds special token texts in the input and cuts it around them.
///
/// Semantics follow llama.cpp: special tokens are tried longest first; each one cuts every raw
/// fragment at its leftmost non-overlapping occurrences; LSTRIP / RSTRIP tokens eat the
/// whitespace beside them. Control and unknown tokens are only matched when parse_special is
/// set; user-defined tokens always. Given literal ranges (sorted, disjoint), a control or
/// unknown token whose text overlaps one is not matched there: that text stays raw, as with
/// parse_special off, while the cuts everywhere else are the same as without ranges. A byte trie finds every occurrence in one pass
/// (O(n * longest special)), so a long input with many specials stays linear.
class special_splitter {
public:
    special_splitter() = default;
    special_splitter(const vocab& v, bool parse_special) {
        for (token_id id : v.special_tokens) {
            const std::uint32_t a = v.attr_of(id);
            if (!parse_special && (a & (attr::control | attr::unknown))) continue;
            if (v.text(id).empty()) continue;
            order_.push_back(id);
        }
        nodes_.push_back({});
        for (std::size_t rank = 0; rank < order_.size(); ++rank) {
            std::int32_t node = 0;
            for (char c : v.text(order_[rank])) node = child(node, static_cast<std::uint8_t>(c), true);
            if (nodes_[std::size_t(node)].rank < 0) nodes_[std::size_t(node)].rank = std::int32_t(rank);
        }
    }

    [[nodiscard]] bool empty() const noexcept { return order_.empty(); }

    std::vector<fragment> split(const vocab& v, std::string_view text,
                                std::span<const std::pair<std::size_t, std::size_t>> literal = {}) const {
        std::vector<fragment> out;
        if (text.empty()) return out;
        if (order_.empty()) {
            out.push_back({0, text.size(), null_token});
            return out;
        }
        // Every occurrence of every special, grouped by priority rank, positions ascending.
        std::vector<std::vector<std::size_t>> occ(order_.size());
        bool any = false;
        for (std::size_t p = 0; p < text.size(); ++p) {
            std::int32_t node = 0;
            for (std::size_t q = p; q < text.size(); ++q) {
                node = child(node, static_cast<std::uint8_t>(text[q]), false);
                if (node < 0) break;
                const std::int32_t r = nodes_[std::size_t(node)].rank;
                if (r >= 0) {
                    occ[std::size_t(r)].push_back(p);
                    any = true;
                }
            }
        }
        if (!any) {
            out.push_back({0, text.size(), null_token});
            return out;
        }

        std::map<std::size_t, std::size_t> raw{{0, text.size()}};  // begin -> end of raw fragments
        std::map<std::size_t, token_id> found;                       // position -> special token
        auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
        for (std::size_t rank = 0; rank < order_.size(); ++rank) {
            const token_id id = order_[rank];
            const std::size_t len = v.text(id).size();
            const std::uint32_t a = v.attr_of(id);
            const bool guarded = !literal.empty() && (a & (attr::control | attr::unknown));
            for (std::size_t p : occ[rank]) {
                if (guarded && overlaps(literal, p, p + len)) continue;
                auto it = raw.upper_bound(p);
                if (it == raw.begin()) continue;
                --it;
                const std::size_t b = it->first, e = it->second;
                if (p < b || p + len > e) continue;  // not inside one raw fragment (overlaps a cut)
                raw.erase(it);
                std::size_t le = p;
                if (a & attr::lstrip)
                    while (le > b && is_space(text[le - 1])) --le;
                if (le > b) raw.emplace(b, le);
                std::size_t rb = p + len;
                if (a & attr::rstrip)
                    while (rb < e && is_space(text[rb])) ++rb;
                if (rb < e) raw.emplace(rb, e);
                found.emplace(p, id);
            }
        }
        auto r = raw.begin();
        auto s = found.begin();
        while (r != raw.end() || s != found.end()) {
            if (s == found.end() || (r != raw.end() && r->first < s->first)) {
                out.push_back({r->first, r->second, null_token});
                ++r;
            } else {
                out.push_back({s->first, s->first + v.text(s->second).size(), s->second});
                ++s;
            }
        }
        return out;
    }

private:
    // Whether [b, e) shares a byte with one of the sorted, disjoint ranges.
    static bool overlaps(std::span<const std::pair<std::size_t, std::size_t>> r, std::size_t b, std::size_t e) {
        auto it = std::upper_bound(r.begin(), r.end(), b, [](std::size_t x, const auto& q) { return x < q.second; });
        return it != r.end() && it->first < e;
    }

    struct node {
        std::vector<std::pair<std::uint8_t, std::int32_t>> next;  // sorted by byte
        std::int32_t rank = -1;  // priority rank of the special ending here
    };

    std::int32_t child(std::int32_t n, std::uint8_t c, bool create) {
        auto& next = nodes_[std::size_t(n)].next;
        auto it = std::lower_bound(next.begin(), next.end(), c, [](const auto& x, std::uint8_t k) { return x.first < k; });
        if (it != next.end() && it->first == c) return it->second;
        if (!create) return -1;
        const auto id = std::int32_t(nodes_.size());
        next.insert(it, {c, id});
        nodes_.push_back({});
        return id;
    }
    std::int32_t child(std::int32_t n, std::uint8_t c, bool) const {
        const auto& next = nodes_[std::size_t(n)].next;
        auto it = std::lower_bound(next.begin(), next.end(), c, [](const auto& x, std::uint8_t k) { return x.first < k; });
        return (it != next.end() && it->first == c) ? it->second : -1;
    }

    std::vector<token_id> order_;  // candidate specials, longest first
    std::vector<node> nodes_;      // byte trie over their texts
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
