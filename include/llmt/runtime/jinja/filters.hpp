// jinja filters and methods: jinja2's filters (Hugging Face's tojson) and the Python str, dict and list methods templates call
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/runtime/jinja/builtins.hpp>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace jinja {
namespace detail {

/// attribute= of map / selectattr / sort / join: a dotted path of attributes or indices.
inline value attr_path(interpreter& in, value v, const std::string& path) {
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const std::size_t dot = std::min(path.find('.', pos), path.size());
        const std::string part = path.substr(pos, dot - pos);
        if (v.is_undefined()) return v;
        std::int64_t idx = 0;
        const auto r = std::from_chars(part.data(), part.data() + part.size(), idx);
        if (v.is_array() && !part.empty() && r.ec == std::errc() && r.ptr == part.data() + part.size())
            v = in.get_item(v, value(idx));
        else
            v = in.get_item(v, value(part));
        pos = dot + 1;
    }
    return v;
}

}  // namespace detail

inline value detail::interpreter::apply_filter(const std::string& n, const value& v, call_args& a) {
    auto need_str = [&](const value& x) -> text {
        if (x.is_undefined() || x.is_string()) return to_text(x);
        return to_text(x);
    };
    if (n == "safe" || n == "string") return value(to_text(v));
    if (n == "trim") return value(strip(need_str(v), a.get(0, "chars"), true, true));
    if (n == "upper") return value(map_ascii(need_str(v), 1));
    if (n == "lower") return value(map_ascii(need_str(v), 0));
    if (n == "capitalize") return value(map_ascii(need_str(v), 2));
    if (n == "title") return value(map_ascii(need_str(v), 3));
    if (n == "length" || n == "count") {
        if (v.is_string()) return std::int64_t(cp_count(v.str()));
        if (v.is_array()) return std::int64_t(v.get_array().size());
        if (v.is_object()) return std::int64_t(v.get_object().items.size());
        if (v.is_undefined()) return std::int64_t(0);
        err(fmt::format("a value of type {} has no length", v.type_name()));
    }
    if (n == "default" || n == "d") {
        const bool boolean = a.get(1, "boolean", false).truthy();
        if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", value(""));
        return v;
    }
    if (n == "tojson") {
        const value ind = a.get(0, "indent", none_t{});
        std::string out;
        const value sk = a.get(99, "sort_keys", false);
        try {
            to_json(out, v, ind.is_int() ? int(ind.get_int()) : -1, sk.truthy());
        } catch (const error& e) {
            err(e.what());
        }
        check_size(out.size());
        return value(std::move(text(std::move(out))).taint_like(has_literal(v) ? text::literal("x") : text()));
    }
    if (n == "replace") {
        const value from = a.get(0, "old"), to = a.get(1, "new"), cnt = a.get(2, "count", std::int64_t(-1));
        return value(replace(*this, need_str(v), to_text(from), to_text(to), cnt.is_int() ? cnt.get_int() : -1));
    }
    if (n == "first" || n == "last") {
        const auto items = iterate(v);
        if (items.empty()) return value::undefined(n);
        return n == "first" ? items.front() : items.back();
    }
    if (n == "list") return value(iterate(v));
    if (n == "reverse") {
        if (v.is_string()) {
            auto cs = chars_of(v.get_text());
            text r;
            for (auto it = cs.rbegin(); it != cs.rend(); ++it) r.append(it->get_text());
            return value(std::move(r));
        }
        auto items = iterate(v);
        std::reverse(items.begin(), items.end());
        return value(std::move(items));
    }
    if (n == "join") {
        const text sep = to_text(a.get(0, "d", value("")));
        const value attr = a.get(1, "attribute");
        text r;
        bool first = true;
        for (const auto& x : iterate(v)) {
            if (!first) r.append(sep);
            first = false;
            r.append(to_text(attr.is_string() ? attr_path(*this, x, attr.str()) : x));
            check_size(r.s.size());
        }
        return value(std::move(r));
    }
    if (n == "items" || n == "dictsort") {
        if (v.is_undefined()) return value(array{});
        if (!v.is_object()) err(fmt::format("{} needs a dict, not a {}", n, v.type_name()));
        array r;
        for (const auto& [k, x] : v.get_object().items) r.push_back(value(array{value(k), x}));
        if (n == "dictsort") {
            const bool cs = a.get(0, "case_sensitive", false).truthy();
            const bool by_value = a.get(1, "by", "key").is_string() && a.get(1, "by", "key").str() == "value";
            const bool rev = a.get(2, "reverse", false).truthy();
            auto key = [&](const value& item) {
                value k = item.get_array()[by_value ? 1 : 0];
                return (!cs && k.is_string()) ? value(map_ascii(k.get_text(), 0)) : k;
            };
            std::stable_sort(r.begin(), r.end(), [&](const value& x, const value& y) {
                const int c = compare(*this, key(x), key(y));
                return rev ? c > 0 : c < 0;
            });
        }
        return value(std::move(r));
    }
    if (n == "map") {
        array r;
        const value attr = a.get(99, "attribute");
        for (const auto& x : iterate(v)) {
            step();
            if (attr.is_string()) {
                value y = attr_path(*this, x, attr.str());
                if (y.is_undefined()) y = a.get(99, "default", y);
                r.push_back(std::move(y));
            } else {
                if (a.pos.empty() || !a.pos[0].is_string()) err("map needs a filter name or attribute=");
                call_args rest{std::vector<value>(a.pos.begin() + 1, a.pos.end()), {}};
                r.push_back(apply_filter(a.pos[0].str(), x, rest));
            }
        }
        return value(std::move(r));
    }
    if (n == "select" || n == "reject" || n == "selectattr" || n == "rejectattr") {
        const bool attr = n == "selectattr" || n == "rejectattr";
        const bool want = n == "select" || n == "selectattr";
        const std::size_t ti = attr ? 1 : 0;
        if (attr && (a.pos.empty() || !a.pos[0].is_string())) err(fmt::format("{} needs an attribute name", n));
        array r;
        for (const auto& x : iterate(v)) {
            step();
            const value subject = attr ? attr_path(*this, x, a.pos[0].str()) : x;
            bool ok;
            if (a.pos.size() > ti) {
                if (!a.pos[ti].is_string()) err(fmt::format("{} needs a test name", n));
                call_args rest{std::vector<value>(a.pos.begin() + std::ptrdiff_t(ti) + 1, a.pos.end()), {}};
                ok = apply_test(a.pos[ti].str(), subject, rest);
            } else {
                ok = subject.truthy();
            }
            if (ok == want) r.push_back(x);
        }
        return value(std::move(r));
    }
    if (n == "unique") {
        array r;
        for (const auto& x : iterate(v)) {
            step();
            if (std::none_of(r.begin(), r.end(), [&](const value& y) { return y == x; })) r.push_back(x);
        }
        return value(std::move(r));
    }
    if (n == "sort") {
        auto items = iterate(v);
        const bool rev = a.get(0, "reverse", false).truthy();
        const value attr = a.get(2, "attribute");
        std::stable_sort(items.begin(), items.end(), [&](const value& x, const value& y) {
            const int c = attr.is_string() ? compare(*this, attr_path(*this, x, attr.str()), attr_path(*this, y, attr.str()))
                                           : compare(*this, x, y);
            return rev ? c > 0 : c < 0;
        });
        return value(std::move(items));
    }
    if (n == "int") {
        if (v.is_int()) return v;
        if (v.is_float()) return std::int64_t(v.get_float());
        if (v.is_bool()) return std::int64_t(v.get_bool());
        if (v.is_string()) {
            const std::string s = strip(v.get_text(), value(), true, true).s;
            std::int64_t i = 0;
            auto r = std::from_chars(s.data(), s.data() + s.size(), i);
            if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return i;
            double d = 0;
            auto rd = std::from_chars(s.data(), s.data() + s.size(), d);
            if (rd.ec == std::errc() && rd.ptr == s.data() + s.size() && std::isfinite(d) && std::fabs(d) < 9e18)
                return std::int64_t(d);
        }
        return a.get(0, "default", std::int64_t(0));
    }
    if (n == "float") {
        if (v.is_number()) return v.get_float();
        if (v.is_bool()) return double(v.get_bool());
        if (v.is_string()) {
            const std::string s = strip(v.get_text(), value(), true, true).s;
            double d = 0;
            auto r = std::from_chars(s.data(), s.data() + s.size(), d);
            if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return d;
        }
        return a.get(0, "default", 0.0);
    }
    if (n == "abs") {
        if (v.is_int()) return v.get_int() < 0 ? value(-v.get_int()) : v;
        if (v.is_float()) return std::fabs(v.get_float());
        err(fmt::format("abs needs a number, not a {}", v.type_name()));
    }
    if (n == "escape" || n == "e") {
        const text s = to_text(v);
        text r;
        for (std::size_t i = 0; i < s.s.size(); ++i) {
            switch (s.s[i]) {
                case '&': r.append("&amp;"); break;
                case '<': r.append("&lt;"); break;
                case '>': r.append("&gt;"); break;
                case '"': r.append("&#34;"); break;
                case '\'': r.append("&#39;"); break;
                default: r.append(s, i, i + 1);
            }
        }
        check_size(r.s.size());
        return value(std::move(r));
    }
    if (n == "indent") {
        const value w = a.get(0, "width", std::int64_t(4));
        const bool first = a.get(1, "first", false).truthy(), blank = a.get(2, "blank", false).truthy();
        const std::string pad = w.is_string() ? w.str() : std::string(std::size_t(std::clamp<std::int64_t>(to_int(*this, w, "indent"), 0, 256)), ' ');
        const text s = to_text(v);
        text r;
        std::size_t pos = 0;
        bool line0 = true;
        while (pos <= s.s.size()) {
            const std::size_t nl = std::min(s.s.find('\n', pos), s.s.size());
            const bool empty = nl == pos;
            if ((line0 ? first : true) && (blank || !empty)) r.append(pad);
            r.append(s, pos, nl);
            if (nl < s.s.size()) r.append("\n");
            check_size(r.s.size());
            pos = nl + 1;
            line0 = false;
        }
        return value(std::move(r));
    }
    if (n == "format") return value(percent_format(*this, to_text(v), a.pos));
    if (n == "attr") return get_attr(v, to_text(a.get(0, "name")).s);
    if (n == "wordcount") return std::int64_t(split(to_text(v), value(), -1).size());
    if (n == "sum") {
        value acc = a.get(1, "start", std::int64_t(0));
        const value attr = a.get(0, "attribute");
        for (const auto& x : iterate(v)) {
            const value y = attr.is_string() ? attr_path(*this, x, attr.str()) : x;
            if (!y.is_number() && !y.is_bool()) err("sum needs numbers");
            acc = acc.is_int() && y.is_int() ? value(acc.get_int() + y.get_int()) : value(acc.get_float() + y.get_float());
        }
        return acc;
    }
    if (n == "min" || n == "max") {
        const auto items = iterate(v);
        if (items.empty()) return value::undefined(n);
        value best = items[0];
        for (const auto& x : items)
            if ((compare(*this, x, best) < 0) == (n == "min") && !(x == best)) best = x;
        return best;
    }
    err(fmt::format("unknown filter '{}'", n));
}

