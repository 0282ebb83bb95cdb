// store: the KV cache storage of one sequence (keys and values of every layer, per policy and element type)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/limits.hpp>
#include <llmt/kv_cache/element.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace kv_cache {

/// Keys and values of one sequence, stored as E. Cells are [n_kv_head][head_dim] head rows.
template <kv_element E>
class store {
public:
    using ops = element_ops<E>;

    store() = default;
    store(std::int64_t n_layer, std::int64_t n_cells, std::int64_t n_kv_head, std::int64_t head_dim, bool ring)
        : n_layer_(n_layer), n_cells_(n_cells), n_kv_head_(n_kv_head), head_dim_(head_dim), ring_(ring) {
        LLMT_CHECK_CODE(head_dim % E::block_size == 0, errc::config,
                        "kv cache: head_dim {} is not a multiple of the {} block size {}: choose another KV element type",
                        head_dim, ops::name, E::block_size);
        LLMT_CHECK_CODE(n_layer > 0 && n_cells > 0 && n_kv_head > 0 && head_dim > 0, errc::invalid_argument,
                        "kv cache: {} layers, {} cells, {} heads of {} values: every size must be positive", n_layer, n_cells,
                        n_kv_head, head_dim);
        head_bytes_ = ops::row_bytes(head_dim);
        cell_bytes_ = size_product(errc::invalid_argument, "kv cache cell", head_bytes_, n_kv_head);
        const std::size_t total = size_product(errc::invalid_argument, "kv cache", cell_bytes_, n_cells, n_layer);
        k_.assign(total, std::byte{0});
        v_.assign(total, std::byte{0});
    }

    [[nodiscard]] std::int64_t n_cells() const noexcept { return n_cells_; }
    [[nodiscard]] bool ring() const noexcept { return ring_; }
    [[nodiscard]] std::size_t head_bytes() const noexcept { return head_bytes_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return k_.size() + v_.size(); }
    [[nodiscard]] std::int64_t cell_of(std::int64_t pos) const noexcept { return ring_ ? pos % n_cells_ : pos; }

    /// Stores k and v ([n_kv_head][head_dim] f32 each) of layer at position pos.
    void write(std::int64_t layer, std::int64_t pos, const float* k, const float* v) noexcept {
        std::byte* kc = k_cell(layer, cell_of(pos));
        std::byte* vc = v_cell(layer, cell_of(pos));
        for (std::int64_t h = 0; h < n_kv_head_; ++h) {
            ops::store(k + h * head_dim_, kc + std::size_t(h) * head_bytes_, head_dim_);
            ops::store(v + h * head_dim_, vc + std::size_t(h) * head_bytes_, head_dim_);
        }
    }
    /// The stored key / value row of KV head h at position pos.
    [[nodiscard]] const std::byte* k_row(std::int64_t layer, std::int64_t pos, std::int64_t h) const noexcept {
        return k_.data() + offset(layer, cell_of(pos)) + std::size_t(h) * head_bytes_;
    }
    [[nodiscard]] const std::byte* v_row(std::int64_t layer, std::int64_t pos, std::int64_t h) const noexcept {
        return v_.data() + offset(layer, cell_of(pos)) + std::size_t(h) * head_bytes_;
    }

private:
    [[nodiscard]] std::size_t offset(std::int64_t layer, std::int64_t cell) const noexcept {
        return (std::size_t(layer) * std::size_t(n_cells_) + std::size_t(cell)) * cell_bytes_;
    }
    std::byte* k_cell(std::int64_t layer, std::int64_t cell) noexcept { return k_.data() + offset(layer, cell); }
    std::byte* v_cell(std::int64_t layer, std::int64_t cell) noexcept { return v_.data() + offset(layer, cell); }

    std::int64_t n_layer_ = 0, n_cells_ = 0, n_kv_head_ = 0, head_dim_ = 0;
    bool ring_ = false;
    std::size_t head_bytes_ = 0;  // bytes of one stored head row
    std::size_t cell_bytes_ = 0;  // bytes of one cell: n_kv_head head rows
    std::vector<std::byte> k_;    // [n_layer][n_cells][n_kv_head][head_dim] as E
    std::vector<std::byte> v_;    // [n_layer][n_cells][n_kv_head][head_dim] as E
};

}  // namespace kv_cache
LLMT_END_NAMESPACE
