// paged: the KV cache of many sequences, a pool of fixed-size blocks with block tables, copy-on-write and a prefix index
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/limits.hpp>
#include <llmt/core/token.hpp>
#include <llmt/io/mapped_file.hpp>  // io::page_buffer
#include <llmt/kv_cache/element.hpp>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace kv_cache {

/// Index of a block of the pool.
using block_id = std::int32_t;
/// Index of a sequence of a paged cache; ids of removed sequences are reused.
using seq_id = std::int32_t;

/// The prefix index's hash of a block: of its parent's hash (a fixed seed for a prompt's first block) and its
/// tokens. The index compares the parent and the tokens themselves; the hash only picks a bucket (tests pass a
/// hash that makes every key collide).
struct block_hash {
    static constexpr std::uint64_t root = 0x9e3779b97f4a7c15ull;
    [[nodiscard]] std::uint64_t operator()(std::uint64_t parent, std::span<const token_id> toks) const noexcept {
        std::uint64_t h = parent;
        for (const token_id t : toks) h = (h ^ std::uint32_t(t)) * 0x100000001b3ull;
        h ^= h >> 31;  // splitmix64's finaliser: the low bits choose the bucket
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebull;
        return h ^ (h >> 31);
    }
};

/// The counters of a paged cache (the server exports them). blocks_used + blocks_cached + blocks_free == blocks_total.
struct paged_stats {
    std::int64_t blocks_total = 0;   // the pool
    std::int64_t blocks_used = 0;    // referenced by at least one sequence
    std::int64_t blocks_cached = 0;  // unreferenced, kept for prefix reuse (evictable)
    std::int64_t blocks_free = 0;    // never used or evicted
    std::int64_t prefix_lookups = 0, prefix_hits = 0;  // match_prefix calls, and those that mapped >= 1 block
    std::int64_t prefix_tokens_reused = 0;             // positions mapped by match_prefix in all
    std::int64_t evictions = 0;                        // cached blocks given back to the free list to make room
};

/// A pool of n_blocks blocks of BlockTokens positions each (K and V of every layer and KV head, stored as E),
/// shared by sequences through per-sequence block tables. Blocks are reference-counted: fork shares them, a
/// write into a shared partly-filled block copies it first (append does that). Full blocks can be published
/// into a prefix index keyed by their tokens and their parent block; a new sequence maps the longest cached
/// prefix of its prompt instead of computing it. Unreferenced published blocks stay cached until append needs
/// room, then go least-recently-used first (Hash: see block_hash). Not thread-safe: one scheduler thread drives it; attention may
/// read views from many threads between two mutating calls.
template <kv_element E, std::int64_t BlockTokens = 16, typename Hash = block_hash>
class paged {
    static_assert(BlockTokens > 0 && (BlockTokens & (BlockTokens - 1)) == 0 && BlockTokens <= (std::int64_t(1) << 20),
                  "llmt::kv_cache::paged<E, BlockTokens>: BlockTokens must be a power of two (16 is the usual choice)");

public:
    using ops = element_ops<E>;
    static constexpr std::int64_t block_tokens = BlockTokens;
    /// Byte alignment of every block in the pool (block_bytes is a multiple of it).
    static constexpr std::size_t block_align = 64;

    /// Bytes of one block: K and V of BlockTokens positions, every layer and KV head (rounded up to block_align).
    static std::size_t block_bytes(std::int64_t n_layer, std::int64_t n_kv_head, std::int64_t head_dim) {
        check_shape(n_layer, n_kv_head, head_dim);
        const std::size_t raw =
            size_product(errc::invalid_argument, "kv_cache::paged block", ops::row_bytes(head_dim), BlockTokens, n_kv_head, n_layer, 2);
        LLMT_CHECK_CODE(raw <= std::numeric_limits<std::size_t>::max() - block_align, errc::invalid_argument,
                        "kv_cache::paged block: the size overflows ({} bytes)", raw);
        return (raw + block_align - 1) / block_align * block_align;
    }

    /// The blocks a memory budget of `bytes` holds (at most the block id limit); llmt::error when it holds
    /// none, naming the size of one block.
    static std::int64_t blocks_for_budget(std::size_t bytes, std::int64_t n_layer, std::int64_t n_kv_head, std::int64_t head_dim) {
        const std::size_t per = block_bytes(n_layer, n_kv_head, head_dim);
        LLMT_CHECK_CODE(bytes >= per, errc::invalid_argument,
                        "kv_cache::paged: a KV budget of {} holds no block: one block of {} positions ({} layers, {} KV "
                        "heads of {} {} values) takes {}",
                        format_bytes(bytes), BlockTokens, n_layer, n_kv_head, head_dim, ops::name, format_bytes(per));
        return std::int64_t(std::min<std::size_t>(bytes / per, std::size_t(std::numeric_limits<block_id>::max() - 1)));
    }

