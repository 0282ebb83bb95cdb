// test_thread_pool: a call completes without the workers the host has stopped; indices run exactly once
#include <doctest/doctest.h>
#include <llmt/core/thread_pool.hpp>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

// A worker "descheduled" by the host: a signal handler that spins until released, on that thread only.
std::atomic<bool> g_hold{false};
std::atomic<int> g_held{0};
extern "C" void hold_thread(int) {
    g_held.fetch_add(1);
    while (g_hold.load()) std::this_thread::yield();
    g_held.fetch_sub(1);
}

}  // namespace

TEST_CASE("thread_pool::run: every index exactly once, whichever threads run them") {
    for (int threads : {1, 2, 3, 8}) {
        llmt::thread_pool pool(threads);
        for (int rep = 0; rep < 200; ++rep) {
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(threads));
            std::atomic<int> bad_n{0};
            pool.run([&](int i, int n) {
                if (n != threads || i < 0 || i >= n) {
                    bad_n.fetch_add(1);
                    return;
                }
                hits[std::size_t(i)].fetch_add(1);
            });
            REQUIRE(bad_n.load() == 0);
            REQUIRE(std::all_of(hits.begin(), hits.end(), [](const std::atomic<int>& h) { return h.load() == 1; }));
        }
    }
}

TEST_CASE("thread_pool: calls complete on the caller while a worker is stopped, and the worker rejoins after") {
    llmt::thread_pool pool(2);
    // find the worker's thread: the caller's index waits until the other index ran on another thread
    const pthread_t caller = pthread_self();
    std::atomic<bool> found{false};
    pthread_t worker{};
    for (int attempt = 0; attempt < 100 && !found.load(); ++attempt)
        pool.run([&](int, int) {
            if (pthread_equal(pthread_self(), caller)) {  // give the worker a moment to claim the other index
                const auto t0 = std::chrono::steady_clock::now();
                while (!found.load() && std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(5)) std::this_thread::yield();
                return;
            }
            worker = pthread_self();
            found.store(true);
        });
    REQUIRE(found.load());

    struct sigaction sa {};
    sa.sa_handler = hold_thread;
    sigemptyset(&sa.sa_mask);
    struct sigaction old {};
    REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
    g_hold.store(true);
    REQUIRE(pthread_kill(worker, SIGUSR1) == 0);
    while (g_held.load() == 0) std::this_thread::yield();

    // the worker can run nothing now: every call must still end, all of it on the caller
    std::atomic<int> off_caller{0};
    std::int64_t units = 0;
    for (int rep = 0; rep < 500; ++rep) {
        std::atomic<int> calls{0};
        pool.run([&](int, int) {
            calls.fetch_add(1);
            if (!pthread_equal(pthread_self(), caller)) off_caller.fetch_add(1);
        });
        CHECK(calls.load() == 2);
        std::atomic<std::int64_t> covered{0};
        pool.run_balanced(1000, 7, [&](std::int64_t i0, std::int64_t i1) {
            covered.fetch_add(i1 - i0);
            if (!pthread_equal(pthread_self(), caller)) off_caller.fetch_add(1);
        });
        units += covered.load();
    }
    CHECK(off_caller.load() == 0);
    CHECK(units == 500 * 1000);

    g_hold.store(false);
    while (g_held.load() != 0) std::this_thread::yield();
    REQUIRE(sigaction(SIGUSR1, &old, nullptr) == 0);
    // back: the worker takes part again (within a bounded number of calls that wait for it)
    std::atomic<bool> worker_ran{false};
    for (int attempt = 0; attempt < 1000 && !worker_ran.load(); ++attempt)
        pool.run([&](int, int) {
            if (!pthread_equal(pthread_self(), caller)) {
                worker_ran.store(true);
                return;
            }
            const auto t0 = std::chrono::steady_clock::now();
            while (!worker_ran.load() && std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(5)) std::this_thread::yield();
        });
    CHECK(worker_ran.load());
}
