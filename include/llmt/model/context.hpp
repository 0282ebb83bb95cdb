// context: the batched engine of a model<Spec>: sequences over a paged KV pool, one forward per batch of their tokens
#pragma once

#include <llmt/config.hpp>
#include <llmt/attention/attend.hpp>
#include <llmt/backend/cpu.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/limits.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kv_cache/paged.hpp>
#include <llmt/layers/norm.hpp>
#include <llmt/model/arch/blocks.hpp>
#include <llmt/model/context_base.hpp>
#include <llmt/model/hparams.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

LLMT_BEGIN_NAMESPACE

template <typename Spec>
class model;

/// Sequences of one model evaluated together. One decode() reads each weight matrix once for all
/// the tokens of the batch, whatever their sequences; attention runs per token over the blocks of its
/// own sequence. A token's logits depend only on its sequence's tokens: not on what else shares the
/// batch, how the prompt was split, whether its prefix came from the cache, nor the thread count
/// (every kernel computes a row the same way whatever the other rows: DESIGN.md §8).
template <typename Spec, typename Backend = backend::cpu>
class context final : public context_base {
public:
    using model_type = model<Spec>;
    using kv_element = typename model_type::kv_element;
    using feed_forward_type = typename model_type::feed_forward;
    using norm_type = typename model_type::norm;
    using arch_type = typename model_type::arch_type;
    using rope = typename model_type::rope;
    using pool_type = kv_cache::paged<kv_element>;

    /// A context on m (which must outlive it). Sizes are checked: llmt::error naming the option.
    context(const model_type& m, const context_options& opt = {}) : m_(&m) {
        const hparams& hp = m.hp_;
        n_ctx_ = opt.context > 0 ? opt.context : m.n_ctx_;
        LLMT_CHECK_CODE(opt.context >= 0 && n_ctx_ <= m.n_ctx_, errc::invalid_argument,
                        "context_options::context {} is outside 0..{} (the model was loaded with a context of {} positions)",
                        opt.context, m.n_ctx_, m.n_ctx_);
        n_batch_ = opt.batch > 0 ? std::min(opt.batch, n_ctx_) : std::min(m.n_batch_, n_ctx_);
        LLMT_CHECK_CODE(opt.batch >= 0 && opt.batch <= load_options::max_context, errc::invalid_argument,
                        "context_options::batch {} is outside 0..{} tokens", opt.batch, load_options::max_context);
        LLMT_CHECK_CODE(opt.threads >= 0 && opt.threads <= load_options::max_threads, errc::invalid_argument,
                        "context_options::threads {} is outside 0..{}", opt.threads, load_options::max_threads);
        const std::size_t block_bytes = pool_type::block_bytes(hp.n_layer, hp.n_head_kv, hp.head_dim);
        std::int64_t blocks = opt.kv_blocks;
        LLMT_CHECK_CODE(blocks >= 0, errc::invalid_argument, "context_options::kv_blocks {} is negative", blocks);
        if (blocks == 0 && opt.kv_bytes > 0) {
            blocks = std::int64_t(opt.kv_bytes / block_bytes);
            LLMT_CHECK_CODE(blocks > 0, errc::invalid_argument,
                            "context_options::kv_bytes {} is less than one KV block ({} bytes: {} positions of {} layers)",
                            opt.kv_bytes, block_bytes, pool_type::block_tokens, hp.n_layer);
        }
        if (blocks == 0) blocks = (n_ctx_ + pool_type::block_tokens - 1) / pool_type::block_tokens + 1;
        const auto total = checked_mul(block_bytes, std::size_t(blocks));
        const std::size_t phys = physical_memory_bytes();
        LLMT_CHECK_CODE(total && *total <= phys, errc::invalid_argument,
                        "context_options: a KV pool of {} blocks would take {}, more than the {} of physical memory", blocks,
                        total ? format_bytes(*total) : std::string("more bytes than can be counted"), format_bytes(phys));
        kv_ = pool_type(hp.n_layer, hp.n_head_kv, hp.head_dim, blocks);
        prefix_cache_ = opt.prefix_cache;

        if (opt.pool) pool_ = opt.pool;
        else pool_ = std::make_shared<thread_pool>(opt.threads > 0 ? opt.threads : m.threads_);

        const auto nb = std::size_t(n_batch_);
        const auto d = std::size_t(hp.n_embd);
        x_.assign(nb * d, 0.0f);
        xn_.assign(nb * d, 0.0f);
        q_.assign(nb * std::size_t(hp.q_dim()), 0.0f);
        k_.assign(nb * std::size_t(hp.kv_dim()), 0.0f);
        v_.assign(nb * std::size_t(hp.kv_dim()), 0.0f);
        att_.assign(nb * std::size_t(hp.q_dim()), 0.0f);
        gate_.assign(feed_forward_type::gated ? nb * std::size_t(hp.n_ff) : 0, 0.0f);
        up_.assign(nb * std::size_t(hp.n_ff), 0.0f);
        scores_.assign(size_product(errc::invalid_argument, "the attention scratch", pool_->size(), attention::scratch_floats(m.shape_)), 0.0f);
        mm_scratch_.assign(m.matmul_scratch(n_batch_), std::byte{0});
        views_.resize(nb);
        out_row_.reserve(nb);
    }

