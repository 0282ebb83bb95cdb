// thread_pool: persistent workers running one parallel region at a time with a spinning low-latency barrier
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

/// A pool of n_threads - 1 workers plus the calling thread. run(f) calls f(thread_index, n_threads)
/// on every thread and returns when all are done. No allocation per call; not reentrant.
class thread_pool {
public:
    /// Starts n_threads - 1 workers. When the OS refuses a thread (or memory runs out), the ones
    /// started are stopped and llmt::error(errc::runtime, "cannot start N worker threads: ...") is thrown.
    explicit thread_pool(int n_threads = 1) : n_(n_threads < 1 ? 1 : n_threads) {
        try {
            workers_.reserve(std::size_t(n_ - 1));
            for (int i = 1; i < n_; ++i) workers_.emplace_back([this, i] { worker(i); });
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

    /// Runs f(thread_index, n_threads) on all threads; f must not throw.
    template <typename F>
    void run(F&& f) {
        if (n_ == 1) {
            f(0, 1);
            return;
        }
        task_ = &f;
        call_ = [](void* t, int i, int n) { (*static_cast<std::remove_reference_t<F>*>(t))(i, n); };
        pending_.store(n_ - 1, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_acq_rel);
        generation_.notify_all();
        f(0, n_);
        // wait for workers: spin briefly, then yield
        for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
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
    /// Each thread starts with its static share (n·i/nth ..), in order, and when it has finished
    /// takes chunks from the end of the others' shares: a thread whose CPU is taken away (a busy
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
        generation_.fetch_add(1, std::memory_order_acq_rel);
        generation_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
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

    void worker(int index) {
        std::uint64_t seen = 0;
        for (;;) {
            std::uint64_t g;
            // spin for up to spin_time before sleeping: a model's forward pass calls run() every few
            // microseconds, and waking a sleeping thread costs tens of microseconds (more in a
            // virtual machine); a 20000-iteration spin (a few µs) made a tiny model 6× slower on 2
            // threads than on 1
            std::uint32_t spin = 0;
            auto since = std::chrono::steady_clock::now();
            while ((g = generation_.load(std::memory_order_acquire)) == seen) {
                cpu_relax();
                if ((++spin & 255u) != 0) continue;
                const auto now = std::chrono::steady_clock::now();
                if (now - since < spin_time) continue;
                generation_.wait(seen, std::memory_order_acquire);
                since = std::chrono::steady_clock::now();
            }
            seen = g;
            if (stop_.load(std::memory_order_acquire)) return;
            call_(task_, index, n_);
            pending_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }

    static constexpr std::chrono::microseconds spin_time{2000};
    int n_;
    std::vector<std::thread> workers_;
    alignas(64) std::atomic<std::uint64_t> generation_{0};
    alignas(64) std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    struct alignas(64) share {
        std::atomic<std::uint64_t> v{0};
    };
    std::unique_ptr<share[]> shares_ = std::make_unique<share[]>(std::size_t(n_));
    void* task_ = nullptr;
    void (*call_)(void*, int, int) = nullptr;
};

LLMT_END_NAMESPACE
