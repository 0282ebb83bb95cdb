// engine: the server's generations on one scheduler thread: admission (--parallel, --max-queue), events, cancellation
#pragma once

#include "metrics.hpp"

#include <llmt/llmt.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace llmt_server {

using clock_type = std::chrono::steady_clock;
namespace rt = llmt::runtime;

/// A validated generation: its prompts (one choice group each), how to sample, when to stop.
struct gen_spec {
    std::vector<std::vector<llmt::token_id>> prompts;
    int n = 1;                             // samples per prompt
    llmt::sampling::params sampling{};
    std::uint64_t seed = 0;
    std::int64_t max_tokens = 0;           // per sample
    std::vector<std::string> stop{};
    int top_logprobs = -1;                 // -1: none
    bool ignore_eos = false;
    [[nodiscard]] int choices() const { return int(prompts.size()) * n; }
};

/// Something a sample released: a token with its text (token -1: the text held back until the end).
struct gen_event {
    int choice = 0;
    llmt::token_id token = -1;
    std::string piece;
    std::optional<rt::token_logprob> logprob{};
};

/// One client request in flight. The HTTP thread waits on it with next(); callbacks of the scheduler's
/// thread fill it.
class generation {
public:
    explicit generation(gen_spec s) : spec(std::move(s)), arrival(clock_type::now()) {
        results.resize(spec.prompts.size());
        last_token.resize(std::size_t(spec.choices()));
        pending_lp.resize(std::size_t(spec.choices()));
    }

    /// Waits up to `wait` for events or the end; moves the events into out. Returns true once finished
    /// (and every event delivered).
    bool next(std::vector<gen_event>& out, std::chrono::milliseconds wait) {
        std::unique_lock lk(mu_);
        cv_.wait_for(lk, wait, [&] { return !events_.empty() || finished_; });
        out.clear();
        out.swap(events_);
        return finished_;
    }
    [[nodiscard]] bool finished() const {
        std::lock_guard lk(mu_);
        return finished_;
    }
    [[nodiscard]] std::string failure() const {
        std::lock_guard lk(mu_);
        return failure_;
    }

    const gen_spec spec;
    const clock_type::time_point arrival;
    std::atomic<bool> cancelled{false};
    // filled before finished (read after next() returned true)
    std::vector<rt::request_result> results;  // per prompt
    std::int64_t prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;
    double ttft_ms = -1, total_ms = 0;

private:
    friend class engine;
    void push(gen_event e) {
        std::lock_guard lk(mu_);
        events_.push_back(std::move(e));
        cv_.notify_all();
    }
    void finish(std::string failure = {}) {
        std::lock_guard lk(mu_);
        finished_ = true;
        failure_ = std::move(failure);
        cv_.notify_all();
    }

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<gen_event> events_;
    bool finished_ = false;
    std::string failure_;
    // scheduler thread
    std::vector<rt::request_id> ids_;
    int pending_ = 0;
    std::vector<clock_type::time_point> last_token;
    std::vector<std::optional<rt::token_logprob>> pending_lp;
    std::string start_error_;
};

struct engine_options {
    int parallel = 4;
    int max_queue = 64;
};

/// One scheduler on its background thread and the admission of generations into it: at most
/// `parallel` generations run, at most `max_queue` wait; more are refused (503).
class engine {
public:
    engine(llmt::context_base& ctx, const llmt::tokenizer::tokenizer& tok, engine_options opt, metrics& m)
        : sched_(ctx, tok), opt_(opt), metrics_(m) {
        sched_.start();
    }
    ~engine() { sched_.stop(); }

    /// Admits g, or returns false when the queue is full or the engine is closing.
    bool admit(const std::shared_ptr<generation>& g) {
        {
            std::lock_guard lk(mu_);
            if (closing_ || (running_ >= opt_.parallel && int(queue_.size()) >= opt_.max_queue)) return false;
            if (running_ >= opt_.parallel) {
                queue_.push_back(g);
                return true;
            }
            ++running_;
        }
        start(g);
        return true;
    }

    /// The client is gone: a queued generation leaves the queue, a running one is cancelled (its KV
    /// blocks are given back at the scheduler's next step).
    void cancel(const std::shared_ptr<generation>& g) {
        g->cancelled = true;
        bool was_queued = false;
        std::vector<rt::request_id> ids;
        {
            std::lock_guard lk(mu_);
            if (auto it = std::find(queue_.begin(), queue_.end(), g); it != queue_.end()) {
                queue_.erase(it);
                was_queued = true;
            } else {
                ids = g->ids_;
            }
        }
        if (was_queued) g->finish("cancelled");
        for (auto id : ids) sched_.cancel(id);
    }

