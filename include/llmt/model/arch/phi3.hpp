// arch::phi3: Phi-3 / Phi-4-mini: fused QKV and gate-up tensors, LongRoPE factors from the file
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

/// general.architecture "phi3": llama's pre-norm block, but Q, K and V in one tensor attn_qkv
/// ([q_dim + 2 kv_dim][n_embd], or three separate ones) and gate and up in one ffn_up
/// ([2 n_ff][n_embd]: the SiLU-gated half first). Both are read as row ranges of the fused
/// tensor: the same kernels, no copy. LongRoPE (rope_factors_long / _short) is chosen by the model
/// from the context size, as llama.cpp does. llama.cpp ignores Phi-3's sliding window: so does llmt.
struct phi3 {
    static constexpr std::string_view name = "phi3";
    static constexpr std::array<std::string_view, 1> names{"phi3"};

    static void read(const io::gguf_file& /*f*/, hparams& hp) { hp.layer.assign(std::size_t(hp.n_layer), {0, false}); }

    static void load_block(detail::tensor_loader& ld, const hparams& hp, std::int64_t l, detail::block_weights& b) {
        using detail::blk;
        const std::int64_t d = hp.n_embd, qd = hp.q_dim(), kvd = hp.kv_dim();
        b.attn_norm = detail::load_norm(ld, blk(l, "attn_norm"), d, true);
        if (ld.has(blk(l, "attn_qkv.weight"))) {
            const std::int64_t total = qd + 2 * kvd;
            b.attn.wq = ld.lin_rows(blk(l, "attn_qkv"), 0, qd, total, d);
            b.attn.wk = ld.lin_rows(blk(l, "attn_qkv"), qd, kvd, total, d);
            b.attn.wv = ld.lin_rows(blk(l, "attn_qkv"), qd + kvd, kvd, total, d);
        } else {
            b.attn.wq = ld.lin(blk(l, "attn_q"), qd, d);
            b.attn.wk = ld.lin(blk(l, "attn_k"), kvd, d);
            b.attn.wv = ld.lin(blk(l, "attn_v"), kvd, d);
        }
        b.attn.wo = ld.lin(blk(l, "attn_output"), d, qd);
        b.ffn_norm = detail::load_norm(ld, blk(l, "ffn_norm"), d, true);
        b.ffn.gate = ld.lin_rows(blk(l, "ffn_up"), 0, hp.n_ff, 2 * hp.n_ff, d);
        b.ffn.up = ld.lin_rows(blk(l, "ffn_up"), hp.n_ff, hp.n_ff, 2 * hp.n_ff, d);
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
