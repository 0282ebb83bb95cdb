// membw: the machine's memory read bandwidth, measured one way for every benchmark (wide loads, pinned threads, best pass)
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace llmt_bench {

namespace membw_detail {

/// How far ahead of its loads a pass asks for lines into L2 (_mm_prefetch T1), as the decode kernels
/// do. Loads alone leave the hardware prefetcher short of the memory's latency: in 8 rounds here,
/// each pass type next to the other, a plain pass read 13.9-16.5 GB/s with 1 thread and 27.0-31.4
/// with 2, a pass with this prefetch 15.4-18.1 and 28.7-34.2 (1, 1.5, 2 and 3 KiB ahead alike).
/// Measured with plain passes, the packed kernels, which prefetch, read up to 117 % of the bound.
inline constexpr std::size_t prefetch_ahead = 2048;

/// XOR of every 64-bit word of [p, p + bytes), read with the widest loads this build has and eight
/// independent accumulators so that many cache-line misses are in flight at once, each line asked
/// for prefetch_ahead bytes earlier. (A prefetch past the end of the buffer does not fault.)
inline std::uint64_t read_slice(const std::byte* p, std::size_t bytes) {
#if defined(__AVX512F__)
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    const std::byte* end = p + bytes / 512 * 512;
    for (; p < end; p += 512) {
        for (int c = 0; c < 8; ++c) _mm_prefetch(reinterpret_cast<const char*>(p + prefetch_ahead + 64 * c), _MM_HINT_T1);
        a0 = _mm512_xor_si512(a0, _mm512_load_si512(p));
        a1 = _mm512_xor_si512(a1, _mm512_load_si512(p + 64));
        a2 = _mm512_xor_si512(a2, _mm512_load_si512(p + 128));
        a3 = _mm512_xor_si512(a3, _mm512_load_si512(p + 192));
        a4 = _mm512_xor_si512(a4, _mm512_load_si512(p + 256));
        a5 = _mm512_xor_si512(a5, _mm512_load_si512(p + 320));
        a6 = _mm512_xor_si512(a6, _mm512_load_si512(p + 384));
        a7 = _mm512_xor_si512(a7, _mm512_load_si512(p + 448));
    }
    const __m512i s = _mm512_xor_si512(_mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3)),
                                       _mm512_xor_si512(_mm512_xor_si512(a4, a5), _mm512_xor_si512(a6, a7)));
    alignas(64) std::uint64_t lanes[8];
    _mm512_store_si512(lanes, s);
    return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3] ^ lanes[4] ^ lanes[5] ^ lanes[6] ^ lanes[7];
#elif defined(__AVX2__)
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    const std::byte* end = p + bytes / 256 * 256;
    for (; p < end; p += 256) {
        for (int c = 0; c < 4; ++c) _mm_prefetch(reinterpret_cast<const char*>(p + prefetch_ahead + 64 * c), _MM_HINT_T1);
        a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
        a1 = _mm256_xor_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 96)));
        a4 = _mm256_xor_si256(a4, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 128)));
        a5 = _mm256_xor_si256(a5, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 160)));
        a6 = _mm256_xor_si256(a6, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 192)));
        a7 = _mm256_xor_si256(a7, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 224)));
    }
    const __m256i s = _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3)),
                                       _mm256_xor_si256(_mm256_xor_si256(a4, a5), _mm256_xor_si256(a6, a7)));
    return std::uint64_t(_mm256_extract_epi64(s, 0) | _mm256_extract_epi64(s, 1) | _mm256_extract_epi64(s, 2) | _mm256_extract_epi64(s, 3));
#else
    const auto* w = reinterpret_cast<const std::uint64_t*>(p);
    const std::size_t n = bytes / 64 * 8;
    std::uint64_t a[8] = {};
    for (std::size_t i = 0; i < n; i += 8)
        for (int k = 0; k < 8; ++k) a[k] ^= w[i + std::size_t(k)];
    return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
#endif
}

/// Pins the calling thread to the i-th CPU this process may run on (round robin).
inline void pin_to(int i) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    if (cpus.empty()) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpus[std::size_t(i) % cpus.size()], &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

}  // namespace membw_detail