    paged() = default;
    /// A pool of n_blocks blocks. Its memory is reserved, not committed: resident memory grows with the
    /// blocks actually written.
    paged(std::int64_t n_layer, std::int64_t n_kv_head, std::int64_t head_dim, std::int64_t n_blocks)
        : n_layer_(n_layer), n_kv_head_(n_kv_head), head_dim_(head_dim), n_blocks_(n_blocks) {
        block_bytes_ = block_bytes(n_layer, n_kv_head, head_dim);
        LLMT_CHECK_CODE(n_blocks > 0, errc::invalid_argument,
                        "kv_cache::paged: a pool of {} blocks: it needs at least one block ({} bytes each)", n_blocks,
                        block_bytes_);
        LLMT_CHECK_CODE(n_blocks < std::numeric_limits<block_id>::max(), errc::invalid_argument,
                        "kv_cache::paged: {} blocks: at most {} blocks fit in a block id", n_blocks,
                        std::numeric_limits<block_id>::max() - 1);
        const std::size_t total = size_product(errc::invalid_argument, "kv_cache::paged pool", block_bytes_, n_blocks);
        row_bytes_ = ops::row_bytes(head_dim);
        head_stride_ = row_bytes_ * std::size_t(BlockTokens);
        v_offset_ = head_stride_ * std::size_t(n_kv_head);
        layer_bytes_ = 2 * v_offset_;
        rethrow_as_error(fmt::format("kv_cache::paged: reserving {} blocks ({})", n_blocks, format_bytes(total)), [&] {
            data_ = io::page_buffer(total);
            meta_.resize(std::size_t(n_blocks));
            block_toks_.resize(std::size_t(n_blocks) * std::size_t(BlockTokens));
            std::size_t nb = 1;
            while (nb < std::size_t(n_blocks)) nb *= 2;
            buckets_.assign(nb, none);
            mask_ = nb - 1;
            free_.reserve(std::size_t(n_blocks));
            scratch_.reserve(std::size_t(n_blocks));
        });
        // Lowest ids first: the blocks in use stay packed at the start of the buffer.
        for (std::int64_t b = n_blocks; b-- > 0;) free_.push_back(block_id(b));
    }
    paged(paged&&) noexcept = default;
    paged& operator=(paged&&) noexcept = default;
    paged(const paged&) = delete;
    paged& operator=(const paged&) = delete;

    // ---- sequences ----

    /// A new empty sequence.
    seq_id create() {
        if (!free_ids_.empty()) {
            const seq_id s = free_ids_.back();
            free_ids_.pop_back();
            seqs_[std::size_t(s)].alive = true;
            ++n_seq_;
            return s;
        }
        LLMT_CHECK_CODE(seqs_.size() < std::size_t(std::numeric_limits<seq_id>::max()), errc::runtime,
                        "kv_cache::paged: {} sequences exist: no more sequence ids", seqs_.size());
        rethrow_as_error("kv_cache::paged: creating a sequence", [&] {
            seqs_.emplace_back();
            try {
                free_ids_.reserve(seqs_.size());  // remove() then never allocates
            } catch (...) {
                seqs_.pop_back();
                throw;
            }
        });
        seqs_.back().alive = true;
        ++n_seq_;
        return seq_id(seqs_.size() - 1);
    }

    /// A new sequence sharing every block of parent (their reference counts rise), its tokens included.
    /// Do not fork between append and the write of the appended positions.
    seq_id fork(seq_id parent) {
        const sequence& p = seq(parent, "fork");
        sequence child;
        rethrow_as_error("kv_cache::paged: forking a sequence", [&] {
            child.table = p.table;
            child.toks = p.toks;
            child.canon = p.canon;
        });
        const seq_id s = create();
        for (const block_id b : child.table)
            if (b != none) acquire(b);
        child.alive = true;
        seqs_[std::size_t(s)] = std::move(child);
        return s;
    }

    /// Keeps positions < n_pos (0 <= n_pos <= size(s)); the blocks wholly past it are released.
    void truncate(seq_id s, std::int64_t n_pos) {
        sequence& q = seq(s, "truncate");
        LLMT_CHECK_CODE(n_pos >= 0 && n_pos <= std::int64_t(q.toks.size()), errc::invalid_argument,
                        "kv_cache::paged: truncating sequence {} to {} positions: it holds {}, the new size must be "
                        "between 0 and that",
                        s, n_pos, q.toks.size());
        const std::size_t keep = std::size_t(blocks_for(n_pos));
        LLMT_CHECK_CODE(keep == 0 || q.table[keep - 1] != none, errc::invalid_argument,
                        "kv_cache::paged: truncating sequence {} to {} positions: the blocks before position {} were released "
                        "(release_before), so it cannot be rewound there",
                        s, n_pos, q.first_held);
        for (std::size_t i = q.table.size(); i-- > keep;)
            if (q.table[i] != none) release(q.table[i]);
        q.table.resize(keep);
        if (keep == 0) q.first_held = 0;
        q.toks.resize(std::size_t(n_pos));
        q.canon.resize(std::min(q.canon.size(), std::size_t(n_pos / BlockTokens)));
    }

