// jinja value: the interpreter's dynamic value (undefined, none, bool, int, float, string with literal spans, list, ordered dict, callable)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace jinja {

/// [begin, end) byte ranges of a string.
using spans = std::vector<std::pair<std::size_t, std::size_t>>;

/// A string and the byte ranges of it that are literal: text that came from the caller's data
/// marked as such (a chat message's content) and must never be read as markup by a tokenizer.
/// Operations that copy bytes (concatenation, slicing, trim, replace, join, output) carry the
/// ranges along, so the rendered prompt knows which of its bytes are message text.
struct text {
    std::string s;
    spans lit;  // sorted, disjoint, none empty

    text() = default;
    text(std::string str) : s(std::move(str)) {}  // NOLINT: plain text converts
    text(std::string_view str) : s(str) {}        // NOLINT
    text(const char* str) : s(str) {}             // NOLINT

    /// The whole string marked literal.
    static text literal(std::string str) {
        text t(std::move(str));
        if (!t.s.empty()) t.lit.emplace_back(0, t.s.size());
        return t;
    }
    void append(std::string_view str) { s.append(str); }
    void append(const char* str) { s.append(str); }
    void append(const std::string& str) { s.append(str); }
    /// Appends t[b, e) with its literal ranges.
    void append(const text& t, std::size_t b = 0, std::size_t e = std::string::npos) {
        e = std::min(e, t.s.size());
        if (b >= e) return;
        const std::size_t base = s.size();
        for (const auto& [lb, le] : t.lit) {
            const std::size_t cb = std::max(lb, b), ce = std::min(le, e);
            if (cb >= ce) continue;
            const std::size_t nb = base + cb - b, ne = base + ce - b;
            if (!lit.empty() && lit.back().second == nb) lit.back().second = ne;
            else lit.emplace_back(nb, ne);
        }
        s.append(t.s, b, e - b);
    }
    [[nodiscard]] text substr(std::size_t b, std::size_t e) const {
        text r;
        r.append(*this, b, e);
        return r;
    }
    /// Marks every byte literal when any was (for transformations that do not keep byte positions).
    [[nodiscard]] text taint_like(const text& from) && {
        if (!from.lit.empty() && !s.empty()) lit.assign(1, {0, s.size()});
        return std::move(*this);
    }
};

class value;
using array = std::vector<value>;

/// A dict that keeps insertion order (Python's dict).
struct object {
    std::vector<std::pair<std::string, value>> items;
    [[nodiscard]] const value* find(std::string_view key) const;
    void set(std::string key, value v);
};

struct call_args;
class interpreter;
/// A function callable from a template (a global like raise_exception, a macro, a bound method).
using function = std::function<value(call_args&)>;

struct undefined_t {
    std::string name;  // what was looked up, for the error message when it is used
};
struct none_t {};

/// A template value. Strings are immutable and shared; lists, dicts and namespaces are shared
/// by reference as in Python (list.append and namespace attributes mutate the one object).
class value {
public:
    using string_ptr = std::shared_ptr<const text>;
    using array_ptr = std::shared_ptr<array>;
    using object_ptr = std::shared_ptr<object>;
    using function_ptr = std::shared_ptr<const function>;

    value() : v_(undefined_t{}) {}
    value(none_t) : v_(none_t{}) {}  // NOLINT
    value(bool b) : v_(b) {}  // NOLINT
    value(int i) : v_(std::int64_t(i)) {}  // NOLINT
    value(std::int64_t i) : v_(i) {}  // NOLINT
    value(double d) : v_(d) {}  // NOLINT
    value(text t) : v_(std::make_shared<const text>(std::move(t))) {}  // NOLINT
    value(std::string s) : value(text(std::move(s))) {}  // NOLINT
    value(std::string_view s) : value(text(s)) {}  // NOLINT
    value(const char* s) : value(text(s)) {}  // NOLINT
    value(array a) : v_(std::make_shared<array>(std::move(a))) {}  // NOLINT
    value(object o) : v_(std::make_shared<object>(std::move(o))) {}  // NOLINT
    value(function f) : v_(std::make_shared<const function>(std::move(f))) {}  // NOLINT

    static value undefined(std::string name = {}) {
        value v;
        v.v_ = undefined_t{std::move(name)};
        return v;
    }
    /// A string whose every byte is literal (see text).
    static value literal(std::string s) { return value(text::literal(std::move(s))); }

