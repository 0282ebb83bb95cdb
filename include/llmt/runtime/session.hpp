// session: one conversation with a model: prompt ingestion in batches, decoding, stop conditions, streaming, timings
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/token.hpp>
#include <llmt/model/model_base.hpp>
#include <llmt/runtime/chat_template.hpp>
#include <llmt/runtime/text_stream.hpp>
#include <llmt/sampling/chain.hpp>
#include <llmt/tokenizer/tokenizer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace runtime {

/// Why a generation ended. Every one is a normal ending: the tokens and text so far are returned.
enum class stop_reason {
    max_tokens,         ///< generate_options::max_tokens tokens were sampled
    end_of_generation,  ///< the model sampled an end-of-generation token (EOS, EOT, ...)
    stop_string,        ///< the text reached one of generate_options::stop
    cancelled,          ///< generate_options::cancel was set
    context_full,       ///< the context has no position left for the last sampled token (on_context_full::error)
};

constexpr std::string_view name(stop_reason r) noexcept {
    switch (r) {
        case stop_reason::max_tokens: return "max_tokens";
        case stop_reason::end_of_generation: return "end_of_generation";
        case stop_reason::stop_string: return "stop_string";
        case stop_reason::cancelled: return "cancelled";
        case stop_reason::context_full: return "context_full";
    }
    return "?";
}

/// The ids of a rendered conversation, special tokens recognized only in the template's own text
/// (message text never turns into a control token). add_special: BOS / EOS as the vocab asks.
inline std::vector<token_id> encode_chat(const tokenizer::tokenizer& tok, const rendered_chat& chat, bool add_special = true) {
    return tok.encode(chat.text, add_special, true, chat.content);
}

/// Token counts and wall times of one generate() call.
struct timings {
    std::int64_t n_prompt = 0;  // tokens evaluated before the first sampled token
    double prompt_ms = 0;
    std::int64_t n_gen = 0;     // tokens sampled
    double gen_ms = 0;
    [[nodiscard]] double prompt_tps() const noexcept { return prompt_ms > 0 ? 1e3 * double(n_prompt) / prompt_ms : 0; }
    [[nodiscard]] double gen_tps() const noexcept { return gen_ms > 0 ? 1e3 * double(n_gen) / gen_ms : 0; }
};

/// What to do when the next sampled token would not fit the context.
enum class on_context_full {
    error,  ///< stop generating: stop_reason::context_full, the tokens so far returned
    shift,  ///< keep the first n_keep tokens, drop half of the rest, re-evaluate what is kept
};

/// Options of one generate() call.
///
/// The prompt: the sequence to evaluate is the session's (its evaluated tokens and the last
/// sampled one) followed by the new prompt tokens, or, for generate_from(), the given sequence,
/// whose tokens that continue the session's sequence count as the session's. If it does not fit
/// n_ctx, generate throws llmt::error(errc::invalid_argument, "the prompt needs N positions but
/// the context holds M ...") before anything is evaluated, sampled or reported to a callback, and
/// the session is unchanged. With on_context_full::shift the session's own tokens past the first
/// n_keep may be dropped to make room (at least the excess, at most half of them if that is
/// more, as a shift during generation does), so an old chat turn can go; the new prompt tokens
/// are never dropped: a new prompt longer than n_ctx - n_keep is the same error.
///
/// During generation a full context is a normal stop: with on_context_full::error generation ends
/// with stop_reason::context_full (the last sampled token, which has no position left, is in the
/// result); with on_context_full::shift the context is shifted and generation goes on.
struct generate_options {
    std::int64_t max_tokens = 128;   ///< tokens to sample; < 0: until end of generation or a full context
    std::vector<std::string> stop{};  ///< stop strings (not included in the output)
    bool add_special = true;         ///< BOS (as the vocab asks) when the session is empty
    bool parse_special = false;      ///< "<|im_end|>" in the prompt becomes that control token
    on_context_full context_full = on_context_full::error;
    std::int64_t n_keep = -1;        ///< tokens kept by a shift; -1: the BOS if there is one
    /// End-of-generation tokens get a logit of -inf (never sampled, as llama.cpp's --ignore-eos):
    /// generation goes on to max_tokens or a full context.
    bool ignore_eos = false;
    const std::atomic<bool>* cancel = nullptr;  ///< checked before every batch and every token
    /// Called with every sampled token as soon as it is sampled (before the next forward pass),
    /// the end-of-generation token included: the same ids, in the same order, as result.tokens.
    std::function<void(token_id)> on_token{};
    /// Called with the logits of every evaluated position (prompt included), for dumps and tests.
    std::function<void(std::int64_t pos, token_id input, std::span<const float> logits)> on_logits{};
};

