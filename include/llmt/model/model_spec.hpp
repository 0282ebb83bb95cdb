// model_spec: the compile-time composition of a model type from its policies, checked with named messages
#pragma once

#include <llmt/config.hpp>
#include <llmt/attention/grouping.hpp>
#include <llmt/core/type_list.hpp>
#include <llmt/kv_cache/policy.hpp>
#include <llmt/layers/feed_forward.hpp>
#include <llmt/layers/norm.hpp>
#include <llmt/layers/rope.hpp>
#include <llmt/quant/format.hpp>

#include <array>
#include <string_view>
#include <type_traits>

LLMT_BEGIN_NAMESPACE

namespace detail {
template <typename T>
struct is_weight_types : std::false_type {};
template <typename... Fs>
struct is_weight_types<quant::weight_types<Fs...>> : std::true_type {};
}  // namespace detail

/// True for instantiations of llmt::quant::weight_types<...>.
template <typename W>
concept weight_type_list = detail::is_weight_types<W>::value;

namespace detail {
template <typename W>
constexpr bool weights_have_f32() {
    if constexpr (weight_type_list<W>) return contains_v<quant::f32, typename W::list>;
    else return true;  // reported separately
}
}  // namespace detail

/// A model type: norm, attention grouping, RoPE style, feed-forward kind, KV cache, and the set of
/// weight formats it accepts. Sizes come from the file at load; pinned sizes are checked there.
///   model_spec<rms_norm, gqa<>, rope_normal, swiglu, kv_cache::contiguous<f16>, weight_types<q4_0, q8_0, f32>>
template <typename Norm, typename Attention, typename Rope, typename FeedForward, typename KvCache, typename Weights>
struct model_spec {
    static_assert(norm_policy<Norm>,
                  "llmt::model_spec: the 1st parameter must be a norm policy: llmt::rms_norm or llmt::layer_norm");
    static_assert(attention_grouping<Attention>,
                  "llmt::model_spec: the 2nd parameter must be an attention grouping policy: llmt::mha, llmt::gqa<> (or gqa<N>) or llmt::mqa");
    static_assert(rope_policy<Rope>,
                  "llmt::model_spec: the 3rd parameter must be a RoPE policy: llmt::rope_normal or llmt::rope_neox");
    static_assert(feed_forward_policy<FeedForward>,
                  "llmt::model_spec: the 4th parameter must be a feed-forward policy: llmt::swiglu, llmt::geglu or llmt::gelu_mlp");
    static_assert(kv_cache::kv_cache_policy<KvCache>,
                  "llmt::model_spec: the 5th parameter must be a KV cache policy: llmt::kv_cache::contiguous<E> or llmt::kv_cache::sliding_window<E>");
    static_assert(weight_type_list<Weights>,
                  "llmt::model_spec: the 6th parameter must be the set of weight formats, llmt::weight_types<...>");
    static_assert(detail::weights_have_f32<Weights>(),
                  "llmt::model_spec: weight_types<...> must include llmt::f32 (norm weights are stored as f32)");

    using norm = Norm;
    using attention = Attention;
    using rope = Rope;
    using feed_forward = FeedForward;
    using kv_policy = KvCache;
    using weights = Weights;
    /// Architectures (general.architecture) this spec accepts; empty = any (a user-composed spec).
    static constexpr std::array<std::string_view, 0> architectures{};
};

namespace detail {
template <typename S>
concept has_spec_members = requires {
    typename S::norm;
    typename S::attention;
    typename S::rope;
    typename S::feed_forward;
    typename S::kv_policy;
    typename S::weights;
};
}  // namespace detail

/// What llmt::model<Spec> requires of Spec (each part has its own message in model_spec).
template <typename S>
concept model_spec_type = detail::has_spec_members<S> && norm_policy<typename S::norm> &&
                          attention_grouping<typename S::attention> && rope_policy<typename S::rope> &&
                          feed_forward_policy<typename S::feed_forward> && kv_cache::kv_cache_policy<typename S::kv_policy> &&
                          weight_type_list<typename S::weights> && detail::weights_have_f32<typename S::weights>();

LLMT_END_NAMESPACE
