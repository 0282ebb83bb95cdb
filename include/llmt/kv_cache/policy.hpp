// policy: the kv_cache_policy concept (storage layout + element type of the KV cache)
#pragma once

#include <llmt/config.hpp>
#include <llmt/kv_cache/element.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace kv_cache {

/// A KV cache policy names its element type and decides how many cells to allocate and which
/// cell holds a position. cells(n_ctx, window, n_batch): window is the attention window (0 = none).
template <typename P>
concept kv_cache_policy = requires(std::int64_t n) {
    typename P::element;
    requires kv_element<typename P::element>;
    { P::name } -> std::convertible_to<std::string_view>;
    { P::ring } -> std::convertible_to<bool>;  // cell = pos % cells (true) or pos (false)
    { P::cells(n, n, n) } -> std::convertible_to<std::int64_t>;
};

}  // namespace kv_cache
LLMT_END_NAMESPACE
