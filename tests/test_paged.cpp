// test_paged: the paged KV cache (block pool, refcounts, copy-on-write, prefix index, LRU eviction) against a reference model
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace {
using namespace llmt;
using kv_cache::block_id;
using kv_cache::seq_id;

constexpr std::int64_t n_layer = 2, n_kv_head = 2, head_dim = 32;

std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/// The key of each position: a hash of every token up to it, as the real keys and values depend on the whole
/// prefix. Rows derived from it differ wherever the prefix differs, so a block matched after the wrong
/// parent shows up as wrong bytes.
std::vector<std::uint64_t> prefix_keys(std::span<const token_id> toks) {
    std::vector<std::uint64_t> keys(toks.size());
    std::uint64_t h = 0x1234;
    for (std::size_t p = 0; p < toks.size(); ++p) keys[p] = h = mix(h * 31 + std::uint64_t(toks[p]) + 1);
    return keys;
}

/// The k (kv = 0) or v (kv = 1) values of all heads of one layer for a position with this key: [n_kv_head][head_dim].
std::vector<float> row_values(std::uint64_t key, std::int64_t layer, int kv) {
    std::vector<float> x(std::size_t(n_kv_head * head_dim));
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = float(std::int64_t(mix(key ^ (std::uint64_t(layer) << 40) ^ (std::uint64_t(kv) << 48) ^ i) % 2001) - 1000) / 64.0f;
    return x;
}

/// Writes every layer of positions [from, to) of s, with the rows its tokens determine.
template <typename Pool>
void write_positions(Pool& c, seq_id s, std::int64_t from, std::int64_t to) {
    const auto keys = prefix_keys(c.tokens(s));
    for (std::int64_t p = from; p < to; ++p)
        for (std::int64_t l = 0; l < n_layer; ++l) {
            const auto k = row_values(keys[std::size_t(p)], l, 0), v = row_values(keys[std::size_t(p)], l, 1);
            c.write(s, l, p, k.data(), v.data());
        }
}

/// Whether every row of s read through view_of equals the rows that `toks` determine (stored as E).
template <typename Pool>
bool rows_match(const Pool& c, seq_id s, std::span<const token_id> toks) {
    using ops = typename Pool::ops;
    const auto v = c.view_of(s);
    if (v.size != std::int64_t(toks.size())) return false;
    const auto keys = prefix_keys(toks);
    std::vector<std::byte> want(ops::row_bytes(head_dim));
    for (std::int64_t p = 0; p < v.size; ++p)
        for (std::int64_t l = 0; l < n_layer; ++l)
            for (int kv = 0; kv < 2; ++kv) {
                const auto x = row_values(keys[std::size_t(p)], l, kv);
                for (std::int64_t h = 0; h < n_kv_head; ++h) {
                    ops::store(x.data() + h * head_dim, want.data(), head_dim);
                    const std::byte* got = kv == 0 ? v.k_row(l, p, h) : v.v_row(l, p, h);
                    if (std::memcmp(got, want.data(), want.size()) != 0) return false;
                }
            }
    return true;
}

/// Copies of every row byte of s (to check later that they did not change).
template <typename Pool>
std::vector<std::byte> snapshot(const Pool& c, seq_id s) {
    const auto v = c.view_of(s);
    const std::size_t rb = Pool::ops::row_bytes(head_dim);
    std::vector<std::byte> out;
    for (std::int64_t p = 0; p < v.size; ++p)
        for (std::int64_t l = 0; l < n_layer; ++l)
            for (std::int64_t h = 0; h < n_kv_head; ++h) {
                out.insert(out.end(), v.k_row(l, p, h), v.k_row(l, p, h) + rb);
                out.insert(out.end(), v.v_row(l, p, h), v.v_row(l, p, h) + rb);
            }
    return out;
}

std::vector<token_id> seq_tokens(std::initializer_list<token_id> t) { return std::vector<token_id>(t); }
std::vector<token_id> range_tokens(token_id first, std::int64_t n) {
    std::vector<token_id> t(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) t[std::size_t(i)] = first + token_id(i);
    return t;
}
std::vector<token_id> cat(std::vector<token_id> a, const std::vector<token_id>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
template <typename Pool>
std::vector<token_id> toks_of(const Pool& c, seq_id s) {
    const auto t = c.tokens(s);
    return {t.begin(), t.end()};
}
template <typename Pool>
std::vector<block_id> table_of(const Pool& c, seq_id s) {
    const auto v = c.view_of(s);
    return {v.table, v.table + v.n_table_blocks()};
}
template <typename Pool>
void check_stats_sum(const Pool& c) {
    const auto st = c.stats();
    CHECK(st.blocks_used + st.blocks_cached + st.blocks_free == st.blocks_total);
    CHECK(st.blocks_total == c.n_blocks());
    CHECK(c.blocks_available() == st.blocks_free + st.blocks_cached);
}
/// A pool and sequence state as numbers, to compare before and after a refused call.
template <typename Pool>
std::vector<std::int64_t> state_of(const Pool& c, std::initializer_list<seq_id> seqs) {
    const auto st = c.stats();
    std::vector<std::int64_t> r{st.blocks_used, st.blocks_cached, st.blocks_free, st.prefix_lookups, st.prefix_hits,
                                st.prefix_tokens_reused, st.evictions, c.n_seq()};
    for (const seq_id s : seqs) {
        r.push_back(-1);
        for (const token_id t : c.tokens(s)) r.push_back(t);
        for (const block_id b : table_of(c, s)) r.push_back(b), r.push_back(c.ref_count(b));
    }
    for (const block_id b : c.lru_order()) r.push_back(b);
    return r;
}

/// Hashes that make keys collide, so that the index must compare parents and tokens itself.
struct tokens_only_hash {  // the same tokens after different prefixes collide
    std::uint64_t operator()(std::uint64_t, std::span<const token_id> t) const noexcept {
        return kv_cache::block_hash{}(kv_cache::block_hash::root, t);
    }
};
struct collide_hash {  // every key collides
    std::uint64_t operator()(std::uint64_t, std::span<const token_id>) const noexcept { return 42; }
};

using pool4 = kv_cache::paged<quant::f16, 4>;
using pool4_tokens_only = kv_cache::paged<quant::f16, 4, tokens_only_hash>;
using pool4_collide = kv_cache::paged<quant::f16, 4, collide_hash>;
using pool4_q8_0_collide = kv_cache::paged<quant::q8_0, 4, collide_hash>;
using pool16_f32 = kv_cache::paged<quant::f32>;
}  // namespace

TEST_CASE_TEMPLATE("paged: block size and layout, one head's rows of a block contiguous", E, quant::f32, quant::f16, quant::q8_0) {
    using pool = kv_cache::paged<E, 16>;
    const std::size_t rb = pool::ops::row_bytes(head_dim);
    const std::size_t raw = 2 * n_layer * n_kv_head * 16 * rb;
    CHECK(pool::block_bytes(n_layer, n_kv_head, head_dim) == (raw + 63) / 64 * 64);
    CHECK(pool::block_bytes(n_layer, n_kv_head, head_dim) % pool::block_align == 0);
    pool c(n_layer, n_kv_head, head_dim, 8);
    CHECK(c.n_layer() == n_layer);
    CHECK(c.n_kv_head() == n_kv_head);
    CHECK(c.head_dim() == head_dim);
    CHECK(c.n_blocks() == 8);
    CHECK(c.bytes() == 8 * c.bytes_per_block());
    const seq_id s = c.create();
    REQUIRE(c.append(s, range_tokens(0, 40)));
    write_positions(c, s, 0, 40);
    CHECK(rows_match(c, s, toks_of(c, s)));
    const auto v = c.view_of(s);
    REQUIRE(v.n_table_blocks() == 3);
    for (std::int64_t l = 0; l < n_layer; ++l)
        for (std::int64_t h = 0; h < n_kv_head; ++h)
            for (std::int64_t p = 0; p < 40; ++p) {
                const std::int64_t i = p / 16, j = p % 16;
                CHECK(v.k_row(l, p, h) == v.k_block(l, i, h) + std::size_t(j) * rb);
                CHECK(v.v_row(l, p, h) == v.v_block(l, i, h) + std::size_t(j) * rb);
                CHECK(v.v_row(l, p, h) == v.k_row(l, p, h) + std::size_t(n_kv_head) * 16 * rb);
                CHECK(v.k_row(l, p, h) >= v.base + std::size_t(v.table[i]) * c.bytes_per_block());
                CHECK(v.v_row(l, p, h) + rb <= v.base + std::size_t(v.table[i] + 1) * c.bytes_per_block());
            }
}

TEST_CASE("paged: a view reads rows with integer arithmetic on its own fields (no pool access, no checks)") {
    using view = pool4::view;
    static_assert(std::is_trivially_copyable_v<view>);
    static_assert(noexcept(std::declval<const view&>().k_row(0, 0, 0)));
    static_assert(noexcept(std::declval<const view&>().v_block(0, 0, 0)));
    pool4 c(n_layer, n_kv_head, head_dim, 8);
    const seq_id s = c.create();
    REQUIRE(c.append(s, range_tokens(0, 11)));
    write_positions(c, s, 0, 11);
    auto v = c.view_of(s);
    CHECK(v.pool == &c);
    v.pool = nullptr;  // k_row and v_row must not need it: a kernel can take the view by value
    const auto w = c.view_of(s);
    for (std::int64_t l = 0; l < n_layer; ++l)
        for (std::int64_t p = 0; p < 11; ++p)
            for (std::int64_t h = 0; h < n_kv_head; ++h) {
                CHECK(v.k_row(l, p, h) == w.k_row(l, p, h));
                CHECK(v.v_row(l, p, h) == w.v_row(l, p, h));
            }
    CHECK(rows_match(c, s, range_tokens(0, 11)));
}

TEST_CASE("paged: publish registers only full blocks below the written positions; a fork's blocks are duplicates") {
    pool4 c(n_layer, n_kv_head, head_dim, 8);
    const seq_id a = c.create();
    REQUIRE(c.append(a, range_tokens(0, 12)));
    write_positions(c, a, 0, 7);  // positions 7.. not written yet
    c.publish(a, 7);
    const auto ta = table_of(c, a);
    CHECK(c.is_indexed(ta[0]));
    CHECK_FALSE(c.is_indexed(ta[1]));
    CHECK_FALSE(c.is_indexed(ta[2]));
    const seq_id q = c.create();
    CHECK(c.match_prefix(q, range_tokens(0, 13)) == 4);
    c.remove(q);
    write_positions(c, a, 7, 12);
    c.publish(a, 12);
    CHECK(c.is_indexed(ta[1]));
    CHECK(c.is_indexed(ta[2]));
    const seq_id b = c.fork(a);
    c.publish(b);  // the same blocks: nothing new
    CHECK(c.stats().blocks_used == 3);
    c.truncate(b, 10);
    REQUIRE(c.append(b, seq_tokens({77})));  // block 2 is published: b copies it
    write_positions(c, b, 10, 11);
    c.publish(b);
    const auto tb = table_of(c, b);
    CHECK(tb[2] != ta[2]);
    CHECK_FALSE(c.is_indexed(tb[2]));  // partial
    CHECK(rows_match(c, a, range_tokens(0, 12)));
    CHECK(rows_match(c, b, cat(range_tokens(0, 10), seq_tokens({77}))));
    const seq_id r = c.create();
    CHECK(c.match_prefix(r, range_tokens(0, 13)) == 12);
    CHECK(table_of(c, r) == ta);
    c.check_invariants();
}

TEST_CASE("paged: bad sizes are refused with llmt::error") {
    using pool = kv_cache::paged<quant::q8_0>;
    CHECK_THROWS_WITH_AS(pool(2, 2, 32, 0), doctest::Contains("at least one block"), llmt::error);
    CHECK_THROWS_WITH_AS(pool(2, 2, 32, -3), doctest::Contains("at least one block"), llmt::error);
    CHECK_THROWS_WITH_AS(pool(0, 2, 32, 4), doctest::Contains("must be positive"), llmt::error);
    CHECK_THROWS_WITH_AS(pool(2, -1, 32, 4), doctest::Contains("must be positive"), llmt::error);
    CHECK_THROWS_WITH_AS(pool(2, 2, 48, 4), doctest::Contains("not a multiple of the q8_0 block size 32"), llmt::error);
    CHECK_THROWS_WITH_AS(pool(std::int64_t(1) << 40, std::int64_t(1) << 20, 32, 4), doctest::Contains("overflows"),
                         llmt::error);
    CHECK_THROWS_WITH_AS(pool(1 << 20, 1 << 10, 1 << 10, 1 << 20), doctest::Contains("overflows"), llmt::error);
    CHECK_THROWS_WITH_AS(pool(1, 1, 32, std::int64_t(1) << 31), doctest::Contains("fit in a block id"), llmt::error);
    CHECK_THROWS_AS((void)pool::block_bytes(1, 0, 32), llmt::error);
    const std::size_t per = pool::block_bytes(2, 2, 32);
    CHECK(per == (2 * 2 * 2 * 16 * 34 + 63) / 64 * 64);
    CHECK(pool::blocks_for_budget(per, 2, 2, 32) == 1);
    CHECK(pool::blocks_for_budget(10 * per + per - 1, 2, 2, 32) == 10);
    CHECK(pool::blocks_for_budget(std::numeric_limits<std::size_t>::max(), 1, 1, 32) == std::numeric_limits<block_id>::max() - 1);
    CHECK_THROWS_WITH_AS((void)pool::blocks_for_budget(per - 1, 2, 2, 32), doctest::Contains("holds no block"), llmt::error);
    CHECK_THROWS_AS((void)pool::blocks_for_budget(1 << 20, 2, 2, 33), llmt::error);
    try {
        pool(2, 2, 32, 0);
    } catch (const llmt::error& e) {
        CHECK(e.code() == errc::invalid_argument);
    }
}

TEST_CASE("paged: allocation, exhaustion (append refuses and changes nothing), blocks_needed") {
    pool4 c(n_layer, n_kv_head, head_dim, 4);
    check_stats_sum(c);
    CHECK(c.stats().blocks_free == 4);
    const seq_id a = c.create(), b = c.create();
    CHECK(a != b);
    CHECK(c.n_seq() == 2);
    CHECK(c.blocks_needed(a, 0) == 0);
    CHECK(c.blocks_needed(a, 1) == 1);
    CHECK(c.blocks_needed(a, 4) == 1);
    CHECK(c.blocks_needed(a, 5) == 2);
    REQUIRE(c.append(a, range_tokens(10, 10)));  // 3 blocks, the last holding 2 positions
    write_positions(c, a, 0, 10);
    CHECK(c.size(a) == 10);
    CHECK(c.stats().blocks_used == 3);
    CHECK(c.stats().blocks_free == 1);
    CHECK(c.blocks_needed(a, 2) == 0);
    CHECK(c.blocks_needed(a, 3) == 1);
    CHECK(c.blocks_needed(b, 5) == 2);
    const auto before = state_of(c, {a, b});
    const auto rows_a = snapshot(c, a);
    CHECK_FALSE(c.append(b, range_tokens(0, 5)));  // needs 2, 1 left
    CHECK_FALSE(c.append(a, range_tokens(0, 7)));  // needs 2, 1 left
    CHECK(state_of(c, {a, b}) == before);
    CHECK(snapshot(c, a) == rows_a);
    CHECK(c.size(b) == 0);
    CHECK(c.append(b, std::span<const token_id>{}));  // nothing to add: nothing needed
    REQUIRE(c.append(a, range_tokens(20, 6)));         // fills the pool exactly
    write_positions(c, a, 10, 16);
    CHECK(c.stats().blocks_free == 0);
    CHECK(c.blocks_available() == 0);
    CHECK_FALSE(c.append(b, range_tokens(0, 1)));
    CHECK(rows_match(c, a, toks_of(c, a)));
    c.remove(a);
    CHECK(c.stats().blocks_free == 4);  // never published: nothing cached
    CHECK(c.stats().blocks_cached == 0);
    CHECK(c.append(b, range_tokens(0, 16)));
    check_stats_sum(c);
    c.check_invariants();
}

TEST_CASE("paged: refcounts through fork and remove, ids reused") {
    pool4 c(n_layer, n_kv_head, head_dim, 8);
    const seq_id a = c.create();
    REQUIRE(c.append(a, range_tokens(0, 9)));
    write_positions(c, a, 0, 9);
    const auto blocks = table_of(c, a);
    REQUIRE(blocks.size() == 3);
    const seq_id b = c.fork(a);
    const seq_id d = c.fork(b);
    CHECK(c.n_seq() == 3);
    CHECK(table_of(c, b) == blocks);
    CHECK(toks_of(c, d) == toks_of(c, a));
    for (const block_id x : blocks) CHECK(c.ref_count(x) == 3);
    CHECK(c.stats().blocks_used == 3);
    c.check_invariants();
    c.remove(a);
    CHECK_FALSE(c.contains(a));
    for (const block_id x : blocks) CHECK(c.ref_count(x) == 2);
    CHECK(rows_match(c, b, range_tokens(0, 9)));
    c.truncate(d, 4);  // d lets go of blocks 1 and 2
    CHECK(c.ref_count(blocks[0]) == 2);
    CHECK(c.ref_count(blocks[1]) == 1);
    CHECK(c.ref_count(blocks[2]) == 1);
    CHECK(c.size(d) == 4);
    CHECK(toks_of(c, d) == range_tokens(0, 4));
    const seq_id e = c.create();
    CHECK(e == a);  // a removed id is reused
    CHECK(c.size(e) == 0);
    c.remove(b);
    CHECK(c.ref_count(blocks[0]) == 1);
    CHECK(c.ref_count(blocks[1]) == 0);
    CHECK(c.stats().blocks_used == 1);
    CHECK(c.stats().blocks_free == 7);
    CHECK(rows_match(c, d, range_tokens(0, 4)));
    c.remove(d);
    c.remove(e);
    CHECK(c.n_seq() == 0);
    CHECK(c.stats().blocks_free == 8);
    c.check_invariants();
}

TEST_CASE_TEMPLATE("paged: copy-on-write of a shared partly-filled block", E, quant::f32, quant::f16, quant::q8_0) {
    using pool = kv_cache::paged<E, 4>;
    pool c(n_layer, n_kv_head, head_dim, 8);
    const seq_id a = c.create();
    REQUIRE(c.append(a, range_tokens(0, 6)));  // block 1 holds 2 of 4 positions
    write_positions(c, a, 0, 6);
    const seq_id b = c.fork(a);
    const auto shared_table = table_of(c, a);
    const auto rows_a = snapshot(c, a);
    CHECK(c.blocks_needed(b, 1) == 1);  // the copy
    CHECK(c.blocks_needed(b, 3) == 2);  // the copy and one more
    REQUIRE(c.append(b, seq_tokens({100})));
    write_positions(c, b, 6, 7);
    const auto tb = table_of(c, b);
    CHECK(tb[0] == shared_table[0]);      // full blocks stay shared
    CHECK(tb[1] != shared_table[1]);      // the partial one was copied
    CHECK(c.ref_count(shared_table[1]) == 1);
    CHECK(c.ref_count(tb[1]) == 1);
    CHECK(c.ref_count(tb[0]) == 2);
    CHECK(snapshot(c, a) == rows_a);      // a's rows untouched, byte for byte
    CHECK(rows_match(c, a, range_tokens(0, 6)));
    CHECK(rows_match(c, b, cat(range_tokens(0, 6), seq_tokens({100}))));
    // a now owns its partial block alone: appending writes in place, no copy
    CHECK(c.blocks_needed(a, 1) == 0);
    REQUIRE(c.append(a, seq_tokens({200, 201})));
    write_positions(c, a, 6, 8);
    CHECK(table_of(c, a) == shared_table);
    CHECK(rows_match(c, a, cat(range_tokens(0, 6), seq_tokens({200, 201}))));
    CHECK(rows_match(c, b, cat(range_tokens(0, 6), seq_tokens({100}))));
    c.check_invariants();
    check_stats_sum(c);
}

TEST_CASE("paged: copy-on-write needs a block: refused while the pool is full") {
    pool4 c(n_layer, n_kv_head, head_dim, 3);
    const seq_id a = c.create();
    REQUIRE(c.append(a, range_tokens(0, 6)));
    write_positions(c, a, 0, 6);
    const seq_id b = c.fork(a);
    const seq_id d = c.create();
    REQUIRE(c.append(d, range_tokens(50, 1)));
    const auto before = state_of(c, {a, b, d});
    CHECK(c.blocks_needed(b, 1) == 1);
    CHECK_FALSE(c.append(b, seq_tokens({7})));  // the copy needs a block: none
    CHECK(state_of(c, {a, b, d}) == before);
    c.remove(d);
    REQUIRE(c.append(b, seq_tokens({7})));
    write_positions(c, b, 6, 7);
    CHECK(rows_match(c, a, range_tokens(0, 6)));
    CHECK(rows_match(c, b, cat(range_tokens(0, 6), seq_tokens({7}))));
    c.check_invariants();
}

TEST_CASE("paged: truncate then append into a published block copies it; the published block stays matchable") {
    pool4 c(n_layer, n_kv_head, head_dim, 8);
    const auto t = range_tokens(0, 8);
    const seq_id a = c.create();
    REQUIRE(c.append(a, t));
    write_positions(c, a, 0, 8);
    c.publish(a);
    const auto ta = table_of(c, a);
    CHECK(c.is_indexed(ta[0]));
    CHECK(c.is_indexed(ta[1]));
    const auto rows_before = snapshot(c, a);
    c.truncate(a, 6);  // inside the published block 1
    CHECK(c.size(a) == 6);
    CHECK(table_of(c, a) == ta);  // still held, now partly
    CHECK(c.blocks_needed(a, 1) == 1);
    REQUIRE(c.append(a, seq_tokens({99})));
    write_positions(c, a, 6, 7);
    const auto ta2 = table_of(c, a);
    CHECK(ta2[0] == ta[0]);
    CHECK(ta2[1] != ta[1]);
    CHECK(c.ref_count(ta[1]) == 0);  // cached: unreferenced and indexed
    CHECK(c.is_indexed(ta[1]));
    CHECK(c.stats().blocks_cached == 1);
    CHECK(rows_match(c, a, cat(range_tokens(0, 6), seq_tokens({99}))));
    // the original 8 tokens still map both blocks, with their original rows
    const seq_id b = c.create();
    CHECK(c.match_prefix(b, cat(t, seq_tokens({1}))) == 8);
    CHECK(table_of(c, b) == ta);
    CHECK(snapshot(c, b) == rows_before);
    CHECK(rows_match(c, b, t));
    c.check_invariants();
    // truncating to a block boundary and appending needs no copy
    c.truncate(b, 4);
    CHECK(c.blocks_needed(b, 1) == 1);
    REQUIRE(c.append(b, seq_tokens({5})));
    CHECK(table_of(c, b)[0] == ta[0]);
    c.check_invariants();
}

TEST_CASE_TEMPLATE("paged: prefix matching maps full blocks only, chained by parent, at most size - 1", Pool, pool4,
                   pool4_tokens_only, pool4_collide) {
    Pool c(n_layer, n_kv_head, head_dim, 16);
    const auto x = seq_tokens({1, 2, 3, 4}), y = seq_tokens({5, 6, 7, 8}), z = seq_tokens({9, 9, 9, 9});
    const seq_id a = c.create();
    const auto ta_toks = cat(cat(x, y), seq_tokens({42, 43}));  // 2 full blocks + 2 positions
    REQUIRE(c.append(a, ta_toks));
    write_positions(c, a, 0, 10);
    const seq_id probe0 = c.create();
    CHECK(c.match_prefix(probe0, cat(cat(x, y), seq_tokens({1}))) == 0);  // nothing published yet
    c.publish(a);
    const auto ta = table_of(c, a);
    CHECK(c.is_indexed(ta[0]));
    CHECK(c.is_indexed(ta[1]));
    CHECK_FALSE(c.is_indexed(ta[2]));  // partial: never published

    auto match = [&](const std::vector<token_id>& toks) {
        const seq_id s = c.create();
        const std::int64_t n = c.match_prefix(s, toks);
        CHECK(n % 4 == 0);
        CHECK(c.size(s) == n);
        CHECK(toks_of(c, s) == std::vector<token_id>(toks.begin(), toks.begin() + n));
        CHECK(rows_match(c, s, toks_of(c, s)));
        c.remove(s);
        return n;
    };
    CHECK(match(cat(cat(x, y), seq_tokens({1}))) == 8);
    CHECK(match(cat(x, y)) == 4);                        // at most size - 1: one token left for the logits
    CHECK(match(cat(cat(x, y), seq_tokens({42, 43, 44}))) == 8);  // the partial block is not matched
    CHECK(match(cat(x, z)) == 4);                        // diverges in the second block
    CHECK(match(cat(x, seq_tokens({5, 6, 7, 0, 1}))) == 4);  // one token off: the block does not match
    CHECK(match(cat(z, cat(y, seq_tokens({1})))) == 0);   // y's tokens after another first block: no match
    CHECK(match(cat(y, seq_tokens({1}))) == 0);           // y alone as a first block: no match
    CHECK(match(x) == 0);
    CHECK(match({}) == 0);
    CHECK(match(seq_tokens({1, 2, 3})) == 0);

    // the same tokens of block y published after another first block are a separate entry
    const seq_id b = c.create();
    REQUIRE(c.append(b, cat(cat(z, y), seq_tokens({7}))));
    write_positions(c, b, 0, 9);
    c.publish(b);
    const auto tb = table_of(c, b);
    CHECK(c.is_indexed(tb[1]));
    CHECK(tb[1] != ta[1]);
    CHECK(match(cat(cat(z, y), seq_tokens({0}))) == 8);
    CHECK(match(cat(cat(x, y), seq_tokens({0}))) == 8);
    const seq_id s = c.create();
    CHECK(c.match_prefix(s, cat(cat(z, y), seq_tokens({0}))) == 8);
    CHECK(table_of(c, s) == std::vector<block_id>{tb[0], tb[1]});

    // match_prefix on a non-empty sequence is refused, nothing changed
    const auto before = state_of(c, {a, b, s});
    CHECK_THROWS_WITH_AS((void)c.match_prefix(s, cat(cat(z, y), seq_tokens({0}))), doctest::Contains("only an empty sequence"),
                         llmt::error);
    CHECK(state_of(c, {a, b, s}) == before);
    c.check_invariants();
}

TEST_CASE("paged: a block of a live sequence is matched and shared; a duplicate publication is left out") {
    pool4 c(n_layer, n_kv_head, head_dim, 16);
    const auto prompt = range_tokens(100, 13);  // 3 full blocks + 1
    const seq_id a = c.create();
    REQUIRE(c.append(a, prompt));
    write_positions(c, a, 0, 13);
    c.publish(a);
    const auto ta = table_of(c, a);
    const seq_id b = c.create();
    CHECK(c.match_prefix(b, cat(prompt, seq_tokens({7}))) == 12);  // a is running: its blocks are shared
    for (int i = 0; i < 3; ++i) CHECK(c.ref_count(ta[std::size_t(i)]) == 2);
    CHECK(c.stats().blocks_used == 4);
    REQUIRE(c.append(b, seq_tokens({7, 8})));
    write_positions(c, b, 12, 14);
    REQUIRE(c.append(a, seq_tokens({1, 2})));  // a writes on in its own partial block
    write_positions(c, a, 13, 15);
    CHECK(rows_match(c, a, cat(prompt, seq_tokens({1, 2}))));
    CHECK(rows_match(c, b, cat(range_tokens(100, 12), seq_tokens({7, 8}))));
    // c computes the same prompt itself (no match): its blocks duplicate a's and are not registered
    const seq_id d = c.create();
    REQUIRE(c.append(d, prompt));
    write_positions(c, d, 0, 13);
    c.publish(d);
    for (const block_id x : table_of(c, d)) CHECK_FALSE(c.is_indexed(x));
    // d's next full block is registered under a's chain, so it is found from the prompt's first block
    REQUIRE(c.append(d, range_tokens(500, 3)));
    write_positions(c, d, 13, 16);
    c.publish(d);
    const auto td = table_of(c, d);
    CHECK(c.is_indexed(td[3]));
    const seq_id e = c.create();
    const auto d_toks = toks_of(c, d);
    CHECK(c.match_prefix(e, cat(d_toks, seq_tokens({1}))) == 16);
    CHECK(table_of(c, e) == std::vector<block_id>{ta[0], ta[1], ta[2], td[3]});
    CHECK(rows_match(c, e, d_toks));
    c.check_invariants();
}

TEST_CASE("paged: cached blocks are evicted least recently used first; a matched block counts as used") {
    pool4 c(n_layer, n_kv_head, head_dim, 4);
    std::vector<std::vector<token_id>> prompts;
    std::vector<block_id> blk;
    for (int i = 0; i < 4; ++i) {  // four one-block prompts, published, then released in order 0, 1, 2, 3
        prompts.push_back(range_tokens(10 * (i + 1), 4));
        const seq_id s = c.create();
        REQUIRE(c.append(s, prompts.back()));
        write_positions(c, s, 0, 4);
        c.publish(s);
        blk.push_back(table_of(c, s)[0]);
    }
    for (seq_id s = 0; s < 4; ++s) c.remove(s);
    CHECK(c.lru_order() == blk);
    CHECK(c.stats().blocks_cached == 4);
    CHECK(c.stats().blocks_free == 0);
    CHECK(c.blocks_available() == 4);
    // match prompt 0 again: its block is used, then released: now the most recent
    const seq_id m = c.create();
    CHECK(c.match_prefix(m, cat(prompts[0], seq_tokens({1}))) == 4);
    CHECK(c.stats().blocks_cached == 3);
    CHECK(c.lru_order() == std::vector<block_id>{blk[1], blk[2], blk[3]});
    c.remove(m);
    CHECK(c.lru_order() == std::vector<block_id>{blk[1], blk[2], blk[3], blk[0]});
    // two new blocks evict 1 then 2
    const seq_id n = c.create();
    REQUIRE(c.append(n, range_tokens(1000, 8)));
    write_positions(c, n, 0, 8);
    CHECK(c.stats().evictions == 2);
    CHECK(c.lru_order() == std::vector<block_id>{blk[3], blk[0]});
    auto matched = [&](int i) {
        const seq_id s = c.create();
        const std::int64_t r = c.match_prefix(s, cat(prompts[std::size_t(i)], seq_tokens({1})));
        if (r) CHECK(rows_match(c, s, prompts[std::size_t(i)]));
        c.remove(s);
        return r;
    };
    CHECK(matched(1) == 0);
    CHECK(matched(2) == 0);
    CHECK(matched(3) == 4);
    CHECK(matched(0) == 4);  // order now 3, 0
    CHECK(c.lru_order() == std::vector<block_id>{blk[3], blk[0]});
    REQUIRE(c.append(n, range_tokens(2000, 1)));
    write_positions(c, n, 8, 9);
    CHECK(c.lru_order() == std::vector<block_id>{blk[0]});
    CHECK(matched(3) == 0);
    CHECK(matched(0) == 4);
    CHECK(c.stats().evictions == 3);
    CHECK(rows_match(c, n, toks_of(c, n)));
    c.check_invariants();
}

TEST_CASE("paged: removing a sequence caches its blocks tail first, so eviction takes the tail of a prefix first") {
    pool4 c(n_layer, n_kv_head, head_dim, 4);
    const auto t = range_tokens(0, 12);
    const seq_id a = c.create();
    REQUIRE(c.append(a, t));
    write_positions(c, a, 0, 12);
    c.publish(a);
    const auto ta = table_of(c, a);
    c.remove(a);
    CHECK(c.lru_order() == std::vector<block_id>{ta[2], ta[1], ta[0]});
    const seq_id b = c.create();
    REQUIRE(c.append(b, range_tokens(50, 8)));  // the free block, then the LRU one: the prefix's last block
    CHECK(c.stats().evictions == 1);
    const seq_id d = c.create();
    CHECK(c.match_prefix(d, cat(t, seq_tokens({1}))) == 8);  // the first two blocks survive
    CHECK(rows_match(c, d, range_tokens(0, 8)));
    c.check_invariants();
}

TEST_CASE("paged: evicting a block evicts its cached descendants; live ones leave the index; nothing is matched wrongly") {
    // A descendant can outlive its parent in the LRU list only through a foreign parent: sequence s computed
    // the same first block as p (a duplicate, left out of the index) and registered its second block under p's.
    pool4 c(n_layer, n_kv_head, head_dim, 4);
    const auto x = range_tokens(0, 4), y = range_tokens(10, 4);
    const seq_id p = c.create();
    REQUIRE(c.append(p, x));
    write_positions(c, p, 0, 4);
    c.publish(p);
    const block_id px = table_of(c, p)[0];
    const seq_id s = c.create();
    REQUIRE(c.append(s, cat(x, y)));
    write_positions(c, s, 0, 8);
    c.publish(s);
    const auto ts = table_of(c, s);
    CHECK_FALSE(c.is_indexed(ts[0]));
    CHECK(c.is_indexed(ts[1]));  // under px
    {
        const seq_id q = c.create();
        CHECK(c.match_prefix(q, cat(cat(x, y), seq_tokens({3}))) == 8);
        CHECK(table_of(c, q) == std::vector<block_id>{px, ts[1]});
        CHECK(rows_match(c, q, cat(x, y)));
        c.remove(q);
    }
    SUBCASE("the cached descendant is evicted with its parent") {
        c.remove(p);  // px cached
        c.remove(s);  // ts[1] cached after px; ts[0] (unindexed) free
        CHECK(c.lru_order() == std::vector<block_id>{px, ts[1]});
        CHECK(c.stats().blocks_free == 2);
        const seq_id n = c.create();
        REQUIRE(c.append(n, range_tokens(100, 12)));  // two free blocks, then px: which takes ts[1] with it
        CHECK(c.stats().evictions == 2);
        CHECK(c.stats().blocks_cached == 0);
        CHECK(c.stats().blocks_free == 1);
        write_positions(c, n, 0, 12);
        c.publish(n);
        const seq_id q = c.create();
        CHECK(c.match_prefix(q, cat(cat(x, y), seq_tokens({3}))) == 0);
        CHECK(c.match_prefix(q, cat(range_tokens(100, 12), seq_tokens({3}))) == 12);
        CHECK(rows_match(c, q, range_tokens(100, 12)));
    }
    SUBCASE("a live descendant leaves the index and is registered again by the next publish") {
        c.remove(p);  // px cached; s holds ts[0], ts[1]
        const seq_id n = c.create();
        REQUIRE(c.append(n, range_tokens(100, 4)));  // the free block
        CHECK(c.stats().evictions == 0);
        REQUIRE(c.append(n, range_tokens(200, 1)));  // px, evicted
        CHECK(c.stats().evictions == 1);
        CHECK_FALSE(c.is_indexed(ts[1]));  // its parent is gone: unreachable, so unindexed
        CHECK(c.ref_count(ts[1]) == 1);
        write_positions(c, n, 0, 5);
        const seq_id q = c.create();
        CHECK(c.match_prefix(q, cat(cat(x, y), seq_tokens({3}))) == 0);
        c.publish(s);  // its chain was evicted: s registers its own blocks now
        CHECK(c.is_indexed(ts[0]));
        CHECK(c.is_indexed(ts[1]));
        CHECK(c.match_prefix(q, cat(cat(x, y), seq_tokens({3}))) == 8);
        CHECK(table_of(c, q) == ts);
        CHECK(rows_match(c, q, cat(x, y)));
        CHECK(rows_match(c, s, cat(x, y)));
    }
    c.check_invariants();
    check_stats_sum(c);
}

TEST_CASE_TEMPLATE("paged: a chain published through a block that was evicted and reused is walked again", Pool, pool4,
                   pool4_collide) {
    // s computed block x itself (a duplicate of p's, so s's chain goes through p's block); p's block is then
    // evicted and its id reused for other tokens. s's next block must not be registered under the reused id.
    Pool c(n_layer, n_kv_head, head_dim, 3);
    const auto x = range_tokens(0, 4), y = range_tokens(10, 4), z = range_tokens(20, 4);
    const seq_id p = c.create(), s = c.create(), f = c.create();
    REQUIRE(c.append(p, x));
    write_positions(c, p, 0, 4);
    c.publish(p);
    const block_id px = table_of(c, p)[0];
    REQUIRE(c.append(s, x));
    write_positions(c, s, 0, 4);
    c.publish(s);
    CHECK_FALSE(c.is_indexed(table_of(c, s)[0]));
    REQUIRE(c.append(f, z));  // the last free block
    c.remove(p);              // px cached
    const seq_id n = c.create();
    REQUIRE(c.append(n, z));  // px evicted, its id reused
    CHECK(table_of(c, n)[0] == px);
    write_positions(c, n, 0, 4);
    c.publish(n);  // px registered again, now for z
    CHECK(c.is_indexed(px));
    c.remove(f);
    REQUIRE(c.append(s, y));
    write_positions(c, s, 4, 8);
    c.publish(s);
    const auto ts = table_of(c, s);
    CHECK(c.is_indexed(ts[0]));
    CHECK(c.is_indexed(ts[1]));
    const seq_id q = c.create();
    CHECK(c.match_prefix(q, cat(cat(z, y), seq_tokens({1}))) == 4);  // z, then y is not under z
    CHECK(rows_match(c, q, z));
    c.remove(q);
    const seq_id r = c.create();
    CHECK(c.match_prefix(r, cat(cat(x, y), seq_tokens({1}))) == 8);
    CHECK(table_of(c, r) == ts);
    CHECK(rows_match(c, r, cat(x, y)));
    c.check_invariants();
}

TEST_CASE("paged: stats count lookups, hits, reused tokens and evictions") {
    pool4 c(n_layer, n_kv_head, head_dim, 6);
    const auto t = range_tokens(0, 8);
    const seq_id a = c.create();
    REQUIRE(c.append(a, t));
    write_positions(c, a, 0, 8);
    c.publish(a);
    const seq_id b = c.create(), d = c.create(), e = c.create();
    CHECK(c.match_prefix(b, cat(t, seq_tokens({0}))) == 8);
    CHECK(c.match_prefix(d, seq_tokens({7, 7, 7, 7, 7})) == 0);
    CHECK(c.match_prefix(e, range_tokens(0, 7)) == 4);
    auto st = c.stats();
    CHECK(st.prefix_lookups == 3);
    CHECK(st.prefix_hits == 2);
    CHECK(st.prefix_tokens_reused == 12);
    CHECK(st.blocks_used == 2);
    CHECK(st.blocks_cached == 0);
    CHECK(st.blocks_free == 4);
    CHECK(st.evictions == 0);
    c.remove(a);
    c.remove(b);
    c.remove(e);
    st = c.stats();
    CHECK(st.blocks_used == 0);
    CHECK(st.blocks_cached == 2);
    CHECK(st.blocks_free == 4);
    REQUIRE(c.append(d, range_tokens(50, 21)));  // 6 blocks: 4 free, 2 evicted
    st = c.stats();
    CHECK(st.evictions == 2);
    CHECK(st.blocks_used == 6);
    CHECK(st.blocks_cached + st.blocks_free == 0);
    check_stats_sum(c);
}

TEST_CASE("paged: clear_cache forgets cached blocks and the index, live sequences keep their blocks") {
    pool4 c(n_layer, n_kv_head, head_dim, 8);
    const auto t = range_tokens(0, 8), u = range_tokens(40, 8);
    const seq_id a = c.create(), b = c.create();
    REQUIRE(c.append(a, t));
    REQUIRE(c.append(b, u));
    write_positions(c, a, 0, 8);
    write_positions(c, b, 0, 8);
    c.publish(a);
    c.publish(b);
    c.remove(b);
    CHECK(c.stats().blocks_cached == 2);
    c.clear_cache();
    const auto st = c.stats();
    CHECK(st.blocks_cached == 0);
    CHECK(st.blocks_used == 2);
    CHECK(st.blocks_free == 6);
    CHECK(st.evictions == 0);
    CHECK(c.lru_order().empty());
    for (const block_id x : table_of(c, a)) CHECK_FALSE(c.is_indexed(x));
    CHECK(rows_match(c, a, t));
    const seq_id q = c.create();
    CHECK(c.match_prefix(q, cat(t, seq_tokens({1}))) == 0);
    CHECK(c.match_prefix(q, cat(u, seq_tokens({1}))) == 0);
    c.check_invariants();
    c.publish(a);  // registers them again
    CHECK(c.match_prefix(q, cat(t, seq_tokens({1}))) == 8);
    CHECK(rows_match(c, q, t));
    c.check_invariants();
}

TEST_CASE("paged: bad input is refused with llmt::error and leaves the pool unchanged") {
    pool4 c(n_layer, n_kv_head, head_dim, 8);
    const seq_id a = c.create();
    REQUIRE(c.append(a, range_tokens(0, 6)));
    write_positions(c, a, 0, 6);
    c.publish(a);
    const seq_id gone = c.create();
    c.remove(gone);
    const auto before = state_of(c, {a});
    for (const seq_id s : {gone, seq_id(-1), seq_id(7), std::numeric_limits<seq_id>::max()}) {
        CHECK_FALSE(c.contains(s));
        CHECK_THROWS_WITH_AS((void)c.size(s), doctest::Contains("no such sequence"), llmt::error);
        CHECK_THROWS_AS((void)c.tokens(s), llmt::error);
        CHECK_THROWS_AS((void)c.fork(s), llmt::error);
        CHECK_THROWS_AS(c.truncate(s, 0), llmt::error);
        CHECK_THROWS_AS(c.remove(s), llmt::error);
        CHECK_THROWS_AS((void)c.append(s, seq_tokens({1})), llmt::error);
        CHECK_THROWS_AS((void)c.blocks_needed(s, 1), llmt::error);
        CHECK_THROWS_AS((void)c.view_of(s), llmt::error);
        CHECK_THROWS_AS((void)c.match_prefix(s, seq_tokens({1})), llmt::error);
        CHECK_THROWS_AS(c.publish(s), llmt::error);
    }
    CHECK_THROWS_WITH_AS(c.truncate(a, 7), doctest::Contains("it holds 6"), llmt::error);
    CHECK_THROWS_AS(c.truncate(a, -1), llmt::error);
    CHECK_THROWS_AS(c.publish(a, 7), llmt::error);
    CHECK_THROWS_AS((void)c.blocks_needed(a, -1), llmt::error);
    CHECK_THROWS_AS((void)c.blocks_needed(a, std::numeric_limits<std::int64_t>::max()), llmt::error);
    CHECK_THROWS_AS((void)c.match_prefix(a, seq_tokens({1})), llmt::error);
    try {
        c.truncate(a, 9);
    } catch (const llmt::error& e) {
        CHECK(e.code() == errc::invalid_argument);
    }
    CHECK(state_of(c, {a}) == before);
    CHECK(rows_match(c, a, range_tokens(0, 6)));
    c.check_invariants();
    // a default-constructed pool has no blocks: append refuses, nothing else breaks
    pool4 empty;
    const seq_id s = empty.create();
    CHECK_FALSE(empty.append(s, seq_tokens({1})));
    CHECK(empty.match_prefix(s, range_tokens(0, 9)) == 0);
    empty.publish(s);
    CHECK(empty.stats().blocks_total == 0);
    empty.check_invariants();
}

TEST_CASE("paged: moves keep the pool and its sequences") {
    pool4 c(n_layer, n_kv_head, head_dim, 4);
    const seq_id a = c.create();
    REQUIRE(c.append(a, range_tokens(0, 5)));
    write_positions(c, a, 0, 5);
    pool4 d(std::move(c));
    CHECK(rows_match(d, a, range_tokens(0, 5)));
    pool4 e;
    e = std::move(d);
    CHECK(rows_match(e, a, range_tokens(0, 5)));
    CHECK(e.stats().blocks_used == 2);
    e.check_invariants();
}

#if defined(__linux__)
TEST_CASE("paged: resident memory grows with the blocks written, not with the pool") {
    // A 1 GiB pool (f32, 4 layers, 8 heads of 128: 512 KiB blocks); a few written blocks may make a few MiB resident.
    using pool = kv_cache::paged<quant::f32, 16>;
    pool c(4, 8, 128, 2048);
    REQUIRE(c.bytes() == std::size_t(1) << 30);
    const long page = sysconf(_SC_PAGESIZE);
    auto resident = [&] {
        const auto base = reinterpret_cast<std::uintptr_t>(c.view_of(c.create()).base);
        const std::uintptr_t start = base / std::uintptr_t(page) * std::uintptr_t(page);
        const std::size_t len = c.bytes() + (base - start);
        std::vector<unsigned char> vec((len + std::size_t(page) - 1) / std::size_t(page));
        REQUIRE(mincore(reinterpret_cast<void*>(start), len, vec.data()) == 0);
        std::size_t n = 0;
        for (const unsigned char v : vec) n += v & 1;
        return n * std::size_t(page);
    };
    CHECK(resident() < (std::size_t(8) << 20));
    const seq_id s = c.create();
    REQUIRE(c.append(s, range_tokens(0, 64)));  // 4 blocks, 2 MiB
    std::vector<float> k(8 * 128, 1.0f), v(8 * 128, 2.0f);
    for (std::int64_t p = 0; p < 64; ++p)
        for (std::int64_t l = 0; l < 4; ++l) c.write(s, l, p, k.data(), v.data());
    const std::size_t r = resident();
    CHECK(r >= (std::size_t(2) << 20));
    CHECK(r < (std::size_t(16) << 20));
}
#endif

TEST_CASE_TEMPLATE("paged: a few thousand random operations agree with a per-sequence reference", pool, pool4,
                   pool4_q8_0_collide, pool4_tokens_only, pool16_f32) {
    constexpr std::int64_t n_blocks = 24, bt = pool::block_tokens, u = bt / 4;  // lengths scale with the block
    pool c(n_layer, n_kv_head, head_dim, n_blocks);
    std::map<seq_id, std::vector<token_id>> ref;  // the tokens of each live sequence: its rows follow from them
    std::mt19937_64 rng(20261207);
    auto pick = [&](std::int64_t n) { return std::int64_t(rng() % std::uint64_t(n)); };
    auto any_seq = [&] {
        auto it = ref.begin();
        std::advance(it, pick(std::int64_t(ref.size())));
        return it->first;
    };
    // A tiny alphabet and a few common openings make shared prefixes frequent.
    const std::vector<std::vector<token_id>> openings = {range_tokens(0, 9 * u), range_tokens(0, 5 * u),
                                                         cat(std::vector<token_id>(std::size_t(4 * u), 1), std::vector<token_id>(std::size_t(4 * u), 2))};
    auto random_tokens = [&](std::int64_t n) {
        std::vector<token_id> t(static_cast<std::size_t>(n));
        for (auto& x : t) x = token_id(pick(3));
        return t;
    };
    std::int64_t appends_refused = 0, matched_tokens = 0, ops_done = 0;
    for (int step = 0; step < 4000; ++step) {
        const std::int64_t op = pick(100);
        if (ref.empty() || (op < 10 && ref.size() < 10)) {  // create, maybe mapping a cached prefix
            const seq_id s = c.create();
            REQUIRE_FALSE(ref.count(s));
            ref[s] = {};
            if (pick(2)) {
                auto want = cat(openings[std::size_t(pick(3))], random_tokens(pick(6 * u)));
                const std::int64_t n = c.match_prefix(s, want);
                REQUIRE(n % bt == 0);
                REQUIRE(n <= std::max<std::int64_t>(0, std::int64_t(want.size()) - 1));
                ref[s].assign(want.begin(), want.begin() + n);
                matched_tokens += n;
            }
        } else if (op < 18 && ref.size() < 10) {  // fork
            const seq_id p = any_seq();
            const seq_id s = c.fork(p);
            ref[s] = ref[p];
        } else if (op < 60) {  // append and write
            const seq_id s = any_seq();
            const auto t = pick(4) == 0 ? openings[std::size_t(pick(3))] : random_tokens(1 + pick(pick(3) == 0 ? 9 * u : 2));
            const std::int64_t need = c.blocks_needed(s, std::int64_t(t.size()));
            const auto before = state_of(c, {s});
            const std::int64_t n0 = c.size(s), avail = c.blocks_available();
            if (c.append(s, t)) {
                REQUIRE(need <= avail);
                ref[s].insert(ref[s].end(), t.begin(), t.end());
                write_positions(c, s, n0, c.size(s));
            } else {
                REQUIRE(need > avail);
                REQUIRE(state_of(c, {s}) == before);
                ++appends_refused;
                if (pick(2)) {  // preempt: drop a sequence, as the scheduler would
                    const seq_id v = any_seq();
                    c.remove(v);
                    ref.erase(v);
                }
            }
        } else if (op < 70) {  // truncate
            const seq_id s = any_seq();
            const std::int64_t n = pick(std::int64_t(ref[s].size()) + 1);
            c.truncate(s, n);
            ref[s].resize(std::size_t(n));
        } else if (op < 80) {  // remove
            const seq_id s = any_seq();
            c.remove(s);
            ref.erase(s);
        } else if (op < 95) {  // publish, then every published block is found again
            const seq_id s = any_seq();
            c.publish(s);
            const std::int64_t full = c.size(s) / bt * bt;
            if (full > 0 && ref.size() < 12) {
                const seq_id q = c.create();
                auto probe = std::vector<token_id>(ref[s].begin(), ref[s].begin() + full);
                probe.push_back(7);
                REQUIRE(c.match_prefix(q, probe) == full);
                matched_tokens += full;
                REQUIRE(rows_match(c, q, std::vector<token_id>(ref[s].begin(), ref[s].begin() + full)));
                c.remove(q);
            }
        } else if (op < 97) {
            c.clear_cache();
        } else {
            const seq_id s = any_seq();
            REQUIRE(c.blocks_needed(s, 0) == 0);
        }
        ++ops_done;
        // the whole state against the reference, every step
        c.check_invariants();
        const auto st = c.stats();
        REQUIRE(st.blocks_used + st.blocks_cached + st.blocks_free == n_blocks);
        REQUIRE(c.n_seq() == std::int64_t(ref.size()));
        for (const auto& [s, t] : ref) {
            REQUIRE(c.contains(s));
            REQUIRE(toks_of(c, s) == t);
            REQUIRE(rows_match(c, s, t));
        }
    }
    const auto st = c.stats();
    MESSAGE("random ops: " << ops_done << ", appends refused " << appends_refused << ", prefix hits " << st.prefix_hits << "/"
                           << st.prefix_lookups << ", tokens matched " << matched_tokens << ", evictions " << st.evictions);
    CHECK(st.prefix_tokens_reused == matched_tokens);
    // the run exercised what it is meant to
    CHECK(appends_refused > 0);
    CHECK(st.prefix_hits > 50);
    CHECK(st.evictions > 20);
}