    /// Drops s: its blocks' reference counts fall (the last blocks first, so that the tail of a cached prefix
    /// is evicted before its head). Its id may be returned by a later create or fork.
    void remove(seq_id s) {
        sequence& q = seq(s, "remove");
        for (std::size_t i = q.table.size(); i-- > 0;)
            if (q.table[i] != none) release(q.table[i]);
        q.table.clear();
        q.first_held = 0;
        q.toks.clear();
        q.canon.clear();
        q.alive = false;
        --n_seq_;
        free_ids_.push_back(s);  // reserved by create
    }

    [[nodiscard]] bool contains(seq_id s) const noexcept {
        return s >= 0 && std::size_t(s) < seqs_.size() && seqs_[std::size_t(s)].alive;
    }
    /// Positions held by s.
    [[nodiscard]] std::int64_t size(seq_id s) const { return std::int64_t(seq(s, "size").toks.size()); }
    /// The token of each position held by s.
    [[nodiscard]] std::span<const token_id> tokens(seq_id s) const { return seq(s, "tokens").toks; }
    [[nodiscard]] std::int64_t n_seq() const noexcept { return n_seq_; }

    /// Reserves the bookkeeping of s for n_pos positions, so that appending up to them allocates nothing.
    void reserve(seq_id s, std::int64_t n_pos) {
        sequence& q = seq(s, "reserve");
        LLMT_CHECK_CODE(n_pos >= 0, errc::invalid_argument, "kv_cache::paged: reserving {} positions for sequence {}", n_pos, s);
        rethrow_as_error("kv_cache::paged: reserving a sequence's tables", [&] {
            q.toks.reserve(std::size_t(n_pos));
            q.table.reserve(std::size_t(blocks_for(n_pos)));
            q.canon.reserve(std::size_t(n_pos / BlockTokens));
        });
    }

    /// Gives back the blocks of s that hold only positions before pos: a sliding-window model never reads
    /// them again. Their table entries become empty; the positions stay counted in size(s) and tokens(s),
    /// and s cannot be truncated into them any more.
    void release_before(seq_id s, std::int64_t pos) {
        sequence& q = seq(s, "release_before");
        const std::size_t n = std::min(q.table.size(), std::size_t(std::max<std::int64_t>(0, pos) / BlockTokens));
        // the last block is never released: it holds the next position's neighbours
        for (std::size_t i = std::size_t(q.first_held / BlockTokens); i < n && i + 1 < q.table.size(); ++i) {
            if (q.table[i] == none) continue;
            release(q.table[i]);
            q.table[i] = none;
            q.first_held = std::int64_t(i + 1) * BlockTokens;
        }
    }
    /// The first position whose block s still holds (0 unless release_before gave blocks back).
    [[nodiscard]] std::int64_t first_held(seq_id s) const { return seq(s, "first_held").first_held; }

    // ---- appending and writing ----

    /// Makes room for tokens at positions size(s) .. size(s)+n-1 and records them: allocates blocks (free
    /// first, then evicting least-recently-used cached blocks), and copies-on-write the last block when it is
    /// partly filled and shared (refcount > 1, or registered in the prefix index). Returns false and changes
    /// nothing when the pool cannot provide the blocks. After it, write() may store those positions.
    [[nodiscard]] bool append(seq_id s, std::span<const token_id> toks) {
        sequence& q = seq(s, "append");
        const std::int64_t n = std::int64_t(toks.size());
        if (n == 0) return true;
        const std::int64_t need = needed(q, n);
        if (need > blocks_available()) return false;
        const std::int64_t size0 = std::int64_t(q.toks.size());
        rethrow_as_error("kv_cache::paged: appending tokens", [&] {
            grow(q.toks, q.toks.size() + toks.size());
            grow(q.table, std::size_t(blocks_for(size0 + n)));
        });
        const std::int64_t in_last = size0 % BlockTokens;
        if (in_last != 0 && shared(q.table.back())) {
            const block_id old = q.table.back();
            const block_id b = take_block();
            copy_rows(old, b, in_last);
            q.table.back() = b;
            release(old);
        }
        while (std::int64_t(q.table.size()) * BlockTokens < size0 + n) q.table.push_back(take_block());
        q.toks.insert(q.toks.end(), toks.begin(), toks.end());
        return true;
    }

    /// Blocks append(s, n tokens) would take from the free/cached pool (for admission decisions).
    [[nodiscard]] std::int64_t blocks_needed(seq_id s, std::int64_t n) const {
        const sequence& q = seq(s, "blocks_needed");
        LLMT_CHECK_CODE(n >= 0 && n <= std::numeric_limits<std::int64_t>::max() - std::int64_t(q.toks.size()),
                        errc::invalid_argument, "kv_cache::paged: blocks_needed for {} more tokens of sequence {}: the count must be "
                        "non-negative and the total must fit in 64 bits", n, s);
        return n == 0 ? 0 : needed(q, n);
    }
    /// Blocks append can take: free plus cached (evictable).
    [[nodiscard]] std::int64_t blocks_available() const noexcept { return std::int64_t(free_.size()) + n_cached_; }

