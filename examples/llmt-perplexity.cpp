// llmt-perplexity: perplexity of a model on a text file, with llama-perplexity's method and output
#include "cli_app.hpp"

#include <llmt/llmt.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace {

// -log p(token) under the softmax of logits, as llama-perplexity computes it: max in float, the sum
// of expf(l - max) in double.
double neg_log_prob(std::span<const float> logits, llmt::token_id tok) {
    float max_logit = logits[0];
    for (const float l : logits) max_logit = std::max(max_logit, l);
    double sum_exp = 0.0;
    for (const float l : logits) sum_exp += double(std::exp(l - max_logit));
    return -(double(logits[std::size_t(tok)] - max_logit) - std::log(sum_exp));
}

int run(int argc, char** argv) {
    using namespace llmt_cli;
    CLI::App app{"llmt-perplexity: perplexity of a GGUF model on a text (llama-perplexity's method: non-overlapping "
                 "chunks of -c tokens, BOS first when the vocabulary adds it, the second half of each chunk scored)"};
    app.option_defaults()->always_capture_default();
    gen_options o;
    o.ctx = 512;
    o.batch = 2048;
    std::string file;
    std::int64_t chunks = -1;
    add_model_options(app, o);
    app.add_option("-f,--file", file, "the text (a regular file of at most 1 GiB)")->required();
    app.add_option("--chunks", chunks, "chunks to evaluate at most (-1: all)")
        ->check(CLI::Range(std::int64_t(-1), std::int64_t(std::numeric_limits<std::int32_t>::max())));
    parse(app, argc, argv);
    after_parse(o);
    if (o.ctx < 4) usage_fail("-c/--ctx-size must be at least 4 tokens for perplexity, got {}", o.ctx);
    const std::int64_t n_ctx = o.ctx;
    // llama-perplexity: a batch below the chunk size splits each chunk; a larger one holds several whole chunks
    if (o.batch > n_ctx && o.batch % n_ctx != 0)
        usage_fail("-b/--batch-size {} must be at most -c/--ctx-size {} or a multiple of it", o.batch, n_ctx);
    const std::int64_t n_seq = std::max<std::int64_t>(1, o.batch / n_ctx);
    const std::int64_t n_batch = std::min(o.batch, n_ctx * n_seq);

    const std::string text = read_text_file(file, "-f/--file");
    o.model = resolve_model(o.model);
    gen_options lo_opts = o;
    lo_opts.ctx = n_ctx * n_seq;
    lo_opts.batch = n_batch;
    auto model = load_model(lo_opts);
    const auto tok = llmt::tokenizer::tokenizer::from_gguf(model->gguf());

    const auto t_tok = std::chrono::steady_clock::now();
    const std::vector<llmt::token_id> tokens = tok.encode(text, true, false);
    fmt::print(stderr, "llmt-perplexity: {} ({}), {} tokens in {:.1f} ms\n", std::filesystem::path(o.model).filename().string(),
               model->describe(), tokens.size(),
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_tok).count());
    if (std::int64_t(tokens.size()) < 2 * n_ctx)
        llmt::fail(llmt::errc::invalid_argument,
                   "the text has {} tokens, fewer than the {} needed for perplexity with a context of {} (two chunks): "
                   "pass a longer text or a smaller -c/--ctx-size",
                   tokens.size(), 2 * n_ctx, n_ctx);
    const std::int64_t n_chunk_max = std::int64_t(tokens.size()) / n_ctx;
    const std::int64_t n_chunk = chunks < 0 ? n_chunk_max : std::min(chunks, n_chunk_max);
    const bool add_bos = tok.add_bos();
    const std::int64_t first = n_ctx / 2;  // the first half of a chunk is context only

    llmt::context_options copt;
    copt.context = n_ctx * n_seq;
    copt.batch = n_batch;
    copt.prefix_cache = false;
    auto ctx = model->make_context(copt);
    {  // blocks for n_seq whole chunks
        const auto st = ctx->stats();
        const std::int64_t need = n_seq * ((n_ctx + st.block_tokens - 1) / st.block_tokens);
        if (st.blocks_total < need) {
            copt.kv_blocks = need;
            ctx = model->make_context(copt);
        }
    }
    fmt::print(stderr, "llmt-perplexity: {} chunks, n_ctx={}, batch_size={}, n_seq={}, {} threads\n", n_chunk, n_ctx, n_batch,
               n_seq, ctx->threads());

    std::vector<llmt::seq_id> seqs;
    for (std::int64_t s = 0; s < n_seq; ++s) seqs.push_back(ctx->create());
    const std::int64_t num_batches = (n_ctx + n_batch - 1) / n_batch;
    llmt::batch b;
    std::int64_t count = 0;
    double nll = 0.0, nll2 = 0.0;
    const auto t_start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n_chunk; i += n_seq) {
        const std::int64_t start = i * n_ctx;
        const std::int64_t n_seq_batch = std::min(n_seq, n_chunk - i);
        for (const auto s : seqs) ctx->truncate(s, 0);
        std::vector<double> chunk_nll(std::size_t(n_seq_batch), 0.0), chunk_nll2(std::size_t(n_seq_batch), 0.0);
        for (std::int64_t j = 0; j < num_batches; ++j) {
            const std::int64_t batch_start = j * n_batch;  // position in the chunk
            const std::int64_t batch_size = std::min(n_ctx - batch_start, n_batch);
            b.clear();
            for (std::int64_t s = 0; s < n_seq_batch; ++s) {
                const std::int64_t seq_start = start + s * n_ctx;
                for (std::int64_t k = 0; k < batch_size; ++k) {
                    const std::int64_t pos = batch_start + k;
                    llmt::token_id t = tokens[std::size_t(seq_start + pos)];
                    if (add_bos && pos == 0) t = tok.bos();  // llama-perplexity puts BOS in place of each chunk's first token
                    // the logits at pos predict the token at pos + 1 (none for the chunk's last)
                    b.add(t, pos, seqs[std::size_t(s)], pos >= first && pos + 1 < n_ctx);
                }
            }
            ctx->decode(b);
            for (std::size_t r = 0; r < b.size(); ++r) {
                if (!b.logits[r]) continue;
                const auto s = std::size_t(r / std::size_t(batch_size));
                const std::int64_t next = start + std::int64_t(s) * n_ctx + b.pos[r] + 1;
                const double v = neg_log_prob(ctx->logits(r), tokens[std::size_t(next)]);
                chunk_nll[s] += v;
                chunk_nll2[s] += v * v;
            }
        }
        for (std::int64_t s = 0; s < n_seq_batch; ++s) {
            nll += chunk_nll[std::size_t(s)];
            nll2 += chunk_nll2[std::size_t(s)];
            count += n_ctx - first - 1;
            if (!out_flush(fmt::format("[{}]{:.4f},", i + s + 1, std::exp(nll / double(count))))) return exit_error;
        }
        if (i == 0) {
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
            fmt::print(stderr, "llmt-perplexity: {:.2f} seconds per pass, ETA {:.2f} minutes\n", sec,
                       sec * double((n_chunk + n_seq - 1) / n_seq) / 60.0);
        }
    }
    out("\n");
    const double mean = nll / double(count);
    const double ppl = std::exp(mean);
    const double var = nll2 / double(count) - mean * mean;
    if (var > 0 && count > 1) out(fmt::format("Final estimate: PPL = {:.4f} +/- {:.5f}\n", ppl, std::sqrt(var / double(count - 1)) * ppl));
    else out(fmt::format("Final estimate: PPL = {:.4f}\n", ppl));
    fmt::print(stderr, "llmt-perplexity: {} chunks ({} tokens scored) in {:.2f} s\n", n_chunk, count,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-perplexity", [&] { return run(argc, argv); });
}