    /// Stops admitting; waits up to grace for the running generations, then cancels what is left.
    void close(std::chrono::milliseconds grace) {
        std::vector<std::shared_ptr<generation>> queued;
        {
            std::lock_guard lk(mu_);
            closing_ = true;
            queued.assign(queue_.begin(), queue_.end());
            queue_.clear();
        }
        for (auto& g : queued) {
            g->cancelled = true;
            g->finish("the server is shutting down");
        }
        const auto until = clock_type::now() + grace;
        while (clock_type::now() < until && !idle()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::vector<std::shared_ptr<generation>> live;
        {
            std::lock_guard lk(mu_);
            live = live_;
        }
        for (auto& g : live) cancel(g);
        const auto until2 = clock_type::now() + std::chrono::seconds(5);
        while (clock_type::now() < until2 && !idle()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    [[nodiscard]] bool idle() const {
        std::lock_guard lk(mu_);
        return running_ == 0 && queue_.empty();
    }
    [[nodiscard]] bool closing() const {
        std::lock_guard lk(mu_);
        return closing_;
    }
    [[nodiscard]] std::pair<int, int> load() const {  // (running, queued) generations
        std::lock_guard lk(mu_);
        return {running_, int(queue_.size())};
    }
    [[nodiscard]] rt::scheduler_stats stats() const { return sched_.stats(); }
    [[nodiscard]] const engine_options& options() const { return opt_; }

private:
    // Submits the scheduler requests of g (a slot is held for it). The lock is held across each
    // submit so that done(), on the scheduler's thread, finds the request's id.
    void start(const std::shared_ptr<generation>& g) {
        const gen_spec& s = g->spec;
        std::unique_lock lk(mu_);
        live_.push_back(g);
        g->pending_ = int(s.prompts.size());
        std::string failure;
        for (std::size_t p = 0; p < s.prompts.size(); ++p) {
            rt::request r;
            r.prompt = s.prompts[p];
            r.seed = s.seed;
            r.max_tokens = s.max_tokens;
            r.stop = s.stop;
            r.ignore_eos = s.ignore_eos;
            r.n = s.n;
            r.top_logprobs = s.top_logprobs;
            r.cancel = &g->cancelled;
            const int base = int(p) * s.n;
            generation* gp = g.get();
            r.on_logprob = [gp, base](int sample, const rt::token_logprob& lp) { gp->pending_lp[std::size_t(base + sample)] = lp; };
            r.on_token = [this, gp, base](int sample, llmt::token_id t, std::string_view piece) { on_token(*gp, base + sample, t, piece); };
            r.on_done = [this, g, p] { done(g, p); };
            try {
                r.sampler = llmt::sampling::chain::from_params(s.sampling);
                g->ids_.push_back(sched_.submit(std::move(r)));
            } catch (const std::exception& e) {  // validated before: not expected
                failure = e.what();
                g->pending_ -= int(s.prompts.size() - p);
                break;
            }
        }
        if (failure.empty()) return;
        g->start_error_ = failure;
        g->cancelled = true;  // the submitted ones end at the next step and call done()
        if (g->pending_ > 0) return;
        lk.unlock();
        g->finish(failure);
        release(g);
    }

    // On the scheduler's thread: a sampled token (t >= 0) or the text held back until the end (t = -1).
    void on_token(generation& g, int c, llmt::token_id t, std::string_view piece) {
        gen_event e;
        e.choice = c;
        e.token = t;
        e.piece = std::string(piece);
        if (t >= 0) {
            e.logprob = std::move(g.pending_lp[std::size_t(c)]);
            g.pending_lp[std::size_t(c)].reset();
            const auto now = clock_type::now();
            auto& last = g.last_token[std::size_t(c)];
            if (last == clock_type::time_point{}) {
                if (g.ttft_ms < 0) {
                    g.ttft_ms = std::chrono::duration<double, std::milli>(now - g.arrival).count();
                    metrics_.ttft(g.ttft_ms / 1000.0);
                }
            } else {
                metrics_.itl(std::chrono::duration<double>(now - last).count());
            }
            last = now;
        }
        if (t < 0 && e.piece.empty()) return;
        g.push(std::move(e));
    }

    // On the scheduler's thread: prompt p of g finished.
    void done(const std::shared_ptr<generation>& g, std::size_t p) {
        rt::request_id id = -1;
        bool last = false;
        {
            std::lock_guard lk(mu_);
            if (p < g->ids_.size()) id = g->ids_[p];
            last = --g->pending_ == 0;
        }
        if (id >= 0)
            if (auto res = sched_.result(id)) g->results[p] = std::move(*res);
        if (!last) return;
        if (!g->start_error_.empty()) {
            g->finish(g->start_error_);
            release(g);
            return;
        }
        const gen_spec& s = g->spec;
        for (std::size_t i = 0; i < s.prompts.size(); ++i) {
            g->prompt_tokens += std::int64_t(s.prompts[i].size());
            g->cached_tokens += g->results[i].cached_tokens;
            for (const auto& smp : g->results[i].samples) g->generated_tokens += std::int64_t(smp.tokens.size());
        }
        g->total_ms = std::chrono::duration<double, std::milli>(clock_type::now() - g->arrival).count();
        metrics_.tokens(g->prompt_tokens, g->generated_tokens);
        g->finish();
        release(g);
    }

    // Frees g's slot and starts the next queued generation.
    void release(const std::shared_ptr<generation>& g) {
        std::shared_ptr<generation> next;
        {
            std::lock_guard lk(mu_);
            std::erase(live_, g);
            --running_;
            if (!queue_.empty() && !closing_) {
                next = queue_.front();
                queue_.pop_front();
                ++running_;
            }
        }
        if (next) start(next);
    }

    rt::scheduler sched_;
    engine_options opt_;
    metrics& metrics_;
    mutable std::mutex mu_;
    int running_ = 0;
    bool closing_ = false;
    std::deque<std::shared_ptr<generation>> queue_;
    std::vector<std::shared_ptr<generation>> live_;
};

}  // namespace llmt_server