    [[nodiscard]] std::int64_t n_ctx() const noexcept override { return n_ctx_; }
    [[nodiscard]] std::int64_t n_batch() const noexcept override { return n_batch_; }
    [[nodiscard]] std::int64_t n_vocab() const noexcept override { return m_->hp_.n_vocab; }
    [[nodiscard]] int threads() const noexcept override { return pool_->size(); }
    [[nodiscard]] thread_pool& pool() noexcept { return *pool_; }
    [[nodiscard]] const std::shared_ptr<thread_pool>& shared_pool() const noexcept { return pool_; }
    [[nodiscard]] const pool_type& kv() const noexcept { return kv_; }
    [[nodiscard]] const model_type& get_model() const noexcept { return *m_; }
    void rebind(const model_type& m) noexcept { m_ = &m; }  // the model moved (model's move constructor)

    // Each sequence's tables are sized for n_ctx() positions when it is made: decoding allocates nothing.
    seq_id create() override {
        const seq_id s = kv_.create();
        reserve_or_remove(s);
        return s;
    }
    seq_id fork(seq_id parent) override {
        const seq_id s = kv_.fork(parent);
        reserve_or_remove(s);
        return s;
    }
    void truncate(seq_id s, std::int64_t n_pos) override { kv_.truncate(s, n_pos); }
    void remove(seq_id s) override { kv_.remove(s); }
    [[nodiscard]] bool contains(seq_id s) const noexcept override { return kv_.contains(s); }
    [[nodiscard]] std::int64_t size(seq_id s) const override { return kv_.size(s); }
    [[nodiscard]] std::span<const token_id> tokens(seq_id s) const override { return kv_.tokens(s); }
    std::int64_t match_prefix(seq_id s, std::span<const token_id> toks) override {
        return prefix_cache_ ? kv_.match_prefix(s, toks) : 0;
    }
    [[nodiscard]] std::int64_t blocks_needed(seq_id s, std::int64_t n) const override { return kv_.blocks_needed(s, n); }
    [[nodiscard]] std::int64_t blocks_available() const noexcept override { return kv_.blocks_available(); }
    [[nodiscard]] context_stats stats() const override {
        const auto p = kv_.stats();
        context_stats c;
        c.sequences = kv_.n_seq();
        c.blocks_total = p.blocks_total;
        c.blocks_used = p.blocks_used;
        c.blocks_cached = p.blocks_cached;
        c.blocks_free = p.blocks_free;
        c.block_tokens = pool_type::block_tokens;
        c.block_bytes = pool_type::block_bytes(m_->hp_.n_layer, m_->hp_.n_head_kv, m_->hp_.head_dim);
        c.prefix_lookups = p.prefix_lookups;
        c.prefix_hits = p.prefix_hits;
        c.prefix_tokens_reused = p.prefix_tokens_reused;
        c.evictions = p.evictions;
        return c;
    }

