// ollama_api: Ollama's /api/generate and /api/chat (NDJSON streams, eval counts and durations) and its model listings
#pragma once

#include "openai_api.hpp"

#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace llmt_server {

/// RFC 3339 UTC time of a system clock point, as Ollama writes its times.
inline std::string rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() % 1000000000;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec, ns);
}

/// Whether name names the served model (its alias, with or without a ":tag", or its file).
inline bool is_our_model(std::string_view name, const model_info& mi) {
    if (name.empty() || name == mi.alias || name == mi.path) return true;
    const auto colon = name.rfind(':');
    return colon != std::string_view::npos && name.substr(0, colon) == mi.alias;
}

/// The "options" of an Ollama request (Ollama's names), onto a gen_spec.
inline void read_ollama_options(const json& body, gen_spec& s, const model_info& mi) {
    auto& p = s.sampling;
    s.seed = random_seed();
    s.max_tokens = mi.n_ctx;
    const auto it = body.find("options");
    if (it == body.end() || it->is_null()) {
        p.seed = s.seed;
        return;
    }
    if (!it->is_object()) bad_field("options", "'options' must be an object, got a {}", it->type_name());
    fields f(*it, "options.");
    if (auto v = f.integer("num_predict", -2, max_max_tokens); v && *v >= 0) s.max_tokens = *v;
    if (auto v = f.number("temperature", 0, 100)) p.temp = float(*v);
    if (auto v = f.integer("top_k", 0, std::int64_t(1) << 30)) p.top_k = int(*v);
    if (auto v = f.number("top_p", 0, 1)) p.top_p = float(*v);
    if (auto v = f.number("min_p", 0, 1)) p.min_p = float(*v);
    if (auto v = f.number("typical_p", 0, 1, true)) p.typical_p = float(*v);
    if (auto v = f.number("repeat_penalty", 0, 100, true)) p.repeat_penalty = float(*v);
    if (auto v = f.integer("repeat_last_n", -1, std::int64_t(1) << 30)) p.repeat_last_n = int(*v);
    if (auto v = f.number("presence_penalty", -100, 100)) p.presence_penalty = float(*v);
    if (auto v = f.number("frequency_penalty", -100, 100)) p.freq_penalty = float(*v);
    if (auto v = f.integer("mirostat", 0, 2)) p.mirostat = int(*v);
    if (auto v = f.number("mirostat_tau", 0, 100, true)) p.mirostat_tau = float(*v);
    if (auto v = f.number("mirostat_eta", 0, 100)) p.mirostat_eta = float(*v);
    if (auto v = f.seed("seed")) s.seed = *v;
    f.integer("num_ctx", 0, std::int64_t(1) << 30);  // the server's context is fixed (-c)
    if (const json* st = f.get("stop")) {
        if (!st->is_array() || st->size() > std::size_t(max_stops))
            bad_field("options.stop", "'options.stop' must be an array of at most {} strings", max_stops);
        for (const auto& x : *st) {
            if (!x.is_string() || x.get_ref<const std::string&>().size() > max_stop_bytes)
                bad_field("options.stop", "'options.stop' holds a {} that is not a string of at most {} bytes", x.type_name(), max_stop_bytes);
            if (!x.get_ref<const std::string&>().empty()) s.stop.push_back(x.get<std::string>());
        }
    }
    p.seed = s.seed;
    try {
        p.validate();
    } catch (const llmt::error& e) {
        throw api_error(400, e.what());
    }
}

inline void check_ollama_common(const fields& f, const model_info& mi) {
    const auto model = f.string("model", 1024);
    if (model && !is_our_model(*model, mi))
        throw api_error(404, fmt::format("model '{}' not found; this server serves '{}'", *model, mi.alias), "not_found_error", "model");
    auto given = [&](std::string_view k) {  // the client sends empty values for what is not used
        const json* v = f.get(k);
        return v && !((v->is_array() || v->is_object() || v->is_string()) && v->empty());
    };
    if (given("format")) bad_field("format", "'format' (structured output) is not supported");
    if (given("tools")) bad_field("tools", "'tools' is not supported");
    if (f.has("images")) bad_field("images", "'images' is not supported: the model reads text only");
    f.string("keep_alive", 64);
}

