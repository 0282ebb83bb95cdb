// context_base: the engine's run-time face: sequences over a paged KV cache, batches of their tokens, logits
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/core/token.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

LLMT_BEGIN_NAMESPACE

/// A sequence of a context (a conversation, a request, one of n parallel samples).
using seq_id = std::int32_t;

/// The tokens one forward step evaluates (llama.cpp's llama_batch): per token its id, its position,
/// its sequence, and whether its logits are wanted. A sequence's tokens come in the order of their
/// positions, the first one at the sequence's current size (context::size): no gap, no overlap.
struct batch {
    std::vector<token_id> token;
    std::vector<std::int64_t> pos;
    std::vector<seq_id> seq;
    std::vector<std::uint8_t> logits;  // 1 = the logits of this token are wanted

    void add(token_id t, std::int64_t p, seq_id s, bool want_logits) {
        token.push_back(t);
        pos.push_back(p);
        seq.push_back(s);
        logits.push_back(want_logits ? 1 : 0);
    }
    void clear() noexcept {
        token.clear();
        pos.clear();
        seq.clear();
        logits.clear();
    }
    [[nodiscard]] std::size_t size() const noexcept { return token.size(); }
    [[nodiscard]] bool empty() const noexcept { return token.empty(); }
};

/// Sizes of a context, each checked when the context is made (0 = the model's load_options value).
struct context_options {
    std::int64_t context = 0;    ///< positions one sequence may hold at most (0 = the model's n_ctx; ≤ it)
    std::int64_t batch = 0;      ///< tokens per forward chunk (0 = the model's n_batch); a longer batch is split
    std::int64_t kv_blocks = 0;  ///< blocks of the KV pool (0 = from kv_bytes, else one full context plus one)
    std::size_t kv_bytes = 0;    ///< memory budget of the KV pool in bytes, when kv_blocks is 0
    /// Worker threads of a pool the context owns. 0 (and no pool) = the pool of the model's own context
    /// (load_options::threads threads), shared: contexts that run at the same time on different
    /// threads need pools of their own (a thread_pool runs one call at a time).
    int threads = 0;
    std::shared_ptr<thread_pool> pool{};  ///< a pool shared with other contexts (its size overrides threads)
    bool prefix_cache = true;    ///< publish full blocks so that later sequences can map them (match_prefix)
};

/// Occupancy of the KV pool and prefix reuse, for logs and metrics.
struct context_stats {
    std::int64_t sequences = 0;
    std::int64_t blocks_total = 0, blocks_used = 0, blocks_cached = 0, blocks_free = 0;
    std::int64_t block_tokens = 0;  ///< positions per block
    std::size_t block_bytes = 0;    ///< bytes per block
    std::int64_t prefix_lookups = 0, prefix_hits = 0, prefix_tokens_reused = 0, evictions = 0;
};

/// Many sequences on one read-only model: their KV blocks, the scratch of a step, a thread pool.
/// Not thread-safe: one thread drives a context (the scheduler's); contexts on one model may run on
/// different threads at once. The model must outlive its contexts and stay where it is.
class context_base {
public:
    virtual ~context_base() = default;

    [[nodiscard]] virtual std::int64_t n_ctx() const noexcept = 0;    ///< positions per sequence at most
    [[nodiscard]] virtual std::int64_t n_batch() const noexcept = 0;  ///< tokens per forward chunk
    [[nodiscard]] virtual std::int64_t n_vocab() const noexcept = 0;
    [[nodiscard]] virtual int threads() const noexcept = 0;

    /// A new, empty sequence.
    virtual seq_id create() = 0;
    /// A new sequence holding what parent holds, sharing its KV blocks (copied on write).
    virtual seq_id fork(seq_id parent) = 0;
    /// Keeps the first n_pos positions of s.
    virtual void truncate(seq_id s, std::int64_t n_pos) = 0;
    /// Drops s and gives its blocks back.
    virtual void remove(seq_id s) = 0;
    [[nodiscard]] virtual bool contains(seq_id s) const noexcept = 0;
    /// Positions s holds.
    [[nodiscard]] virtual std::int64_t size(seq_id s) const = 0;
    /// The token at each position s holds.
    [[nodiscard]] virtual std::span<const token_id> tokens(seq_id s) const = 0;