/// A buffer of `bytes` (2 MiB aligned, transparent huge pages asked for, every page touched) whose
/// timed read passes give the machine's read bandwidth. In a pass the threads, each pinned to its own
/// CPU, take chunks (1 MiB by default) in order from a shared counter until none is left (as the decode kernels
/// share rows, thread_pool::run_balanced: a CPU the host takes away for a while holds up one chunk,
/// not the pass); a pass is timed from the common start to the end of the last thread. Benchmarks
/// that compare a kernel with the bandwidth interleave passes with their own runs (llmt-kernels),
/// so that both see the same state of the machine.
class read_meter {
public:
    /// `bytes` rounded down to whole chunks of `chunk` bytes (a multiple of 512; at least one chunk).
    explicit read_meter(std::size_t bytes = std::size_t(1) << 30, std::size_t chunk = std::size_t(1) << 20)
        : chunk_(std::max<std::size_t>(chunk / 512, 1) * 512), bytes_(std::max<std::size_t>(bytes / chunk_, 1) * chunk_) {
        buf_ = static_cast<std::byte*>(::operator new(bytes_, std::align_val_t(2 << 20)));
#ifdef MADV_HUGEPAGE
        ::madvise(buf_, bytes_, MADV_HUGEPAGE);
#endif
        for (std::size_t i = 0; i < bytes_; i += 4096) std::memset(buf_ + i, int(i >> 12) & 0xff, 4096);
    }
    read_meter(const read_meter&) = delete;
    read_meter& operator=(const read_meter&) = delete;
    ~read_meter() { ::operator delete(buf_, std::align_val_t(2 << 20)); }

    [[nodiscard]] std::size_t bytes() const { return bytes_; }

    /// Bytes/s of the best of `passes` timed passes with n_threads.
    double measure(int n_threads, int passes) {
        n_threads = std::max(1, n_threads);
        passes = std::max(1, passes);
        const std::size_t total = bytes_;
        const std::size_t n_chunks = total / chunk_;
        std::atomic<int> go{-1}, done{0};
        std::atomic<std::size_t> next{0};  // next chunk to read in this pass
        std::vector<std::uint64_t> sink(std::size_t(n_threads) * 8, 0);
        auto read_chunks = [&](int ith) {
            for (std::size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < n_chunks;)
                sink[std::size_t(ith) * 8] ^= membw_detail::read_slice(buf_ + c * chunk_, chunk_);
        };
        auto work = [&](int ith) {
            membw_detail::pin_to(ith);
            for (int pass = 0; pass < passes; ++pass) {
                while (go.load(std::memory_order_acquire) < pass) {
                }
                read_chunks(ith);
                done.fetch_add(1, std::memory_order_acq_rel);
            }
        };
        std::vector<std::thread> helpers;
        for (int i = 1; i < n_threads; ++i) helpers.emplace_back(work, i);
        cpu_set_t saved;
        CPU_ZERO(&saved);
        const bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
        membw_detail::pin_to(0);
        double best = 0;
        for (int pass = 0; pass < passes; ++pass) {
            // the helpers spin on `go`; give them a moment to be on their CPUs before the clock starts
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            next.store(0, std::memory_order_relaxed);  // every thread is done with the last pass; `go` publishes it
            const auto t0 = std::chrono::steady_clock::now();
            go.store(pass, std::memory_order_release);
            read_chunks(0);
            done.fetch_add(1, std::memory_order_acq_rel);
            while (done.load(std::memory_order_acquire) < n_threads * (pass + 1)) {
            }
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            best = std::max(best, double(total) / s);
        }
        for (auto& h : helpers) h.join();
        // unpin the caller (threads created later inherit its mask)
        if (have_saved) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
        for (auto v : sink) sink_ ^= v;  // keeps the reads alive
        return best;
    }

    /// Whatever the passes read, folded together; only there so the compiler keeps the reads.
    [[nodiscard]] std::uint64_t sink() const { return sink_; }

private:
    std::size_t chunk_ = 0, bytes_ = 0;
    std::byte* buf_ = nullptr;
    std::uint64_t sink_ = 0;
};

/// Read bandwidth in bytes/s with n_threads over a buffer of `bytes` (default 1 GiB, far above any
/// LLC): the best of `passes` passes of a read_meter.
inline double read_bandwidth(int n_threads, std::size_t bytes = std::size_t(1) << 30, int passes = 6) {
    read_meter m(bytes);
    const double best = m.measure(n_threads, passes);
    return m.sink() == 0x5a5a5a5a5a5a5a5aull ? best * (1 + 1e-12) : best;
}

}  // namespace llmt_bench
