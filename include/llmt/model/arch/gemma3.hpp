// arch::gemma3: Gemma 3: sandwich norms, per-head QK-norm, local sliding-window layers with their own RoPE base
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/model/arch/blocks.hpp>
#include <llmt/model/hparams.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace arch {

/// general.architecture "gemma3": embeddings scaled by sqrt(n_embd); each block normalizes before
/// and after attention and before and after the GELU-gated feed-forward (the norm weights already
/// hold Gemma's 1 + w, folded in by the conversion); per-head RMSNorm of Q and K. Layers follow the
/// pattern {arch}.attention.sliding_window_pattern (default 6: five local layers, then a global
/// one): a local layer sees the last {arch}.attention.sliding_window positions and rotates with
/// base {arch}.rope.freq_base_swa (default 10000, no scaling); a global layer sees everything
/// with the file's RoPE. Query scale: {arch}.attention.scale if set, else as llama.cpp (after
/// gemma_pytorch): 1/sqrt(head size), or 1/sqrt(n_embd / n_head) for the 62-layer 27B.
struct gemma3 {
    static constexpr std::string_view name = "gemma3";
    static constexpr std::array<std::string_view, 1> names{"gemma3"};

    static void read(const io::gguf_file& f, hparams& hp) {
        const std::string a = hp.arch + ".";
        const std::int64_t pattern = f.get_or<std::int64_t>(a + "attention.sliding_window_pattern", 6);
        LLMT_CHECK_CODE(pattern >= 0, errc::format, "gguf '{}': '{}attention.sliding_window_pattern' is {}, expected ≥ 0", f.path(), a,
                        pattern);
        hp.layer.assign(std::size_t(hp.n_layer), {0, false});
        if (hp.sliding_window > 0)
            for (std::int64_t l = 0; l < hp.n_layer; ++l)
                if (pattern == 0 || l % pattern < pattern - 1) hp.layer[std::size_t(l)] = {hp.sliding_window, true};
        hp.rope_local = layers::rope_params{};
        hp.rope_local.n_rot = hp.rope.n_rot;
        hp.rope_local.n_ctx_orig = hp.rope.n_ctx_orig;
        hp.rope_local.freq_base = f.get_or<float>(a + "rope.freq_base_swa", 10000.0f);
        LLMT_CHECK_CODE(std::isfinite(hp.rope_local.freq_base) && hp.rope_local.freq_base > 0, errc::format,
                        "gguf '{}': '{}rope.freq_base_swa' is {}, expected a positive number", f.path(), a, hp.rope_local.freq_base);
        hp.embed_scale = std::sqrt(float(hp.n_embd));
        const float scale = f.get_or<float>(a + "attention.scale", 0.0f);
        hp.attn_scale = scale > 0 ? scale
                        : hp.n_layer == 62 ? 1.0f / std::sqrt(float(hp.n_embd / hp.n_head))
                                           : 1.0f / std::sqrt(float(hp.head_dim));
        hp.logit_softcap = f.get_or<float>(a + "final_logit_softcapping", 0.0f);
        LLMT_CHECK_CODE(std::isfinite(hp.logit_softcap) && hp.logit_softcap >= 0, errc::format,
                        "gguf '{}': '{}final_logit_softcapping' is {}, expected ≥ 0", f.path(), a, hp.logit_softcap);
    }

    static void load_block(detail::tensor_loader& ld, const hparams& hp, std::int64_t l, detail::block_weights& b) {
        using detail::blk;
        const std::int64_t d = hp.n_embd;
        b.attn_norm = detail::load_norm(ld, blk(l, "attn_norm"), d, true);
        b.attn.wq = ld.lin(blk(l, "attn_q"), hp.q_dim(), d);
        b.attn.wk = ld.lin(blk(l, "attn_k"), hp.kv_dim(), d);
        b.attn.wv = ld.lin(blk(l, "attn_v"), hp.kv_dim(), d);
        b.attn.q_norm = ld.vec(blk(l, "attn_q_norm.weight"), hp.head_dim, true);
        b.attn.k_norm = ld.vec(blk(l, "attn_k_norm.weight"), hp.head_dim, true);
        b.attn.wo = ld.lin(blk(l, "attn_output"), d, hp.q_dim());
        b.attn_post_norm = detail::load_norm(ld, blk(l, "post_attention_norm"), d, true);
        b.ffn_norm = detail::load_norm(ld, blk(l, "ffn_norm"), d, true);
        b.ffn.gate = ld.lin(blk(l, "ffn_gate"), hp.n_ff, d);
        b.ffn.up = ld.lin(blk(l, "ffn_up"), hp.n_ff, d);
        b.ffn.down = ld.lin(blk(l, "ffn_down"), d, hp.n_ff);
        b.ffn_post_norm = detail::load_norm(ld, blk(l, "post_ffw_norm"), d, true);
    }

    template <typename Ops>
    static void block(Ops& op, const detail::block_weights& b, std::int64_t l) {
        op.norm(b.attn_norm);
        op.attention(b.attn, l);  // the layer's window and RoPE table, QK-norm
        op.post_norm(b.attn_post_norm);
        op.residual();
        op.norm(b.ffn_norm);
        op.feed_forward(b.ffn);
        op.post_norm(b.ffn_post_norm);
        op.residual();
    }
};

}  // namespace arch
LLMT_END_NAMESPACE
