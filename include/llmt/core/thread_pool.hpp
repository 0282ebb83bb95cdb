// thread_pool: persistent workers running one parallel region at a time; indices claimed, so no stalled thread holds a call
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <system_error>
#include <type_traits>
#include <thread>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE

/// A pool of n_threads - 1 workers plus the calling thread. run(f) calls f(i, n_threads) for every
/// i < n_threads, on whichever of the threads are running, and returns when all are done. No
/// allocation per call; not reentrant.
class thread_pool {
public:
    /// Starts n_threads - 1 workers. When the OS refuses a thread (or memory runs out), the ones
    /// started are stopped and llmt::error(errc::runtime, "cannot start N worker threads: ...") is thrown.
    explicit thread_pool(int n_threads = 1) : n_(n_threads < 1 ? 1 : n_threads) {
        try {
            workers_.reserve(std::size_t(n_ - 1));
            for (int i = 1; i < n_; ++i) workers_.emplace_back([this] { worker(); });
        } catch (const std::system_error& e) {
            stop();
            fail(errc::runtime, "cannot start {} worker threads: {} (after {} started)", n_ - 1, e.what(), workers_.size());
        } catch (const std::bad_alloc&) {
            stop();
            fail(errc::runtime, "cannot start {} worker threads: out of memory", n_ - 1);
        }
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;
    ~thread_pool() { stop(); }

    [[nodiscard]] int size() const noexcept { return n_; }

    /// Runs f(i, n_threads) once for every i < n_threads and returns when all calls are done; f must
    /// not throw. The indices are claimed, not assigned: the caller and the workers that are awake take
    /// them in turn, so a worker whose CPU the host has taken away (a busy machine, a virtual machine's
    /// stolen time) holds a call up only if it had claimed an index before it stopped, never by not
    /// having started. f must not rely on index i running on a particular thread, nor on two indices
    /// running at the same time (the caller may run them all, one after the other).
    template <typename F>
    void run(F&& f) {
        if (n_ == 1) {
            f(0, 1);
            return;
        }
        task_ = &f;
        call_ = [](void* t, int i, int n) { (*static_cast<std::remove_reference_t<F>*>(t))(i, n); };
        next_.store(0, std::memory_order_relaxed);
        done_.store(0, std::memory_order_relaxed);
        const std::uint64_t gen = (state_.load(std::memory_order_relaxed) >> 32) + 1;
        state_.store(gen << 32, std::memory_order_release);  // open, no worker in it yet
        state_.notify_all();
        work();
        // the indices all claimed: wait for the ones others are still running
        for (int spin = 0; done_.load(std::memory_order_acquire) != n_; ++spin) {
            cpu_relax();
            if (spin > 4096) std::this_thread::yield();
        }
        // close the call to workers waking up only now, and wait for those inside it to leave (they
        // find no index left): after this no worker reads task_, next_ or done_ of this call
        state_.fetch_or(closed_bit, std::memory_order_acq_rel);
        for (int spin = 0; (state_.load(std::memory_order_acquire) & active_mask) != 0; ++spin) {
            cpu_relax();
            if (spin > 4096) std::this_thread::yield();
        }
    }

    /// Smallest amount of memory a region should touch to be worth splitting: handing work to the
    /// other threads and waiting for them costs a few microseconds (more in a virtual machine), about
    /// the time one thread takes to stream this much from L2.
    static constexpr std::size_t parallel_min_bytes = std::size_t(64) << 10;

    /// run(f) when the region touches at least parallel_min_bytes per thread, else f(0, 1) on the
    /// caller: a tiny model's layers are cheaper done by one thread than shared by several.
    template <typename F>
    void run_sized(std::size_t bytes, F&& f) {
        if (bytes < parallel_min_bytes * std::size_t(n_)) {
            f(0, 1);
            return;
        }
        run(std::forward<F>(f));
    }

    /// Calls f(i0, i1) on ranges covering [0, n) exactly once, in chunks of at most `grain` units.
    /// The thread running index i starts with its static share (n·i/nth ..), in order, and when it has
    /// finished takes chunks from the end of the others' shares: a thread whose CPU is taken away (a busy
    /// host, a virtual machine's stolen time) holds the others up for one chunk at most, and each
    /// thread still reads its share front to back. Chunks shrink as a share runs out (to a
    /// 2·nth-th of what is left, at least one unit), so the threads end a call close together
    /// rather than up to a whole chunk apart. Which thread runs a range must not change what f
    /// computes. f must not throw.
    template <typename F>
    void run_balanced(std::int64_t n, std::int64_t grain, F&& f) {
        if (n <= 0) return;
        grain = std::max<std::int64_t>(grain, 1);
        if (n_ == 1 || n <= grain || n > 0x7fffffff) {
            f(std::int64_t(0), n);
            return;
        }
        // shares as (front, back) unit indices packed in one word, so claims from either end are one
        // CAS; set here, before the workers are released, so that even a thread not yet running has
        // a share the others can take from
        for (int i = 0; i < n_; ++i) shares_[std::size_t(i)].v.store(pack(n * i / n_, n * (i + 1) / n_), std::memory_order_relaxed);
        run([&](int ith, int nth) {
            std::int64_t i0 = 0, i1 = 0;
            const std::int64_t tail_div = 2 * std::int64_t(nth);
            while (claim(shares_[std::size_t(ith)].v, true, grain, tail_div, i0, i1)) f(i0, i1);  // own share from the front
            for (int k = 1; k < nth; ++k)  // then the others' from the back
                while (claim(shares_[std::size_t((ith + k) % nth)].v, false, grain, tail_div, i0, i1)) f(i0, i1);
        });
    }

private:
    /// Wakes the workers started so far to exit, and joins them.
    void stop() noexcept {
        stop_.store(true, std::memory_order_release);
        state_.store(((state_.load(std::memory_order_relaxed) >> 32) + 1) << 32, std::memory_order_release);
        state_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
    }

    /// Claims the current call's indices and runs them until none is left.
    void work() noexcept {
        for (int i; (i = next_.fetch_add(1, std::memory_order_acq_rel)) < n_;) {
            call_(task_, i, n_);
            done_.fetch_add(1, std::memory_order_release);
        }
    }

    /// A spin-wait hint: the core (and, in a virtual machine, the hypervisor's pause-loop exiting)
    /// can give this thread's time to others while it waits.
    static void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    static std::uint64_t pack(std::int64_t f, std::int64_t b) noexcept { return std::uint64_t(f) << 32 | std::uint64_t(b); }
    static std::int64_t front(std::uint64_t v) noexcept { return std::int64_t(v >> 32); }
    static std::int64_t back(std::uint64_t v) noexcept { return std::int64_t(v & 0xffffffffu); }
    /// Takes up to grain units off the front or the back of a share into [i0, i1); false once it is empty.
    static bool claim(std::atomic<std::uint64_t>& share, bool from_front, std::int64_t grain, std::int64_t tail_div, std::int64_t& i0,
                      std::int64_t& i1) noexcept {
        std::uint64_t cur = share.load(std::memory_order_acquire);
        for (;;) {
            const std::int64_t f = front(cur), b = back(cur);
            if (f >= b) return false;
            // chunks shrink as the share runs out (at most grain, at least one unit), so that threads
            // finishing the last chunks of a call finish close together
            const std::int64_t take = std::clamp<std::int64_t>((b - f) / tail_div, 1, grain);
            i0 = from_front ? f : b - take;
            i1 = from_front ? f + take : b;
            if (share.compare_exchange_weak(cur, from_front ? pack(i1, b) : pack(f, i0), std::memory_order_acq_rel)) return true;
        }
    }

    void worker() {
        std::uint64_t seen = 0;  // the last call this worker took part in, or found closed
        for (;;) {
            std::uint64_t s;
            // spin for up to spin_time before sleeping: a model's forward pass calls run() every few
            // microseconds, and waking a sleeping thread costs tens of microseconds (more in a
            // virtual machine); a 20000-iteration spin (a few µs) made a tiny model 6× slower on 2
            // threads than on 1
            std::uint32_t spin = 0;
            auto since = std::chrono::steady_clock::now();
            while (((s = state_.load(std::memory_order_acquire)) >> 32) == seen) {
                cpu_relax();
                if ((++spin & 255u) != 0) continue;
                const auto now = std::chrono::steady_clock::now();
                if (now - since < spin_time) continue;
                state_.wait(s, std::memory_order_acquire);  // until the state changes: a new call, or stop
                since = std::chrono::steady_clock::now();
            }
            if (stop_.load(std::memory_order_acquire)) return;
            seen = s >> 32;
            // enter the call unless it is already closed (the caller ran every index without us)
            bool entered = false;
            while ((s >> 32) == seen && (s & closed_bit) == 0)
                if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
                    entered = true;
                    break;
                }
            if (!entered) continue;
            work();
            state_.fetch_sub(1, std::memory_order_release);
        }
    }

    static constexpr std::chrono::microseconds spin_time{2000};
    int n_;
    std::vector<std::thread> workers_;
    /// The current call: its number (high 32 bits), closed_bit once the caller has seen every index
    /// done, and the count of workers inside it (low 31 bits); one word, so that entering a call and
    /// closing it cannot cross.
    static constexpr std::uint64_t closed_bit = std::uint64_t(1) << 31;
    static constexpr std::uint64_t active_mask = closed_bit - 1;
    alignas(64) std::atomic<std::uint64_t> state_{0};
    alignas(64) std::atomic<int> next_{0};  // the next index to claim
    alignas(64) std::atomic<int> done_{0};  // indices run to the end
    std::atomic<bool> stop_{false};
    struct alignas(64) share {
        std::atomic<std::uint64_t> v{0};
    };
    std::unique_ptr<share[]> shares_ = std::make_unique<share[]>(std::size_t(n_));
    void* task_ = nullptr;
    void (*call_)(void*, int, int) = nullptr;
};

LLMT_END_NAMESPACE