    /// Stores k and v ([n_kv_head][head_dim] f32 each) of layer at position pos of s (pos < size(s), its block
    /// exclusively owned: append made it so). No checks beyond asserts: hot path.
    void write(seq_id s, std::int64_t layer, std::int64_t pos, const float* k, const float* v) noexcept {
        assert(contains(s));
        const sequence& q = seqs_[std::size_t(s)];
        assert(pos >= 0 && pos < std::int64_t(q.toks.size()) && layer >= 0 && layer < n_layer_);
        const block_id b = q.table[std::size_t(pos / BlockTokens)];
        assert(meta_[std::size_t(b)].ref == 1 && !meta_[std::size_t(b)].indexed);
        std::byte* row = data_.data() + std::size_t(b) * block_bytes_ + std::size_t(layer) * layer_bytes_ +
                         std::size_t(pos % BlockTokens) * row_bytes_;
        for (std::int64_t h = 0; h < n_kv_head_; ++h, row += head_stride_) {
            ops::store(k + h * head_dim_, row, head_dim_);
            ops::store(v + h * head_dim_, row + v_offset_, head_dim_);
        }
    }

    /// What attention reads: the rows of one sequence through its block table. The rows of one head at the
    /// positions of one block are contiguous (k_block, row_bytes apart).
    struct view {
        const paged* pool = nullptr;
        const block_id* table = nullptr;  // [ceil(size / BlockTokens)]
        std::int64_t size = 0;
        const std::byte* base = nullptr;  // the pool's first block
        std::size_t block_bytes = 0, layer_bytes = 0, head_stride = 0, v_offset = 0, row_bytes = 0;

        /// The stored key / value row of KV head `head` at position pos (< size) of layer.
        [[nodiscard]] const std::byte* k_row(std::int64_t layer, std::int64_t pos, std::int64_t head) const noexcept {
            const auto p = std::size_t(pos);  // unsigned: the divisions are shifts
            return block_of(layer, std::int64_t(p / BlockTokens), head) + (p % BlockTokens) * row_bytes;
        }
        [[nodiscard]] const std::byte* v_row(std::int64_t layer, std::int64_t pos, std::int64_t head) const noexcept {
            return k_row(layer, pos, head) + v_offset;
        }
        /// The key / value rows of head `head` at positions i*BlockTokens .. of layer (block i of the table),
        /// row_bytes apart.
        [[nodiscard]] const std::byte* k_block(std::int64_t layer, std::int64_t i, std::int64_t head) const noexcept {
            return block_of(layer, i, head);
        }
        [[nodiscard]] const std::byte* v_block(std::int64_t layer, std::int64_t i, std::int64_t head) const noexcept {
            return block_of(layer, i, head) + v_offset;
        }
        [[nodiscard]] std::int64_t n_table_blocks() const noexcept { return (size + BlockTokens - 1) / BlockTokens; }

    private:
        const std::byte* block_of(std::int64_t layer, std::int64_t i, std::int64_t head) const noexcept {
            return base + std::size_t(table[i]) * block_bytes + std::size_t(layer) * layer_bytes + std::size_t(head) * head_stride;
        }
    };
    /// The rows of s; valid until the next append/truncate/remove/fork/create/match_prefix.
    [[nodiscard]] view view_of(seq_id s) const {
        const sequence& q = seq(s, "view_of");
        return view{this, q.table.data(), std::int64_t(q.toks.size()), data_.data(), block_bytes_, layer_bytes_, head_stride_,
                    v_offset_, row_bytes_};
    }

    // ---- prefix sharing ----

    /// s must be empty: maps into s the longest run of cached full blocks whose tokens equal the start of toks
    /// (block by block, each block keyed by its tokens and its parent block, i.e. the whole prefix), including
    /// blocks other live sequences are using right now. Returns the positions mapped: a multiple of
    /// BlockTokens, at most toks.size() - 1 so that at least one token is left to compute logits from.
    std::int64_t match_prefix(seq_id s, std::span<const token_id> toks) {
        sequence& q = seq(s, "match_prefix");
        LLMT_CHECK_CODE(q.toks.empty(), errc::invalid_argument,
                        "kv_cache::paged: match_prefix on sequence {} which holds {} positions: only an empty sequence can "
                        "map a cached prefix",
                        s, q.toks.size());
        const std::size_t max_blocks = toks.empty() ? 0 : (toks.size() - 1) / std::size_t(BlockTokens);
        std::size_t found = 0;
        for (block_id parent = none; found < max_blocks; ++found) {
            parent = find(parent, toks.data() + found * std::size_t(BlockTokens));
            if (parent == none) break;
        }
        const std::size_t n_pos = found * std::size_t(BlockTokens);
        rethrow_as_error("kv_cache::paged: mapping a cached prefix", [&] {
            grow(q.table, found);
            grow(q.canon, found);
            grow(q.toks, n_pos);
        });
        block_id parent = none;
        for (std::size_t i = 0; i < found; ++i) {
            parent = find(parent, toks.data() + i * std::size_t(BlockTokens));
            acquire(parent);
            q.table.push_back(parent);
            q.canon.push_back({parent, meta_[std::size_t(parent)].gen});
        }
        q.toks.insert(q.toks.end(), toks.begin(), toks.begin() + std::ptrdiff_t(n_pos));
        ++stats_.prefix_lookups;
        stats_.prefix_hits += found > 0;
        stats_.prefix_tokens_reused += std::int64_t(n_pos);
        return std::int64_t(n_pos);
    }

