// contiguous: the KV cache policy that keeps every position of the context, one cell per position
#pragma once

#include <llmt/config.hpp>
#include <llmt/kv_cache/element.hpp>
#include <llmt/kv_cache/policy.hpp>

#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace kv_cache {

/// n_ctx cells; position p lives in cell p. A sliding window set by the file is honoured as a mask.
template <typename E>
struct contiguous {
    static_assert(kv_element<E>, "llmt::kv_cache::contiguous<E>: the KV element type E must be llmt::f32, llmt::f16 or llmt::q8_0");
    using element = E;
    static constexpr std::string_view name = "kv_cache::contiguous";
    static constexpr bool ring = false;
    static constexpr std::int64_t cells(std::int64_t n_ctx, std::int64_t /*window*/, std::int64_t /*n_batch*/) noexcept {
        return n_ctx;
    }
};

}  // namespace kv_cache
LLMT_END_NAMESPACE
