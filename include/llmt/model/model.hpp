// model: model<Spec>, a transformer composed from the policies of Spec, loaded from GGUF, with batched forward
#pragma once

#include <llmt/config.hpp>
#include <llmt/attention/attend.hpp>
#include <llmt/backend/cpu.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/limits.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/kernels/activation.hpp>
#include <llmt/kernels/f16_half_accum.hpp>
#include <llmt/kernels/get_rows.hpp>
#include <llmt/kernels/kernel_table.hpp>
#include <llmt/kernels/matmul.hpp>
#include <llmt/kernels/pack.hpp>
#include <llmt/kernels/rope.hpp>
#include <llmt/kv_cache/contiguous.hpp>
#include <llmt/kv_cache/sliding_window.hpp>
#include <llmt/kv_cache/store.hpp>
#include <llmt/model/arch/blocks.hpp>
#include <llmt/model/arch/llama.hpp>
#include <llmt/model/hparams.hpp>
#include <llmt/model/context_base.hpp>
#include <llmt/model/model_base.hpp>
#include <llmt/model/model_spec.hpp>
#include <llmt/quant/dispatch.hpp>

#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE

namespace detail {
// Stands in for an invalid Spec so that only the named static_assert is reported, not a cascade.
using fallback_spec = model_spec<rms_norm, gqa<>, rope_normal, swiglu, kv_cache::contiguous<quant::f32>, quant::weight_types<quant::f32>>;

template <typename S>
struct arch_of {
    using type = arch::llama;
};
template <typename S>
    requires requires { typename S::arch; }
struct arch_of<S> {
    using type = typename S::arch;
};
}  // namespace detail

template <typename Spec, typename Backend>
class context;

/// A transformer whose algorithm choices are the policies of Spec and whose sizes come from the file:
/// its weights, read-only once loaded and shared by every context (context<Spec>) made on it. The
/// forward() of model_base runs one sequence on a context the model keeps for that purpose.
template <typename Spec>
class model final : public model_base {
    template <typename S, typename B>
    friend class context;

    static_assert(model_spec_type<Spec>,
                  "llmt::model<Spec>: Spec must be an llmt::model_spec<...> or a preset such as llmt::presets::llama");

public:
    using spec = std::conditional_t<model_spec_type<Spec>, Spec, detail::fallback_spec>;
    using norm = typename spec::norm;
    using attention_policy = typename spec::attention;
    using rope = typename spec::rope;
    using feed_forward = typename spec::feed_forward;
    using kv_policy = typename spec::kv_policy;
    using kv_element = typename kv_policy::element;
    using weights = typename spec::weights;
    /// The block's tensors and wiring (model/arch/*.hpp): Spec::arch, else arch::llama.
    using arch_type = typename detail::arch_of<spec>::type;
    static_assert(arch::architecture<arch_type>, "llmt::model<Spec>: Spec::arch must be an architecture (llmt::arch::llama, ...)");

    /// Opens a GGUF file and loads the model (weights stay memory-mapped).
    /// Throws llmt::error only (a failed allocation or thread start as errc::runtime naming the file).
    static model load(const std::filesystem::path& path, const load_options& opt = {}) {
        return load(io::gguf_file::open(path, opt.mode), opt);
    }
    /// Loads the model from a parsed file, which the model keeps.
    static model load(io::gguf_file file, const load_options& opt = {}) {
        const std::string where = fmt::format("cannot load '{}'", file.path());
        return rethrow_as_error(where, [&] {
            model m;
            m.init(std::move(file), opt);
            return m;
        });
    }

    model(model&& o) noexcept { *this = std::move(o); }
    model& operator=(model&& o) noexcept;
    ~model() override;

    /// A context of many sequences on these weights (the model must outlive it and not move).
    [[nodiscard]] std::unique_ptr<context_base> make_context(const context_options& opt = {}) const override;

    [[nodiscard]] const hparams& params() const noexcept override { return hp_; }
    [[nodiscard]] const io::gguf_file& gguf() const noexcept override { return *file_; }
    [[nodiscard]] std::string describe() const override {
        return fmt::format("{} {} {} {} {}<{}>", norm::name, attention_policy::name, rope::name, feed_forward::name,
                           kv_policy::name, kv_cache::element_ops<kv_element>::name);
    }
    [[nodiscard]] std::int64_t n_ctx() const noexcept override { return n_ctx_; }
    [[nodiscard]] std::int64_t n_batch() const noexcept override { return n_batch_; }
    [[nodiscard]] std::int64_t n_past() const noexcept override;
    [[nodiscard]] int threads() const noexcept override { return threads_; }
    [[nodiscard]] std::int64_t window() const noexcept { return shape_.window; }
    /// The KV blocks of forward()'s sequence (a sliding window holds the window's blocks, not the context's).
    [[nodiscard]] context_stats kv_stats() const;

