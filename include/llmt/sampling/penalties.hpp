// penalties: repetition / frequency / presence penalties over a window, and a fixed logit bias
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/token.hpp>
#include <llmt/sampling/candidates.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace sampling {

/// Penalizes the tokens among the last `last_n` accepted ones (llama.cpp semantics):
/// a token seen `n` times gets its logit divided by `repeat` if positive, multiplied by it
/// if not, then `n * freq + present` subtracted. last_n = 0 disables; last_n < 0 means the
/// whole history since reset().
class penalties {
public:
    penalties(int last_n = 64, float repeat = 1.0f, float freq = 0.0f, float present = 0.0f)  // NOLINT
        : last_n_(last_n), repeat_(repeat), freq_(freq), present_(present) {
        LLMT_CHECK_CODE(std::isfinite(repeat) && repeat > 0.0f, errc::invalid_argument,
                        "penalties: the repeat penalty must be finite and > 0, got {}", repeat);
        LLMT_CHECK_CODE(std::isfinite(freq) && std::isfinite(present), errc::invalid_argument,
                        "penalties: frequency ({}) and presence ({}) penalties must be finite", freq, present);
    }

    [[nodiscard]] int last_n() const noexcept { return last_n_; }
    [[nodiscard]] float repeat() const noexcept { return repeat_; }
    [[nodiscard]] float freq() const noexcept { return freq_; }
    [[nodiscard]] float present() const noexcept { return present_; }
    /// How many times `id` occurs in the current window.
    [[nodiscard]] int count(token_id id) const noexcept {
        const auto it = counts_.find(id);
        return it == counts_.end() ? 0 : it->second;
    }

    [[nodiscard]] bool enabled() const noexcept {
        return last_n_ != 0 && (repeat_ != 1.0f || freq_ != 0.0f || present_ != 0.0f);
    }

    void accept(token_id id) {
        LLMT_CHECK_CODE(id >= 0, errc::invalid_argument, "penalties: cannot accept the negative token id {}", id);
        if (last_n_ == 0) return;
        if (last_n_ > 0) {  // the ring grows as tokens come: a huge last_n allocates nothing up front
            if (filled_ == std::size_t(last_n_)) {
                const auto it = counts_.find(window_[head_]);  // evict the oldest
                if (--it->second == 0) counts_.erase(it);
                window_[head_] = id;
                head_ = (head_ + 1) % filled_;
            } else {
                window_.push_back(id);
                ++filled_;
            }
        }
        ++counts_[id];
        ++n_seen_;
    }

    void reset() noexcept {
        counts_.clear();
        window_.clear();
        head_ = filled_ = n_seen_ = 0;
    }

    void apply(candidate_array& c) {
        if (!enabled() || n_seen_ == 0) return;
        auto penalize = [&](candidate& x, int n) {
            x.logit = x.logit <= 0.0f ? x.logit * repeat_ : x.logit / repeat_;
            x.logit -= float(n) * freq_ + present_;
        };
        if (c.identity()) {  // entry i is token i: visit the window's tokens only
            for (const auto& [id, n] : counts_)
                if (std::size_t(id) < c.size()) penalize(c[std::size_t(id)], n);
        } else {
            for (auto& x : c)
                if (const int n = count(x.id)) penalize(x, n);
        }
        c.mark_unsorted();
    }

private:
    int last_n_;
    float repeat_, freq_, present_;
    std::vector<token_id> window_;  // [min(last_n, accepted)] ring of the last accepted tokens
    std::unordered_map<token_id, int> counts_;  // occurrences of each token in the window (only tokens seen)
    std::size_t head_ = 0, filled_ = 0, n_seen_ = 0;
};

/// Adds a fixed bias to chosen tokens' logits (-inf bans a token).
class logit_bias {
public:
    using entry = std::pair<token_id, float>;

    logit_bias(std::vector<entry> biases = {}) : biases_(std::move(biases)) {  // NOLINT
        for (const auto& [id, b] : biases_) {
            LLMT_CHECK_CODE(id >= 0, errc::invalid_argument, "logit_bias: negative token id {}", id);
            LLMT_CHECK_CODE(!std::isnan(b) && b != std::numeric_limits<float>::infinity(), errc::invalid_argument,
                            "logit_bias: the bias of token {} must be finite or -inf, got {}", id, b);
        }
    }

    [[nodiscard]] const std::vector<entry>& biases() const noexcept { return biases_; }

    void apply(candidate_array& c) const {
        if (biases_.empty()) return;
        for (const auto& [id, b] : biases_) {
            LLMT_CHECK_CODE(std::size_t(id) < c.n_vocab(), errc::invalid_argument,
                            "logit_bias: token {} is outside the vocabulary of {} tokens", id, c.n_vocab());
            if (c.identity()) {
                c[std::size_t(id)].logit += b;
                continue;
            }
            for (auto& x : c)
                if (x.id == id) {
                    x.logit += b;
                    break;
                }
        }
        c.mark_unsorted();
    }

private:
    std::vector<entry> biases_;
};

}  // namespace sampling
LLMT_END_NAMESPACE