struct ollama_request {
    gen_spec spec;
    bool stream = true, chat = false;
    bool load_only = false;  // no prompt: answer at once (Ollama loads the model then)
};

inline ollama_request parse_ollama_generate(const json& body, const model_info& mi) {
    fields f(body);
    check_ollama_common(f, mi);
    ollama_request r;
    r.stream = f.boolean("stream").value_or(true);
    read_ollama_options(body, r.spec, mi);
    const std::string prompt = f.string("prompt").value_or("");
    const std::string system = f.string("system").value_or("");
    const bool raw = f.boolean("raw").value_or(false);
    if (f.has("suffix")) bad_field("suffix", "'suffix' (fill in the middle) is not supported");
    if (f.has("template")) bad_field("template", "'template' is not supported: the server's chat template is fixed (--chat-template)");
    std::vector<llmt::token_id> ids;
    if (const json* ctx = f.get("context")) {
        if (!ctx->is_array()) bad_field("context", "'context' must be an array of token ids");
        for (const auto& t : *ctx) {
            if (!t.is_number_integer() || t.get<std::int64_t>() < 0 || t.get<std::int64_t>() >= mi.n_vocab)
                bad_field("context", "'context' holds {}; token ids are integers from 0 to {}", t.dump(), mi.n_vocab - 1);
            ids.push_back(llmt::token_id(t.get<std::int64_t>()));
        }
    }
    if (prompt.empty() && ids.empty()) {
        r.load_only = true;
        return r;
    }
    if (raw) {
        const auto more = mi.tok->encode(prompt, ids.empty(), true);
        ids.insert(ids.end(), more.begin(), more.end());
    } else {
        std::vector<rt::chat_message> msgs;
        if (!system.empty()) msgs.push_back({"system", system});
        msgs.push_back({"user", prompt});
        rt::rendered_chat rc;
        try {
            rc = mi.chat->render(msgs, true);
        } catch (const llmt::error& e) {
            bad_field("prompt", "the chat template refuses this prompt: {}", e.what());
        }
        const auto more = mi.tok->encode(rc.text, ids.empty(), true, rc.content);
        ids.insert(ids.end(), more.begin(), more.end());
        for (auto& s : mi.chat->stop_strings()) r.spec.stop.push_back(s);
    }
    check_prompt_fits(ids, mi, "prompt");
    r.spec.prompts.push_back(std::move(ids));
    return r;
}

inline ollama_request parse_ollama_chat(const json& body, const model_info& mi) {
    fields f(body);
    check_ollama_common(f, mi);
    ollama_request r;
    r.chat = true;
    r.stream = f.boolean("stream").value_or(true);
    read_ollama_options(body, r.spec, mi);
    const json* ms = f.get("messages");
    if (!ms || (ms->is_array() && ms->empty())) {
        if (ms && !ms->is_array()) bad_field("messages", "'messages' must be an array");
        r.load_only = true;
        return r;
    }
    for (const auto& m : *ms)
        if (m.is_object() && m.contains("images") && !m["images"].is_null())
            bad_field("messages", "a message holds 'images': the model reads text only");
    const auto messages = read_messages(f);
    rt::rendered_chat rc;
    try {
        rc = mi.chat->render(messages, true);
    } catch (const llmt::error& e) {
        bad_field("messages", "the chat template refuses these messages: {}", e.what());
    }
    auto ids = mi.tok->encode(rc.text, true, true, rc.content);
    check_prompt_fits(ids, mi, "messages");
    r.spec.prompts.push_back(std::move(ids));
    for (auto& s : mi.chat->stop_strings()) r.spec.stop.push_back(s);
    return r;
}

inline std::int64_t ns(double ms) { return std::int64_t(ms * 1e6); }

/// The last object of an Ollama answer: done, the reason, the counts and durations (nanoseconds).
inline json ollama_done(const generation& g, const model_info& mi, bool chat, const std::string& text) {
    const auto& smp = g.results[0].samples[0];
    const double ttft = g.ttft_ms < 0 ? g.total_ms : g.ttft_ms;
    json j = {{"model", mi.alias}, {"created_at", rfc3339(std::chrono::system_clock::now())}, {"done", true},
              {"done_reason", finish_reason(smp.reason)}, {"total_duration", ns(g.total_ms)}, {"load_duration", 0},
              {"prompt_eval_count", g.prompt_tokens}, {"prompt_eval_duration", ns(ttft)},
              {"eval_count", g.generated_tokens}, {"eval_duration", ns(std::max(0.0, g.total_ms - ttft))}};
    if (chat) {
        j["message"] = {{"role", "assistant"}, {"content", text}};
    } else {
        j["response"] = text;
        std::vector<llmt::token_id> ctx = g.spec.prompts[0];
        ctx.insert(ctx.end(), smp.tokens.begin(), smp.tokens.end());
        j["context"] = ctx;
    }
    return j;
}

