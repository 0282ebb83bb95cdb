// llmt: the umbrella header, every CPU-side public header of the library
#pragma once

#include <llmt/config.hpp>
#include <llmt/version.hpp>
#include <llmt/fwd.hpp>

// core
#include <llmt/core/error.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/type_list.hpp>
#include <llmt/core/token.hpp>

// io
#include <llmt/io/escape.hpp>
#include <llmt/io/mapped_file.hpp>
#include <llmt/io/atomic_output_file.hpp>
#include <llmt/io/gguf_types.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/io/gguf_writer.hpp>

// quant
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/formats.hpp>
#include <llmt/quant/recipe.hpp>
#include <llmt/quant/quantize_rows.hpp>
#include <llmt/quant/quantize_file.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/simd/diagnostics.hpp>
#include <llmt/simd/xsimd.hpp>
#include <llmt/simd/cpu.hpp>
#include <llmt/simd/x86.hpp>
#include <llmt/simd/amx.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/gemm_float.hpp>
#include <llmt/kernels/gemm_k.hpp>
#include <llmt/kernels/gemm_q8x32.hpp>
#include <llmt/kernels/gemv_float.hpp>
#include <llmt/kernels/gemv_k.hpp>
#include <llmt/kernels/gemv_q8x32.hpp>
#include <llmt/kernels/quantize_act.hpp>
#include <llmt/kernels/gemm_amx.hpp>
#include <llmt/kernels/gemm_amx_bf16.hpp>
#include <llmt/kernels/kernel_table.hpp>
#include <llmt/kernels/matmul.hpp>
#include <llmt/kernels/get_rows.hpp>
#include <llmt/kernels/norm.hpp>
#include <llmt/kernels/softmax.hpp>
#include <llmt/kernels/rope.hpp>
#include <llmt/kernels/activation.hpp>
#include <llmt/kernels/f16_half_accum.hpp>

// tokenizer
#include <llmt/tokenizer/unicode.hpp>
#include <llmt/tokenizer/vocab.hpp>
#include <llmt/tokenizer/pre_tokenizer.hpp>
#include <llmt/tokenizer/spm.hpp>
#include <llmt/tokenizer/bpe.hpp>
#include <llmt/tokenizer/wpm.hpp>
#include <llmt/tokenizer/special_tokens.hpp>
#include <llmt/tokenizer/tokenizer.hpp>

// model composition: policies, KV cache, attention, model<Spec>, presets
#include <llmt/layers/norm.hpp>
#include <llmt/layers/rope.hpp>
#include <llmt/layers/feed_forward.hpp>
#include <llmt/attention/grouping.hpp>
#include <llmt/kv_cache/element.hpp>
#include <llmt/kv_cache/policy.hpp>
#include <llmt/kv_cache/contiguous.hpp>
#include <llmt/kv_cache/sliding_window.hpp>
#include <llmt/kv_cache/store.hpp>
#include <llmt/kv_cache/paged.hpp>
#include <llmt/attention/attend.hpp>
#include <llmt/model/hparams.hpp>
#include <llmt/model/model_spec.hpp>
#include <llmt/model/model_base.hpp>
#include <llmt/model/model.hpp>
#include <llmt/model/presets.hpp>
#include <llmt/model/load_any.hpp>

// sampling
#include <llmt/sampling/rng.hpp>
#include <llmt/sampling/candidates.hpp>
#include <llmt/sampling/penalties.hpp>
#include <llmt/sampling/truncate.hpp>
#include <llmt/sampling/temperature.hpp>
#include <llmt/sampling/mirostat.hpp>
#include <llmt/sampling/select.hpp>
#include <llmt/sampling/params.hpp>
#include <llmt/sampling/chain.hpp>

// runtime
#include <llmt/runtime/jinja.hpp>
#include <llmt/runtime/chat_template.hpp>
#include <llmt/runtime/chat_template_file.hpp>
#include <llmt/runtime/text_stream.hpp>
#include <llmt/runtime/session.hpp>
#include <llmt/runtime/scheduler.hpp>