    void clear() noexcept override;

    void forward(std::span<const token_id> tokens, std::int64_t pos0, std::span<float> logits, bool all_logits) override;

    /// Evaluates tokens at pos0.. and returns the logits of the last one ([n_vocab], valid until the next call).
    std::span<const float> forward(std::span<const token_id> tokens, std::int64_t pos0) {
        forward(tokens, pos0, std::span<float>(logits_), false);
        return logits_;
    }

private:
    model() = default;

    // ---- loading ----
    void init(io::gguf_file file, const load_options& opt) {
        check_options(opt);
        file_ = std::make_unique<io::gguf_file>(std::move(file));
        used_.assign(file_->tensors().size(), false);
        f16_accum_ = opt.f16_accum;
        hp_ = hparams::read(*file_, norm::eps_key);
        if constexpr (spec::architectures.size() > 0) {
            bool known = false;
            for (std::string_view a : spec::architectures) known = known || a == hp_.arch;
            LLMT_CHECK_CODE(known, errc::unsupported, "gguf '{}': architecture '{}' does not match this model type (expects {})",
                            file_->path(), hp_.arch, fmt::join(spec::architectures, ", "));
        }
        attention_policy::check(hp_.n_head, hp_.n_head_kv);
        check_kv_type(opt);
        check_blocks();  // before anything is sized by block_count

        if (opt.sliding_window >= 0) hp_.sliding_window = opt.sliding_window;
        arch_type::read(*file_, hp_);  // per-layer windows and RoPE, scales
        LLMT_CHECK_CODE(std::int64_t(hp_.layer.size()) == hp_.n_layer, errc::config, "architecture '{}' described {} layers of {}",
                        arch_type::name, hp_.layer.size(), hp_.n_layer);

        const std::int64_t d = hp_.n_embd;
        tok_embd_ = matrix("token_embd.weight", -1, d);
        hp_.n_vocab = tok_embd_.rows;
        output_ = find("output.weight") ? matrix("output.weight", hp_.n_vocab, d) : tok_embd_;  // tied
        output_norm_ = vec("output_norm.weight", d, true);
        output_norm_b_ = vec("output_norm.bias", d, false);
        detail::tensor_loader ld;
        ld.lin = [this](const std::string& base, std::int64_t rows, std::int64_t cols) { return lin(base, rows, cols); };
        ld.lin_rows = [this](const std::string& base, std::int64_t first, std::int64_t rows, std::int64_t total, std::int64_t cols) {
            return lin_rows(base, first, rows, total, cols);
        };
        ld.vec = [this](const std::string& name, std::int64_t n, bool required) { return vec(name, n, required); };
        ld.has = [this](const std::string& name) { return file_->find_tensor(name) != nullptr; };
        ld.gated = feed_forward::gated;
        layers_.resize(std::size_t(hp_.n_layer));
        for (std::int64_t l = 0; l < hp_.n_layer; ++l) arch_type::load_block(ld, hp_, l, layers_[std::size_t(l)]);
        hp_.rope.freq_factors = vec("rope_freqs.weight", hp_.rope.n_rot / 2, false);
        // LongRoPE (Phi-3): per-frequency divisors for contexts beyond the original one, others for within it
        std::vector<float> rope_long = vec("rope_factors_long.weight", hp_.rope.n_rot / 2, false);
        std::vector<float> rope_short = vec("rope_factors_short.weight", hp_.rope.n_rot / 2, false);
        for (const float f : rope_long) check_rope_factor("rope_factors_long.weight", f);
        for (const float f : rope_short) check_rope_factor("rope_factors_short.weight", f);
        for (const float f : hp_.rope.freq_factors)
            LLMT_CHECK_CODE(std::isfinite(f) && f > 0, errc::format, "gguf '{}': tensor 'rope_freqs.weight' holds {}, expected positive finite factors",
                            file_->path(), f);
        check_vocabulary();
        check_unused_tensors(opt.allow_unknown_tensors);
        used_ = {};

        // Sizes of the run-time buffers, every product checked and the whole against physical memory.
        n_ctx_ = opt.context > 0 ? opt.context : std::min<std::int64_t>(hp_.n_ctx_train, 4096);
        n_batch_ = std::min<std::int64_t>(opt.batch, n_ctx_);
        shape_.n_head = hp_.n_head;
        shape_.n_head_kv = hp_.n_head_kv;
        shape_.head_dim = hp_.head_dim;
        shape_.window = 0;  // the widest window of any layer (0 when one sees the whole context)
        for (std::size_t l = 0; l < hp_.layer.size(); ++l)
            shape_.window = l == 0 || (shape_.window > 0 && hp_.layer[l].window > 0) ? std::max(shape_.window, hp_.layer[l].window) : 0;
        shape_.scale = hp_.attn_scale > 0 ? hp_.attn_scale : 1.0f / std::sqrt(float(hp_.head_dim));
        if constexpr (kv_policy::ring)
            LLMT_CHECK_CODE(shape_.window > 0, errc::config,
                            "{} needs an attention window, but the file sets no '{}.attention.sliding_window': "
                            "pass load_options::sliding_window or use llmt::kv_cache::contiguous",
                            kv_policy::name, hp_.arch);
        const std::int64_t cells = kv_policy::cells(n_ctx_, shape_.window, n_batch_);
        int n_threads = opt.threads > 0 ? opt.threads : int(std::max(1u, std::thread::hardware_concurrency()));
        n_threads = std::min(n_threads, max_threads);
        check_memory(opt, cells, n_threads);
        threads_ = n_threads;

        if (hp_.rope.freq_factors.empty()) hp_.rope.freq_factors = n_ctx_ > hp_.rope.n_ctx_orig ? rope_long : rope_short;
        rope_table_.resize(size_product(errc::invalid_argument, "the RoPE table", n_ctx_, hp_.rope.n_rot));
        layers::fill_rope_table(hp_.rope, n_ctx_, rope_table_.data());
        if (std::any_of(hp_.layer.begin(), hp_.layer.end(), [](const layer_hparams& h) { return h.local_rope; })) {
            rope_local_table_.resize(rope_table_.size());
            layers::fill_rope_table(hp_.rope_local, n_ctx_, rope_local_table_.data());
        }

        auto pool = std::make_shared<thread_pool>(n_threads);
        if (opt.repack) pack_weights(*pool);
        logits_.assign(std::size_t(hp_.n_vocab), 0.0f);
        context_options co;
        co.pool = std::move(pool);
        co.prefix_cache = false;  // one sequence rewritten in place: nothing to share
        try {
            make_default_context(co);
        } catch (const error& e) {
            fail(e.code(), "gguf '{}': the context of {} positions: {}", file_->path(), n_ctx_, e.what());
        }
    }
    void make_default_context(const context_options& co);

