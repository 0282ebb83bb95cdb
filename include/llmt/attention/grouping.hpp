// grouping: the attention head-grouping policies mha, gqa<N>, mqa and the attention_grouping concept
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace attention {

/// How query heads share KV heads. Query head h reads KV head h / (n_head / n_head_kv).
/// check(n_head, n_head_kv) refuses a file whose head counts the policy does not allow.
template <typename G>
concept attention_grouping = requires(std::int64_t n_head, std::int64_t n_head_kv) {
    { G::name } -> std::convertible_to<std::string_view>;
    { G::group } -> std::convertible_to<std::int64_t>;  // pinned query heads per KV head, 0 = from the file
    G::check(n_head, n_head_kv);
};

/// Multi-head attention: one KV head per query head.
struct mha {
    static constexpr std::string_view name = "mha";
    static constexpr std::int64_t group = 1;
    static void check(std::int64_t n_head, std::int64_t n_head_kv) {
        LLMT_CHECK_CODE(n_head_kv == n_head, errc::config,
                        "this model type uses llmt::mha (n_head_kv == n_head) but the file has n_head {} and n_head_kv {}: "
                        "use llmt::gqa<> instead", n_head, n_head_kv);
    }
};

/// Grouped-query attention. N pins the number of query heads per KV head; gqa<> takes it from the file.
template <std::int64_t N = 0>
struct gqa {
    static_assert(N >= 0, "llmt::gqa<N>: N is the number of query heads per KV head; it must be positive, or omitted (gqa<>) to take it from the file");
    static constexpr std::string_view name = "gqa";
    static constexpr std::int64_t group = N;
    static void check(std::int64_t n_head, std::int64_t n_head_kv) {
        LLMT_CHECK_CODE(n_head_kv > 0 && n_head % n_head_kv == 0, errc::config,
                        "llmt::gqa: n_head {} is not a multiple of n_head_kv {}", n_head, n_head_kv);
        if constexpr (N > 0)
            LLMT_CHECK_CODE(n_head / n_head_kv == N, errc::config,
                            "this model type pins llmt::gqa<{}> ({} query heads per KV head) but the file has n_head {} and "
                            "n_head_kv {} ({} per KV head): use llmt::gqa<{}> or llmt::gqa<>",
                            N, N, n_head, n_head_kv, n_head / n_head_kv, n_head / n_head_kv);
    }
};

/// Multi-query attention: one KV head shared by all query heads.
struct mqa {
    static constexpr std::string_view name = "mqa";
    static constexpr std::int64_t group = 0;
    static void check(std::int64_t n_head, std::int64_t n_head_kv) {
        LLMT_CHECK_CODE(n_head_kv == 1, errc::config,
                        "this model type uses llmt::mqa (n_head_kv == 1) but the file has n_head {} and n_head_kv {}: "
                        "use llmt::gqa<> instead", n_head, n_head_kv);
    }
};

static_assert(attention_grouping<mha> && attention_grouping<gqa<>> && attention_grouping<mqa>);

}  // namespace attention

using attention::attention_grouping;
using attention::gqa;
using attention::mha;
using attention::mqa;
LLMT_END_NAMESPACE
