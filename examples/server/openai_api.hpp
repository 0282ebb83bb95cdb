// openai_api: OpenAI's /v1/chat/completions and /v1/completions: requests checked into gen_specs, answers and SSE chunks
#pragma once

#include "engine.hpp"
#include "json_input.hpp"

#include <llmt/llmt.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace llmt_server {

/// What every endpoint needs to know about the model being served.
struct model_info {
    std::string alias;       // the model's name in answers (--alias, else the file name)
    std::string path;
    const llmt::model_base* model = nullptr;
    const llmt::tokenizer::tokenizer* tok = nullptr;
    const rt::chat_template* chat = nullptr;
    std::int64_t n_ctx = 0, n_vocab = 0;
    std::int64_t created = 0;  // unix time of the start
};

/// Limits of one request.
inline constexpr int max_n = 16;                       // samples per prompt
inline constexpr int max_choices = 64;                 // prompts × n
inline constexpr int max_prompts = 16;                 // prompts of one completion request
inline constexpr std::int64_t max_max_tokens = std::int64_t(1) << 24;
inline constexpr int max_stops = 16;
inline constexpr std::size_t max_stop_bytes = 512;
inline constexpr int max_top_logprobs = 20;
inline constexpr std::size_t max_messages = 4096;

inline std::uint64_t random_seed() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return rng();
}

inline std::string random_id(std::string_view prefix) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return fmt::format("{}{:016x}{:08x}", prefix, rng(), std::uint32_t(rng()));
}

inline std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The sampling fields shared by both endpoints (llama-server's defaults for what is not given).
inline void read_sampling(const fields& f, gen_spec& s, const model_info& mi) {
    auto& p = s.sampling;
    if (auto v = f.number("temperature", 0, 2)) p.temp = float(*v);
    if (auto v = f.number("top_p", 0, 1)) p.top_p = float(*v);
    if (auto v = f.integer("top_k", 0, std::int64_t(1) << 30)) p.top_k = int(*v);
    if (auto v = f.number("min_p", 0, 1)) p.min_p = float(*v);
    if (auto v = f.number("typical_p", 0, 1, true)) p.typical_p = float(*v);
    if (auto v = f.number("presence_penalty", -2, 2)) p.presence_penalty = float(*v);
    if (auto v = f.number("frequency_penalty", -2, 2)) p.freq_penalty = float(*v);
    if (auto v = f.number("repeat_penalty", 0, 100, true)) p.repeat_penalty = float(*v);
    if (auto v = f.integer("repeat_last_n", -1, std::int64_t(1) << 30)) p.repeat_last_n = int(*v);
    if (const json* lb = f.get("logit_bias")) {
        if (!lb->is_object()) bad_field("logit_bias", "'logit_bias' must be an object mapping token ids to biases, got a {}", lb->type_name());
        if (lb->size() > 4096) bad_field("logit_bias", "'logit_bias' has {} entries, more than the limit of 4096", lb->size());
        for (const auto& [k, v] : lb->items()) {
            std::int64_t id = -1;
            const auto r = std::from_chars(k.data(), k.data() + k.size(), id);
            if (r.ec != std::errc{} || r.ptr != k.data() + k.size() || id < 0 || id >= mi.n_vocab)
                bad_field("logit_bias", "'logit_bias' key '{}' is not a token id from 0 to {}", k, mi.n_vocab - 1);
            if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < -100 || v.get<double>() > 100)
                bad_field("logit_bias", "'logit_bias' value of token {} must be a number in [-100, 100]", id);
            p.logit_bias.emplace_back(llmt::token_id(id), float(v.get<double>()));
        }
    }
    s.seed = f.seed("seed").value_or(random_seed());
    p.seed = s.seed;
    if (auto v = f.boolean("ignore_eos")) s.ignore_eos = *v;
    s.n = int(f.integer("n", 1, max_n).value_or(1));
    if (const json* st = f.get("stop")) {
        auto add = [&](const json& x) {
            if (!x.is_string()) bad_field("stop", "'stop' must be a string or an array of strings, got a {}", x.type_name());
            const auto& str = x.get_ref<const std::string&>();
            if (str.size() > max_stop_bytes) bad_field("stop", "a 'stop' string has {} bytes, more than the limit of {}", str.size(), max_stop_bytes);
            if (!str.empty()) s.stop.push_back(str);
        };
        if (st->is_array()) {
            if (st->size() > std::size_t(max_stops)) bad_field("stop", "'stop' has {} strings, more than the limit of {}", st->size(), max_stops);
            for (const auto& x : *st) add(x);
        } else {
            add(*st);
        }
    }
    try {
        p.validate();
    } catch (const llmt::error& e) {
        throw api_error(400, e.what());
    }
}

