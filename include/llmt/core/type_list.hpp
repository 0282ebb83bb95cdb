// type_list: a compile-time list of types with membership, index and for_each
#pragma once

#include <llmt/config.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

LLMT_BEGIN_NAMESPACE

template <typename... Ts>
struct type_list {
    static constexpr std::size_t size = sizeof...(Ts);
};

template <typename T, typename List>
struct contains;
template <typename T, typename... Ts>
struct contains<T, type_list<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};
template <typename T, typename List>
inline constexpr bool contains_v = contains<T, List>::value;

/// Calls f(std::type_identity<T>{}) for every T in the list, in order.
template <typename... Ts, typename F>
constexpr void for_each_type(type_list<Ts...>, F&& f) {
    (f(std::type_identity<Ts>{}), ...);
}

LLMT_END_NAMESPACE
