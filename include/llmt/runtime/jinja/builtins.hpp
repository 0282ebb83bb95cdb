// jinja builtins: operators, attribute and item access, tests, filters and the string, dict and list methods chat templates use
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/runtime/jinja/interpreter.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace jinja {
namespace detail {

inline bool is_py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/// Python's strip family: chars empty means whitespace.
inline text strip(const text& t, const value& chars, bool left, bool right) {
    const std::string& s = t.s;
    auto drop = [&](char c) {
        if (chars.is_string()) return chars.str().find(c) != std::string::npos;
        return is_py_space(c);
    };
    std::size_t b = 0, e = s.size();
    if (left)
        while (b < e && drop(s[b])) ++b;
    if (right)
        while (e > b && drop(s[e - 1])) --e;
    return t.substr(b, e);
}

inline std::size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1; }

/// Code points of a string as substrings (iteration over a string, list(s)).
inline std::vector<value> chars_of(const text& t) {
    std::vector<value> out;
    for (std::size_t i = 0; i < t.s.size();) {
        const std::size_t n = std::min(utf8_len(static_cast<unsigned char>(t.s[i])), t.s.size() - i);
        out.emplace_back(t.substr(i, i + n));
        i += n;
    }
    return out;
}

inline std::size_t cp_count(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

inline text map_ascii(const text& t, int mode) {  // 0 lower, 1 upper, 2 capitalize, 3 title
    text r = t;
    bool prev_alpha = false;
    for (std::size_t i = 0; i < r.s.size(); ++i) {
        const auto c = static_cast<unsigned char>(r.s[i]);
        bool upper = mode == 1 || (mode == 2 && i == 0) || (mode == 3 && !prev_alpha);
        r.s[i] = char(upper ? std::toupper(c) : std::tolower(c));
        prev_alpha = std::isalpha(c) || c >= 0x80;
    }
    return r;
}

inline text replace(interpreter& in, const text& t, const text& from, const text& to, std::int64_t count) {
    if (from.s.empty()) return t;
    text r;
    std::size_t pos = 0;
    for (std::int64_t n = 0; count < 0 || n < count; ++n) {
        const std::size_t hit = t.s.find(from.s, pos);
        if (hit == std::string::npos) break;
        r.append(t, pos, hit);
        r.append(to);
        in.check_size(r.s.size());
        pos = hit + from.s.size();
    }
    r.append(t, pos);
    return r;
}

inline std::vector<value> split(const text& t, const value& sep, std::int64_t maxsplit) {
    std::vector<value> out;
    const std::string& s = t.s;
    if (!sep.is_string()) {  // runs of whitespace, no empty parts
        std::size_t i = 0;
        while (true) {
            while (i < s.size() && is_py_space(s[i])) ++i;
            if (i >= s.size()) break;
            if (maxsplit >= 0 && std::int64_t(out.size()) == maxsplit) {
                std::size_t e = s.size();
                while (e > i && is_py_space(s[e - 1])) --e;
                out.emplace_back(t.substr(i, e));
                break;
            }
            std::size_t j = i;
            while (j < s.size() && !is_py_space(s[j])) ++j;
            out.emplace_back(t.substr(i, j));
            i = j;
        }
        return out;
    }
    const std::string& d = sep.str();
    LLMT_CHECK_CODE(!d.empty(), errc::invalid_argument, "split: the separator is empty");
    std::size_t pos = 0;
    while (maxsplit < 0 || std::int64_t(out.size()) < maxsplit) {
        const std::size_t hit = s.find(d, pos);
        if (hit == std::string::npos) break;
        out.emplace_back(t.substr(pos, hit));
        pos = hit + d.size();
    }
    out.emplace_back(t.substr(pos, s.size()));
    return out;
}

inline bool has_literal(const value& v, int depth = 0) {
    if (depth > 256) return true;
    if (v.is_string()) return !v.get_text().lit.empty();
    if (v.is_array()) {
        for (const auto& x : v.get_array())
            if (has_literal(x, depth + 1)) return true;
    } else if (v.is_object()) {
        for (const auto& [k, x] : v.get_object().items)
            if (has_literal(x, depth + 1)) return true;
    }
    return false;
}

inline int compare(interpreter& in, const value& a, const value& b) {
    if ((a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool())) {
        if (a.is_int() && b.is_int()) return a.get_int() < b.get_int() ? -1 : a.get_int() > b.get_int();
        const double x = a.is_bool() ? double(a.get_bool()) : a.get_float();
        const double y = b.is_bool() ? double(b.get_bool()) : b.get_float();
        return x < y ? -1 : x > y;
    }
    if (a.is_string() && b.is_string()) {
        const int c = a.str().compare(b.str());
        return c < 0 ? -1 : c > 0;
    }
    if (a.is_array() && b.is_array()) {
        const auto &x = a.get_array(), &y = b.get_array();
        for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
            if (const int c = compare(in, x[i], y[i])) return c;
        return x.size() < y.size() ? -1 : x.size() > y.size();
    }
    in.err(fmt::format("'<' is not supported between a {} and a {}", a.type_name(), b.type_name()));
}

inline std::int64_t to_int(interpreter& in, const value& v, std::string_view op) {
    if (v.is_int()) return v.get_int();
    if (v.is_bool()) return v.get_bool();
    in.err(fmt::format("{} needs an integer, not a {}", op, v.type_name()));
}

inline text percent_format(interpreter& in, const text& fmt_s, const std::vector<value>& args) {
    text r;
    std::size_t ai = 0;
    const std::string& f = fmt_s.s;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '%') {
            r.append(fmt_s, i, i + 1);
            continue;
        }
        if (++i >= f.size()) in.err("incomplete format");
        if (f[i] == '%') {
            r.append("%");
            continue;
        }
        if (ai >= args.size()) in.err("not enough arguments for format string");
        const value& a = args[ai++];
        if (f[i] == 's') r.append(to_text(a));
        else if (f[i] == 'd' || f[i] == 'i') r.append(std::to_string(a.is_float() ? std::int64_t(a.get_float()) : to_int(in, a, "%d")));
        else if (f[i] == 'r') {
            std::string s;
            repr(s, a);
            r.append(s);
        } else in.err(fmt::format("unsupported format character '{}'", f[i]));
        in.check_size(r.s.size());
    }
    return r;
}

}  // namespace detail