/// max_tokens (or max_completion_tokens); not given: until the context is full.
inline void read_max_tokens(const fields& f, gen_spec& s, const model_info& mi) {
    auto v = f.integer("max_completion_tokens", 0, max_max_tokens);
    if (auto w = f.integer("max_tokens", 0, max_max_tokens)) v = w;
    s.max_tokens = v.value_or(mi.n_ctx);
}

inline void check_prompt_fits(const std::vector<llmt::token_id>& prompt, const model_info& mi, std::string_view field) {
    if (prompt.empty()) bad_field(field, "'{}' gives an empty prompt", field);
    if (std::int64_t(prompt.size()) >= mi.n_ctx)
        throw api_error(400, fmt::format("the prompt has {} tokens; the context holds {} positions (one is needed for the reply): "
                                         "shorten it or start the server with a larger -c", prompt.size(), mi.n_ctx),
                        "invalid_request_error", std::string(field), "context_length_exceeded");
}

/// The messages of a chat request.
inline std::vector<rt::chat_message> read_messages(const fields& f) {
    const json* ms = f.get("messages");
    if (!ms) bad_field("messages", "'messages' is required: an array of {{\"role\", \"content\"}} objects");
    if (!ms->is_array() || ms->empty()) bad_field("messages", "'messages' must be a non-empty array of message objects");
    if (ms->size() > max_messages) bad_field("messages", "'messages' has {} entries, more than the limit of {}", ms->size(), max_messages);
    std::vector<rt::chat_message> out;
    for (std::size_t i = 0; i < ms->size(); ++i) {
        const json& m = (*ms)[i];
        const std::string where = fmt::format("messages[{}]", i);
        if (!m.is_object()) bad_field(where, "'{}' must be an object, got a {}", where, m.type_name());
        fields mf(m, where + ".");
        const auto role = mf.string("role", 64);
        if (!role) bad_field(where + ".role", "'{}.role' is required", where);
        if (*role != "system" && *role != "user" && *role != "assistant" && *role != "developer" && *role != "tool")
            bad_field(where + ".role", "'{}.role' is '{}'; expected system, user, assistant, developer or tool", where, *role);
        rt::chat_message cm;
        cm.role = *role == "developer" ? "system" : *role;
        if (const json* c = mf.get("content")) {
            if (c->is_string()) {
                cm.content = c->get<std::string>();
            } else if (c->is_array()) {
                for (std::size_t k = 0; k < c->size(); ++k) {
                    const json& part = (*c)[k];
                    const std::string pw = fmt::format("{}.content[{}]", where, k);
                    if (!part.is_object()) bad_field(pw, "'{}' must be a content part object", pw);
                    fields pf(part, pw + ".");
                    const auto type = pf.string("type", 64);
                    if (!type || *type != "text")
                        bad_field(pw + ".type", "'{}.type' is '{}'; only text parts are supported", pw, type.value_or(""));
                    const auto text = pf.string("text");
                    if (!text) bad_field(pw + ".text", "'{}.text' is required", pw);
                    cm.content += *text;
                }
            } else {
                bad_field(where + ".content", "'{}.content' must be a string or an array of text parts, got a {}", where, c->type_name());
            }
        } else if (*role != "assistant") {
            bad_field(where + ".content", "'{}.content' is required", where);
        }
        out.push_back(std::move(cm));
    }
    return out;
}