    void check_rope_factor(std::string_view tensor, float f) const {
        LLMT_CHECK_CODE(std::isfinite(f) && f > 0, errc::format, "gguf '{}': tensor '{}' holds {}, expected positive finite factors",
                        file_->path(), tensor, f);
    }

    // The options alone: each refused with a message naming it and its limit.
    static void check_options(const load_options& opt) {
        LLMT_CHECK_CODE(opt.context >= 0 && opt.context <= max_context, errc::invalid_argument,
                        "load_options::context {} is outside 0..{} positions (0 = the file's context_length, at most 4096)",
                        opt.context, max_context);
        LLMT_CHECK_CODE(opt.batch >= 1 && opt.batch <= max_context, errc::invalid_argument,
                        "load_options::batch {} is outside 1..{} tokens", opt.batch, max_context);
        LLMT_CHECK_CODE(opt.threads >= 0 && opt.threads <= max_threads, errc::invalid_argument,
                        "load_options::threads {} is outside 0..{} (0 = one per hardware thread)", opt.threads, max_threads);
        LLMT_CHECK_CODE(opt.sliding_window >= -1, errc::invalid_argument,
                        "load_options::sliding_window {} is invalid (-1 = the file's, 0 = none, > 0 = a window)", opt.sliding_window);
    }

