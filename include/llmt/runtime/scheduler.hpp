// scheduler: continuous batching of many requests over one context: chunked prefill, prefix sharing, forks, preemption
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/token.hpp>
#include <llmt/model/context_base.hpp>
#include <llmt/runtime/session.hpp>
#include <llmt/runtime/text_stream.hpp>
#include <llmt/sampling/chain.hpp>
#include <llmt/tokenizer/tokenizer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace runtime {

using request_id = std::int64_t;

/// The log-probability of a sampled token under the model's distribution (log-softmax of the
/// logits, before any sampling stage), and the most likely tokens at its position, best first.
struct token_logprob {
    token_id token = -1;
    float logprob = 0;
    std::vector<std::pair<token_id, float>> top{};  ///< (token, log-probability), request::top_logprobs of them
};

/// One request: a prompt, how to sample, when to stop. Its n samples share the prompt's evaluation:
/// the prompt is evaluated once, then its sequence is forked n - 1 times. Sample i samples with its
/// own copy of `sampler`, seeded with seed + i, so that its tokens do not depend on other requests.
struct request {
    std::vector<token_id> prompt;
    sampling::chain sampler{};
    std::uint64_t seed = 0;
    std::int64_t max_tokens = 128;     ///< tokens to sample per sample, ≥ 0
    std::vector<std::string> stop{};   ///< stop strings (not included in the text)
    bool ignore_eos = false;           ///< end-of-generation tokens are never sampled
    int n = 1;                         ///< parallel samples, ≥ 1
    /// Called on the scheduler's thread with every sampled token of sample `sample` and the text
    /// released with it (possibly empty: a UTF-8 character or a possible stop string is held back);
    /// when a sample ends, a last call with token -1 releases the text still held, if any.
    std::function<void(int sample, token_id token, std::string_view piece)> on_token{};
    const std::atomic<bool>* cancel = nullptr;  ///< set by the caller to cancel (checked every step)
    /// ≥ 0: every sampled token's log-probability and the top_logprobs most likely tokens (at most
    /// 64) go to sample_result::logprobs and to on_logprob, called just before on_token; -1: none.
    int top_logprobs = -1;
    std::function<void(int sample, const token_logprob&)> on_logprob{};
    /// Called on the scheduler's thread once the request is finished (result() then has it).
    std::function<void()> on_done{};
};

/// What one sample of a request produced.
struct sample_result {
    std::vector<token_id> tokens;  ///< sampled tokens (an end-of-generation token included)
    std::string text;              ///< their text, cut before a stop string
    stop_reason reason = stop_reason::max_tokens;
    double ttft_ms = 0;                ///< from submit() to the first sampled token
    std::vector<double> token_ms{};    ///< from submit() to each sampled token
    std::int64_t preemptions = 0;      ///< times this sample was preempted and recomputed
    std::vector<token_logprob> logprobs{};  ///< one per sampled token when request::top_logprobs ≥ 0
};

struct request_result {
    std::vector<sample_result> samples;
    std::int64_t cached_tokens = 0;  ///< prompt positions mapped from the prefix cache when first admitted
};

/// Sizes of the scheduler's steps.
struct scheduler_options {
    std::int64_t token_budget = 0;  ///< tokens per step, decode and prefill (0 = the context's n_batch)
};

/// Counters of a scheduler, for tests, logs and benchmarks.
struct scheduler_stats {
    std::int64_t steps = 0, submitted = 0, finished = 0, cancelled = 0, preemptions = 0, forks = 0;
    std::int64_t prefill_tokens = 0;        ///< prompt (and recomputed) tokens evaluated
    std::int64_t decode_tokens = 0;         ///< sampled tokens evaluated
    std::int64_t prefix_tokens_reused = 0;  ///< positions mapped from the prefix cache at admission
    std::int64_t waiting = 0, running = 0;  ///< after the last step
    std::int64_t max_batch = 0;             ///< most tokens in one step
    context_stats context{};                ///< the context's, after the last step
};