    void decode(const batch& b) override {
        check(b);
        reserve(b);  // every sequence's new positions get blocks, or nothing changes
        const auto n = std::int64_t(b.size());
        const auto nv = std::size_t(m_->hp_.n_vocab);
        std::size_t n_out = 0;
        out_row_.assign(b.size(), -1);
        for (std::size_t i = 0; i < b.size(); ++i)
            if (b.logits[i]) out_row_[i] = std::int64_t(n_out++);
        if (logits_.size() < n_out * nv) logits_.resize(n_out * nv);
        for (std::int64_t done = 0; done < n;) {
            const std::int64_t m = std::min(n_batch_, n - done);
            run_chunk(b, done, m);
            done += m;
        }
        if (prefix_cache_)
            for (const seq_id s : touched_) kv_.publish(s);
        // a sliding-window policy gives back the blocks no later token can see (contiguous keeps them: rewindable)
        if (model_type::kv_policy::ring && m_->shape_.window > 0)
            for (const seq_id s : touched_) kv_.release_before(s, attention::first_visible(kv_.size(s), m_->shape_.window));
    }

    [[nodiscard]] std::span<const float> logits(std::size_t i) const override {
        LLMT_CHECK_CODE(i < out_row_.size() && out_row_[i] >= 0, errc::invalid_argument,
                        "logits: token {} of the last batch did not ask for its logits (batch of {} tokens)", i, out_row_.size());
        const auto nv = std::size_t(m_->hp_.n_vocab);
        return std::span<const float>(logits_.data() + std::size_t(out_row_[i]) * nv, nv);
    }

private:
    friend arch_type;  // its block() calls the building blocks below

    void reserve_or_remove(seq_id s) {
        try {
            kv_.reserve(s, n_ctx_);
        } catch (...) {
            kv_.remove(s);
            throw;
        }
    }

    // Every check before anything changes.
    void check(const batch& b) {
        LLMT_CHECK_CODE(!b.empty(), errc::invalid_argument, "decode: the batch is empty");
        LLMT_CHECK_CODE(b.pos.size() == b.size() && b.seq.size() == b.size() && b.logits.size() == b.size(), errc::invalid_argument,
                        "decode: the batch's arrays differ in length (token {}, pos {}, seq {}, logits {})", b.size(),
                        b.pos.size(), b.seq.size(), b.logits.size());
        const std::int64_t nv = m_->hp_.n_vocab;
        touched_.clear();
        next_.clear();
        for (std::size_t i = 0; i < b.size(); ++i) {
            const seq_id s = b.seq[i];
            LLMT_CHECK_CODE(kv_.contains(s), errc::invalid_argument, "decode: token {} of the batch names sequence {}, which does not exist",
                            i, s);
            LLMT_CHECK_CODE(b.token[i] >= 0 && b.token[i] < nv, errc::invalid_argument,
                            "decode: token {} of the batch has id {}, outside the vocabulary of {}", i, b.token[i], nv);
            auto it = std::find(touched_.begin(), touched_.end(), s);
            if (it == touched_.end()) {
                touched_.push_back(s);
                next_.push_back(kv_.size(s));
                it = touched_.end() - 1;
            }
            std::int64_t& expect = next_[std::size_t(it - touched_.begin())];
            LLMT_CHECK_CODE(b.pos[i] == expect, errc::invalid_argument,
                            "decode: token {} of the batch is at position {} of sequence {}, but the sequence's next position is {} "
                            "(positions follow each other; truncate a sequence to rewrite it)",
                            i, b.pos[i], s, expect);
            LLMT_CHECK_CODE(expect < n_ctx_, errc::runtime,
                            "context full: sequence {} would hold more than the context of {} positions", s, n_ctx_);
            ++expect;
        }
    }

