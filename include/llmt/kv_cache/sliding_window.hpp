// sliding_window: the KV cache policy that keeps only the attention window, as a ring of cells
#pragma once

#include <llmt/config.hpp>
#include <llmt/kv_cache/element.hpp>
#include <llmt/kv_cache/policy.hpp>

#include <algorithm>
#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace kv_cache {

/// A ring of window + n_batch - 1 cells (position p lives in cell p % cells): a batch of n_batch
/// tokens can write its keys before reading, and the oldest token of the batch still sees its full
/// window. Memory no longer grows with the context. Needs a window (the file's, or load_options).
template <typename E>
struct sliding_window {
    static_assert(kv_element<E>, "llmt::kv_cache::sliding_window<E>: the KV element type E must be llmt::f32, llmt::f16 or llmt::q8_0");
    using element = E;
    static constexpr std::string_view name = "kv_cache::sliding_window";
    static constexpr bool ring = true;
    static constexpr std::int64_t cells(std::int64_t n_ctx, std::int64_t window, std::int64_t n_batch) noexcept {
        // window ≥ n_ctx first: a window from the file may be near INT64_MAX, window + n_batch would overflow
        return window > 0 && window < n_ctx ? std::min(n_ctx, window + n_batch - 1) : n_ctx;
    }
};

}  // namespace kv_cache
LLMT_END_NAMESPACE