/// Continuous batching over one context. submit(), cancel(), result(), wait() and stats() may be
/// called from any thread; step(), run_until_idle() and the background thread (start()) drive the
/// context and must not run at the same time.
///
/// A step evaluates one batch: the next token of every running sample first, then chunks of prompts
/// (of running requests not yet through their prompt, shortest rest first, then of waiting requests
/// in order) within the token budget. While requests wait, a running prompt's chunk takes at most
/// half of the budget left, so no request waits behind a long prompt for more than one step. A waiting request is
/// admitted when the blocks its whole remaining prompt needs, after mapping the cached prefix of
/// its prompt (prefix sharing), are available. When the pool cannot hold the running samples' next
/// tokens, the newest sample is preempted: its sequence is removed and it waits at the front of the
/// queue to recompute its prompt and its tokens so far; its sampler goes on where it was, so its
/// output is the same.
class scheduler {
public:
    scheduler(context_base& ctx, tokenizer::tokenizer tok, scheduler_options opt = {})
        : ctx_(&ctx), tok_(std::move(tok)), budget_(opt.token_budget ? opt.token_budget : ctx.n_batch()) {
        LLMT_CHECK_CODE(opt.token_budget >= 0, errc::invalid_argument,
                        "scheduler_options::token_budget {} is negative", opt.token_budget);
        stats_.context = ctx.stats();
    }
    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;
    ~scheduler() { stop(); }

    /// Queues a request; throws llmt::error (errc::invalid_argument) on an empty prompt, a token
    /// outside the vocabulary, a prompt that does not fit the context, n < 1 or max_tokens < 0.
    request_id submit(request r) {
        LLMT_CHECK_CODE(!r.prompt.empty(), errc::invalid_argument, "scheduler: the request's prompt is empty");
        LLMT_CHECK_CODE(r.n >= 1 && r.n <= max_samples, errc::invalid_argument,
                        "scheduler: the request asks for {} samples, 1 to {} are allowed", r.n, max_samples);
        LLMT_CHECK_CODE(r.max_tokens >= 0, errc::invalid_argument, "scheduler: max_tokens {} is negative", r.max_tokens);
        LLMT_CHECK_CODE(r.top_logprobs >= -1 && r.top_logprobs <= max_top_logprobs, errc::invalid_argument,
                        "scheduler: top_logprobs {} is outside -1 (none) to {}", r.top_logprobs, max_top_logprobs);
        for (const token_id t : r.prompt)
            LLMT_CHECK_CODE(t >= 0 && t < ctx_->n_vocab(), errc::invalid_argument,
                            "scheduler: prompt token id {} is outside the vocabulary of {}", t, ctx_->n_vocab());
        LLMT_CHECK_CODE(std::int64_t(r.prompt.size()) < ctx_->n_ctx(), errc::invalid_argument,
                        "scheduler: the prompt of {} tokens does not fit the context of {} positions (one is left for "
                        "the first sampled token)", r.prompt.size(), ctx_->n_ctx());
        auto st = std::make_shared<req_state>();
        st->submitted = clock::now();
        st->res.samples.resize(std::size_t(r.n));
        for (int i = 0; i < r.n; ++i) {
            sample_state s;
            s.index = i;
            s.chain = r.sampler;
            s.chain.set_seed(r.seed + std::uint64_t(i));
            for (const token_id t : r.prompt) s.chain.accept(t);
            s.stream = text_stream(r.stop);
            st->samples.push_back(std::move(s));
        }
        st->req = std::move(r);
        std::lock_guard lk(mu_);
        st->id = next_id_++;
        incoming_.push_back(st);
        all_[st->id] = st;
        ++stats_.submitted;
        cv_work_.notify_all();
        return st->id;
    }

    /// Cancels a request (no-op if it is unknown or done): its blocks are given back at the next
    /// step at the latest and it ends with stop_reason::cancelled.
    void cancel(request_id id) {
        std::lock_guard lk(mu_);
        if (auto it = all_.find(id); it != all_.end()) it->second->cancel_flag.store(true);
        cv_work_.notify_all();
    }