struct generation_result {
    std::vector<token_id> tokens;  // sampled tokens (an end-of-generation token included, and the
                                   // last one of a stop_reason::context_full, which has no position)
    std::string text;              // their text, cut before a stop string
    stop_reason reason = stop_reason::max_tokens;
    timings time;
};

/// A conversation with a model: owns the token sequence held by the model's KV cache and the
/// sampler state. generate() continues the sequence; generate_from() replaces it, reusing the
/// longest cached prefix (what a chat front-end wants after re-rendering its template).
class session {
public:
    /// The tokenizer is read from the model's file.
    session(model_base& m, sampling::chain chain = sampling::chain{}, std::uint64_t seed = 0)
        : session(m, tokenizer::tokenizer::from_gguf(m.gguf()), std::move(chain), seed) {}
    session(model_base& m, tokenizer::tokenizer tok, sampling::chain chain, std::uint64_t seed)
        : model_(&m), ctx_(m.make_context()), tok_(std::move(tok)), chain_(std::move(chain)) {
        seq_ = ctx_->create();
        chain_.set_seed(seed);
        logits_.assign(std::size_t(m.n_vocab()), 0.0f);
    }

    /// Continues the conversation with text, then samples. on_piece receives the generated text in
    /// pieces that never split a UTF-8 character nor show part of a stop string.
    generation_result generate(std::string_view prompt, const generate_options& opt = {},
                               const std::function<void(std::string_view)>& on_piece = {}) {
        const bool at_start = tokens_.empty() && !pending_;
        const auto ids = tok_.encode(prompt, opt.add_special && at_start, opt.parse_special);
        return generate(std::span<const token_id>(ids), opt, on_piece);
    }
    /// Continues the conversation with tokens, then samples.
    generation_result generate(std::span<const token_id> prompt, const generate_options& opt = {},
                               const std::function<void(std::string_view)>& on_piece = {}) {
        std::vector<token_id> target = tokens_;
        if (pending_) target.push_back(*pending_);
        target.insert(target.end(), prompt.begin(), prompt.end());
        return run(std::move(target), opt, on_piece);
    }
    /// Makes the sequence `sequence` (reusing the cached common prefix), then samples.
    generation_result generate_from(std::span<const token_id> sequence, const generate_options& opt = {},
                                    const std::function<void(std::string_view)>& on_piece = {}) {
        return run(std::vector<token_id>(sequence.begin(), sequence.end()), opt, on_piece);
    }

    /// Renders the conversation with the assistant's prefix, tokenizes it with special tokens
    /// taken only from the template (encode_chat; opt.add_special adds the BOS, opt.parse_special
    /// is not used), and generates from that sequence, reusing the cached prefix (generate_from).
    generation_result generate_chat(const chat_template& format, std::span<const chat_message> chat,
                                    const generate_options& opt = {},
                                    const std::function<void(std::string_view)>& on_piece = {}) {
        const auto ids = encode_chat(tok_, format.render(chat, true), opt.add_special);
        return generate_from(std::span<const token_id>(ids), opt, on_piece);
    }

    /// Evaluates the last sampled token if it is not yet (opt.on_logits sees its logits).
    void evaluate_pending(const generate_options& opt = {}) {
        if (pending_) decode_pending(opt);
    }