/// The parsed chat request: the spec and how to answer.
struct openai_request {
    gen_spec spec;
    bool stream = false, include_usage = false, logprobs = false, echo = false;
    std::vector<std::string> echo_text;  // per prompt, for echo
};

inline openai_request parse_chat(const json& body, const model_info& mi) {
    fields f(body);
    openai_request r;
    f.string("model", 1024);
    f.string("user", 1024);
    const auto messages = read_messages(f);
    read_sampling(f, r.spec, mi);
    read_max_tokens(f, r.spec, mi);
    r.stream = f.boolean("stream").value_or(false);
    if (const json* so = f.get("stream_options")) {
        if (!so->is_object()) bad_field("stream_options", "'stream_options' must be an object");
        r.include_usage = fields(*so, "stream_options.").boolean("include_usage").value_or(false);
    }
    r.logprobs = f.boolean("logprobs").value_or(false);
    const auto top = f.integer("top_logprobs", 0, max_top_logprobs);
    if (top && !r.logprobs) bad_field("top_logprobs", "'top_logprobs' needs 'logprobs' set to true");
    if (r.logprobs) r.spec.top_logprobs = int(top.value_or(0));
    rt::rendered_chat rendered;
    try {
        rendered = mi.chat->render(messages, true);
    } catch (const llmt::error& e) {
        bad_field("messages", "the chat template refuses these messages: {}", e.what());
    }
    auto ids = mi.tok->encode(rendered.text, true, true, rendered.content);
    check_prompt_fits(ids, mi, "messages");
    r.spec.prompts.push_back(std::move(ids));
    for (auto& s : mi.chat->stop_strings()) r.spec.stop.push_back(s);
    return r;
}

inline openai_request parse_completion(const json& body, const model_info& mi) {
    fields f(body);
    openai_request r;
    f.string("model", 1024);
    f.string("user", 1024);
    const json* p = f.get("prompt");
    if (!p) bad_field("prompt", "'prompt' is required: a string, an array of strings, an array of token ids or of arrays of them");
    auto tokens_of = [&](const json& arr, const std::string& where) {
        std::vector<llmt::token_id> ids;
        for (const auto& t : arr) {
            if (!t.is_number_integer() || t.get<std::int64_t>() < 0 || t.get<std::int64_t>() >= mi.n_vocab)
                bad_field(where, "'{}' holds {}; token ids are integers from 0 to {}", where, t.dump(), mi.n_vocab - 1);
            ids.push_back(llmt::token_id(t.get<std::int64_t>()));
        }
        return ids;
    };
    std::vector<std::vector<llmt::token_id>> prompts;
    auto add_text = [&](const std::string& text) {
        prompts.push_back(mi.tok->encode(text, true, true));
        r.echo_text.push_back(text);
    };
    if (p->is_string()) {
        add_text(p->get<std::string>());
    } else if (p->is_array() && !p->empty()) {
        if ((*p)[0].is_number()) {
            prompts.push_back(tokens_of(*p, "prompt"));
            r.echo_text.push_back(mi.tok->decode(prompts.back()));
        } else {
            if (p->size() > std::size_t(max_prompts)) bad_field("prompt", "'prompt' has {} prompts, more than the limit of {}", p->size(), max_prompts);
            for (std::size_t i = 0; i < p->size(); ++i) {
                const json& x = (*p)[i];
                if (x.is_string()) add_text(x.get<std::string>());
                else if (x.is_array()) {
                    prompts.push_back(tokens_of(x, fmt::format("prompt[{}]", i)));
                    r.echo_text.push_back(mi.tok->decode(prompts.back()));
                } else {
                    bad_field("prompt", "'prompt[{}]' must be a string or an array of token ids, got a {}", i, x.type_name());
                }
            }
        }
    } else {
        bad_field("prompt", "'prompt' must be a string, a non-empty array of strings, token ids or arrays of token ids");
    }
    for (std::size_t i = 0; i < prompts.size(); ++i) check_prompt_fits(prompts[i], mi, prompts.size() > 1 ? fmt::format("prompt[{}]", i) : "prompt");
    read_sampling(f, r.spec, mi);
    read_max_tokens(f, r.spec, mi);
    if (!f.has("max_tokens") && !f.has("max_completion_tokens")) r.spec.max_tokens = 16;  // OpenAI's default for completions
    if (int(prompts.size()) * r.spec.n > max_choices)
        bad_field("n", "{} prompts × n = {} give more than the limit of {} choices", prompts.size(), int(prompts.size()) * r.spec.n, max_choices);
    r.spec.prompts = std::move(prompts);
    r.stream = f.boolean("stream").value_or(false);
    if (const json* so = f.get("stream_options")) {
        if (!so->is_object()) bad_field("stream_options", "'stream_options' must be an object");
        r.include_usage = fields(*so, "stream_options.").boolean("include_usage").value_or(false);
    }
    r.echo = f.boolean("echo").value_or(false);
    if (auto lp = f.integer("logprobs", 0, max_top_logprobs)) {
        r.logprobs = true;
        r.spec.top_logprobs = int(*lp);
    }
    if (f.has("suffix")) bad_field("suffix", "'suffix' (fill in the middle) is not supported");
    if (auto bo = f.integer("best_of", 1, max_n); bo && *bo != r.spec.n)
        bad_field("best_of", "'best_of' other than n is not supported");
    return r;
}