    /// Registers s's full blocks whose keys and values are completely written, i.e. those below position
    /// n_written (default: all it holds; the engine calls it after each forward step), so later sequences can
    /// match them. A block whose key is already registered (by another sequence) is left out. A registered
    /// block is immutable: a later write into it (after truncate) copies it first (append does that).
    void publish(seq_id s) { publish(s, size(s)); }
    void publish(seq_id s, std::int64_t n_written) {
        sequence& q = seq(s, "publish");
        LLMT_CHECK_CODE(n_written >= 0 && n_written <= std::int64_t(q.toks.size()), errc::invalid_argument,
                        "kv_cache::paged: publishing {} written positions of sequence {} which holds {}", n_written, s,
                        q.toks.size());
        const std::size_t full = std::size_t(n_written / BlockTokens);
        if (!q.canon.empty()) {
            // The chain may have been evicted since: then walk again from the first block.
            const canon_ref& c = q.canon.back();
            if (!meta_[std::size_t(c.id)].indexed || meta_[std::size_t(c.id)].gen != c.gen) q.canon.clear();
        }
        if (q.canon.size() >= full) return;
        rethrow_as_error("kv_cache::paged: publishing blocks", [&] { grow(q.canon, full); });
        for (std::size_t i = q.canon.size(); i < full; ++i) {
            const block_id parent = i == 0 ? none : q.canon[i - 1].id;
            const token_id* t = q.toks.data() + i * std::size_t(BlockTokens);
            block_id x = find(parent, t);
            if (x == none) {
                x = q.table[i];
                if (x == none) break;  // released (release_before): the chain cannot be rebuilt past it
                if (meta_[std::size_t(x)].indexed) break;  // registered under another chain: cannot happen, be safe
                index_insert(x, parent, t);
            }
            q.canon.push_back({x, meta_[std::size_t(x)].gen});
        }
    }

    /// Forgets every cached (unreferenced) block and the whole index; live sequences keep their blocks.
    void clear_cache() noexcept {
        for (std::size_t b = 0; b < meta_.size(); ++b) {
            block_meta& m = meta_[b];
            if (!m.indexed) continue;
            m.indexed = false;
            ++m.gen;
            m.parent = m.hash_next = m.child = m.sib_prev = m.sib_next = m.lru_prev = m.lru_next = none;
            if (m.ref == 0) free_.push_back(block_id(b));
        }
        std::fill(buckets_.begin(), buckets_.end(), none);
        lru_head_ = lru_tail_ = none;
        n_cached_ = 0;
    }

    [[nodiscard]] paged_stats stats() const noexcept {
        paged_stats r = stats_;
        r.blocks_total = n_blocks_;
        r.blocks_used = n_used_;
        r.blocks_cached = n_cached_;
        r.blocks_free = std::int64_t(free_.size());
        return r;
    }

    [[nodiscard]] std::int64_t n_layer() const noexcept { return n_layer_; }
    [[nodiscard]] std::int64_t n_kv_head() const noexcept { return n_kv_head_; }
    [[nodiscard]] std::int64_t head_dim() const noexcept { return head_dim_; }
    [[nodiscard]] std::int64_t n_blocks() const noexcept { return n_blocks_; }
    /// Bytes of one block of this pool, and of the whole pool (reserved, not resident).
    [[nodiscard]] std::size_t bytes_per_block() const noexcept { return block_bytes_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return data_.size(); }

    // ---- introspection (tests, debugging) ----