    // load_options::kv_type names this spec's KV element type, and the heads fit its blocks.
    void check_kv_type(const load_options& opt) const {
        constexpr kv_type mine = kv_cache::kv_type_of<kv_element>;
        LLMT_CHECK_CODE(!opt.kv_type || *opt.kv_type == mine, errc::invalid_argument,
                        "load_options::kv_type is {}, but this model type stores its KV cache as {} ({}<{}>): "
                        "use load_any, or a spec whose KV cache policy holds llmt::{}",
                        to_string(opt.kv_type.value_or(mine)), to_string(mine), kv_policy::name, to_string(mine),
                        to_string(opt.kv_type.value_or(mine)));
        LLMT_CHECK_CODE(hp_.head_dim % kv_element::block_size == 0, errc::config,
                        "gguf '{}': head_dim {} is not a multiple of the {} block size {}, so a {} KV cache cannot hold "
                        "these heads (load_options::kv_type): use f16 or f32",
                        file_->path(), hp_.head_dim, to_string(mine), kv_element::block_size, to_string(mine));
    }

    // Every blk.N tensor has N < block_count and every N < block_count has tensors: checked on the
    // names present, so that a block_count of 2^40 costs nothing before it is refused.
    void check_blocks() const {
        std::vector<std::pair<std::uint64_t, std::string_view>> blocks;  // (N, a tensor of block N)
        for (const auto& t : file_->tensors()) {
            const std::string_view n = t.name;
            if (n.substr(0, 4) != "blk.") continue;
            std::uint64_t b = 0;
            const char* first = n.data() + 4;
            const auto [end, ec] = std::from_chars(first, n.data() + n.size(), b);
            if (ec != std::errc() || end == first || end == n.data() + n.size() || *end != '.') continue;  // not blk.N.*: unknown
            blocks.emplace_back(b, n);
        }
        std::sort(blocks.begin(), blocks.end());
        const std::string key = hp_.arch + ".block_count";
        if (!blocks.empty() && blocks.back().first >= std::uint64_t(hp_.n_layer))
            fail(errc::format, "gguf '{}': tensor '{}' belongs to block {}, but '{}' is {} (blocks 0..{})", file_->path(),
                 io::escape(blocks.back().second, 64), blocks.back().first, key, hp_.n_layer, hp_.n_layer - 1);
        std::uint64_t next = 0;  // the first block index without a tensor
        for (const auto& [b, n] : blocks)
            if (b == next) ++next;
            else if (b > next) break;
        if (next < std::uint64_t(hp_.n_layer))
            fail(errc::format, "gguf '{}': '{}' is {}, but the file has no tensor of block {} (blk.{}.*)", file_->path(), key,
                 hp_.n_layer, next, next);
    }

    // The tokenizer, when the file has one, belongs to these weights: as many tokens as token_embd
    // (and output) rows, and every special token id inside the vocabulary.
    void check_vocabulary() const {
        if (const io::gguf_value* v = file_->find("tokenizer.ggml.tokens")) {
            const std::uint64_t count = v->type == io::gguf_type::array && v->array ? v->array->count : 0;
            LLMT_CHECK_CODE(count == std::uint64_t(hp_.n_vocab), errc::format,
                            "gguf '{}': the vocabulary has {} tokens (tokenizer.ggml.tokens) but token_embd.weight has {} rows: "
                            "the tokenizer does not belong to these weights",
                            file_->path(), count, hp_.n_vocab);
        }
        constexpr std::string_view prefix = "tokenizer.ggml.", suffix = "_token_id";
        for (const auto& kv : file_->metadata()) {
            const std::string_view k = kv.key;
            if (k.size() < prefix.size() + suffix.size() || k.substr(0, prefix.size()) != prefix ||
                k.substr(k.size() - suffix.size()) != suffix)
                continue;
            if (io::is_unset_token_id(kv.value)) continue;  // "none"
            const auto id = kv.value.template as<std::int64_t>();
            LLMT_CHECK_CODE(id && *id >= 0 && *id < hp_.n_vocab, errc::format,
                            "gguf '{}': '{}' is {}, outside the vocabulary of {} tokens", file_->path(), io::escape(k, 64),
                            io::gguf_file::describe(kv.value), hp_.n_vocab);
        }
    }