    /// Forgets the conversation; the sampler restarts (penalty window, mirostat state, seeded stream).
    void reset() {
        tokens_.clear();
        pending_.reset();
        ctx_->truncate(seq_, 0);
        chain_.reset();
    }

    [[nodiscard]] model_base& model() noexcept { return *model_; }
    /// The context holding this conversation's KV blocks (its own, on the model's shared weights).
    [[nodiscard]] context_base& context() noexcept { return *ctx_; }
    /// Positions of the conversation whose keys and values are cached.
    [[nodiscard]] std::int64_t n_cached() const { return ctx_->size(seq_); }
    [[nodiscard]] const tokenizer::tokenizer& get_tokenizer() const noexcept { return tok_; }
    [[nodiscard]] sampling::chain& sampler() noexcept { return chain_; }
    /// The conversation so far (evaluated tokens, then the last sampled one if not yet evaluated).
    [[nodiscard]] std::vector<token_id> sequence() const {
        std::vector<token_id> s = tokens_;
        if (pending_) s.push_back(*pending_);
        return s;
    }
    /// Logits of the last evaluated position ([n_vocab]).
    [[nodiscard]] std::span<const float> last_logits() const noexcept { return logits_; }

private:
    using clock = std::chrono::steady_clock;
    static double ms_since(clock::time_point t) {
        return std::chrono::duration<double, std::milli>(clock::now() - t).count();
    }
    static bool cancelled(const generate_options& o) { return o.cancel && o.cancel->load(std::memory_order_relaxed); }

    generation_result run(std::vector<token_id> target, const generate_options& opt,
                          const std::function<void(std::string_view)>& on_piece) {
        LLMT_CHECK_CODE(!target.empty(), errc::invalid_argument, "generate: empty prompt and empty session");
        generation_result res;
        fit_prompt(target, opt);
        const auto t_prompt = clock::now();
        if (!evaluate(target, opt, res)) {
            res.reason = stop_reason::cancelled;
            return res;
        }
        res.time.prompt_ms = ms_since(t_prompt);

        const auto t_gen = clock::now();
        text_stream stream(opt.stop);
        auto emit = [&](std::string_view s) {
            if (!s.empty() && on_piece) on_piece(s);
        };
        for (std::int64_t n = 0;; ++n) {
            if (opt.max_tokens >= 0 && n >= opt.max_tokens) {
                res.reason = stop_reason::max_tokens;
                break;
            }
            if (cancelled(opt)) {
                res.reason = stop_reason::cancelled;
                break;
            }
            const token_id t = opt.ignore_eos ? sample_without_eog() : chain_.sample(logits_);
            chain_.accept(t);
            res.tokens.push_back(t);
            ++res.time.n_gen;
            pending_ = t;
            if (opt.on_token) opt.on_token(t);
            if (tok_.is_eog(t)) {
                res.reason = stop_reason::end_of_generation;
                break;
            }
            const std::size_t before = stream.text().size();
            emit(stream.push(tok_.token_to_piece_view(t, false)));
            if (const std::size_t at = stream.find_stop(before); at != std::string::npos) {
                emit(stream.finish(at));
                res.reason = stop_reason::stop_string;
                break;
            }
            if (opt.max_tokens >= 0 && n + 1 >= opt.max_tokens) {  // the last token need not be evaluated
                res.reason = stop_reason::max_tokens;
                break;
            }
            if (opt.context_full == on_context_full::error && std::int64_t(tokens_.size()) >= ctx_->n_ctx()) {
                res.reason = stop_reason::context_full;
                break;
            }
            if (!decode_pending(opt)) {
                res.reason = stop_reason::cancelled;
                break;
            }
        }
        emit(stream.finish());
        res.text = stream.text();
        res.time.gen_ms = ms_since(t_gen);
        return res;
    }

