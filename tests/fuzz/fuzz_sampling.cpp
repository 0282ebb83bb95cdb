// fuzz_sampling: libFuzzer target: arbitrary sampling::params and logits through chain::from_params, sample and accept
#include "fuzz_input.hpp"

#include <llmt/core/error.hpp>
#include <llmt/sampling/chain.hpp>
#include <llmt/sampling/params.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

using llmt_fuzz::finding;
using llmt_fuzz::input;

constexpr std::string_view target = "fuzz_sampling";

llmt::sampling::params read_params(input& in) {
    llmt::sampling::params p;
    // One flag byte says which fields take a value from the input; the rest keep llama.cpp's defaults.
    const std::uint16_t which = in.raw<std::uint16_t>();
    auto on = [&](int bit) { return (which >> bit) & 1; };
    if (on(0)) p.temp = in.real();
    if (on(1)) p.top_k = int(in.integer());
    if (on(2)) p.top_p = in.real();
    if (on(3)) p.min_p = in.real();
    if (on(4)) p.typical_p = in.real();
    if (on(5)) p.repeat_penalty = in.real();
    if (on(6)) p.repeat_last_n = int(in.integer());
    if (on(7)) p.freq_penalty = in.real();
    if (on(8)) p.presence_penalty = in.real();
    if (on(9)) p.mirostat = int(in.integer());
    if (on(10)) p.mirostat_tau = in.real();
    if (on(11)) p.mirostat_eta = in.real();
    if (on(12)) p.seed = in.raw<std::uint64_t>();
    if (on(13)) {
        const std::size_t n = in.u8() % 8;
        for (std::size_t i = 0; i < n; ++i) p.logit_bias.emplace_back(llmt::token_id(in.integer()), in.real());
    }
    return p;
}

std::vector<float> read_logits(input& in) {
    // n_vocab: 0, small, or up to 65535.
    const std::uint8_t size_kind = in.u8();
    std::size_t n = size_kind < 200 ? size_kind % 64 : in.raw<std::uint16_t>();
    std::vector<float> logits(n);
    const std::uint8_t fill = in.u8() % 6;
    const float inf = std::numeric_limits<float>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
        switch (fill) {
            case 0: logits[i] = -inf; break;                                   // nothing can be chosen
            case 1: logits[i] = std::numeric_limits<float>::quiet_NaN(); break;
            case 2: logits[i] = 1.0f; break;                                   // all tied
            case 3: logits[i] = float(i % 7) - 3.0f; break;
            default: logits[i] = in.empty() ? float(i) : in.real(); break;     // from the input
        }
    }
    // A few single values overwritten (a nan or inf among ordinary logits).
    const std::size_t pokes = n ? in.u8() % 4 : 0;
    for (std::size_t k = 0; k < pokes; ++k) logits[in.below(n)] = in.real();
    return logits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in(std::span(data, size));
    const auto p = read_params(in);
    auto logits = read_logits(in);

    std::optional<llmt::sampling::chain> ch;
    try {
        ch.emplace(llmt::sampling::chain::from_params(p));
    } catch (const llmt::error&) {
        return 0;  // refused with a proper error: fine
    }
    const std::size_t rounds = 1 + in.u8() % 6;
    for (std::size_t r = 0; r < rounds; ++r) {
        try {
            const llmt::token_id id = ch->sample(logits);
            if (id < 0 || std::size_t(id) >= logits.size()) finding(target, "sample returned an id outside the logits");
            if (!(logits[std::size_t(id)] > -std::numeric_limits<float>::infinity()) && !std::isnan(logits[std::size_t(id)]))
                finding(target, "sample chose a token whose logit is -inf");
            ch->accept(id);
        } catch (const llmt::error&) {
            // no token can be chosen (empty, nan, all -inf): an error is the answer
        }
        // The caller may also feed arbitrary tokens of the context (a prompt), or reseed / reset.
        switch (in.u8() % 8) {
            case 0:
                try {
                    ch->accept(llmt::token_id(in.integer()));
                } catch (const llmt::error&) {  // a negative id
                }
                break;
            case 1: ch->reset(); break;
            case 2: ch->set_seed(in.raw<std::uint64_t>()); break;
            case 3: if (!logits.empty()) logits[in.below(logits.size())] = in.real(); break;
            case 4: logits.resize(in.u8() % 80, in.real()); break;
            default: break;
        }
    }
    return 0;
}