inline value detail::interpreter::method(const value& self, const std::string& n) {
    interpreter* in = this;
    auto bound = [&](auto fn) {
        return value(function([in, self, fn](call_args& a) -> value { return fn(*in, self, a); }));
    };
    if (self.is_string()) {
        if (n == "strip" || n == "lstrip" || n == "rstrip")
            return bound([n](interpreter&, const value& s, call_args& a) {
                return value(strip(s.get_text(), a.get(0, "chars"), n != "rstrip", n != "lstrip"));
            });
        if (n == "startswith" || n == "endswith")
            return bound([n](interpreter& i, const value& s, call_args& a) {
                const value p = a.get(0, "prefix");
                std::vector<value> opts = p.is_array() ? p.get_array() : std::vector<value>{p};
                for (const auto& o : opts) {
                    if (!o.is_string()) i.err(fmt::format("{} needs a string, not a {}", n, o.type_name()));
                    const std::string_view str = s.str(), x = o.str();
                    if (x.size() <= str.size() && (n == "startswith" ? str.substr(0, x.size()) : str.substr(str.size() - x.size())) == x)
                        return value(true);
                }
                return value(false);
            });
        if (n == "split" || n == "rsplit")
            return bound([](interpreter&, const value& s, call_args& a) {
                const value mx = a.get(1, "maxsplit", std::int64_t(-1));
                return value(split(s.get_text(), a.get(0, "sep", none_t{}), mx.is_int() ? mx.get_int() : -1));
            });
        if (n == "splitlines")
            return bound([](interpreter&, const value& s, call_args&) {
                auto parts = split(s.get_text(), value("\n"), -1);
                if (!parts.empty() && parts.back().str().empty()) parts.pop_back();
                return value(std::move(parts));
            });
        if (n == "upper" || n == "lower" || n == "title" || n == "capitalize")
            return bound([n](interpreter&, const value& s, call_args&) {
                return value(map_ascii(s.get_text(), n == "lower" ? 0 : n == "upper" ? 1 : n == "capitalize" ? 2 : 3));
            });
        if (n == "replace")
            return bound([](interpreter& i, const value& s, call_args& a) {
                const value c = a.get(2, "count", std::int64_t(-1));
                return value(replace(i, s.get_text(), to_text(a.get(0, "old")), to_text(a.get(1, "new")), c.is_int() ? c.get_int() : -1));
            });
        if (n == "find" || n == "rfind" || n == "count")
            return bound([n](interpreter& i, const value& s, call_args& a) {
                const value sub = a.get(0, "sub");
                if (!sub.is_string()) i.err(fmt::format("{} needs a string", n));
                if (n == "count") {
                    if (sub.str().empty()) return value(std::int64_t(cp_count(s.str()) + 1));
                    std::int64_t c = 0;
                    for (std::size_t p = s.str().find(sub.str()); p != std::string::npos; p = s.str().find(sub.str(), p + sub.str().size())) ++c;
                    return value(c);
                }
                const std::size_t p = n == "find" ? s.str().find(sub.str()) : s.str().rfind(sub.str());
                return value(p == std::string::npos ? std::int64_t(-1) : std::int64_t(cp_count(s.str().substr(0, p))));
            });
        if (n == "join")
            return bound([](interpreter& i, const value& s, call_args& a) {
                text r;
                bool first = true;
                for (const auto& x : i.iterate(a.get(0, "iterable"))) {
                    if (!first) r.append(s.get_text());
                    first = false;
                    r.append(to_text(x));
                    i.check_size(r.s.size());
                }
                return value(std::move(r));
            });
        if (n == "format")
            return bound([](interpreter& i, const value& s, call_args& a) {
                text r;
                const std::string& f = s.str();
                std::size_t auto_i = 0;
                for (std::size_t p = 0; p < f.size(); ++p) {
                    if (f[p] == '{' && p + 1 < f.size() && f[p + 1] == '{') {
                        r.append("{");
                        ++p;
                    } else if (f[p] == '}' && p + 1 < f.size() && f[p + 1] == '}') {
                        r.append("}");
                        ++p;
                    } else if (f[p] == '{') {
                        const std::size_t e = f.find('}', p);
                        if (e == std::string::npos) i.err("format: a '{' is never closed");
                        const std::string key = f.substr(p + 1, e - p - 1);
                        value x;
                        if (key.empty()) x = auto_i < a.pos.size() ? a.pos[auto_i++] : value::undefined("format argument");
                        else if (std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
                            x = a.get(std::size_t(std::stoul(key.substr(0, 6))), "\x01");
                        else x = a.get(std::size_t(-1), key);
                        if (x.is_undefined()) i.err(fmt::format("format: no argument for '{{{}}}'", key));
                        r.append(to_text(x));
                        p = e;
                    } else {
                        r.append(s.get_text(), p, p + 1);
                    }
                    i.check_size(r.s.size());
                }
                return value(std::move(r));
            });
        if (n == "isdigit" || n == "isalpha" || n == "isspace" || n == "isalnum")
            return bound([n](interpreter&, const value& s, call_args&) {
                if (s.str().empty()) return value(false);
                for (unsigned char c : s.str()) {
                    const bool ok = n == "isdigit" ? std::isdigit(c) : n == "isalpha" ? std::isalpha(c)
                                  : n == "isspace" ? is_py_space(char(c)) : std::isalnum(c);
                    if (!ok) return value(false);
                }
                return value(true);
            });
        return value::undefined(n);
    }
    if (self.is_object()) {
        if (n == "items" || n == "keys" || n == "values")
            return bound([n](interpreter&, const value& s, call_args&) {
                array r;
                for (const auto& [k, x] : s.get_object().items)
                    r.push_back(n == "items" ? value(array{value(k), x}) : n == "keys" ? value(k) : x);
                return value(std::move(r));
            });
        if (n == "get" || n == "pop")
            return bound([n](interpreter& i, const value& s, call_args& a) {
                const value k = a.get(0, "key");
                const value dflt = a.get(1, "default", none_t{});
                if (!k.is_string()) return dflt;
                auto& items = s.get_object().items;
                for (auto it = items.begin(); it != items.end(); ++it)
                    if (it->first == k.str()) {
                        value r = it->second;
                        if (n == "pop") items.erase(it);
                        return r;
                    }
                if (n == "pop" && a.pos.size() < 2) i.err(fmt::format("pop: no key '{}'", k.str()));
                return dflt;
            });
        if (n == "update")
            return bound([](interpreter&, const value& s, call_args& a) {
                const value o = a.get(0, "other");
                if (o.is_object())
                    for (const auto& [k, x] : o.get_object().items) s.get_object().set(k, x);
                for (const auto& [k, x] : a.kw) s.get_object().set(k, x);
                return value(none_t{});
            });
        return value::undefined(n);
    }
    if (self.is_array()) {
        if (n == "append" || n == "extend")
            return bound([n](interpreter& i, const value& s, call_args& a) {
                auto& arr = s.get_array();
                if (n == "append") {
                    i.check_items(arr.size() + 1);
                    arr.push_back(a.get(0, "x"));
                } else {
                    const auto add = i.iterate(a.get(0, "iterable"));
                    i.check_items(arr.size() + add.size());
                    arr.insert(arr.end(), add.begin(), add.end());
                }
                return value(none_t{});
            });
        if (n == "pop")
            return bound([](interpreter& i, const value& s, call_args& a) {
                auto& arr = s.get_array();
                std::int64_t k = a.pos.empty() ? -1 : to_int(i, a.pos[0], "pop");
                if (k < 0) k += std::int64_t(arr.size());
                if (k < 0 || k >= std::int64_t(arr.size())) i.err("pop index out of range");
                value r = arr[std::size_t(k)];
                arr.erase(arr.begin() + k);
                return r;
            });
        if (n == "index")
            return bound([](interpreter& i, const value& s, call_args& a) {
                const auto& arr = s.get_array();
                for (std::size_t k = 0; k < arr.size(); ++k)
                    if (arr[k] == a.get(0, "x")) return value(std::int64_t(k));
                i.err("index: the value is not in the list");
            });
        return value::undefined(n);
    }
    return value::undefined(n);
}

}  // namespace jinja
LLMT_END_NAMESPACE
