// model_base: token ids, load options and the run-time interface every model<Spec> implements (for load_any)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/token.hpp>  // token_id
#include <llmt/io/gguf.hpp>
#include <llmt/kv_cache/kv_type.hpp>
#include <llmt/model/context_base.hpp>
#include <llmt/model/hparams.hpp>
#include <memory>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

LLMT_BEGIN_NAMESPACE

/// How F16 weights are dotted with their (f16) activations.
///  - f32:  products and partial sums in f32 or wider (the default, the accurate one);
///  - half: as llama.cpp's CPU backend does on AVX512-FP16 machines (GGML_NATIVE builds): 128
///          running sums in half precision updated by fused multiply-adds and reduced in half
///          precision (kernels/f16_half_accum.hpp). Its dots are fp16 values, up to ~1e-2 from the
///          exact ones. A scalar emulation, slow: for reproducing logits such a build wrote.
enum class f16_accumulation : std::uint8_t { f32, half };

/// Run-time choices made when loading a model.
/// Each is checked at load: a value outside its range is refused with errc::invalid_argument naming
/// the option and the limit, and so is a context whose KV cache and tables exceed physical memory.
struct load_options {
    static constexpr std::int64_t max_context = std::int64_t(1) << 24;  ///< the most positions context may ask for
    static constexpr int max_threads = 512;                             ///< the most threads (llama.cpp's limit too)

    std::int64_t context = 0;          ///< positions available, 0..max_context; 0 = the file's context_length, at most 4096
    std::int64_t batch = 512;          ///< tokens evaluated together, ≥ 1 (longer inputs are split; at most context)
    int threads = 0;                   ///< worker threads, 0..max_threads; 0 = std::thread::hardware_concurrency() (at most max_threads)
    std::int64_t sliding_window = -1;  ///< attention window: -1 = the file's, 0 = none, > 0 = this one
    io::load_mode mode = io::load_mode::mmap_or_read;
    f16_accumulation f16_accum = f16_accumulation::f32;
    /// Rearrange the matrices whose decode kernel has a packed layout (q4_0, q8_0, q4_K, q6_K on AVX-512 VNNI) into it,
    /// once at load (kernels/pack.hpp): same results, faster decode. A file read into memory is packed
    /// in place, so gguf().tensor_data() then shows those tensors packed; a mapped file is left as it
    /// is and the packed copy replaces its pages in memory.
    bool repack = true;
    /// Load a file holding tensors this model type does not read (they are ignored). By default such
    /// a tensor is refused (errc::unsupported): it is the mark of another architecture, a variant
    /// llmt does not implement (e.g. mixture of experts) or a broken conversion.
    bool allow_unknown_tensors = false;
    /// How the KV cache stores keys and values (llama.cpp's -ctk / -ctv; llmt::parse_kv_type reads
    /// their names). load_any picks the preset with this element type (unset: the first preset of the
    /// architecture, whose KV cache is f32). model<Spec>::load refuses a value other than its
    /// kv_policy's element type (unset: the spec's). q8_0 needs a head size that is a multiple of 32.
    std::optional<llmt::kv_type> kv_type = std::nullopt;
};

/// The run-time face of a loaded model: what a session or a CLI needs, whatever the policies.
/// One virtual call per forward(), never per operation.
class model_base {
public:
    virtual ~model_base() = default;

    [[nodiscard]] virtual const hparams& params() const noexcept = 0;
    [[nodiscard]] virtual const io::gguf_file& gguf() const noexcept = 0;
    /// A one-line description of the model type ("rms_norm gqa rope_normal swiglu kv_cache::contiguous<f32>").
    [[nodiscard]] virtual std::string describe() const = 0;
    [[nodiscard]] virtual std::int64_t n_ctx() const noexcept = 0;    ///< positions available
    [[nodiscard]] virtual std::int64_t n_batch() const noexcept = 0;  ///< tokens per evaluated chunk
    [[nodiscard]] virtual std::int64_t n_past() const noexcept = 0;   ///< positions held by the KV cache
    [[nodiscard]] virtual int threads() const noexcept = 0;
    [[nodiscard]] std::int64_t n_vocab() const noexcept { return params().n_vocab; }

    /// A context of many sequences on these weights, with its own KV pool and scratch (the engine:
    /// context_base). The model must outlive it and not move; any number of contexts may share it.
    [[nodiscard]] virtual std::unique_ptr<context_base> make_context(const context_options& opt = {}) const = 0;

    /// Forgets every cached position of forward()'s sequence.
    virtual void clear() noexcept = 0;

    /// Evaluates tokens at positions pos0, pos0 + 1, ... after dropping cached positions ≥ pos0
    /// (pos0 ≤ n_past()). logits: [tokens.size()][n_vocab] when all_logits, else [n_vocab] for the last token.
    virtual void forward(std::span<const token_id> tokens, std::int64_t pos0, std::span<float> logits, bool all_logits) = 0;
};

LLMT_END_NAMESPACE