inline answer_format ollama_answer(const ollama_request& r, const model_info& mi) {
    answer_format a;
    const bool chat = r.chat;
    a.stream = r.stream;
    a.content_type = r.stream ? "application/x-ndjson" : "application/json";
    a.failure = [](const std::string& why) { return dump(json{{"error", why}}) + "\n"; };
    if (r.stream) {
        a.event = [=, model = mi.alias](const gen_event& e) {
            json j = {{"model", model}, {"created_at", rfc3339(std::chrono::system_clock::now())}, {"done", false}};
            if (chat) j["message"] = {{"role", "assistant"}, {"content", e.piece}};
            else j["response"] = e.piece;
            return dump(j) + "\n";
        };
        a.end = [=, &mi](const generation& g) { return dump(ollama_done(g, mi, chat, "")) + "\n"; };
    } else {
        a.end = [=, &mi](const generation& g) { return dump(ollama_done(g, mi, chat, g.results[0].samples[0].text)); };
    }
    return a;
}

/// The answer to a request without a prompt (Ollama loads the model and says done).
inline json ollama_load_only(const model_info& mi, bool chat) {
    json j = {{"model", mi.alias}, {"created_at", rfc3339(std::chrono::system_clock::now())}, {"done", true}, {"done_reason", "load"}};
    if (chat) j["message"] = {{"role", "assistant"}, {"content", ""}};
    else j["response"] = "";
    return j;
}

/// The "details" of the model, as /api/tags, /api/show and /api/ps give them.
inline json ollama_details(const model_info& mi) {
    const auto& gg = mi.model->gguf();
    const std::string arch = mi.model->params().arch;
    std::string quant = "unknown";
    if (const auto ft = gg.get<std::int64_t>("general.file_type")) quant = fmt::format("file_type {}", *ft);
    std::string size = std::string(gg.get_string("general.size_label").value_or(""));
    return json{{"parent_model", ""}, {"format", "gguf"}, {"family", arch}, {"families", json::array({arch})},
                {"parameter_size", size}, {"quantization_level", quant}};
}

inline json ollama_model_entry(const model_info& mi) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(mi.path, ec);
    auto mtime = std::chrono::system_clock::now();
    struct stat st{};
    if (::stat(mi.path.c_str(), &st) == 0) mtime = std::chrono::system_clock::from_time_t(st.st_mtime);
    return json{{"name", mi.alias}, {"model", mi.alias}, {"modified_at", rfc3339(mtime)}, {"size", ec ? 0 : bytes},
                {"digest", fmt::format("{:016x}", std::hash<std::string>{}(mi.path))}, {"details", ollama_details(mi)}};
}

inline json ollama_show(const model_info& mi) {
    json info = json::object();
    const auto& hp = mi.model->params();
    info["general.architecture"] = hp.arch;
    info[hp.arch + ".context_length"] = hp.n_ctx_train;
    info[hp.arch + ".embedding_length"] = hp.n_embd;
    info[hp.arch + ".block_count"] = hp.n_layer;
    info[hp.arch + ".feed_forward_length"] = hp.n_ff;
    info[hp.arch + ".attention.head_count"] = hp.n_head;
    info[hp.arch + ".attention.head_count_kv"] = hp.n_head_kv;
    info["tokenizer.ggml.vocab_size"] = hp.n_vocab;
    return json{{"modelfile", fmt::format("FROM {}\n", mi.path)}, {"parameters", ""}, {"template", mi.chat->name()},
                {"details", ollama_details(mi)}, {"model_info", std::move(info)}, {"capabilities", json::array({"completion"})},
                {"modified_at", ollama_model_entry(mi)["modified_at"]}};
}

}  // namespace llmt_server