inline value detail::interpreter::eval_binary(const expr& e) {
    const value a = eval(*e.kids[0]);
    const value b = eval(*e.kids[1]);
    line_ = e.line;
    const std::string& op = e.name;
    if (op == "==") return a == b;
    if (op == "!=") return !(a == b);
    if (op == "in" || op == "not in") {
        bool r = false;
        if (b.is_string()) {
            if (!a.is_string()) err(fmt::format("'in <string>' needs a string on the left, not a {}", a.type_name()));
            r = b.str().find(a.str()) != std::string::npos;
        } else if (b.is_array()) {
            for (const auto& x : b.get_array()) r = r || x == a;
        } else if (b.is_object()) {
            r = a.is_string() && b.get_object().find(a.str()) != nullptr;
        } else if (!b.is_undefined()) {
            err(fmt::format("'in' needs a string, list or dict on the right, not a {}", b.type_name()));
        }
        return op == "in" ? r : !r;
    }
    if (op == "<") return compare(*this, a, b) < 0;
    if (op == "<=") return compare(*this, a, b) <= 0;
    if (op == ">") return compare(*this, a, b) > 0;
    if (op == ">=") return compare(*this, a, b) >= 0;
    if (op == "~") {
        text r = to_text(a);
        r.append(to_text(b));
        check_size(r.s.size());
        return r;
    }
    for (const value* v : {&a, &b})
        if (v->is_undefined()) err(fmt::format("'{}' is undefined", v->undefined_name()));
    const bool num = (a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool());
    auto as_int = [](const value& v) { return v.is_bool() ? std::int64_t(v.get_bool()) : v.get_int(); };
    auto as_f = [](const value& v) { return v.is_bool() ? double(v.get_bool()) : v.get_float(); };
    const bool ints = num && !a.is_float() && !b.is_float();
    auto bad = [&]() -> value {
        err(fmt::format("unsupported operand types for {}: {} and {}", op, a.type_name(), b.type_name()));
    };
    if (op == "+") {
        if (ints) {
            std::int64_t r;
            if (__builtin_add_overflow(as_int(a), as_int(b), &r)) err("integer overflow in +");
            return r;
        }
        if (num) return as_f(a) + as_f(b);
        if (a.is_string() && b.is_string()) {
            check_size(a.str().size() + b.str().size());
            text r = a.get_text();
            r.append(b.get_text());
            return r;
        }
        if (a.is_array() && b.is_array()) {
            check_items(a.get_array().size() + b.get_array().size());
            array r = a.get_array();
            r.insert(r.end(), b.get_array().begin(), b.get_array().end());
            return r;
        }
        return bad();
    }
    if (op == "-") {
        if (ints) {
            std::int64_t r;
            if (__builtin_sub_overflow(as_int(a), as_int(b), &r)) err("integer overflow in -");
            return r;
        }
        if (num) return as_f(a) - as_f(b);
        return bad();
    }
    if (op == "*") {
        if (ints) {
            std::int64_t r;
            if (__builtin_mul_overflow(as_int(a), as_int(b), &r)) err("integer overflow in *");
            return r;
        }
        if (num) return as_f(a) * as_f(b);
        const value* seq = (a.is_string() || a.is_array()) ? &a : &b;
        const value* cnt = seq == &a ? &b : &a;
        if (!(seq->is_string() || seq->is_array()) || !(cnt->is_int() || cnt->is_bool())) return bad();
        const std::int64_t n = std::max<std::int64_t>(0, as_int(*cnt));
        if (seq->is_string()) {
            const std::size_t len = seq->str().size();
            if (len && std::uint64_t(n) > o_.lim.max_output / len + 1) check_size(o_.lim.max_output + 1);
            check_size(len * std::size_t(n));
            text r;
            for (std::int64_t i = 0; i < n; ++i) r.append(seq->get_text());
            return r;
        }
        const std::size_t len = seq->get_array().size();
        if (len && std::uint64_t(n) > o_.lim.max_items / len + 1) check_items(o_.lim.max_items + 1);
        check_items(len * std::size_t(n));
        array r;
        for (std::int64_t i = 0; i < n; ++i) r.insert(r.end(), seq->get_array().begin(), seq->get_array().end());
        return r;
    }
    if (op == "%" && a.is_string()) {
        return percent_format(*this, a.get_text(), b.is_array() ? b.get_array() : std::vector<value>{b});
    }
    if (!num) return bad();
    if (op == "/") {
        if (as_f(b) == 0) err("division by zero");
        return as_f(a) / as_f(b);
    }
    if (op == "//" || op == "%") {
        if (ints) {
            const std::int64_t x = as_int(a), y = as_int(b);
            if (y == 0) err("integer division or modulo by zero");
            if (x == std::numeric_limits<std::int64_t>::min() && y == -1) err("integer overflow in //");
            std::int64_t q = x / y, r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) {
                --q;
                r += y;
            }
            return op == "//" ? q : r;
        }
        const double x = as_f(a), y = as_f(b);
        if (y == 0) err("float division or modulo by zero");
        const double q = std::floor(x / y);
        return op == "//" ? q : x - q * y;
    }
    if (op == "**") {
        if (ints && as_int(b) >= 0) {
            std::int64_t r = 1, base = as_int(a);
            for (std::int64_t i = 0; i < as_int(b); ++i) {
                step();
                if (__builtin_mul_overflow(r, base, &r)) err("integer overflow in **");
            }
            return r;
        }
        return std::pow(as_f(a), as_f(b));
    }
    return bad();
}

