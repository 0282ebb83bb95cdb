// candidates: the one candidate array (id, logit, p) every sampler of a chain works on
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/token.hpp>
#include <llmt/sampling/rng.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// One vocabulary entry still in the running.
struct candidate {
    token_id id;
    float logit;
    float p;  // probability, valid only right after softmax()
};

/// The total order samplers sort by: higher logit first, ties broken by the lower id, so the
/// order (and hence every draw) is the same with any standard library.
inline constexpr auto by_logit_desc = [](const candidate& a, const candidate& b) noexcept {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
};

/// The candidates of one sampling step. Storage grows to the vocabulary size on the first
/// fill() and is reused afterwards: a chain allocates nothing per token.
///
/// Flags shared between samplers: `sorted()` (descending by logit, so a second sort is
/// skipped) and `identity()` (entry i is token i and none was removed, so a token is found
/// by index). `selected` is set by the final sampler (greedy, dist, mirostat).
class candidate_array {
public:
    /// Loads one step's logits. Throws on an empty span, a NaN, or no finite logit.
    void fill(std::span<const float> logits) {
        LLMT_CHECK_CODE(!logits.empty(), errc::invalid_argument, "sampling: the logits are empty");
        LLMT_CHECK_CODE(logits.size() <= std::size_t(std::numeric_limits<token_id>::max()), errc::invalid_argument,
                        "sampling: {} logits exceed the token id range", logits.size());
        if (data_.size() < logits.size()) {
            data_.resize(logits.size());
            scratch_.resize(logits.size());
        }
        // Branch-free copy; NaN fails `l == l` and -inf fails `l > -inf`, so both show in the counts.
        std::size_t n_ordered = 0, n_finite_or_inf = 0;
        for (std::size_t i = 0; i < logits.size(); ++i) {
            const float l = logits[i];
            n_ordered += l == l;  // NOLINT: false only for NaN
            n_finite_or_inf += l > -std::numeric_limits<float>::infinity();
            data_[i] = {token_id(i), l, 0.0f};
        }
        if (LLMT_UNLIKELY(n_ordered != logits.size()))
            for (std::size_t i = 0; i < logits.size(); ++i)
                if (std::isnan(logits[i])) fail(errc::invalid_argument, "sampling: the logit of token {} is NaN", i);
        LLMT_CHECK_CODE(n_finite_or_inf > 0, errc::invalid_argument,
                        "sampling: all {} logits are -inf, no token can be sampled", logits.size());
        n_vocab_ = size_ = logits.size();
        sorted_ = false;
        identity_ = true;
        selected = -1;
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    /// Number of logits given to the last fill() (the vocabulary size).
    [[nodiscard]] std::size_t n_vocab() const noexcept { return n_vocab_; }
    [[nodiscard]] bool sorted() const noexcept { return sorted_; }
    [[nodiscard]] bool identity() const noexcept { return identity_; }

    candidate* begin() noexcept { return data_.data(); }
    candidate* end() noexcept { return data_.data() + size_; }
    const candidate* begin() const noexcept { return data_.data(); }
    const candidate* end() const noexcept { return data_.data() + size_; }
    candidate& operator[](std::size_t i) noexcept { return data_[i]; }
    const candidate& operator[](std::size_t i) const noexcept { return data_[i]; }
    [[nodiscard]] std::span<const candidate> view() const noexcept { return {data_.data(), size_}; }

    /// Keeps the first n entries (n is clamped to [1, size()]).
    void truncate(std::size_t n) noexcept {
        n = std::clamp<std::size_t>(n, 1, size_);
        if (n < size_) identity_ = false;
        size_ = n;
    }

    /// A sampler changed logits (the order may be broken) or reordered entries.
    void mark_unsorted() noexcept { sorted_ = false; }
    void mark_reordered() noexcept {
        sorted_ = false;
        identity_ = false;
    }

    /// Sorts all entries by by_logit_desc unless already sorted.
    void sort() {
        if (sorted_) return;
        std::sort(begin(), end(), by_logit_desc);
        sorted_ = true;
        identity_ = false;
    }

    /// Puts the k best entries, sorted, in front and keeps only them (nth_element + sort: O(n + k log k)).
    void keep_top(std::size_t k) {
        k = std::clamp<std::size_t>(k, 1, size_);
        if (sorted_) {
            truncate(k);
            return;
        }
        const auto kk = std::ptrdiff_t(k);
        if (k * 16 <= size_) {
            // Small k: a heap of the k best in place (worst on top); most entries cost one comparison.
            std::make_heap(begin(), begin() + kk, by_logit_desc);
            for (candidate* it = begin() + kk; it != end(); ++it) {
                if (!by_logit_desc(*it, data_[0])) continue;
                std::pop_heap(begin(), begin() + kk, by_logit_desc);
                data_[k - 1] = *it;
                std::push_heap(begin(), begin() + kk, by_logit_desc);
            }
            std::sort_heap(begin(), begin() + kk, by_logit_desc);
        } else {
            if (k < size_) std::nth_element(begin(), begin() + kk - 1, end(), by_logit_desc);
            std::sort(begin(), begin() + kk, by_logit_desc);
        }
        sorted_ = true;
        identity_ = false;
        size_ = k;
    }

    /// Sorts only the k best entries into the front (the rest stays, unordered). Samplers that
    /// need a sorted head of unknown length grow k geometrically instead of sorting everything.
    void sort_prefix(std::size_t k) {
        if (sorted_) return;
        k = std::clamp<std::size_t>(k, 1, size_);
        if (k == size_) {
            sort();
            return;
        }
        std::nth_element(begin(), begin() + std::ptrdiff_t(k) - 1, end(), by_logit_desc);
        std::sort(begin(), begin() + std::ptrdiff_t(k), by_logit_desc);
        identity_ = false;
    }

    /// Keeps the first n entries, which the caller has sorted (e.g. with sort_prefix(k >= n)).
    void keep_sorted_prefix(std::size_t n) noexcept {
        truncate(n);
        sorted_ = true;
    }

    /// Keeps, in order, the entries for which keep(c) holds; if none does, keeps the best one.
    template <typename Pred>
    void keep_if(Pred keep) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < size_; ++i)
            if (keep(data_[i])) data_[n++] = data_[i];
        if (n == size_) return;
        identity_ = false;
        if (n == 0) {
            std::swap(data_[0], data_[argmax()]);
            n = 1;
        }
        size_ = n;
    }

    /// Index of the entry with the highest logit (the lower id on ties).
    [[nodiscard]] std::size_t argmax() const noexcept {
        if (sorted_) return 0;
        std::size_t best = 0;
        for (std::size_t i = 1; i < size_; ++i)
            if (by_logit_desc(data_[i], data_[best])) best = i;
        return best;
    }

    /// Sets p = softmax(logit) over the current entries (sorting first if asked).
    /// Throws if every remaining logit is -inf (e.g. all tokens banned by a logit bias).
    void softmax(bool sort_first) {
        LLMT_CHECK_CODE(size_ > 0, errc::invalid_argument, "sampling: no candidate left");
        if (sort_first) sort();
        const float max = data_[argmax()].logit;
        constexpr float inf = std::numeric_limits<float>::infinity();
        LLMT_CHECK_CODE(max > -inf, errc::invalid_argument,
                        "sampling: every remaining candidate has a -inf logit, no token can be sampled");
        double sum = 0.0;
        if (LLMT_UNLIKELY(max == inf)) {  // a logit overflowed (tiny temperature): the +inf ones share the mass
            for (auto& c : *this) sum += (c.p = c.logit == inf ? 1.0f : 0.0f);
        } else {
            for (auto& c : *this) sum += (c.p = std::exp(c.logit - max));
        }
        const auto inv = static_cast<float>(1.0 / sum);
        for (auto& c : *this) c.p *= inv;
    }

    /// Draws an index with probability p (call softmax() first). The walk is in array order,
    /// which every sampler keeps deterministic, so a seed reproduces the same tokens.
    std::size_t draw(rng& g) const noexcept {
        double total = 0.0;
        for (const auto& c : *this) total += c.p;
        const double target = g.uniform() * total;
        double cum = 0.0;
        std::size_t last_positive = 0;
        for (std::size_t i = 0; i < size_; ++i) {
            if (data_[i].p <= 0.0f) continue;
            cum += data_[i].p;
            last_positive = i;
            if (target < cum) return i;
        }
        return last_positive;  // rounding left target == total
    }

    /// The chosen token, or -1 before a final sampler ran.
    std::ptrdiff_t selected = -1;

    /// Scratch entries for samplers that reorder through a key (typical): same size as the data.
    struct keyed {
        float key;
        candidate c;
    };
    std::span<keyed> scratch() noexcept { return {scratch_.data(), size_}; }

    /// Copies entries [0, n) of scratch back as the new candidates, in scratch order.
    void assign_from_scratch(std::size_t n) noexcept {
        n = std::clamp<std::size_t>(n, 1, size_);
        for (std::size_t i = 0; i < n; ++i) data_[i] = scratch_[i].c;
        size_ = n;
        mark_reordered();
    }

private:
    std::vector<candidate> data_;  // [n_vocab], the first size_ are live
    std::vector<keyed> scratch_;   // [n_vocab]
    std::size_t size_ = 0;
    std::size_t n_vocab_ = 0;
    bool sorted_ = false;
    bool identity_ = false;
};

}  // namespace sampling
LLMT_END_NAMESPACE