    /// The result of a finished request (and forgets it), or nothing if it is not finished.
    std::optional<request_result> result(request_id id) {
        std::lock_guard lk(mu_);
        return take(id);
    }
    /// Waits for a request to finish (another thread must be stepping: start() or run_until_idle()).
    /// If a step of the background thread threw (a callback, the sampler, the context), rethrows that.
    request_result wait(request_id id) {
        std::unique_lock lk(mu_);
        LLMT_CHECK_CODE(all_.count(id) != 0, errc::invalid_argument, "scheduler: no request {} to wait for", id);
        cv_done_.wait(lk, [&] { return all_.at(id)->done || failure_; });
        if (!all_.at(id)->done) std::rethrow_exception(failure_);
        return *take(id);
    }

    [[nodiscard]] scheduler_stats stats() const {
        std::lock_guard lk(mu_);
        return stats_;
    }
    /// Nothing queued, waiting or running.
    [[nodiscard]] bool idle() const {
        std::lock_guard lk(mu_);
        return incoming_.empty() && idle_;
    }

    /// Steps until nothing is queued, waiting or running.
    void run_until_idle() {
        while (step()) {
        }
    }

    /// Steps on a thread of the scheduler's own until stop().
    void start() {
        if (worker_.joinable()) return;
        stopping_ = false;
        worker_ = std::thread([this] {
            for (;;) {
                {
                    std::unique_lock lk(mu_);
                    cv_work_.wait(lk, [&] { return stopping_ || !incoming_.empty() || !idle_; });
                    if (stopping_ || failure_) return;
                }
                try {
                    step();
                } catch (...) {  // the state may be half-changed: stop stepping, let every wait() throw it
                    std::lock_guard lk(mu_);
                    failure_ = std::current_exception();
                    cv_done_.notify_all();
                    return;
                }
            }
        });
    }
    void stop() {
        {
            std::lock_guard lk(mu_);
            stopping_ = true;
            cv_work_.notify_all();
        }
        if (worker_.joinable()) worker_.join();
    }

    /// Runs one step; returns whether work is left (queued, waiting or running).
    bool step() {
        intake();
        reap_cancelled();
        // the next token of every running sample; preempt the newest while the pool cannot hold them
        // (a sample alone that cannot grow is preempted too, and ends with context_full at admission)
        for (;;) {
            std::int64_t need = 0;
            for (const auto& j : running_)
                if (j.decoding) need += ctx_->blocks_needed(j.seq, 1);
            if (need <= ctx_->blocks_available() || running_.empty()) break;
            preempt_newest();
        }
        while (!form_and_decode())
            preempt_newest();  // the pool was short after all: make room and try again
        publish_stats();
        return !waiting_.empty() || !running_.empty();
    }

private:
    using clock = std::chrono::steady_clock;
    static constexpr int max_samples = 1024;
    static constexpr int max_top_logprobs = 64;

    struct sample_state {
        int index = 0;
        sampling::chain chain;
        text_stream stream;
        bool done = false;
        std::size_t cut = std::string::npos;  // where a stop string starts
        std::int64_t preemptions = 0;
    };
    struct req_state {
        request req;
        request_id id = 0;
        clock::time_point submitted;
        std::vector<sample_state> samples;
        request_result res;
        std::atomic<bool> cancel_flag{false};
        int live = 0;  // samples not done (scheduler thread)
        bool admitted = false;  // admitted once (scheduler thread)
        bool done = false;  // under mu_
        [[nodiscard]] bool cancelled() const {
            return cancel_flag.load(std::memory_order_relaxed) || (req.cancel && req.cancel->load(std::memory_order_relaxed));
        }
    };
    /// A sequence to compute: a request's prompt for all its samples, or one sample's prompt and
    /// tokens so far (after a preemption).
    struct job {
        std::shared_ptr<req_state> r;
        std::vector<int> samples;
        std::vector<token_id> tokens;  // to hold before sampling: the prompt, the tokens sampled so far
        seq_id seq = -1;
        std::size_t fed = 0;  // tokens of `tokens` the sequence holds
        std::uint64_t order = 0;
        bool decoding = false;  // past its prompt (and any recomputation): feeds one sampled token per step
        [[nodiscard]] std::int64_t remaining() const { return std::int64_t(tokens.size() - fed); }
    };

