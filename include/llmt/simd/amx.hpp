// amx: the AMX tile configuration and tile instructions as inline assembly that the optimizer cannot drop or reorder
#pragma once

#include <llmt/config.hpp>
#include <llmt/simd/x86.hpp>

#include <cstddef>
#include <cstdint>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
namespace simd::amx {

// Every instruction is a volatile asm statement with a "memory" clobber (or a memory operand), so
// GCC neither drops the configuration bytes as dead stores nor moves loads and stores of the
// buffers the tiles read and write across them. No compile flag is needed: the assembler knows AMX,
// and the caller checks simd::amx_permitted() first.

/// A palette-1 tile configuration (64 bytes, as ldtilecfg reads it).
struct alignas(64) tile_config {
    std::uint8_t palette = 1;
    std::uint8_t start_row = 0;
    std::uint8_t reserved[14] = {};
    std::uint16_t colsb[16] = {};  // bytes per row of tile i
    std::uint8_t rows[16] = {};    // rows of tile i
    void set(int tile, int n_rows, int bytes_per_row) noexcept {
        rows[tile] = std::uint8_t(n_rows);
        colsb[tile] = std::uint16_t(bytes_per_row);
    }
};
static_assert(sizeof(tile_config) == 64, "ldtilecfg reads 64 bytes");

/// Loads the configuration into this thread's tile state (zeroing every tile).
inline void load_config(const tile_config& c) noexcept {
    __asm__ volatile("ldtilecfg %0" : : "m"(c) : "memory");
}
/// Returns the tile state to INIT (cheaper context switches); call when a thread is done with the tiles.
inline void release() noexcept {
    __asm__ volatile("tilerelease" : : : "memory");
}

// Tile numbers are immediates in the instructions, hence the macros of fixed registers.
#define LLMT_AMX_TILELOAD(T, base, stride) \
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #T : : "r"(base), "r"(std::int64_t(stride)) : "memory")
#define LLMT_AMX_TILESTORE(T, base, stride) \
    __asm__ volatile("tilestored %%tmm" #T ", (%0,%1,1)" : : "r"(base), "r"(std::int64_t(stride)) : "memory")
#define LLMT_AMX_TILEZERO(T) __asm__ volatile("tilezero %%tmm" #T : : : "memory")
/// tmm C += int8 tmm A · int8 tmm B (signed × signed, int32 sums of 4-byte groups).
#define LLMT_AMX_DPBSSD(C, A, B) __asm__ volatile("tdpbssd %%tmm" #B ", %%tmm" #A ", %%tmm" #C : : : "memory")
/// tmm C += bf16 tmm A · bf16 tmm B (f32 sums of pairs).
#define LLMT_AMX_DPBF16PS(C, A, B) __asm__ volatile("tdpbf16ps %%tmm" #B ", %%tmm" #A ", %%tmm" #C : : : "memory")

}  // namespace simd::amx
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