    [[nodiscard]] bool is_undefined() const noexcept { return std::holds_alternative<undefined_t>(v_); }
    [[nodiscard]] bool is_none() const noexcept { return std::holds_alternative<none_t>(v_); }
    [[nodiscard]] bool is_bool() const noexcept { return std::holds_alternative<bool>(v_); }
    [[nodiscard]] bool is_int() const noexcept { return std::holds_alternative<std::int64_t>(v_); }
    [[nodiscard]] bool is_float() const noexcept { return std::holds_alternative<double>(v_); }
    [[nodiscard]] bool is_number() const noexcept { return is_int() || is_float(); }
    [[nodiscard]] bool is_string() const noexcept { return std::holds_alternative<string_ptr>(v_); }
    [[nodiscard]] bool is_array() const noexcept { return std::holds_alternative<array_ptr>(v_); }
    [[nodiscard]] bool is_object() const noexcept { return std::holds_alternative<object_ptr>(v_); }
    [[nodiscard]] bool is_callable() const noexcept { return std::holds_alternative<function_ptr>(v_); }

    [[nodiscard]] bool get_bool() const { return std::get<bool>(v_); }
    [[nodiscard]] std::int64_t get_int() const { return std::get<std::int64_t>(v_); }
    [[nodiscard]] double get_float() const { return is_int() ? double(get_int()) : std::get<double>(v_); }
    [[nodiscard]] const text& get_text() const { return *std::get<string_ptr>(v_); }
    [[nodiscard]] const std::string& str() const { return get_text().s; }
    [[nodiscard]] array& get_array() const { return *std::get<array_ptr>(v_); }
    [[nodiscard]] object& get_object() const { return *std::get<object_ptr>(v_); }
    [[nodiscard]] const function& get_function() const { return *std::get<function_ptr>(v_); }
    [[nodiscard]] const std::string& undefined_name() const { return std::get<undefined_t>(v_).name; }

    /// Python's truth value (undefined is false).
    [[nodiscard]] bool truthy() const {
        if (is_undefined() || is_none()) return false;
        if (is_bool()) return get_bool();
        if (is_int()) return get_int() != 0;
        if (is_float()) return get_float() != 0.0;
        if (is_string()) return !str().empty();
        if (is_array()) return !get_array().empty();
        if (is_object()) return !get_object().items.empty();
        return true;
    }

    /// Python's type name, for error messages.
    [[nodiscard]] std::string_view type_name() const noexcept {
        switch (v_.index()) {
            case 0: return "undefined";
            case 1: return "none";
            case 2: return "bool";
            case 3: return "int";
            case 4: return "float";
            case 5: return "string";
            case 6: return "list";
            case 7: return "dict";
            default: return "function";
        }
    }

    /// Python's ==: numbers by value (1 == 1.0, True == 1), strings, lists and dicts deeply.
    friend bool operator==(const value& a, const value& b);

private:
    std::variant<undefined_t, none_t, bool, std::int64_t, double, string_ptr, array_ptr, object_ptr, function_ptr> v_;
};

/// Positional and keyword arguments of a call.
struct call_args {
    std::vector<value> pos;
    std::vector<std::pair<std::string, value>> kw;
    /// Argument i, or the keyword `name`, or `fallback`.
    [[nodiscard]] value get(std::size_t i, std::string_view name, value fallback = value::undefined()) const {
        for (const auto& [k, v] : kw)
            if (k == name) return v;
        return i < pos.size() ? pos[i] : fallback;
    }
};

inline const value* object::find(std::string_view key) const {
    for (const auto& [k, v] : items)
        if (k == key) return &v;
    return nullptr;
}

inline void object::set(std::string key, value v) {
    for (auto& [k, old] : items)
        if (k == key) {
            old = std::move(v);
            return;
        }
    items.emplace_back(std::move(key), std::move(v));
}

inline bool operator==(const value& a, const value& b) {
    if ((a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool())) {
        auto num = [](const value& v) { return v.is_bool() ? double(v.get_bool()) : v.get_float(); };
        if (a.is_int() && b.is_int()) return a.get_int() == b.get_int();
        return num(a) == num(b);
    }
    if (a.v_.index() != b.v_.index()) return false;
    if (a.is_undefined() || a.is_none()) return true;
    if (a.is_string()) return a.str() == b.str();
    if (a.is_array()) {
        const auto &x = a.get_array(), &y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!(x[i] == y[i])) return false;
        return true;
    }
    if (a.is_object()) {
        const auto &x = a.get_object(), &y = b.get_object();
        if (x.items.size() != y.items.size()) return false;
        for (const auto& [k, v] : x.items) {
            const value* o = y.find(k);
            if (!o || !(*o == v)) return false;
        }
        return true;
    }
    return std::get<value::function_ptr>(a.v_) == std::get<value::function_ptr>(b.v_);
}