inline std::vector<value> detail::interpreter::iterate(const value& v) {
    if (v.is_array()) return v.get_array();
    if (v.is_object()) {
        std::vector<value> keys;
        for (const auto& [k, x] : v.get_object().items) keys.emplace_back(k);
        return keys;
    }
    if (v.is_string()) return chars_of(v.get_text());
    if (v.is_undefined()) return {};
    err(fmt::format("a value of type {} is not iterable", v.type_name()));
}

inline value detail::interpreter::get_item(const value& v, const value& key) {
    if (v.is_undefined()) err(fmt::format("'{}' is undefined", v.undefined_name()));
    if (v.is_array() || v.is_string()) {
        if (!key.is_int()) {
            if (key.is_string()) return get_attr(v, key.str());
            err(fmt::format("list indices must be integers, not {}", key.type_name()));
        }
        const std::int64_t n = v.is_array() ? std::int64_t(v.get_array().size()) : std::int64_t(v.str().size());
        std::int64_t i = key.get_int();
        if (i < 0) i += n;
        if (i < 0 || i >= n) return value::undefined("index " + std::to_string(key.get_int()));
        if (v.is_array()) return v.get_array()[std::size_t(i)];
        return value(v.get_text().substr(std::size_t(i), std::size_t(i) + 1));
    }
    if (v.is_object()) {
        if (key.is_string()) {
            if (const value* x = v.get_object().find(key.str())) return *x;
            return get_attr(v, key.str());
        }
        return value::undefined("key");
    }
    return value::undefined("item");
}

