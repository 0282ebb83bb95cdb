// qtype: the ggml/GGUF tensor type ids with a constexpr table of name, block size and bytes per block
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace quant {

/// Tensor element types; the values are the on-disk GGUF ids (ggml's `enum ggml_type`).
enum class qtype : std::uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3,
    q4_2 = 4, q4_3 = 5,  // removed from ggml in 2023: listed, never loadable
    q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
    q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
    iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22,
    iq4_xs = 23, i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
    q4_0_4_4 = 31, q4_0_4_8 = 32, q4_0_8_8 = 33,  // removed (repacked at load by ggml now)
    tq1_0 = 34, tq2_0 = 35,
    iq4_nl_4_4 = 36, iq4_nl_4_8 = 37, iq4_nl_8_8 = 38,  // removed
    mxfp4 = 39, nvfp4 = 40, q1_0 = 41,
};

inline constexpr std::uint32_t qtype_count = 42;

struct qtype_traits {
    std::string_view name;     // ggml's name ("q4_K", "f16", ...)
    std::uint32_t block_size;  // elements per block; 0 when unknown (q4_2, q4_3)
    std::uint32_t type_size;   // bytes per block; 0 when unknown (q4_2, q4_3)
    bool removed = false;      // ggml dropped the id: tensors can be listed, never computed
};

// Sizes from the block structs of ggml-common.h (bytes = sizeof(block_X), elements = QK_X):
//   q4_0  {f16 d; u8 qs[16]}                      = 18 / 32     q4_1 {f16 d, m; u8 qs[16]}     = 20 / 32
//   q5_0  {f16 d; u8 qh[4]; u8 qs[16]}            = 22 / 32     q5_1 {f16 d, m; qh[4]; qs[16]} = 24 / 32
//   q8_0  {f16 d; i8 qs[32]}                      = 34 / 32     q8_1 {f16 d, s; i8 qs[32]}     = 36 / 32
//   q2_K  {u8 scales[16]; u8 qs[64]; f16 d, dmin} = 84 / 256
//   q3_K  {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}          = 110 / 256
//   q4_K  {f16 d, dmin; u8 scales[12]; u8 qs[128]}                 = 144 / 256
//   q5_K  {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}      = 176 / 256
//   q6_K  {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}            = 210 / 256
//   q8_K  {f32 d; i8 qs[256]; i16 bsums[16]}                       = 292 / 256
//   iq2_xxs {f16 d; u16 qs[32]} = 66      iq2_xs {f16 d; u16 qs[32]; u8 scales[8]} = 74
//   iq3_xxs {f16 d; u8 qs[96]}  = 98      iq1_s  {f16 d; u8 qs[32]; u16 qh[8]}     = 50
//   iq3_s {f16 d; u8 qs[64]; u8 qh[8]; u8 signs[32]; u8 scales[4]} = 110
//   iq2_s {f16 d; u8 qs[64]; u8 qh[8]; u8 scales[8]}               = 82
//   iq4_xs {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}       = 136 / 256
//   iq4_nl {f16 d; u8 qs[16]} = 18 / 32   iq1_m {u8 qs[32]; u8 qh[16]; u8 scales[8]} = 56 / 256
//   tq1_0 {u8 qs[48]; u8 qh[4]; f16 d} = 54 / 256   tq2_0 {u8 qs[64]; f16 d} = 66 / 256
//   mxfp4 {u8 e; u8 qs[16]} = 17 / 32   nvfp4 {u8 d[4]; u8 qs[32]} = 36 / 64
//   q1_0  {f16 d; u8 qs[16]} = 18 / 128
// The removed interleaved ids (31-33, 36-38) were stored with the q4_0 / iq4_nl block size, so
// old files holding them can still be listed. q4_2 / q4_3 were gone before GGUF existed.
inline constexpr std::array<qtype_traits, qtype_count> qtype_table{{
    {"f32", 1, 4},        {"f16", 1, 2},        {"q4_0", 32, 18},    {"q4_1", 32, 20},
    {"q4_2", 0, 0, true}, {"q4_3", 0, 0, true}, {"q5_0", 32, 22},    {"q5_1", 32, 24},
    {"q8_0", 32, 34},     {"q8_1", 32, 36},     {"q2_K", 256, 84},   {"q3_K", 256, 110},
    {"q4_K", 256, 144},   {"q5_K", 256, 176},   {"q6_K", 256, 210},  {"q8_K", 256, 292},
    {"iq2_xxs", 256, 66}, {"iq2_xs", 256, 74},  {"iq3_xxs", 256, 98}, {"iq1_s", 256, 50},
    {"iq4_nl", 32, 18},   {"iq3_s", 256, 110},  {"iq2_s", 256, 82},  {"iq4_xs", 256, 136},
    {"i8", 1, 1},         {"i16", 1, 2},        {"i32", 1, 4},       {"i64", 1, 8},
    {"f64", 1, 8},        {"iq1_m", 256, 56},   {"bf16", 1, 2},      {"q4_0_4_4", 32, 18, true},
    {"q4_0_4_8", 32, 18, true},   {"q4_0_8_8", 32, 18, true},   {"tq1_0", 256, 54},  {"tq2_0", 256, 66},
    {"iq4_nl_4_4", 32, 18, true}, {"iq4_nl_4_8", 32, 18, true}, {"iq4_nl_8_8", 32, 18, true},
    {"mxfp4", 32, 17},    {"nvfp4", 64, 36},    {"q1_0", 128, 18},
}};

/// True for every id in the table (including removed ones, which can at least be named).
constexpr bool is_known(std::uint32_t id) noexcept { return id < qtype_count; }
/// True when the id has a block layout (tensors of it can be sized and listed).
constexpr bool is_sized(std::uint32_t id) noexcept {
    return id < qtype_count && qtype_table[id].block_size != 0;
}
/// True for ids ggml dropped (q4_2, q4_3 and the interleaved q4_0_X_Y / iq4_nl_X_Y).
constexpr bool is_removed(std::uint32_t id) noexcept { return id < qtype_count && qtype_table[id].removed; }
constexpr const qtype_traits& traits(qtype t) noexcept { return qtype_table[std::uint32_t(t)]; }
constexpr std::string_view name(qtype t) noexcept { return traits(t).name; }
constexpr std::uint32_t block_size(qtype t) noexcept { return traits(t).block_size; }
constexpr std::uint32_t type_size(qtype t) noexcept { return traits(t).type_size; }

/// Bytes of one row of n elements; n must be a multiple of the block size.
constexpr std::size_t row_size(qtype t, std::size_t n) noexcept {
    return n / block_size(t) * type_size(t);
}

/// Bits per weight of the format (e.g. 4.5 for q4_0).
constexpr double bits_per_weight(qtype t) noexcept {
    return block_size(t) ? 8.0 * type_size(t) / block_size(t) : 0.0;
}

/// Looks a type up by ggml name, case-insensitively ("Q4_K", "q4_k", "F16").
constexpr std::optional<qtype> from_name(std::string_view s) noexcept {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    for (std::uint32_t i = 0; i < qtype_count; ++i) {
        const auto n = qtype_table[i].name;
        if (n.size() != s.size()) continue;
        bool eq = true;
        for (std::size_t k = 0; k < n.size() && eq; ++k) eq = lower(n[k]) == lower(s[k]);
        if (eq) return qtype(i);
    }
    return std::nullopt;
}

}  // namespace quant
LLMT_END_NAMESPACE