    // Evaluates the pending sampled token (appends it to the sequence).
    bool decode_pending(const generate_options& opt) {
        const token_id t = *pending_;
        make_room(1, opt);
        const auto pos = std::int64_t(tokens_.size());
        ctx_->forward(seq_, std::span<const token_id>(&t, 1), pos, logits_, false);
        tokens_.push_back(t);
        pending_.reset();
        if (opt.on_logits) opt.on_logits(pos, t, logits_);
        return true;
    }

    // Makes `target` the evaluated sequence; logits_ holds the last position's logits.
    bool evaluate(std::vector<token_id>& target, const generate_options& opt, generation_result& res) {
        // Reuse the longest common prefix of what the model holds; always evaluate at least one token.
        std::size_t common = 0;
        const std::size_t held = std::min<std::size_t>(tokens_.size(), std::size_t(ctx_->size(seq_)));
        while (common < held && common < target.size() && tokens_[common] == target[common]) ++common;
        if (common == target.size()) --common;
        pending_.reset();
        tokens_.resize(common);
        const auto n_batch = std::size_t(ctx_->n_batch());
        std::vector<float> all;  // only when every position's logits are wanted
        for (std::size_t i = common; i < target.size();) {
            if (cancelled(opt)) return false;
            const std::size_t m = std::min(n_batch, target.size() - i);
            const std::span<const token_id> chunk(target.data() + i, m);
            if (opt.on_logits) {
                all.resize(m * logits_.size());
                ctx_->forward(seq_, chunk, std::int64_t(i), all, true);
                for (std::size_t k = 0; k < m; ++k)
                    opt.on_logits(std::int64_t(i + k), chunk[k], std::span<const float>(all).subspan(k * logits_.size(), logits_.size()));
                std::copy(all.end() - std::ptrdiff_t(logits_.size()), all.end(), logits_.begin());
            } else {
                ctx_->forward(seq_, chunk, std::int64_t(i), logits_, false);
            }
            tokens_.insert(tokens_.end(), chunk.begin(), chunk.end());
            i += m;
        }
        res.time.n_prompt = std::int64_t(target.size() - common);
        return true;
    }

    // How many leading tokens of `target` the session holds already (evaluated, or the pending one).
    std::size_t agreement(std::span<const token_id> target) const {
        std::size_t agree = 0;
        while (agree < tokens_.size() && agree < target.size() && tokens_[agree] == target[agree]) ++agree;
        if (agree == tokens_.size() && pending_ && agree < target.size() && target[agree] == *pending_) ++agree;
        return agree;
    }

    // Checks that `target` fits the context (shifting out old tokens where allowed) and feeds the
    // new tokens to the penalties. Throws before any state changes.
    void fit_prompt(std::vector<token_id>& target, const generate_options& opt) {
        const auto n_ctx = std::size_t(ctx_->n_ctx());
        const std::size_t agree = agreement(target);
        if (target.size() > n_ctx) {
            const std::size_t keep = std::size_t(keep_count(target, opt));
            const std::size_t droppable = opt.context_full == on_context_full::shift && agree > keep ? agree - keep : 0;
            const std::size_t excess = target.size() - n_ctx;
            if (excess > droppable) {
                const std::size_t fresh = target.size() - agree;
                if (opt.context_full == on_context_full::shift)
                    fail(errc::invalid_argument,
                         "the prompt needs {} positions but the context holds {}: a context shift keeps the first {} "
                         "tokens and drops only tokens evaluated before, and the {} new tokens do not fit beside them; "
                         "use a larger context or a shorter prompt",
                         target.size() - droppable, n_ctx, keep, fresh);
                if (agree > 0)
                    fail(errc::invalid_argument,
                         "the prompt needs {} positions but the context holds {} ({} for the conversation so far, {} new tokens); "
                         "use a larger context, a shorter prompt or a context shift",
                         target.size(), n_ctx, agree, fresh);
                fail(errc::invalid_argument,
                     "the prompt needs {} positions but the context holds {}; use a larger context or a shorter prompt",
                     target.size(), n_ctx);
            }
            const std::size_t discard = std::min(droppable, std::max(excess, droppable / 2));
            target.erase(target.begin() + std::ptrdiff_t(keep), target.begin() + std::ptrdiff_t(keep + discard));
            // The penalties see only the new tokens, the dropped ones were accepted when they came.
            for (std::size_t i = agree - discard; i < target.size(); ++i) chain_.accept(target[i]);
            return;
        }
        // The penalties see the sequence: what extends the accepted tokens (tokens_, then pending_) is
        // accepted; after a divergence the tokens past the common prefix are (the window is approximate
        // there, the generator keeps its stream).
        for (std::size_t i = agree; i < target.size(); ++i) chain_.accept(target[i]);
    }