    void intake() {
        std::vector<std::shared_ptr<req_state>> in;
        {
            std::lock_guard lk(mu_);
            in.swap(incoming_);
        }
        for (auto& st : in) {
            job j;
            j.r = st;
            st->live = st->req.n;
            for (int i = 0; i < st->req.n; ++i) j.samples.push_back(i);
            j.tokens = st->req.prompt;
            if (st->req.max_tokens == 0) {
                for (int i : j.samples) finish_sample(*st, i, stop_reason::max_tokens);
                continue;
            }
            waiting_.push_back(std::move(j));
        }
    }

    void reap_cancelled() {
        auto gone = [&](job& j) {
            if (!j.r->cancelled()) return false;
            finish_job(j, stop_reason::cancelled);
            return true;
        };
        std::erase_if(running_, gone);
        std::erase_if(waiting_, gone);
    }

    void finish_job(job& j, stop_reason why) {
        if (j.seq >= 0) ctx_->remove(j.seq);
        j.seq = -1;
        for (int i : j.samples) finish_sample(*j.r, i, why);
    }

    void finish_sample(req_state& r, int i, stop_reason why) {
        sample_state& s = r.samples[std::size_t(i)];
        if (s.done) return;
        s.done = true;
        sample_result& out = r.res.samples[std::size_t(i)];
        out.reason = why;
        out.preemptions = s.preemptions;
        const std::string_view rest = s.stream.finish(s.cut);
        if (!rest.empty() && r.req.on_token) r.req.on_token(i, -1, rest);
        out.text = s.stream.text();
        if (--r.live == 0) {
            {
                std::lock_guard lk(mu_);
                r.done = true;
                ++stats_.finished;
                if (why == stop_reason::cancelled) ++stats_.cancelled;
                cv_done_.notify_all();
            }
            if (r.req.on_done) r.req.on_done();
        }
    }

    void preempt_newest() {
        auto it = std::max_element(running_.begin(), running_.end(), [](const job& a, const job& b) { return a.order < b.order; });
        job j = std::move(*it);
        running_.erase(it);
        ctx_->remove(j.seq);
        j.seq = -1;
        j.fed = 0;
        j.decoding = false;
        for (int i : j.samples) ++j.r->samples[std::size_t(i)].preemptions;
        waiting_.push_front(std::move(j));
        std::lock_guard lk(mu_);
        ++stats_.preemptions;
    }

