// test_alloc: the hot path (forward over a batch and over one token, any thread count) allocates nothing
//
// This translation unit replaces the global operator new/delete of llmt-tests with counting
// versions: allocations are counted while `counting` is set (in the calling thread or a worker).
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
std::atomic<std::size_t> refuse_over{0};  // when not 0, a request of more bytes throws std::bad_alloc

void refuse_if_over(std::size_t n) {
    const std::size_t limit = refuse_over.load(std::memory_order_relaxed);
    if (limit != 0 && n > limit) throw std::bad_alloc();
}

void* counted_alloc(std::size_t n) {
    refuse_if_over(n);
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* counted_alloc_aligned(std::size_t n, std::align_val_t al) {
    refuse_if_over(n);
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    const std::size_t a = static_cast<std::size_t>(al);
    if (void* p = std::aligned_alloc(a, (n + a - 1) / a * a)) return p;
    throw std::bad_alloc();
}

/// Allocations made while f runs.
template <typename F>
long allocations_during(F&& f) {
    allocations = 0;
    counting = true;
    f();
    counting = false;
    return allocations.load();
}

const std::string models_dir = LLMT_MODELS_DIR "/stories260K/";
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc_aligned(n, a); }
// The nothrow forms too (std::stable_sort's buffer uses them): every allocation of the program
// must come from this family, or ASan sees operator new paired with free.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    try {
        return counted_alloc_aligned(n, a);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept { return operator new(n, a, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

TEST_CASE("hot path: the counter sees allocations") {
    // The check below is only meaningful if a plain std::vector is counted.
    CHECK(allocations_during([] { std::vector<int> v(100); (void)v; }) >= 1);
}

TEST_CASE("hot path: forward over a batch and over single tokens allocates nothing, with 1 and 2 threads") {
    for (const char* file : {"stories260K.gguf", "stories260K-Q4_0.gguf", "stories260K-Q4_K_M.gguf"}) {
        for (int threads : {1, 2}) {
            auto m = llmt::load_any(models_dir + file, {.context = 128, .batch = 16, .threads = threads});
            std::vector<float> logits(std::size_t(m->params().n_vocab) * 16);
            const std::vector<llmt::token_id> prompt = {1, 403, 407, 261, 378, 429, 12, 7};
            std::vector<llmt::token_id> one = {403};
            // The first calls may size caches; measure the steady state after them.
            m->forward(prompt, 0, logits, true);
            m->forward(one, std::int64_t(prompt.size()), logits, false);
            m->clear();
            const long n = allocations_during([&] {
                m->forward(prompt, 0, logits, true);
                for (int i = 0; i < 32; ++i) {
                    one[0] = (one[0] * 31 + 7) % 512;
                    m->forward(one, std::int64_t(prompt.size()) + i, logits, false);
                }
            });
            CHECK_MESSAGE(n == 0, file << " with " << threads << " threads: " << n << " allocations in 1 prefill + 32 decode steps");
        }
    }
}

TEST_CASE("sampling: the penalties' memory follows the window, not the values of the token ids") {
    // Found by fuzz_sampling: accept(2^31 - 1) resized a count vector to 2^31 ints (8 GiB).
    struct limit {
        limit() { refuse_over = std::size_t(1) << 20; }  // 1 MiB
        ~limit() { refuse_over = 0; }
    };
    llmt::sampling::penalties pen{4, 2.0f};
    {
        limit l;
        CHECK_NOTHROW(pen.accept(INT32_MAX));
        CHECK_NOTHROW(pen.accept(3));
        CHECK_NOTHROW(pen.accept(INT32_MAX - 1));
    }
    CHECK(pen.count(INT32_MAX) == 1);
    CHECK(pen.count(3) == 1);
    llmt::sampling::candidate_array c;
    const std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f, -1.0f};
    c.fill(logits);
    pen.apply(c);
    for (std::size_t i = 0; i < c.size(); ++i) {
        const float expected = c[i].id == 3 ? 0.5f : logits[std::size_t(c[i].id)];
        CHECK(c[i].logit == expected);
    }
}