    // Samples with every end-of-generation token at -inf (generate_options::ignore_eos).
    token_id sample_without_eog() {
        const auto& eog = tok_.get_vocab().eog_tokens;
        saved_.clear();
        for (token_id id : eog)
            if (id >= 0 && std::size_t(id) < logits_.size()) {
                saved_.emplace_back(id, logits_[std::size_t(id)]);
                logits_[std::size_t(id)] = -std::numeric_limits<float>::infinity();
            }
        struct restore {
            session* s;
            ~restore() {
                for (const auto& [id, l] : s->saved_) s->logits_[std::size_t(id)] = l;
            }
        } r{this};
        return chain_.sample(logits_);
    }

    std::int64_t keep_count(std::span<const token_id> seq, const generate_options& opt) const {
        if (opt.n_keep >= 0) return std::min<std::int64_t>(opt.n_keep, std::int64_t(seq.size()));
        return !seq.empty() && seq[0] == tok_.bos() ? 1 : 0;
    }

    // Before evaluating n more positions: shift the context or refuse.
    void make_room(std::int64_t n, const generate_options& opt) {
        const auto n_ctx = ctx_->n_ctx();
        if (std::int64_t(tokens_.size()) + n <= n_ctx) return;
        LLMT_CHECK_CODE(opt.context_full == on_context_full::shift, errc::runtime,
                        "context full: {} tokens fill the context of {} positions (use a larger context or a context shift)",
                        tokens_.size(), n_ctx);
        const auto keep = std::min(std::size_t(keep_count(tokens_, opt)), tokens_.size() - std::size_t(n));
        const std::size_t discard = std::max<std::size_t>((tokens_.size() - keep) / 2, std::size_t(n));
        std::vector<token_id> kept(tokens_.begin(), tokens_.begin() + std::ptrdiff_t(keep));
        kept.insert(kept.end(), tokens_.begin() + std::ptrdiff_t(keep + discard), tokens_.end());
        // Positions change, so the kept tokens are evaluated again from the first moved one.
        tokens_.resize(keep);
        const auto n_batch = std::size_t(ctx_->n_batch());
        for (std::size_t i = keep; i < kept.size(); i += n_batch) {
            const std::size_t m = std::min(n_batch, kept.size() - i);
            ctx_->forward(seq_, std::span<const token_id>(kept.data() + i, m), std::int64_t(i), logits_, false);
            tokens_.insert(tokens_.end(), kept.begin() + std::ptrdiff_t(i), kept.begin() + std::ptrdiff_t(i + m));
        }
    }

    model_base* model_;
    std::unique_ptr<context_base> ctx_;  // this conversation's sequence and KV blocks, on the shared weights
    seq_id seq_ = 0;
    tokenizer::tokenizer tok_;
    sampling::chain chain_;
    std::vector<token_id> tokens_;     // the evaluated sequence (positions 0..n-1 of the KV cache)
    std::optional<token_id> pending_;  // the last sampled token, not evaluated yet
    std::vector<float> logits_;        // [n_vocab] logits of the last evaluated position
    std::vector<std::pair<token_id, float>> saved_;  // logits of the EOG tokens while ignore_eos masks them
};

}  // namespace runtime

using runtime::generate_options;
using runtime::generation_result;
using runtime::session;
LLMT_END_NAMESPACE