    /// Sequences whose table holds block b.
    [[nodiscard]] std::int32_t ref_count(block_id b) const { return meta_.at(std::size_t(b)).ref; }
    /// Whether block b is registered in the prefix index.
    [[nodiscard]] bool is_indexed(block_id b) const { return meta_.at(std::size_t(b)).indexed; }
    /// The cached blocks, least recently used first (the eviction order).
    [[nodiscard]] std::vector<block_id> lru_order() const {
        std::vector<block_id> r;
        for (block_id b = lru_head_; b != none; b = meta_[std::size_t(b)].lru_next) r.push_back(b);
        return r;
    }
    /// Throws llmt::error(errc::runtime) naming the first broken invariant: reference counts against the block
    /// tables, the free / cached / used partition, the LRU list, the index chains and parent links. O(pool).
    void check_invariants() const {
        auto bad = [](const std::string& what) { fail(errc::runtime, "kv_cache::paged: broken invariant: {}", what); };
        std::vector<std::int64_t> refs(meta_.size(), 0);
        std::int64_t alive = 0;
        for (std::size_t s = 0; s < seqs_.size(); ++s) {
            const sequence& q = seqs_[s];
            if (!q.alive) {
                if (!q.table.empty() || !q.toks.empty()) bad(fmt::format("removed sequence {} holds blocks", s));
                continue;
            }
            ++alive;
            if (std::int64_t(q.table.size()) != blocks_for(std::int64_t(q.toks.size())))
                bad(fmt::format("sequence {} has {} blocks for {} positions", s, q.table.size(), q.toks.size()));
            if (q.canon.size() > q.toks.size() / std::size_t(BlockTokens))
                bad(fmt::format("sequence {} has {} published blocks for {} positions", s, q.canon.size(), q.toks.size()));
            for (std::size_t i = 0; i < q.table.size(); ++i) {
                const block_id b = q.table[i];
                if (b == none && std::int64_t(i + 1) * BlockTokens <= q.first_held) continue;  // released
                if (b < 0 || std::size_t(b) >= meta_.size()) bad(fmt::format("sequence {} holds block {}", s, b));
                ++refs[std::size_t(b)];
            }
        }
        if (alive != n_seq_) bad(fmt::format("{} live sequences, counted {}", alive, n_seq_));
        std::vector<char> where(meta_.size(), 0);  // 1 used, 2 cached, 3 free
        std::int64_t used = 0;
        for (std::size_t b = 0; b < meta_.size(); ++b) {
            if (refs[b] != meta_[b].ref) bad(fmt::format("block {} has refcount {}, {} tables hold it", b, meta_[b].ref, refs[b]));
            if (refs[b] > 0) where[b] = 1, ++used;
        }
        if (used != n_used_) bad(fmt::format("{} blocks used, counted {}", used, n_used_));
        std::int64_t cached = 0;
        for (block_id b = lru_head_, prev = none; b != none; prev = b, b = meta_[std::size_t(b)].lru_next) {
            const block_meta& m = meta_[std::size_t(b)];
            if (where[std::size_t(b)] != 0 || m.ref != 0 || !m.indexed || m.lru_prev != prev)
                bad(fmt::format("block {} in the LRU list (ref {}, indexed {})", b, m.ref, m.indexed));
            where[std::size_t(b)] = 2;
            if (++cached > n_cached_) bad("the LRU list is longer than the cached count");
            if (m.lru_next == none && b != lru_tail_) bad("the LRU list does not end at its tail");
        }
        if (cached != n_cached_) bad(fmt::format("{} blocks in the LRU list, counted {}", cached, n_cached_));
        for (const block_id b : free_) {
            if (b < 0 || std::size_t(b) >= meta_.size() || where[std::size_t(b)] != 0 || meta_[std::size_t(b)].indexed)
                bad(fmt::format("block {} on the free list is also used, cached, indexed or listed twice", b));
            where[std::size_t(b)] = 3;
        }
        for (std::size_t b = 0; b < meta_.size(); ++b)
            if (where[b] == 0) bad(fmt::format("block {} is neither used, cached nor free", b));
        std::size_t n_indexed = 0, in_buckets = 0;
        for (std::size_t b = 0; b < meta_.size(); ++b) {
            const block_meta& m = meta_[b];
            if (!m.indexed) continue;
            ++n_indexed;
            if (m.parent != none && !meta_[std::size_t(m.parent)].indexed)
                bad(fmt::format("indexed block {} has an unindexed parent {}", b, m.parent));
            if (find(m.parent, block_toks_.data() + b * std::size_t(BlockTokens)) != block_id(b))
                bad(fmt::format("indexed block {} is not found by its own key", b));
            bool listed = false;
            for (block_id c = m.parent == none ? none : meta_[std::size_t(m.parent)].child; c != none; c = meta_[std::size_t(c)].sib_next)
                listed |= c == block_id(b);
            if (m.parent != none && !listed) bad(fmt::format("indexed block {} is missing from its parent's children", b));
        }
        for (const block_id head : buckets_)
            for (block_id b = head; b != none; b = meta_[std::size_t(b)].hash_next) {
                if (!meta_[std::size_t(b)].indexed) bad(fmt::format("unindexed block {} in a hash chain", b));
                if (++in_buckets > n_indexed) bad("the hash chains hold more entries than indexed blocks");
            }
        if (in_buckets != n_indexed) bad(fmt::format("{} blocks indexed, {} in the hash chains", n_indexed, in_buckets));
    }

private:
    static constexpr block_id none = -1;

    struct block_meta {
        std::int32_t ref = 0;       // block tables holding the block
        bool indexed = false;       // registered in the prefix index (then immutable)
        std::uint32_t gen = 0;      // bumped on every registration and unregistration
        block_id parent = none;     // indexed: the block before it in the prefix (none: the first block)
        std::uint64_t hash = 0;     // indexed: of the whole prefix up to and including this block
        block_id hash_next = none;  // indexed: the next block of its hash bucket
        block_id child = none, sib_prev = none, sib_next = none;  // indexed: the blocks indexed under it
        block_id lru_prev = none, lru_next = none;                // cached: neighbours in the LRU list
    };
    struct canon_ref {
        block_id id;        // the indexed block holding this block's key (s's own, or another's with equal tokens)
        std::uint32_t gen;  // its gen then: a changed gen means it left the index since
    };
    struct sequence {
        bool alive = false;
        std::vector<block_id> table;   // [ceil(size / BlockTokens)]
        std::vector<token_id> toks;    // [size]
        std::vector<canon_ref> canon;  // [blocks published so far]
        std::int64_t first_held = 0;   // positions before it were released (release_before)
    };

