// arch::qwen2: Qwen 2 / 2.5: llama's pre-norm block with biases on Q, K and V (NeoX RoPE in the preset)
#pragma once

#include <llmt/config.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/model/arch/blocks.hpp>
#include <llmt/model/hparams.hpp>

#include <array>
#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace arch {

/// general.architecture "qwen2": pre-norm attention whose Q, K and V projections carry biases,
/// then a pre-norm SwiGLU feed-forward. llama.cpp gives Qwen 2 no sliding window: neither does llmt.
struct qwen2 {
    static constexpr std::string_view name = "qwen2";
    static constexpr std::array<std::string_view, 1> names{"qwen2"};

    static void read(const io::gguf_file& /*f*/, hparams& hp) { hp.layer.assign(std::size_t(hp.n_layer), {0, false}); }

    static void load_block(detail::tensor_loader& ld, const hparams& hp, std::int64_t l, detail::block_weights& b) {
        using detail::blk;
        const std::int64_t d = hp.n_embd;
        b.attn_norm = detail::load_norm(ld, blk(l, "attn_norm"), d, true);
        b.attn.wq = ld.lin(blk(l, "attn_q"), hp.q_dim(), d);  // + attn_q.bias
        b.attn.wk = ld.lin(blk(l, "attn_k"), hp.kv_dim(), d);
        b.attn.wv = ld.lin(blk(l, "attn_v"), hp.kv_dim(), d);
        b.attn.wo = ld.lin(blk(l, "attn_output"), d, hp.q_dim());
        b.ffn_norm = detail::load_norm(ld, blk(l, "ffn_norm"), d, true);
        b.ffn.gate = ld.lin(blk(l, "ffn_gate"), hp.n_ff, d);
        b.ffn.up = ld.lin(blk(l, "ffn_up"), hp.n_ff, d);
        b.ffn.down = ld.lin(blk(l, "ffn_down"), d, hp.n_ff);
    }

    template <typename Ops>
    static void block(Ops& op, const detail::block_weights& b, std::int64_t l) {
        op.norm(b.attn_norm);
        op.attention(b.attn, l);
        op.residual();
        op.norm(b.ffn_norm);
        op.feed_forward(b.ffn);
        op.residual();
    }
};

}  // namespace arch
LLMT_END_NAMESPACE
