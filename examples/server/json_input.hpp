// json_input: a request body read as JSON under limits, and typed, range-checked fields whose errors name the field
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace llmt_server {

using json = nlohmann::json;

/// An error answered in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with a status.
struct api_error : std::exception {
    int status = 400;
    std::string message, type = "invalid_request_error", param, code;
    api_error(int s, std::string m, std::string t = "invalid_request_error", std::string p = {}, std::string c = {})
        : status(s), message(std::move(m)), type(std::move(t)), param(std::move(p)), code(std::move(c)) {}
    [[nodiscard]] const char* what() const noexcept override { return message.c_str(); }
};

/// A 400 naming the field.
template <typename... Args>
[[noreturn]] void bad_field(std::string_view field, fmt::format_string<Args...> f, Args&&... args) {
    throw api_error(400, fmt::format(f, std::forward<Args>(args)...), "invalid_request_error", std::string(field));
}

/// The body of an error answer.
inline json error_body(const api_error& e) {
    json err = {{"message", e.message}, {"type", e.type}, {"param", nullptr}, {"code", nullptr}};
    if (!e.param.empty()) err["param"] = e.param;
    if (!e.code.empty()) err["code"] = e.code;
    else if (e.status != 400) err["code"] = e.status;
    return json{{"error", std::move(err)}};
}

/// JSON text that never throws on a string of malformed UTF-8 (the model may produce such bytes):
/// they become U+FFFD.
inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Deepest nesting of arrays and objects in text (outside strings), stopping once past limit.
inline int json_depth(std::string_view text, int limit) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

/// The body as a JSON object: nesting at most max_depth, valid JSON (valid UTF-8, no lone surrogate).
inline json parse_body(std::string_view body, int max_depth = 32) {
    if (body.empty()) throw api_error(400, "the request body is empty; a JSON object is expected");
    if (json_depth(body, max_depth) > max_depth)
        throw api_error(400, fmt::format("the request body nests arrays and objects deeper than the limit of {}", max_depth));
    json j;
    try {
        j = json::parse(body);
    } catch (const json::parse_error& e) {
        throw api_error(400, fmt::format("the request body is not valid JSON: {}", e.what()));
    }
    if (!j.is_object()) throw api_error(400, fmt::format("the request body is a JSON {}; a JSON object is expected", j.type_name()));
    return j;
}

/// Typed access to the fields of a JSON object; a field that is absent or null is "not given".
class fields {
public:
    explicit fields(const json& j, std::string prefix = {}) : j_(j), prefix_(std::move(prefix)) {}

    [[nodiscard]] std::string name(std::string_view key) const { return prefix_ + std::string(key); }
    [[nodiscard]] const json* get(std::string_view key) const {
        const auto it = j_.find(key);
        if (it == j_.end() || it->is_null()) return nullptr;
        return &*it;
    }
    [[nodiscard]] bool has(std::string_view key) const { return get(key) != nullptr; }

    std::optional<std::int64_t> integer(std::string_view key, std::int64_t lo, std::int64_t hi) const {
        const json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_number_integer())
            bad_field(name(key), "'{}' must be an integer from {} to {}, got a {}", name(key), lo, hi,
                      v->is_number() ? "number with a fraction or exponent" : v->type_name());
        if (v->is_number_unsigned() && v->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            bad_field(name(key), "'{}' must be an integer from {} to {}, got {}", name(key), lo, hi, v->get<std::uint64_t>());
        const auto x = v->get<std::int64_t>();
        if (x < lo || x > hi) bad_field(name(key), "'{}' must be an integer from {} to {}, got {}", name(key), lo, hi, x);
        return x;
    }
    /// Any integer a 64-bit seed can hold (negative ones are taken modulo 2^64).
    std::optional<std::uint64_t> seed(std::string_view key) const {
        const json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_number_integer()) bad_field(name(key), "'{}' must be an integer, got a {}", name(key), v->type_name());
        return v->is_number_unsigned() ? v->get<std::uint64_t>() : std::uint64_t(v->get<std::int64_t>());
    }
    /// A number in [lo, hi] (open at lo when lo_open).
    std::optional<double> number(std::string_view key, double lo, double hi, bool lo_open = false) const {
        const json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_number()) bad_field(name(key), "'{}' must be a number, got a {}", name(key), v->type_name());
        const double x = v->get<double>();
        if (!std::isfinite(x) || x > hi || (lo_open ? x <= lo : x < lo))
            bad_field(name(key), "'{}' must be a number in {}{}, {}], got {}", name(key), lo_open ? "(" : "[", lo, hi, x);
        return x;
    }
    std::optional<bool> boolean(std::string_view key) const {
        const json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_boolean()) bad_field(name(key), "'{}' must be true or false, got a {}", name(key), v->type_name());
        return v->get<bool>();
    }
    std::optional<std::string> string(std::string_view key, std::size_t max_bytes = std::size_t(1) << 20) const {
        const json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_string()) bad_field(name(key), "'{}' must be a string, got a {}", name(key), v->type_name());
        const auto& s = v->get_ref<const std::string&>();
        if (s.size() > max_bytes) bad_field(name(key), "'{}' has {} bytes, more than the limit of {}", name(key), s.size(), max_bytes);
        return s;
    }

private:
    const json& j_;
    std::string prefix_;
};

}  // namespace llmt_server