    // Forms the batch and decodes it; false if the pool was short (nothing changed then).
    bool form_and_decode() {
        batch_.clear();
        wants_.clear();
        std::int64_t left = budget_, reserved = 0, n_prefill = 0, n_decode = 0;
        auto feed = [&](job& j, std::int64_t m, std::size_t ji) {
            for (std::int64_t k = 0; k < m; ++k) {
                const bool last = j.fed + 1 == j.tokens.size();
                if (last) wants_.push_back(ji);
                batch_.add(j.tokens[j.fed], ctx_->size(j.seq) + k, j.seq, last);
                ++j.fed;
            }
            left -= m;
        };
        // running samples: their next token first (they are short of one token), then prompt chunks
        std::vector<std::size_t> order(running_.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return running_[a].remaining() < running_[b].remaining(); });
        std::vector<std::pair<std::size_t, std::size_t>> undo;  // (job, fed before) to roll back on failure
        // blocks promised to running samples: the rest of their prompts, or their next token
        std::int64_t promised = 0;
        for (const job& j : running_)
            promised += ctx_->blocks_needed(j.seq, std::int64_t(j.tokens.size()) - ctx_->size(j.seq));
        for (std::size_t ji : order) {
            job& j = running_[ji];
            std::int64_t m = std::min(left, j.remaining());
            // a long prompt leaves half of the budget to the waiting requests: none waits behind it
            if (!j.decoding && !waiting_.empty()) m = std::min(m, std::max<std::int64_t>(1, left / 2));
            if (m <= 0) continue;
            const std::int64_t need = ctx_->blocks_needed(j.seq, m);
            if (!j.decoding && need > ctx_->blocks_available() - reserved) continue;  // a prompt chunk waits
            reserved += need;
            undo.emplace_back(ji, j.fed);
            (j.decoding ? n_decode : n_prefill) += m;
            feed(j, m, ji);
        }
        // admit waiting requests in order while their whole remaining prompt fits beside what is promised
        std::size_t admitted = 0;
        reserved = std::max(reserved, promised);
        while (left > 0 && !waiting_.empty()) {
            job& w = waiting_.front();
            w.seq = ctx_->create();
            const std::int64_t reused = ctx_->match_prefix(w.seq, w.tokens);
            const std::int64_t need = ctx_->blocks_needed(w.seq, std::int64_t(w.tokens.size()) - reused);
            if (need > ctx_->blocks_available() - reserved) {
                ctx_->remove(w.seq);
                w.seq = -1;
                if (running_.empty() && admitted == 0 && need > ctx_->blocks_available()) {
                    // nothing else holds blocks: this one can never fit
                    job j = std::move(w);
                    waiting_.pop_front();
                    finish_job(j, stop_reason::context_full);
                    continue;
                }
                break;
            }
            w.fed = std::size_t(reused);
            if (!w.r->admitted) w.r->res.cached_tokens = reused;
            w.r->admitted = true;
            w.order = next_order_++;
            {
                std::lock_guard lk(mu_);
                stats_.prefix_tokens_reused += reused;
            }
            running_.push_back(std::move(w));
            waiting_.pop_front();
            ++admitted;
            job& j = running_.back();
            const std::int64_t m = std::min(left, j.remaining());
            reserved += ctx_->blocks_needed(j.seq, j.remaining());
            undo.emplace_back(running_.size() - 1, j.fed);
            n_prefill += m;
            feed(j, m, running_.size() - 1);
        }
        if (batch_.empty()) return running_.empty();  // running prompts that cannot grow: preempt
        try {
            ctx_->decode(batch_);
        } catch (const error& e) {
            if (e.code() != errc::runtime || std::string_view(e.what()).find("kv cache full") == std::string_view::npos) throw;
            for (auto [ji, f] : undo) running_[ji].fed = f;  // the context is as it was
            return false;
        }
        {
            std::lock_guard lk(mu_);
            ++stats_.steps;
            stats_.prefill_tokens += n_prefill;
            stats_.decode_tokens += n_decode;
            stats_.max_batch = std::max(stats_.max_batch, std::int64_t(batch_.size()));
        }
        // sample; a job done with its prompt forks for its other samples
        std::vector<std::size_t> finished;
        std::vector<job> forks;
        const auto now = clock::now();
        for (std::size_t bi = 0, wi = 0; wi < wants_.size(); ++bi) {
            if (!batch_.logits[bi]) continue;
            job& j = running_[wants_[wi++]];
            const auto lg = ctx_->logits(bi);
            while (j.samples.size() > 1) {  // sample i gets a sequence of its own
                job f;
                f.r = j.r;
                f.samples = {j.samples.back()};
                j.samples.pop_back();
                f.seq = ctx_->fork(j.seq);
                f.tokens = j.tokens;
                f.fed = j.fed;
                f.order = j.order;
                forks.push_back(std::move(f));
                std::lock_guard lk(mu_);
                ++stats_.forks;
            }
            if (!advance(j, lg, now)) finished.push_back(wants_[wi - 1]);
            for (auto& f : forks)
                if (advance(f, lg, now)) running_.push_back(std::move(f));
            forks.clear();
        }
        std::sort(finished.begin(), finished.end(), std::greater<>());
        for (std::size_t ji : finished) running_.erase(running_.begin() + std::ptrdiff_t(ji));
        return true;
    }

    // Samples the next token of a one-sample job from lg; false if the sample ended (its sequence removed).
    bool advance(job& j, std::span<const float> lg, clock::time_point now) {
        req_state& r = *j.r;
        const int i = j.samples.front();
        sample_state& s = r.samples[std::size_t(i)];
        sample_result& out = r.res.samples[std::size_t(i)];
        token_id t;
        if (r.req.ignore_eos) {
            scratch_.assign(lg.begin(), lg.end());
            for (const token_id e : tok_.get_vocab().eog_tokens)
                if (e >= 0 && std::size_t(e) < scratch_.size()) scratch_[std::size_t(e)] = -std::numeric_limits<float>::infinity();
            t = s.chain.sample(scratch_);
        } else {
            t = s.chain.sample(lg);
        }
        s.chain.accept(t);
        out.tokens.push_back(t);
        if (r.req.top_logprobs >= 0) {
            out.logprobs.push_back(logprob_of(lg, t, r.req.top_logprobs));
            if (r.req.on_logprob) r.req.on_logprob(i, out.logprobs.back());
        }
        const double ms = std::chrono::duration<double, std::milli>(now - r.submitted).count();
        if (out.token_ms.empty()) out.ttft_ms = ms;
        out.token_ms.push_back(ms);
        auto stop = [&](stop_reason why) {
            ctx_->remove(j.seq);
            j.seq = -1;
            finish_sample(r, i, why);
            return false;
        };
        if (tok_.is_eog(t)) {
            if (r.req.on_token) r.req.on_token(i, t, {});
            return stop(stop_reason::end_of_generation);
        }
        const std::size_t before = s.stream.text().size();
        const std::string_view piece = s.stream.push(tok_.token_to_piece_view(t, false));
        if (r.req.on_token) r.req.on_token(i, t, piece);
        if (const std::size_t at = s.stream.find_stop(before); at != std::string::npos) {
            s.cut = at;
            return stop(stop_reason::stop_string);
        }
        if (std::int64_t(out.tokens.size()) >= r.req.max_tokens) return stop(stop_reason::max_tokens);
        if (ctx_->size(j.seq) >= ctx_->n_ctx()) return stop(stop_reason::context_full);
        j.tokens.push_back(t);
        j.decoding = true;
        return true;
    }

    // log-softmax of the logits at t, and the k best tokens
    static token_logprob logprob_of(std::span<const float> lg, token_id t, int k) {
        const float mx = *std::max_element(lg.begin(), lg.end());
        double sum = 0;
        for (const float x : lg) sum += std::exp(double(x - mx));
        const float lse = mx + float(std::log(sum));
        token_logprob out;
        out.token = t;
        out.logprob = lg[std::size_t(t)] - lse;
        std::vector<std::pair<float, token_id>> best;  // a min-heap of the k largest
        for (std::size_t i = 0; i < lg.size() && k > 0; ++i) {
            auto worse = [](const auto& a, const auto& b) { return a > b; };
            if (best.size() < std::size_t(k)) {
                best.emplace_back(lg[i], token_id(i));
                std::push_heap(best.begin(), best.end(), worse);
            } else if (lg[i] > best.front().first) {
                std::pop_heap(best.begin(), best.end(), worse);
                best.back() = {lg[i], token_id(i)};
                std::push_heap(best.begin(), best.end(), worse);
            }
        }
        std::sort(best.begin(), best.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
        for (const auto& [x, id] : best) out.top.emplace_back(id, x - lse);
        return out;
    }

    void publish_stats() {
        const auto cs = ctx_->stats();
        std::lock_guard lk(mu_);
        stats_.waiting = std::int64_t(waiting_.size());
        stats_.running = std::int64_t(running_.size());
        stats_.context = cs;
        idle_ = waiting_.empty() && running_.empty();
    }

    std::optional<request_result> take(request_id id) {
        auto it = all_.find(id);
        if (it == all_.end() || !it->second->done) return std::nullopt;
        request_result r = std::move(it->second->res);
        all_.erase(it);
        return r;
    }

    context_base* ctx_;
    tokenizer::tokenizer tok_;
    std::int64_t budget_;
    // scheduler thread only
    std::deque<job> waiting_;
    std::vector<job> running_;
    std::uint64_t next_order_ = 0;
    batch batch_;
    std::vector<std::size_t> wants_;
    std::vector<float> scratch_;
    // shared, under mu_
    mutable std::mutex mu_;
    std::condition_variable cv_work_, cv_done_;
    std::vector<std::shared_ptr<req_state>> incoming_;
    std::map<request_id, std::shared_ptr<req_state>> all_;
    request_id next_id_ = 1;
    scheduler_stats stats_;
    bool idle_ = true, stopping_ = false;
    std::exception_ptr failure_;  // what a step of the background thread threw
    std::thread worker_;
};

}  // namespace runtime
LLMT_END_NAMESPACE