    // A tensor this model type does not read is a sign of another architecture or a broken
    // conversion; it is refused unless the caller asked to ignore such tensors.
    void check_unused_tensors(bool allow) const {
        if (allow) return;
        const auto& ts = file_->tensors();
        std::size_t n_unused = 0, first = ts.size();
        for (std::size_t k = 0; k < ts.size(); ++k)
            if (!used_[k]) {
                if (n_unused++ == 0) first = k;
            }
        if (n_unused == 0) return;
        fail(errc::unsupported,
             "gguf '{}': tensor '{}' is not used by this model type ({}; {} unused tensor{} in all): "
             "set load_options::allow_unknown_tensors to load the file anyway",
             file_->path(), io::escape(ts[first].name, 64), describe(), n_unused, n_unused == 1 ? "" : "s");
    }

    // The KV cache, the position tables and the per-batch scratch, checked for overflow and against
    // physical memory before any of them is allocated.
    void check_memory(const load_options& opt, std::int64_t cells, int n_threads) const {
        using ops = kv_cache::element_ops<kv_element>;
        const std::size_t phys = physical_memory_bytes();
        const auto kv_cell = checked_size(ops::row_bytes(hp_.head_dim), hp_.n_head_kv, hp_.n_layer, 2);  // K and V, every layer
        const auto per_cell = kv_cell ? checked_add(*kv_cell, std::size_t(n_threads) * sizeof(float)) : std::nullopt;  // + scores
        const auto kv = per_cell ? checked_mul(*per_cell, std::size_t(cells)) : std::nullopt;
        const auto rope = checked_size(n_ctx_, hp_.rope.n_rot, sizeof(float));
        const auto ctx_bytes = kv && rope ? checked_add(*kv, *rope) : std::nullopt;
        const std::int64_t ctx_shown = opt.context > 0 ? opt.context : n_ctx_;
        if (!ctx_bytes || *ctx_bytes > phys) {
            const std::size_t per_pos = (per_cell ? *per_cell : 0) + std::size_t(hp_.rope.n_rot) * sizeof(float);
            fail(errc::invalid_argument,
                 "load_options::context {}: the KV cache and RoPE table of {} positions would take {}, more than the {} of "
                 "physical memory (at most about {} positions fit)",
                 ctx_shown, n_ctx_, ctx_bytes ? format_bytes(*ctx_bytes) : std::string("more bytes than can be counted"),
                 format_bytes(phys), per_pos ? phys / per_pos : 0);
        }
        const std::int64_t per_token = 2 * hp_.n_embd + 2 * hp_.q_dim() + 2 * hp_.kv_dim() + (feed_forward::gated ? 2 : 1) * hp_.n_ff;
        const auto batch_bytes = checked_size(n_batch_, per_token, sizeof(float));
        const auto total = batch_bytes ? checked_add(*ctx_bytes, *batch_bytes) : std::nullopt;
        LLMT_CHECK_CODE(total && *total <= phys, errc::invalid_argument,
                        "load_options::batch {}: the scratch of {} tokens would take {} beside {} of KV cache, more than the {} "
                        "of physical memory",
                        opt.batch, n_batch_, batch_bytes ? format_bytes(*batch_bytes) : std::string("more bytes than can be counted"),
                        format_bytes(*ctx_bytes), format_bytes(phys));
    }

    // The largest scratch any matrix product of a batch needs.
    [[nodiscard]] std::size_t matmul_scratch(std::int64_t n_batch) const {
        std::size_t scratch = kernels::matmul_scratch_bytes(output_, n_batch);
        for (const auto& L : layers_)
            for (const detail::linear* w : {&L.attn.wq, &L.attn.wk, &L.attn.wv, &L.attn.wo, &L.ffn.gate, &L.ffn.up, &L.ffn.down})
                if (w->w.fmt) scratch = std::max(scratch, kernels::matmul_scratch_bytes(w->w, n_batch));
        return scratch;
    }