inline std::string_view finish_reason(rt::stop_reason r) {
    switch (r) {
        case rt::stop_reason::max_tokens:
        case rt::stop_reason::context_full: return "length";
        default: return "stop";
    }
}

inline json token_bytes(std::string_view piece) {
    json b = json::array();
    for (const char c : piece) b.push_back(int(static_cast<unsigned char>(c)));
    return b;
}

/// A chat logprobs entry of one token.
inline json chat_logprob(const llmt::tokenizer::tokenizer& tok, const rt::token_logprob& lp) {
    auto entry = [&](llmt::token_id t, float x) {
        const std::string piece(tok.token_to_piece_view(t, false));
        return json{{"token", piece}, {"logprob", x}, {"bytes", token_bytes(piece)}};
    };
    json e = entry(lp.token, lp.logprob);
    json top = json::array();
    for (const auto& [t, x] : lp.top) top.push_back(entry(t, x));
    e["top_logprobs"] = std::move(top);
    return e;
}

/// The usage object of a finished generation.
inline json usage_of(const generation& g) {
    return json{{"prompt_tokens", g.prompt_tokens},
                {"completion_tokens", g.generated_tokens},
                {"total_tokens", g.prompt_tokens + g.generated_tokens},
                {"prompt_tokens_details", {{"cached_tokens", g.cached_tokens}}}};
}

/// How a generation's events and end are written for one protocol.
struct answer_format {
    std::string content_type;
    bool stream = false;
    std::function<std::string()> begin;                            // stream: before any event
    std::function<std::string(const gen_event&)> event;            // stream: one event
    std::function<std::string(const generation&)> end;            // stream: the end; else: the whole body
    std::function<std::string(const std::string&)> failure;       // a generation that failed after it started
};