inline value detail::interpreter::get_attr(const value& v, const std::string& name) {
    if (v.is_undefined()) err(fmt::format("'{}' is undefined", v.undefined_name()));
    if (v.is_object()) {
        static constexpr std::string_view dict_methods[] = {"items", "keys", "values", "get", "update", "pop"};
        for (auto m : dict_methods)
            if (name == m) return method(v, name);
        if (const value* x = v.get_object().find(name)) return *x;
        return value::undefined(name);
    }
    if (v.is_string() || v.is_array()) return method(v, name);
    return value::undefined(name);
}

inline bool detail::interpreter::apply_test(const std::string& n, const value& v, call_args& a) {
    const value arg = a.get(0, "value");
    if (n == "defined") return !v.is_undefined();
    if (n == "undefined") return v.is_undefined();
    if (n == "none") return v.is_none();
    if (n == "string") return v.is_string();
    if (n == "mapping") return v.is_object();
    if (n == "iterable") return v.is_array() || v.is_object() || v.is_string();
    if (n == "sequence") return v.is_array() || v.is_object() || v.is_string();
    if (n == "number") return v.is_number() || v.is_bool();
    if (n == "integer") return v.is_int();
    if (n == "float") return v.is_float();
    if (n == "boolean") return v.is_bool();
    if (n == "true") return v.is_bool() && v.get_bool();
    if (n == "false") return v.is_bool() && !v.get_bool();
    if (n == "callable") return v.is_callable();
    if (n == "equalto" || n == "eq" || n == "==" || n == "sameas") return v == arg;
    if (n == "ne" || n == "!=") return !(v == arg);
    if (n == "lt" || n == "lessthan" || n == "<") return compare(*this, v, arg) < 0;
    if (n == "le" || n == "<=") return compare(*this, v, arg) <= 0;
    if (n == "gt" || n == "greaterthan" || n == ">") return compare(*this, v, arg) > 0;
    if (n == "ge" || n == ">=") return compare(*this, v, arg) >= 0;
    if (n == "in") {
        if (arg.is_string()) return v.is_string() && arg.str().find(v.str()) != std::string::npos;
        if (arg.is_array())
            return std::any_of(arg.get_array().begin(), arg.get_array().end(), [&](const value& x) { return x == v; });
        if (arg.is_object()) return v.is_string() && arg.get_object().find(v.str());
        err("the 'in' test needs a string, list or dict");
    }
    if (n == "odd" || n == "even") {
        const std::int64_t i = to_int(*this, v, "the odd/even test");
        return (i % 2 != 0) == (n == "odd");
    }
    if (n == "divisibleby") {
        const std::int64_t d = to_int(*this, arg, "divisibleby");
        if (d == 0) err("divisibleby 0");
        return to_int(*this, v, "divisibleby") % d == 0;
    }
    if (n == "lower" || n == "upper") {
        if (!v.is_string()) return false;
        for (unsigned char c : v.str())
            if (n == "lower" ? std::isupper(c) : std::islower(c)) return false;
        return true;
    }
    err(fmt::format("unknown test '{}'", n));
}

}  // namespace jinja
LLMT_END_NAMESPACE