    // The matrices whose kernel has a decode layout, packed into it (kernels/pack.hpp): in place when
    // the file's bytes are the process's own, else into huge pages of the model, the file's pages of
    // each tensor given back as soon as it is packed (memory stays at one copy plus one tensor).
    void pack_weights(thread_pool& pool) {
        std::vector<kernels::weight_ref*> todo;
        for (auto& L : layers_)
            for (detail::linear* w : {&L.attn.wq, &L.attn.wk, &L.attn.wv, &L.attn.wo, &L.ffn.gate, &L.ffn.up, &L.ffn.down})
                if (w->w.fmt && kernels::can_pack(w->w)) todo.push_back(&w->w);
        if (output_.data != tok_embd_.data && kernels::can_pack(output_)) todo.push_back(&output_);  // tied: get_rows reads it
        if (todo.empty()) return;
        auto round64 = [](std::size_t n) { return (n + 63) / 64 * 64; };
        const bool in_place = file_->private_bytes(std::span<const std::byte>(todo[0]->data, 0)) != nullptr;
        if (!in_place) {
            std::size_t total = 0;
            for (const auto* w : todo) total += round64(kernels::weight_bytes(*w));
            packed_ = io::page_buffer(total);
        }
        std::size_t at = 0;
        for (auto* w : todo) {
            const std::span<const std::byte> src(w->data, kernels::weight_bytes(*w));
            std::byte* dst = in_place ? file_->private_bytes(src) : packed_.data() + at;
            *w = kernels::pack_weight(pool, *w, dst);
            if (!in_place) {
                file_->release_pages(src);
                at += round64(src.size());
            }
        }
    }

    // A weight matrix [rows][cols]; rows < 0 accepts any row count.
    // The tensor, marked as used; nullptr when absent.
    const io::gguf_tensor_info* find(std::string_view name) {
        const auto* t = file_->find_tensor(name);
        if (t) used_[std::size_t(t - file_->tensors().data())] = true;
        return t;
    }
    kernels::weight_ref matrix(const std::string& name, std::int64_t rows, std::int64_t cols) {
        const auto* found = find(name);
        LLMT_CHECK_CODE(found, errc::not_found, "gguf '{}': required tensor '{}' is missing", file_->path(), name);
        const auto& t = *found;
        LLMT_CHECK_CODE(std::int64_t(t.ne[0]) == cols && (rows < 0 || std::int64_t(t.ne[1]) == rows) && t.ne[2] == 1 && t.ne[3] == 1,
                        errc::format, "gguf '{}': tensor '{}' has shape [{}, {}, {}, {}], expected [{}, {}] (ne0 = columns)",
                        file_->path(), name, t.ne[0], t.ne[1], t.ne[2], t.ne[3], cols, rows < 0 ? std::string("n") : std::to_string(rows));
        // Format and SIMD kernel resolved here, once per tensor: the forward pass never looks at a type again.
        auto w = kernels::make_weight_ref<weights>(t.type, file_->tensor_data(t).data(), std::int64_t(t.ne[1]), std::int64_t(t.ne[0]), name);
        if (t.type == quant::qtype::f16 && f16_accum_ == f16_accumulation::half) w.kern = &kernels::f16_half_accum_entry;
        return w;
    }
    detail::linear lin(const std::string& base, std::int64_t rows, std::int64_t cols) {
        detail::linear l;
        l.w = matrix(base + ".weight", rows, cols);
        l.b = vec(base + ".bias", rows, false);
        return l;
    }
    // Rows [first, first + rows) of a fused matrix [total][cols] (and of its bias): a view of its bytes.
    detail::linear lin_rows(const std::string& base, std::int64_t first, std::int64_t rows, std::int64_t total, std::int64_t cols) {
        detail::linear whole = lin(base, total, cols);
        detail::linear l;
        const auto* t = file_->find_tensor(base + ".weight");
        l.w = kernels::make_weight_ref<weights>(t->type, whole.w.data + std::size_t(first) * whole.w.row_bytes, rows, cols,
                                                base + ".weight");
        if (t->type == quant::qtype::f16 && f16_accum_ == f16_accumulation::half) l.w.kern = &kernels::f16_half_accum_entry;
        if (!whole.b.empty()) l.b.assign(whole.b.begin() + first, whole.b.begin() + first + rows);
        return l;
    }
    // A vector of n values dequantized to f32; empty when absent and not required.
    std::vector<float> vec(const std::string& name, std::int64_t n, bool required) {
        const auto* t = find(name);
        if (!t) {
            LLMT_CHECK_CODE(!required, errc::not_found, "gguf '{}': required tensor '{}' is missing", file_->path(), name);
            return {};
        }
        LLMT_CHECK_CODE(std::int64_t(t->n_elements) == n && std::int64_t(t->ne[0]) == n, errc::format,
                        "gguf '{}': tensor '{}' has shape [{}], expected a vector of {} values", file_->path(), name,
                        fmt::join(std::span(t->ne.data(), t->n_dims), ", "), n);
        std::vector<float> out(std::size_t(n), 0.0f);
        quant::resolve<weights>(t->type, name).dequantize_row(file_->tensor_data(*t).data(), out.data(), n);
        return out;
    }