    static void check_shape(std::int64_t n_layer, std::int64_t n_kv_head, std::int64_t head_dim) {
        LLMT_CHECK_CODE(n_layer > 0 && n_kv_head > 0 && head_dim > 0, errc::invalid_argument,
                        "kv_cache::paged: {} layers, {} KV heads of {} values: every size must be positive", n_layer,
                        n_kv_head, head_dim);
        LLMT_CHECK_CODE(head_dim % E::block_size == 0, errc::config,
                        "kv_cache::paged: head_dim {} is not a multiple of the {} block size {}: choose another KV element type",
                        head_dim, ops::name, E::block_size);
    }
    static constexpr std::int64_t blocks_for(std::int64_t n_pos) noexcept { return (n_pos + BlockTokens - 1) / BlockTokens; }
    template <typename T>
    static void grow(std::vector<T>& v, std::size_t n) {
        if (v.capacity() < n) v.reserve(std::max(n, 2 * v.capacity()));
    }

    sequence& seq(seq_id s, const char* doing) {
        LLMT_CHECK_CODE(contains(s), errc::invalid_argument,
                        "kv_cache::paged: {} of sequence {}: no such sequence (never created, or removed)", doing, s);
        return seqs_[std::size_t(s)];
    }
    const sequence& seq(seq_id s, const char* doing) const { return const_cast<paged*>(this)->seq(s, doing); }

    [[nodiscard]] bool shared(block_id b) const noexcept {
        const block_meta& m = meta_[std::size_t(b)];
        return m.ref > 1 || m.indexed;
    }
    [[nodiscard]] std::int64_t needed(const sequence& q, std::int64_t n) const noexcept {
        const std::int64_t size0 = std::int64_t(q.toks.size());
        std::int64_t need = blocks_for(size0 + n) - std::int64_t(q.table.size());
        if (size0 % BlockTokens != 0 && shared(q.table.back())) ++need;
        return need;
    }

    void acquire(block_id b) noexcept {
        block_meta& m = meta_[std::size_t(b)];
        if (m.ref++ == 0) {
            ++n_used_;
            if (m.indexed) lru_unlink(b);
        }
    }
    void release(block_id b) noexcept {
        block_meta& m = meta_[std::size_t(b)];
        assert(m.ref > 0);
        if (--m.ref > 0) return;
        --n_used_;
        if (m.indexed)
            lru_push_back(b);
        else
            free_.push_back(b);
    }
    /// A block for exclusive use (refcount 1): a free one, else the least recently used cached one.
    /// The caller checked blocks_available().
    block_id take_block() noexcept {
        if (free_.empty()) {
            assert(lru_head_ != none);
            unindex_subtree(lru_head_);
        }
        const block_id b = free_.back();
        free_.pop_back();
        meta_[std::size_t(b)].ref = 1;
        ++n_used_;
        return b;
    }
    void copy_rows(block_id from, block_id to, std::int64_t n_rows) noexcept {
        const std::byte* src = data_.data() + std::size_t(from) * block_bytes_;
        std::byte* dst = data_.data() + std::size_t(to) * block_bytes_;
        const std::size_t n = std::size_t(n_rows) * row_bytes_;
        for (std::int64_t r = 0; r < 2 * n_layer_ * n_kv_head_; ++r)  // every [layer][K|V][head] run of rows
            std::memcpy(dst + std::size_t(r) * head_stride_, src + std::size_t(r) * head_stride_, n);
    }

    // ---- the LRU list of cached blocks: head = least recently used ----
    void lru_push_back(block_id b) noexcept {
        block_meta& m = meta_[std::size_t(b)];
        m.lru_prev = lru_tail_;
        m.lru_next = none;
        (lru_tail_ == none ? lru_head_ : meta_[std::size_t(lru_tail_)].lru_next) = b;
        lru_tail_ = b;
        ++n_cached_;
    }
    void lru_unlink(block_id b) noexcept {
        block_meta& m = meta_[std::size_t(b)];
        (m.lru_prev == none ? lru_head_ : meta_[std::size_t(m.lru_prev)].lru_next) = m.lru_next;
        (m.lru_next == none ? lru_tail_ : meta_[std::size_t(m.lru_next)].lru_prev) = m.lru_prev;
        m.lru_prev = m.lru_next = none;
        --n_cached_;
    }