    /// Maps into the empty sequence s the longest run of cached blocks that starts tokens (their
    /// keys and values, computed by any sequence before, running or gone); returns the positions
    /// mapped, at most tokens.size() - 1, so that the last token is evaluated for its logits.
    virtual std::int64_t match_prefix(seq_id s, std::span<const token_id> tokens) = 0;
    /// Blocks appending n tokens to s would take from the pool, and blocks the pool can give (free or evictable).
    [[nodiscard]] virtual std::int64_t blocks_needed(seq_id s, std::int64_t n) const = 0;
    [[nodiscard]] virtual std::int64_t blocks_available() const noexcept = 0;
    [[nodiscard]] virtual context_stats stats() const = 0;

    /// Evaluates a batch. Every check is made before anything changes: an unknown sequence, a position
    /// that is not the next of its sequence, a token outside the vocabulary, a sequence beyond n_ctx()
    /// (errc::invalid_argument / errc::runtime), and too few free KV blocks (errc::runtime, "kv cache
    /// full") leave the context as it was. logits(i) then holds the logits of batch token i if wanted.
    virtual void decode(const batch& b) = 0;
    /// The logits of token i of the last decoded batch ([n_vocab]); i must have asked for them.
    [[nodiscard]] virtual std::span<const float> logits(std::size_t i) const = 0;

    /// One sequence the way model_base::forward runs it: drops the positions of s from pos0 on,
    /// evaluates tokens at pos0.., writes the logits of every token (all_logits) or of the last one.
    void forward(seq_id s, std::span<const token_id> toks, std::int64_t pos0, std::span<float> out, bool all_logits) {
        const auto n = std::int64_t(toks.size());
        LLMT_CHECK_CODE(n > 0, errc::invalid_argument, "forward: no tokens");
        LLMT_CHECK_CODE(pos0 >= 0 && pos0 <= size(s), errc::invalid_argument,
                        "forward: position {} leaves a gap after the {} cached positions", pos0, size(s));
        LLMT_CHECK_CODE(pos0 + n <= n_ctx(), errc::runtime,
                        "context full: {} tokens at position {} exceed the context of {} positions", n, pos0, n_ctx());
        const auto nv = std::size_t(n_vocab());
        LLMT_CHECK_CODE(out.size() >= std::size_t(all_logits ? n : 1) * nv, errc::invalid_argument,
                        "forward: the logits buffer holds {} values, {} needed", out.size(),
                        std::size_t(all_logits ? n : 1) * nv);
        for (const token_id t : toks)
            LLMT_CHECK_CODE(t >= 0 && t < n_vocab(), errc::invalid_argument, "forward: token id {} is outside the vocabulary of {}",
                            t, n_vocab());
        truncate(s, pos0);
        // chunks of n_batch() tokens, so that only the logits of a chunk are held at once
        for (std::int64_t done = 0; done < n;) {
            const std::int64_t m = std::min(n_batch(), n - done);
            step_.clear();
            for (std::int64_t i = 0; i < m; ++i)
                step_.add(toks[std::size_t(done + i)], pos0 + done + i, s, all_logits || done + i == n - 1);
            decode(step_);
            for (std::int64_t i = 0; i < m; ++i) {
                if (!step_.logits[std::size_t(i)]) continue;
                const auto l = logits(std::size_t(i));
                const std::size_t row = all_logits ? std::size_t(done + i) : 0;
                std::copy(l.begin(), l.end(), out.begin() + std::ptrdiff_t(row * nv));
            }
            done += m;
        }
    }

private:
    batch step_;
};

LLMT_END_NAMESPACE