namespace detail {

/// Python's repr of a float: the shortest digits that round-trip, fixed notation for exponents
/// in [-4, 16), else d.ddde+XX; always a '.' or an exponent.
inline std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    const auto epos = sci.find('e');
    const int exp = std::atoi(sci.c_str() + epos + 1);
    std::string mant = sci.substr(0, epos);
    const bool neg = mant[0] == '-';
    if (neg) mant.erase(0, 1);
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    std::string out = neg ? "-" : "";
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out += "0." + std::string(std::size_t(-exp - 1), '0') + digits;
        } else if (std::size_t(exp) + 1 >= digits.size()) {
            out += digits + std::string(std::size_t(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, std::size_t(exp) + 1) + "." + digits.substr(std::size_t(exp) + 1);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + e;
}

/// Python's repr of a string: single quotes unless the text holds ' and no ".
inline std::string string_repr(std::string_view s) {
    const char q = (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == q) (out += '\\') += char(c);
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else out += char(c);
    }
    return out + q;
}

/// JSON string escaping as Python's json.dumps with ensure_ascii=False.
inline void json_escape(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", c);
                    out += b;
                } else {
                    out += char(c);
                }
        }
    }
    out += '"';
}

}  // namespace detail

/// Python's repr (as str() of a list shows its items).
inline void repr(std::string& out, const value& v, int depth = 0) {
    LLMT_CHECK_CODE(depth < 256, errc::invalid_argument, "a value nests more than 256 levels deep");
    if (v.is_string()) {
        out += detail::string_repr(v.str());
    } else if (v.is_array()) {
        out += '[';
        bool first = true;
        for (const auto& x : v.get_array()) {
            if (!first) out += ", ";
            first = false;
            repr(out, x, depth + 1);
        }
        out += ']';
    } else if (v.is_object()) {
        out += '{';
        bool first = true;
        for (const auto& [k, x] : v.get_object().items) {
            if (!first) out += ", ";
            first = false;
            out += detail::string_repr(k);
            out += ": ";
            repr(out, x, depth + 1);
        }
        out += '}';
    } else if (v.is_undefined()) {
        // nothing: str(Undefined) is ''
    } else if (v.is_none()) {
        out += "None";
    } else if (v.is_bool()) {
        out += v.get_bool() ? "True" : "False";
    } else if (v.is_int()) {
        out += std::to_string(v.get_int());
    } else if (v.is_float()) {
        out += detail::float_repr(v.get_float());
    } else {
        out += "<function>";
    }
}

/// Python's str(): strings as they are, the rest as repr.
inline text to_text(const value& v) {
    if (v.is_string()) return v.get_text();
    std::string s;
    repr(s, v);
    return text(std::move(s));
}

/// JSON as Python's json.dumps(v, ensure_ascii=False, indent=indent) (indent < 0: one line with
/// ", " and ": " separators), as Hugging Face's tojson filter renders it.
inline void to_json(std::string& out, const value& v, int indent = -1, bool sort_keys = false, int level = 0) {
    LLMT_CHECK_CODE(level < 256, errc::invalid_argument, "tojson: the value nests more than 256 levels deep");
    auto newline = [&](int lv) {
        if (indent < 0) return;
        out += '\n';
        out.append(std::size_t(indent) * std::size_t(lv), ' ');
    };
    const char* sep = indent < 0 ? ", " : ",";
    if (v.is_none()) {
        out += "null";
    } else if (v.is_bool()) {
        out += v.get_bool() ? "true" : "false";
    } else if (v.is_int()) {
        out += std::to_string(v.get_int());
    } else if (v.is_float()) {
        const double d = v.get_float();
        out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity") : detail::float_repr(d);
    } else if (v.is_string()) {
        detail::json_escape(out, v.str());
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        if (a.empty()) {
            out += "[]";
            return;
        }
        out += '[';
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (i) out += sep;
            newline(level + 1);
            to_json(out, a[i], indent, sort_keys, level + 1);
        }
        newline(level);
        out += ']';
    } else if (v.is_object()) {
        auto items = v.get_object().items;
        if (items.empty()) {
            out += "{}";
            return;
        }
        if (sort_keys)
            std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        out += '{';
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i) out += sep;
            newline(level + 1);
            detail::json_escape(out, items[i].first);
            out += ": ";
            to_json(out, items[i].second, indent, sort_keys, level + 1);
        }
        newline(level);
        out += '}';
    } else {
        fail(errc::invalid_argument, "tojson: a value of type {} is not JSON serializable", v.type_name());
    }
}

namespace detail {
struct json_reader {
    std::string_view s;
    std::size_t p = 0;
    bool literal = false;

