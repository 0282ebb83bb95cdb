// token_index: flat open-addressing tables for token text -> id and (left id, right id) -> BPE merge
#pragma once

#include <llmt/config.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

using token_id = std::int32_t;
inline constexpr token_id null_token = -1;

namespace detail {

/// A fast non-cryptographic hash of a short byte string (64-bit multiply-xorshift over 8-byte words).
inline std::uint64_t hash_bytes(std::string_view s) noexcept {
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
    std::uint64_t h = 0x2545F4914F6CDD1Dull ^ (s.size() * k);
    const char* p = s.data();
    std::size_t n = s.size();
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    h *= k;
    return h ^ (h >> 32);
}

inline std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    return x ^ (x >> 33);
}

}  // namespace detail

/// Token texts stored back to back, with an open-addressing index text -> id.
/// Copyable: the index holds ids, never pointers. A duplicate text maps to its last id.
class token_texts {
public:
    token_texts() = default;

    /// Builds from the texts in id order.
    template <typename Range>
    explicit token_texts(const Range& texts) {
        std::size_t total = 0, n = 0;
        for (const auto& t : texts) { total += std::string_view(t).size(); ++n; }
        blob_.reserve(total);
        offsets_.reserve(n + 1);
        offsets_.push_back(0);
        for (const auto& t : texts) {
            blob_.append(std::string_view(t));
            offsets_.push_back(blob_.size());
        }
        std::size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        slots_.assign(cap, null_token);
        mask_ = cap - 1;
        for (std::size_t id = 0; id < n; ++id) insert(static_cast<token_id>(id));
    }

    [[nodiscard]] std::size_t size() const noexcept { return offsets_.empty() ? 0 : offsets_.size() - 1; }

    [[nodiscard]] std::string_view text(token_id id) const noexcept {
        const auto b = offsets_[static_cast<std::size_t>(id)], e = offsets_[static_cast<std::size_t>(id) + 1];
        return {blob_.data() + b, e - b};
    }

    /// The id whose text is exactly s, or null_token.
    [[nodiscard]] token_id find(std::string_view s) const noexcept {
        if (slots_.empty()) return null_token;
        std::size_t i = detail::hash_bytes(s) & mask_;
        for (;;) {
            const token_id id = slots_[i];
            if (id == null_token) return null_token;
            if (text(id) == s) return id;
            i = (i + 1) & mask_;
        }
    }

private:
    void insert(token_id id) {
        const std::string_view s = text(id);
        std::size_t i = detail::hash_bytes(s) & mask_;
        for (;;) {
            token_id& slot = slots_[i];
            if (slot == null_token || text(slot) == s) {
                slot = id;
                return;
            }
            i = (i + 1) & mask_;
        }
    }

    std::string blob_;                   // all texts concatenated
    std::vector<std::size_t> offsets_;   // [n_tokens + 1] start of each text in blob_
    std::vector<token_id> slots_;        // [capacity] open addressing, null_token = empty
    std::size_t mask_ = 0;
};

/// One BPE merge: its rank (lower merges first) and the token the pair becomes.
struct bpe_merge {
    std::int32_t rank = -1;
    token_id result = null_token;
};

/// (left id, right id) -> merge, open addressing on a 64-bit key.
class merge_table {
public:
    merge_table() = default;
    explicit merge_table(std::size_t expected) {
        std::size_t cap = 16;
        while (cap < expected * 2) cap <<= 1;
        keys_.assign(cap, empty_key);
        values_.resize(cap);
        mask_ = cap - 1;
    }

    /// Inserts unless the pair is already present (the first, lowest-rank merge wins); true if inserted.
    bool insert(token_id left, token_id right, bpe_merge m) {
        const std::uint64_t key = pack(left, right);
        std::size_t i = detail::mix64(key) & mask_;
        while (keys_[i] != empty_key) {
            if (keys_[i] == key) return false;
            i = (i + 1) & mask_;
        }
        keys_[i] = key;
        values_[i] = m;
        ++size_;
        return true;
    }

    [[nodiscard]] bpe_merge find(token_id left, token_id right) const noexcept {
        if (keys_.empty() || left < 0 || right < 0) return {};
        const std::uint64_t key = pack(left, right);
        std::size_t i = detail::mix64(key) & mask_;
        for (;;) {
            const std::uint64_t k = keys_[i];
            if (k == key) return values_[i];
            if (k == empty_key) return {};
            i = (i + 1) & mask_;
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    static constexpr std::uint64_t empty_key = ~std::uint64_t{0};
    static std::uint64_t pack(token_id l, token_id r) noexcept {
        return (std::uint64_t(std::uint32_t(l)) << 32) | std::uint32_t(r);
    }

    std::vector<std::uint64_t> keys_;  // [capacity]
    std::vector<bpe_merge> values_;    // [capacity]
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