    // Blocks for the new positions of every sequence of the batch, all or none.
    void reserve(const batch& b) {
        std::vector<token_id>& toks = seq_tokens_;
        for (std::size_t k = 0; k < touched_.size(); ++k) {
            const seq_id s = touched_[k];
            toks.clear();
            for (std::size_t i = 0; i < b.size(); ++i)
                if (b.seq[i] == s) toks.push_back(b.token[i]);
            const std::int64_t old = kv_.size(s);
            if (!kv_.append(s, std::span<const token_id>(toks))) {
                for (std::size_t j = 0; j < k; ++j) {  // undo the sequences before
                    const seq_id r = touched_[j];
                    kv_.truncate(r, next_[j] - count_of(b, r));
                }
                fail(errc::runtime,
                     "kv cache full: sequence {} needs {} more blocks for {} tokens at position {}, the pool has {} free or "
                     "evictable of {} (context_options::kv_blocks / kv_bytes)",
                     s, kv_.blocks_needed(s, std::int64_t(toks.size())), toks.size(), old, kv_.blocks_available(),
                     kv_.stats().blocks_total);
            }
        }
    }
    static std::int64_t count_of(const batch& b, seq_id s) {
        return std::int64_t(std::count(b.seq.begin(), b.seq.end(), s));
    }

    static const float* or_null(const std::vector<float>& v) noexcept { return v.empty() ? nullptr : v.data(); }

    void apply(const detail::linear& l, const float* x, std::int64_t n, float* y) {
        Backend::matmul(*pool_, l.w, x, n, y, mm_scratch_.data());
        if (!l.b.empty()) Backend::add_bias(y, l.b.data(), l.w.rows, n);
    }
    void normalize(const std::vector<float>& w, const std::vector<float>& bias, const float* x, std::int64_t n, float* y) {
        Backend::template norm<norm_type>(y, x, w.data(), or_null(bias), m_->hp_.n_embd, n, m_->hp_.norm_eps);
    }

    // Tokens [at, at + n) of the batch, their blocks reserved.
    void run_chunk(const batch& b, std::int64_t at, std::int64_t n) {
        const model_type& M = *m_;
        const hparams& hp = M.hp_;
        const std::int64_t d = hp.n_embd;
        const token_id* tokens = b.token.data() + at;
        chunk_ = {n, b.pos.data() + at, b.seq.data() + at};
        for (std::int64_t t = 0; t < n; ++t) views_[std::size_t(t)] = kv_.view_of(chunk_.seq[t]);
        float* x = x_.data();
        float* xn = xn_.data();
        Backend::get_rows(M.tok_embd_, tokens, n, x);
        if (hp.embed_scale != 1.0f) Backend::scale(x, hp.embed_scale, n * d);
        for (std::int64_t l = 0; l < hp.n_layer; ++l) arch_type::block(*this, M.layers_[std::size_t(l)], l);
        // the rows whose logits are wanted, gathered, normalized and projected to the vocabulary
        std::int64_t rows = 0, first_out = -1;
        for (std::int64_t t = 0; t < n; ++t) {
            const std::int64_t r = out_row_[std::size_t(at + t)];
            if (r < 0) continue;
            if (first_out < 0) first_out = r;
            std::copy(x + t * d, x + (t + 1) * d, x + rows * d);  // rows ≤ t: moves down only
            ++rows;
        }
        if (rows == 0) return;
        normalize(M.output_norm_, M.output_norm_b_, x, rows, xn);
        float* out = logits_.data() + std::size_t(first_out) * std::size_t(hp.n_vocab);
        Backend::matmul(*pool_, M.output_, xn, rows, out, mm_scratch_.data());
        if (hp.logit_softcap > 0) Backend::softcap(out, hp.logit_softcap, rows * hp.n_vocab);
    }

    // ---- the building blocks an architecture's block is wired from (model/arch/*.hpp) ----
    // Each works on the chunk's n rows: x_ the residual stream, xn_ the block's working rows.

    /// xn = norm(x).
    void norm(const detail::norm_weights& w) { normalize(w.w, w.b, x_.data(), chunk_.n, xn_.data()); }
    /// xn = norm(xn) (a norm after a sub-block: Gemma's sandwich).
    void post_norm(const detail::norm_weights& w) { normalize(w.w, w.b, xn_.data(), chunk_.n, xn_.data()); }
    /// x += xn.
    void residual() { Backend::add(x_.data(), x_.data(), xn_.data(), chunk_.n * m_->hp_.n_embd); }