    [[noreturn]] void bad(std::string_view what) const {
        fail(errc::invalid_argument, "invalid JSON at byte {}: {}", p, what);
    }
    void ws() {
        while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) ++p;
    }
    static void put_utf8(std::string& o, std::uint32_t cp) {
        if (cp < 0x80) {
            o += char(cp);
        } else if (cp < 0x800) {
            o += char(0xC0 | (cp >> 6));
            o += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            o += char(0xE0 | (cp >> 12));
            o += char(0x80 | ((cp >> 6) & 0x3F));
            o += char(0x80 | (cp & 0x3F));
        } else {
            o += char(0xF0 | (cp >> 18));
            o += char(0x80 | ((cp >> 12) & 0x3F));
            o += char(0x80 | ((cp >> 6) & 0x3F));
            o += char(0x80 | (cp & 0x3F));
        }
    }
    std::uint32_t hex4() {
        if (p + 4 > s.size()) bad("a \\u escape needs 4 hex digits");
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s[p++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= std::uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f') v |= std::uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= std::uint32_t(c - 'A' + 10);
            else bad("a \\u escape needs 4 hex digits");
        }
        return v;
    }
    std::string string() {
        ++p;  // "
        std::string o;
        while (true) {
            if (p >= s.size()) bad("unterminated string");
            const char c = s[p++];
            if (c == '"') return o;
            if (c != '\\') {
                o += c;
                continue;
            }
            if (p >= s.size()) bad("unterminated escape");
            const char e = s[p++];
            switch (e) {
                case 'n': o += '\n'; break;
                case 't': o += '\t'; break;
                case 'r': o += '\r'; break;
                case 'b': o += '\b'; break;
                case 'f': o += '\f'; break;
                case '/': o += '/'; break;
                case '\\': o += '\\'; break;
                case '"': o += '"'; break;
                case 'u': {
                    std::uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && p + 1 < s.size() && s[p] == '\\' && s[p + 1] == 'u') {
                        p += 2;
                        const std::uint32_t lo = hex4();
                        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    put_utf8(o, cp);
                    break;
                }
                default: bad("unknown escape");
            }
        }
    }
    value parse(int depth) {
        if (depth > 200) bad("nesting deeper than 200 levels");
        ws();
        if (p >= s.size()) bad("unexpected end");
        const char c = s[p];
        if (c == '{') {
            ++p;
            object o;
            ws();
            if (p < s.size() && s[p] == '}') {
                ++p;
                return o;
            }
            while (true) {
                ws();
                if (p >= s.size() || s[p] != '"') bad("expected a key string");
                std::string k = string();
                ws();
                if (p >= s.size() || s[p] != ':') bad("expected ':'");
                ++p;
                o.set(std::move(k), parse(depth + 1));
                ws();
                if (p < s.size() && s[p] == ',') {
                    ++p;
                    continue;
                }
                if (p < s.size() && s[p] == '}') {
                    ++p;
                    return o;
                }
                bad("expected ',' or '}'");
            }
        }
        if (c == '[') {
            ++p;
            array a;
            ws();
            if (p < s.size() && s[p] == ']') {
                ++p;
                return a;
            }
            while (true) {
                a.push_back(parse(depth + 1));
                ws();
                if (p < s.size() && s[p] == ',') {
                    ++p;
                    continue;
                }
                if (p < s.size() && s[p] == ']') {
                    ++p;
                    return a;
                }
                bad("expected ',' or ']'");
            }
        }
        if (c == '"') return literal ? value::literal(string()) : value(string());
        auto word = [&](std::string_view w) {
            if (s.substr(p, w.size()) != w) return false;
            p += w.size();
            return true;
        };
        if (word("true")) return true;
        if (word("false")) return false;
        if (word("null")) return none_t{};
        const std::size_t b = p;
        bool is_float = false;
        if (p < s.size() && s[p] == '-') ++p;
        while (p < s.size() && ((s[p] >= '0' && s[p] <= '9') || s[p] == '.' || s[p] == 'e' || s[p] == 'E' ||
                                ((s[p] == '+' || s[p] == '-') && (s[p - 1] == 'e' || s[p - 1] == 'E')))) {
            if (s[p] == '.' || s[p] == 'e' || s[p] == 'E') is_float = true;
            ++p;
        }
        if (p == b) bad("unexpected character");
        if (!is_float) {
            std::int64_t i = 0;
            const auto r = std::from_chars(s.data() + b, s.data() + p, i);
            if (r.ec == std::errc() && r.ptr == s.data() + p) return i;
        }
        double d = 0;
        const auto r = std::from_chars(s.data() + b, s.data() + p, d);
        if (r.ec != std::errc() || r.ptr != s.data() + p) bad("malformed number");
        return d;
    }
};
}  // namespace detail

/// Parses JSON text into a value (objects keep their key order). literal_strings: every string in
/// it is marked literal (see text). Malformed input: llmt::error(errc::invalid_argument).
inline value from_json(std::string_view json, bool literal_strings = false) {
    detail::json_reader r{json, 0, literal_strings};
    value v = r.parse(0);
    r.ws();
    if (r.p != json.size()) r.bad("trailing characters");
    return v;
}

}  // namespace jinja
LLMT_END_NAMESPACE