/// The answer of a chat completion.
inline answer_format chat_answer(const openai_request& r, const model_info& mi, const std::shared_ptr<generation>& g) {
    const std::string id = random_id("chatcmpl-");
    const std::int64_t created = unix_now();
    const int choices = g->spec.choices();
    const bool logprobs = r.logprobs;
    answer_format a;
    auto chunk = [id, created, model = mi.alias](json choices_json) {
        return json{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                    {"system_fingerprint", std::string("llmt-") + llmt::version_string}, {"choices", std::move(choices_json)}};
    };
    a.stream = r.stream;
    a.failure = [](const std::string& why) { return dump(error_body(api_error(500, why, "server_error"))); };
    if (r.stream) {
        a.content_type = "text/event-stream";
        const bool usage = r.include_usage;
        a.begin = [=] {
            std::string out;
            for (int c = 0; c < choices; ++c) {
                json ch = chunk(json::array({{{"index", c}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}}}));
                if (usage) ch["usage"] = nullptr;
                out += "data: " + dump(ch) + "\n\n";
            }
            return out;
        };
        const auto* tok = mi.tok;
        a.event = [=](const gen_event& e) {
            json choice = {{"index", e.choice}, {"delta", {{"content", e.piece}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
            if (logprobs && e.logprob) choice["logprobs"] = {{"content", json::array({chat_logprob(*tok, *e.logprob)})}};
            json ch = chunk(json::array({std::move(choice)}));
            if (usage) ch["usage"] = nullptr;
            return "data: " + dump(ch) + "\n\n";
        };
        a.end = [=](const generation& gen) {
            std::string out;
            for (std::size_t p = 0; p < gen.results.size(); ++p)
                for (std::size_t i = 0; i < gen.results[p].samples.size(); ++i) {
                    const int c = int(p) * gen.spec.n + int(i);
                    json ch = chunk(json::array({{{"index", c}, {"delta", json::object()}, {"logprobs", nullptr},
                                                  {"finish_reason", finish_reason(gen.results[p].samples[i].reason)}}}));
                    if (usage) ch["usage"] = nullptr;
                    out += "data: " + dump(ch) + "\n\n";
                }
            if (usage) {
                json ch = chunk(json::array());
                ch["usage"] = usage_of(gen);
                out += "data: " + dump(ch) + "\n\n";
            }
            return out + "data: [DONE]\n\n";
        };
        a.failure = [](const std::string& why) { return "data: " + dump(error_body(api_error(500, why, "server_error"))) + "\n\n"; };
    } else {
        a.content_type = "application/json";
        const auto* tok = mi.tok;
        a.end = [=](const generation& gen) {
            json cs = json::array();
            for (std::size_t p = 0; p < gen.results.size(); ++p)
                for (std::size_t i = 0; i < gen.results[p].samples.size(); ++i) {
                    const auto& smp = gen.results[p].samples[i];
                    json c = {{"index", int(p) * gen.spec.n + int(i)},
                              {"message", {{"role", "assistant"}, {"content", smp.text}}},
                              {"logprobs", nullptr},
                              {"finish_reason", finish_reason(smp.reason)}};
                    if (logprobs) {
                        json content = json::array();
                        for (const auto& lp : smp.logprobs) content.push_back(chat_logprob(*tok, lp));
                        c["logprobs"] = {{"content", std::move(content)}};
                    }
                    cs.push_back(std::move(c));
                }
            return dump(json{{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", mi.alias},
                             {"system_fingerprint", std::string("llmt-") + llmt::version_string},
                             {"choices", std::move(cs)}, {"usage", usage_of(gen)}});
        };
    }
    return a;
}

/// A completions logprobs object for tokens (the legacy shape: tokens, token_logprobs, top_logprobs, text_offset).
inline json completion_logprobs(const llmt::tokenizer::tokenizer& tok, const std::vector<rt::token_logprob>& lps, std::size_t offset0) {
    json tokens = json::array(), lpv = json::array(), tops = json::array(), offsets = json::array();
    std::size_t off = offset0;
    for (const auto& lp : lps) {
        const std::string piece(tok.token_to_piece_view(lp.token, false));
        tokens.push_back(piece);
        lpv.push_back(lp.logprob);
        json top = json::object();
        for (const auto& [t, x] : lp.top) top[std::string(tok.token_to_piece_view(t, false))] = x;
        tops.push_back(std::move(top));
        offsets.push_back(off);
        off += piece.size();
    }
    return json{{"tokens", tokens}, {"token_logprobs", lpv}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

inline answer_format completion_answer(const openai_request& r, const model_info& mi, const std::shared_ptr<generation>& g) {
    const std::string id = random_id("cmpl-");
    const std::int64_t created = unix_now();
    const int choices = g->spec.choices();
    const int n = g->spec.n;
    const bool logprobs = r.logprobs, echo = r.echo;
    const auto echo_text = r.echo_text;
    const auto* tok = mi.tok;
    answer_format a;
    auto chunk = [id, created, model = mi.alias](json choices_json) {
        return json{{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                    {"system_fingerprint", std::string("llmt-") + llmt::version_string}, {"choices", std::move(choices_json)}};
    };
    a.stream = r.stream;
    a.failure = [](const std::string& why) { return dump(error_body(api_error(500, why, "server_error"))); };
    if (r.stream) {
        a.content_type = "text/event-stream";
        const bool usage = r.include_usage;
        a.begin = [=] {
            std::string out;
            if (!echo) return out;
            for (int c = 0; c < choices; ++c) {
                json ch = chunk(json::array({{{"index", c}, {"text", echo_text[std::size_t(c / n)]}, {"logprobs", nullptr}, {"finish_reason", nullptr}}}));
                if (usage) ch["usage"] = nullptr;
                out += "data: " + dump(ch) + "\n\n";
            }
            return out;
        };
        a.event = [=](const gen_event& e) {
            json choice = {{"index", e.choice}, {"text", e.piece}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
            if (logprobs && e.logprob) choice["logprobs"] = completion_logprobs(*tok, {*e.logprob}, 0);
            json ch = chunk(json::array({std::move(choice)}));
            if (usage) ch["usage"] = nullptr;
            return "data: " + dump(ch) + "\n\n";
        };
        a.end = [=](const generation& gen) {
            std::string out;
            for (std::size_t p = 0; p < gen.results.size(); ++p)
                for (std::size_t i = 0; i < gen.results[p].samples.size(); ++i) {
                    json ch = chunk(json::array({{{"index", int(p) * n + int(i)}, {"text", ""}, {"logprobs", nullptr},
                                                  {"finish_reason", finish_reason(gen.results[p].samples[i].reason)}}}));
                    if (usage) ch["usage"] = nullptr;
                    out += "data: " + dump(ch) + "\n\n";
                }
            if (usage) {
                json ch = chunk(json::array());
                ch["usage"] = usage_of(gen);
                out += "data: " + dump(ch) + "\n\n";
            }
            return out + "data: [DONE]\n\n";
        };
        a.failure = [](const std::string& why) { return "data: " + dump(error_body(api_error(500, why, "server_error"))) + "\n\n"; };
    } else {
        a.content_type = "application/json";
        a.end = [=](const generation& gen) {
            json cs = json::array();
            for (std::size_t p = 0; p < gen.results.size(); ++p)
                for (std::size_t i = 0; i < gen.results[p].samples.size(); ++i) {
                    const auto& smp = gen.results[p].samples[i];
                    const std::string prefix = echo ? echo_text[p] : std::string();
                    json c = {{"index", int(p) * n + int(i)}, {"text", prefix + smp.text}, {"logprobs", nullptr},
                              {"finish_reason", finish_reason(smp.reason)}};
                    if (logprobs) c["logprobs"] = completion_logprobs(*tok, smp.logprobs, prefix.size());
                    cs.push_back(std::move(c));
                }
            return dump(json{{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", mi.alias},
                             {"system_fingerprint", std::string("llmt-") + llmt::version_string},
                             {"choices", std::move(cs)}, {"usage", usage_of(gen)}});
        };
    }
    return a;
}

}  // namespace llmt_server