    /// Positions load_options::context may ask for (16 Mi): a hard limit far above any trained context,
    /// low enough that position arithmetic never nears overflow.
    static constexpr std::int64_t max_context = load_options::max_context;
    static constexpr int max_threads = load_options::max_threads;

    std::unique_ptr<io::gguf_file> file_;  // owns the mapped weights
    std::vector<bool> used_;               // [n_tensors] read by the loader (only while loading)
    io::page_buffer packed_;               // packed matrices of a mapped file (pack_weights)
    f16_accumulation f16_accum_ = f16_accumulation::f32;
    hparams hp_;
    std::int64_t n_ctx_ = 0;    // positions available
    std::int64_t n_batch_ = 0;  // tokens per chunk
    int threads_ = 1;           // of the default context (load_options::threads)
    attention::attention_shape shape_;

    kernels::weight_ref tok_embd_;                   // [n_vocab][n_embd]
    kernels::weight_ref output_;                     // [n_vocab][n_embd] (token_embd when tied)
    std::vector<float> output_norm_, output_norm_b_; // [n_embd], bias [n_embd] or empty
    std::vector<detail::block_weights> layers_;      // [n_layer]
    std::vector<float> rope_table_;                  // [n_ctx][n_rot/2][2] (cos, sin)
    std::vector<float> rope_local_table_;            // [n_ctx][n_rot/2][2] of hp_.rope_local, or empty

    // The context of forward() (model_base's one-sequence interface) and its sequence.
    std::unique_ptr<context<Spec, backend::cpu>> default_;
    seq_id default_seq_ = 0;
    std::vector<float> logits_;  // [n_vocab] last-token logits of forward(tokens, pos0)
};

LLMT_END_NAMESPACE

#include <llmt/model/context.hpp>

LLMT_BEGIN_NAMESPACE

template <typename Spec>
model<Spec>& model<Spec>::operator=(model&& o) noexcept {
    if (this == &o) return *this;
    file_ = std::move(o.file_);
    used_ = std::move(o.used_);
    packed_ = std::move(o.packed_);
    f16_accum_ = o.f16_accum_;
    hp_ = std::move(o.hp_);
    n_ctx_ = o.n_ctx_;
    n_batch_ = o.n_batch_;
    threads_ = o.threads_;
    shape_ = o.shape_;
    tok_embd_ = o.tok_embd_;
    output_ = o.output_;
    output_norm_ = std::move(o.output_norm_);
    output_norm_b_ = std::move(o.output_norm_b_);
    layers_ = std::move(o.layers_);
    rope_table_ = std::move(o.rope_table_);
    rope_local_table_ = std::move(o.rope_local_table_);
    default_ = std::move(o.default_);
    default_seq_ = o.default_seq_;
    logits_ = std::move(o.logits_);
    if (default_) default_->rebind(*this);
    return *this;
}

template <typename Spec>
model<Spec>::~model() = default;

template <typename Spec>
std::unique_ptr<context_base> model<Spec>::make_context(const context_options& opt) const {
    context_options co = opt;
    if (!co.pool && co.threads == 0 && default_) co.pool = default_->shared_pool();
    return std::make_unique<context<Spec, backend::cpu>>(*this, co);
}

template <typename Spec>
void model<Spec>::make_default_context(const context_options& co) {
    default_ = std::make_unique<context<Spec, backend::cpu>>(*this, co);
    default_seq_ = default_->create();
}

template <typename Spec>
std::int64_t model<Spec>::n_past() const noexcept {
    return default_ ? default_->size(default_seq_) : 0;
}

template <typename Spec>
context_stats model<Spec>::kv_stats() const {
    return default_ ? default_->stats() : context_stats{};
}

template <typename Spec>
void model<Spec>::clear() noexcept {
    if (default_) default_->truncate(default_seq_, 0);
}

template <typename Spec>
void model<Spec>::forward(std::span<const token_id> tokens, std::int64_t pos0, std::span<float> logits, bool all_logits) {
    LLMT_CHECK_CODE(default_ != nullptr, errc::invalid_argument, "forward: the model was moved from");
    default_->forward(default_seq_, tokens, pos0, logits, all_logits);
}

LLMT_END_NAMESPACE