    // ---- the prefix index: chained hash of (parent block, BlockTokens tokens) -> block ----
    [[nodiscard]] std::uint64_t hash_of(block_id parent, const token_id* t) const noexcept {
        return Hash{}(parent == none ? block_hash::root : meta_[std::size_t(parent)].hash,
                      std::span<const token_id>(t, std::size_t(BlockTokens)));
    }
    /// The indexed block with this parent and these BlockTokens tokens, or none. Compares the tokens and the
    /// parent, not only the hash.
    [[nodiscard]] block_id find(block_id parent, const token_id* t) const noexcept {
        if (buckets_.empty()) return none;
        const std::uint64_t h = hash_of(parent, t);
        for (block_id b = buckets_[h & mask_]; b != none; b = meta_[std::size_t(b)].hash_next) {
            const block_meta& m = meta_[std::size_t(b)];
            if (m.hash == h && m.parent == parent &&
                std::equal(t, t + BlockTokens, block_toks_.data() + std::size_t(b) * std::size_t(BlockTokens)))
                return b;
        }
        return none;
    }
    void index_insert(block_id b, block_id parent, const token_id* t) noexcept {
        block_meta& m = meta_[std::size_t(b)];
        assert(!m.indexed && m.ref > 0);
        std::copy(t, t + BlockTokens, block_toks_.data() + std::size_t(b) * std::size_t(BlockTokens));
        m.indexed = true;
        ++m.gen;
        m.parent = parent;
        m.hash = hash_of(parent, t);
        block_id& head = buckets_[m.hash & mask_];
        m.hash_next = head;
        head = b;
        m.child = m.sib_prev = none;
        m.sib_next = none;
        if (parent != none) {
            block_meta& p = meta_[std::size_t(parent)];
            m.sib_next = p.child;
            if (p.child != none) meta_[std::size_t(p.child)].sib_prev = b;
            p.child = b;
        }
    }
    /// Takes root and every block indexed under it out of the index: the unreferenced ones (cached) go to the
    /// free list and count as evictions, the referenced ones stay with their sequences as plain blocks. A
    /// descendant of an evicted block could never be matched again (the lookup walks from the first block), so
    /// it must not keep memory or a key naming a block id that will be reused.
    void unindex_subtree(block_id root) noexcept {
        scratch_.clear();  // reserved n_blocks: never allocates
        scratch_.push_back(root);
        while (!scratch_.empty()) {
            const block_id x = scratch_.back();
            scratch_.pop_back();
            block_meta& m = meta_[std::size_t(x)];
            for (block_id c = m.child; c != none; c = meta_[std::size_t(c)].sib_next) scratch_.push_back(c);
            index_erase(x);
            if (m.ref == 0) {
                lru_unlink(x);
                free_.push_back(x);
                ++stats_.evictions;
            }
        }
    }
    void index_erase(block_id b) noexcept {
        block_meta& m = meta_[std::size_t(b)];
        for (block_id* p = &buckets_[m.hash & mask_]; *p != none; p = &meta_[std::size_t(*p)].hash_next)
            if (*p == b) {
                *p = m.hash_next;
                break;
            }
        if (m.parent != none && meta_[std::size_t(m.parent)].indexed) {  // a parent erased first keeps no list
            (m.sib_prev == none ? meta_[std::size_t(m.parent)].child : meta_[std::size_t(m.sib_prev)].sib_next) = m.sib_next;
            if (m.sib_next != none) meta_[std::size_t(m.sib_next)].sib_prev = m.sib_prev;
        }
        m.indexed = false;
        ++m.gen;
        m.parent = m.hash_next = m.child = m.sib_prev = m.sib_next = none;
    }

    std::int64_t n_layer_ = 0, n_kv_head_ = 0, head_dim_ = 0, n_blocks_ = 0;
    std::size_t block_bytes_ = 0;  // one block: [n_layer][K, V][n_kv_head][BlockTokens][head_dim] as E, padded to block_align
    std::size_t layer_bytes_ = 0;  // one layer of a block: K then V
    std::size_t v_offset_ = 0;     // V after K within a layer: [n_kv_head][BlockTokens] rows
    std::size_t head_stride_ = 0;  // the BlockTokens rows of one head
    std::size_t row_bytes_ = 0;    // one stored head row of head_dim values
    io::page_buffer data_;         // [n_blocks][block_bytes], committed by the OS as blocks are written
    std::vector<block_meta> meta_;        // [n_blocks]
    std::vector<token_id> block_toks_;    // [n_blocks][BlockTokens]: the key tokens of indexed blocks
    std::vector<block_id> buckets_;       // [power of two >= n_blocks]: heads of the hash chains
    std::size_t mask_ = 0;                // buckets_.size() - 1
    std::vector<block_id> free_;          // free blocks, the next one taken at the back
    std::vector<block_id> scratch_;       // [<= n_blocks] the work list of unindex_subtree
    block_id lru_head_ = none, lru_tail_ = none;
    std::int64_t n_used_ = 0, n_cached_ = 0;
    std::vector<sequence> seqs_;          // indexed by seq_id
    std::vector<seq_id> free_ids_;        // removed ids, capacity >= seqs_.size()
    std::int64_t n_seq_ = 0;
    paged_stats stats_;                   // the lookup and eviction counters
};

}  // namespace kv_cache
LLMT_END_NAMESPACE