    /// xn = Wo · attention(Q, K, V of xn) for layer l: optional per-head QK-norm, RoPE with the
    /// layer's table, K and V written to the cache, attention within the layer's window.
    void attention(const detail::attention_weights& A, std::int64_t l) {
        const model_type& M = *m_;
        const hparams& hp = M.hp_;
        const std::int64_t n = chunk_.n, qd = hp.q_dim(), kvd = hp.kv_dim(), n_rot = hp.rope.n_rot;
        float* xn = xn_.data();
        apply(A.wq, xn, n, q_.data());
        apply(A.wk, xn, n, k_.data());
        apply(A.wv, xn, n, v_.data());
        if (!A.q_norm.empty()) Backend::template norm<layers::rms_norm>(q_.data(), q_.data(), A.q_norm.data(), nullptr, hp.head_dim, n * hp.n_head, hp.norm_eps);
        if (!A.k_norm.empty())
            Backend::template norm<layers::rms_norm>(k_.data(), k_.data(), A.k_norm.data(), nullptr, hp.head_dim, n * hp.n_head_kv, hp.norm_eps);
        const layer_hparams& lh = hp.layer[std::size_t(l)];
        const float* table = lh.local_rope ? M.rope_local_table_.data() : M.rope_table_.data();
        for (std::int64_t t = 0; t < n; ++t) {
            const float* cs = table + chunk_.pos[t] * n_rot;
            Backend::rope(q_.data() + t * qd, hp.n_head, hp.head_dim, n_rot, cs, rope::style);
            Backend::rope(k_.data() + t * kvd, hp.n_head_kv, hp.head_dim, n_rot, cs, rope::style);
            kv_.write(chunk_.seq[t], l, chunk_.pos[t], k_.data() + t * kvd, v_.data() + t * kvd);
        }
        attention::attention_shape shape = M.shape_;
        shape.window = lh.window;
        Backend::template attend<kv_element>(*pool_, views_.data(), chunk_.pos, l, shape, q_.data(), n, att_.data(), scores_.data(),
                                             attention::scratch_floats(M.shape_));
        apply(A.wo, att_.data(), n, xn);
    }

    /// xn = down(act(gate · xn) ⊙ up · xn) (gated kinds) or down(act(up · xn)).
    void feed_forward(const detail::ffn_weights& F) {
        const std::int64_t n = chunk_.n, n_ff = m_->hp_.n_ff;
        float* xn = xn_.data();
        float* act = up_.data();
        apply(F.up, xn, n, up_.data());
        if constexpr (feed_forward_type::gated) {
            apply(F.gate, xn, n, gate_.data());
            Backend::template activate<feed_forward_type>(gate_.data(), gate_.data(), up_.data(), n * n_ff);
            act = gate_.data();
        } else {
            Backend::template activate<feed_forward_type>(up_.data(), nullptr, up_.data(), n * n_ff);
        }
        apply(F.down, act, n, xn);
    }

    struct chunk_state {
        std::int64_t n = 0;                 // tokens of the chunk being run
        const std::int64_t* pos = nullptr;  // [n] their positions
        const seq_id* seq = nullptr;        // [n] their sequences
    };

    const model_type* m_;
    chunk_state chunk_;
    std::int64_t n_ctx_ = 0, n_batch_ = 0;
    bool prefix_cache_ = true;
    std::shared_ptr<thread_pool> pool_;
    pool_type kv_;

    // Scratch, sized when the context is made: a step allocates nothing but the logits of a larger batch.
    std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, up_, scores_, logits_;
    std::vector<std::byte> mm_scratch_;
    std::vector<typename pool_type::view> views_;  // [n_batch] the block table of each token's sequence
    std::vector<std::int64_t> out_row_;            // [batch size] row of logits_ per token, -1 = none
    std::vector<seq_id> touched_;                  // sequences of the batch, in order of appearance
    std::vector<std::int64_t> next_;               // their next position after the batch
    std::vector<token_id> seq_tokens_;
};

LLMT_END_NAMESPACE
