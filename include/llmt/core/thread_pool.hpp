// thread_pool: persistent workers running one parallel region at a time with a spinning low-latency barrier
#pragma once

#include <llmt/config.hpp>

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <thread>
#include <vector>

LLMT_BEGIN_NAMESPACE

/// A pool of n_threads - 1 workers plus the calling thread. run(f) calls f(thread_index, n_threads)
/// on every thread and returns when all are done. No allocation per call; not reentrant.
class thread_pool {
public:
    explicit thread_pool(int n_threads = 1) : n_(n_threads < 1 ? 1 : n_threads) {
        workers_.reserve(std::size_t(n_ - 1));
        for (int i = 1; i < n_; ++i) workers_.emplace_back([this, i] { worker(i); });
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;
    ~thread_pool() {
        stop_.store(true, std::memory_order_release);
        generation_.fetch_add(1, std::memory_order_acq_rel);
        generation_.notify_all();
        for (auto& w : workers_) w.join();
    }

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
        for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin)
            if (spin > 4096) std::this_thread::yield();
    }

private:
    void worker(int index) {
        std::uint64_t seen = 0;
        for (;;) {
            std::uint64_t g;
            int spin = 0;
            while ((g = generation_.load(std::memory_order_acquire)) == seen) {
                if (++spin < 20000) continue;
                generation_.wait(seen, std::memory_order_acquire);
            }
            seen = g;
            if (stop_.load(std::memory_order_acquire)) return;
            call_(task_, index, n_);
            pending_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }

    int n_;
    std::vector<std::thread> workers_;
    alignas(64) std::atomic<std::uint64_t> generation_{0};
    alignas(64) std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    void* task_ = nullptr;
    void (*call_)(void*, int, int) = nullptr;
};

LLMT_END_NAMESPACE
