// openapi: the OpenAPI 3 document of llmt-server's routes (served at /openapi.json), with the limits the server checks
#pragma once

#include "openai_api.hpp"

#include <string>

namespace llmt_server {

inline json openapi_document(const model_info& mi) {
    const json err = {{"description", "an error"},
                      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    const json obj = {{"description", "the answer"}, {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
    auto num = [](double lo, double hi) { return json{{"type", "number"}, {"minimum", lo}, {"maximum", hi}, {"nullable", true}}; };
    auto integer = [](std::int64_t lo, std::int64_t hi) {
        return json{{"type", "integer"}, {"minimum", lo}, {"maximum", hi}, {"nullable", true}};
    };
    const json stop = {{"nullable", true},
                       {"oneOf", json::array({{{"type", "string"}, {"maxLength", max_stop_bytes}},
                                              {{"type", "array"}, {"maxItems", max_stops}, {"items", {{"type", "string"}, {"maxLength", max_stop_bytes}}}}})}};
    json sampling = {
        {"model", {{"type", "string"}}},
        {"max_tokens", integer(0, max_max_tokens)},
        {"temperature", num(0, 2)},
        {"top_p", num(0, 1)},
        {"top_k", integer(0, 1 << 30)},
        {"min_p", num(0, 1)},
        {"typical_p", {{"type", "number"}, {"exclusiveMinimum", true}, {"minimum", 0}, {"maximum", 1}, {"nullable", true}}},
        {"presence_penalty", num(-2, 2)},
        {"frequency_penalty", num(-2, 2)},
        {"repeat_penalty", {{"type", "number"}, {"exclusiveMinimum", true}, {"minimum", 0}, {"maximum", 100}, {"nullable", true}}},
        {"seed", {{"type", "integer"}, {"nullable", true}}},
        {"n", integer(1, max_n)},
        {"stop", stop},
        {"stream", {{"type", "boolean"}, {"nullable", true}}},
        {"stream_options", {{"type", "object"}, {"nullable", true}, {"properties", {{"include_usage", {{"type", "boolean"}}}}}}},
        {"ignore_eos", {{"type", "boolean"}, {"nullable", true}}},
        {"user", {{"type", "string"}}},
    };
    json chat_props = sampling;
    chat_props["messages"] = {{"type", "array"}, {"minItems", 1}, {"maxItems", 64},
                              {"items", {{"type", "object"}, {"required", {"role", "content"}},
                                         {"properties", {{"role", {{"type", "string"}, {"enum", {"system", "user", "assistant"}}}},
                                                         {"content", {{"type", "string"}, {"maxLength", 2000}}}}}}}};
    chat_props["logprobs"] = {{"type", "boolean"}, {"nullable", true}};
    json completion_props = sampling;
    completion_props["prompt"] = {{"oneOf", json::array({{{"type", "string"}, {"maxLength", 2000}},
                                                         {{"type", "array"}, {"minItems", 1}, {"maxItems", max_prompts},
                                                          {"items", {{"type", "string"}, {"maxLength", 2000}}}}})}};
    completion_props["logprobs"] = integer(0, max_top_logprobs);
    completion_props["echo"] = {{"type", "boolean"}, {"nullable", true}};
    auto post = [&](std::string summary, json props, std::vector<std::string> required, std::string stream_type = {}) {
        json ok = obj;
        if (!stream_type.empty()) ok["content"][stream_type] = {{"schema", {{"type", "string"}}}};
        return json{{"post",
                     {{"summary", std::move(summary)},
                      {"requestBody", {{"required", true},
                                       {"content", {{"application/json", {{"schema", {{"type", "object"}, {"required", required},
                                                                                       {"properties", std::move(props)}}}}}}}}},
                      {"responses", {{"200", ok}, {"400", err}, {"401", err}, {"404", err}, {"413", err}, {"503", err}}}}}};
    };
    auto get = [&](std::string summary, std::string type = "application/json") {
        return json{{"get", {{"summary", std::move(summary)},
                             {"responses", {{"200", {{"description", "the answer"}, {"content", {{type, {{"schema", {{"type", type == "application/json" ? "object" : "string"}}}}}}}}},
                                            {"401", err}, {"503", err}}}}}};
    };
    const json ollama_options = {{"type", "object"}, {"nullable", true},
                                 {"properties", {{"num_predict", integer(-2, max_max_tokens)}, {"temperature", num(0, 100)}, {"top_k", integer(0, 1 << 30)},
                                                 {"top_p", num(0, 1)}, {"seed", {{"type", "integer"}}}}}};
    json paths = {
        {"/health", get("readiness: 200 once the model is loaded, 503 before or while shutting down")},
        {"/metrics", get("Prometheus text metrics", "text/plain")},
        {"/v1/models", get("the served model (OpenAI)")},
        {"/v1/chat/completions", post("a chat completion (OpenAI)", chat_props, {"messages"}, "text/event-stream")},
        {"/v1/completions", post("a text completion (OpenAI)", completion_props, {"prompt"}, "text/event-stream")},
        {"/api/generate", post("a completion (Ollama)", {{"model", {{"type", "string"}}}, {"prompt", {{"type", "string"}, {"maxLength", 2000}}},
                                                          {"stream", {{"type", "boolean"}}}, {"raw", {{"type", "boolean"}}},
                                                          {"options", ollama_options}}, {}, "application/x-ndjson")},
        {"/api/chat", post("a chat (Ollama)", {{"model", {{"type", "string"}}}, {"messages", chat_props["messages"]},
                                               {"stream", {{"type", "boolean"}}}, {"options", ollama_options}}, {}, "application/x-ndjson")},
        {"/api/tags", get("the served model (Ollama)")},
        {"/api/ps", get("the loaded model (Ollama)")},
        {"/api/version", get("the server's version (Ollama)")},
        {"/api/show", post("the model's details (Ollama)", {{"model", {{"type", "string"}}}}, {"model"})},
    };
    return json{{"openapi", "3.0.3"},
                {"info", {{"title", "llmt-server"}, {"version", llmt::version_string},
                          {"description", fmt::format("OpenAI- and Ollama-compatible API serving {}", mi.alias)}}},
                {"paths", std::move(paths)},
                {"components", {{"schemas", {{"Error", {{"type", "object"}}}}},
                                {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace llmt_server
