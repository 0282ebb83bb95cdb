// jinja interpreter: evaluates the syntax tree with jinja2's semantics, bounded in steps, depth and output
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/runtime/jinja/lexer.hpp>
#include <llmt/runtime/jinja/value.hpp>

#include <cmath>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace jinja {

/// Bounds of one render: a template that exceeds one stops with an llmt::error naming it.
struct limits {
    std::size_t max_output = std::size_t(1) << 24;  ///< bytes of output, and of any one string made
    std::uint64_t max_steps = 5'000'000;             ///< evaluated nodes and loop iterations
    std::uint32_t max_depth = 400;                   ///< nesting of evaluation, macro calls included
    std::size_t max_items = std::size_t(1) << 20;    ///< elements of any one list made
};

/// Options of one render.
struct render_options {
    limits lim;
    /// The time strftime_now() formats: fixed (2024-07-26 00:00:00) so that a render is
    /// reproducible; pass the current local time for a live conversation.
    std::tm now = [] {
        std::tm t{};
        t.tm_year = 2024 - 1900;
        t.tm_mon = 6;
        t.tm_mday = 26;
        t.tm_wday = 5;
        t.tm_yday = 207;
        return t;
    }();
};

namespace detail {

class interpreter;
text filter_apply(interpreter&, const std::string&, const value&, call_args&);

class interpreter {
public:
    interpreter(const render_options& o) : o_(o) {}

    text run(const body& b, const object& context);

    // Used by the builtins (filters, tests, methods in builtins.hpp).
    [[noreturn]] void err(std::string_view what) const {
        fail(errc::invalid_argument, "jinja: line {}: {}", line_, what);
    }
    void check_size(std::size_t n) const {
        if (n > o_.lim.max_output)
            fail(errc::runtime, "jinja: line {}: a string of {} bytes exceeds the limit of {} bytes", line_, n,
                 o_.lim.max_output);
    }
    void check_items(std::size_t n) const {
        if (n > o_.lim.max_items)
            fail(errc::runtime, "jinja: line {}: a list of {} items exceeds the limit of {} items", line_, n,
                 o_.lim.max_items);
    }
    void step(std::uint64_t n = 1) {
        steps_ += n;
        if (steps_ > o_.lim.max_steps)
            fail(errc::runtime, "jinja: line {}: the template ran more than {} steps (an endless or huge loop?)", line_,
                 o_.lim.max_steps);
    }
    value call(const value& f, call_args& a) {
        if (f.is_undefined()) err(fmt::format("'{}' is undefined and cannot be called", f.undefined_name()));
        if (!f.is_callable()) err(fmt::format("a value of type {} is not callable", f.type_name()));
        const std::uint32_t line = line_;
        try {
            value r = f.get_function()(a);
            if (r.is_array()) step(r.get_array().size());  // a list made by a call (range) costs its length
            return r;
        } catch (const error& e) {
            std::string_view m = e.what();
            if (m.substr(0, 12) == "jinja: line ") throw;
            if (m.substr(0, 7) == "jinja: ") m.remove_prefix(7);
            fail(e.code(), "jinja: line {}: {}", line, m);
        }
    }
    value get_attr(const value& v, const std::string& name);
    value get_item(const value& v, const value& key);
    bool apply_test(const std::string& name, const value& v, call_args& a);
    value apply_filter(const std::string& name, const value& v, call_args& a);
    value method(const value& self, const std::string& name);
    std::vector<value> iterate(const value& v);
    const render_options& options() const noexcept { return o_; }

private:
    using frame = std::vector<std::pair<std::string, value>>;
    enum class flow { normal, brk, cont };

    const render_options& o_;
    std::vector<std::shared_ptr<frame>> frames_;
    text* out_ = nullptr;
    std::uint64_t steps_ = 0;
    std::uint32_t depth_ = 0;
    std::uint32_t line_ = 0;

    struct depth_guard {
        interpreter& in;
        explicit depth_guard(interpreter& i) : in(i) {
            if (++in.depth_ > in.o_.lim.max_depth)
                fail(errc::runtime, "jinja: line {}: evaluation nests deeper than {} levels (unbounded recursion?)",
                     in.line_, in.o_.lim.max_depth);
        }
        ~depth_guard() { --in.depth_; }
    };

    value lookup(const std::string& name) const {
        for (auto f = frames_.rbegin(); f != frames_.rend(); ++f)
            for (const auto& [k, v] : **f)
                if (k == name) return v;
        return value::undefined(name);
    }
    void assign(const std::string& name, value v) {
        frame& f = *frames_.back();
        for (auto& [k, old] : f)
            if (k == name) {
                old = std::move(v);
                return;
            }
        f.emplace_back(name, std::move(v));
    }

    void emit(const text& t) {
        check_size(out_->s.size() + t.s.size());
        out_->append(t);
    }

    text capture(const body& b) {
        text buf;
        text* saved = out_;
        out_ = &buf;
        try {
            exec(b);
        } catch (...) {
            out_ = saved;
            throw;
        }
        out_ = saved;
        return buf;
    }

    flow exec(const body& b) {
        for (const auto& s : b) {
            const flow f = exec(*s);
            if (f != flow::normal) return f;
        }
        return flow::normal;
    }
    flow exec(const stmt& s);
    flow exec_for(const stmt& s);
    value eval(const expr& e);
    value eval_binary(const expr& e);
    call_args eval_args(const expr& e);
    value make_macro(const stmt& s);
    value invoke_macro(const stmt& s, const std::vector<std::weak_ptr<frame>>& scope, call_args& a);
};

inline text interpreter::run(const body& b, const object& context) {
    frames_.clear();
    frames_.push_back(std::make_shared<frame>(context.items));
    frames_.push_back(std::make_shared<frame>());
    text out;
    out_ = &out;
    exec(b);
    out_ = nullptr;
    return out;
}

inline interpreter::flow interpreter::exec(const stmt& s) {
    line_ = s.line;
    step();
    depth_guard g(*this);
    switch (s.kind) {
        case stmt_kind::text: emit(s.txt); return flow::normal;
        case stmt_kind::output: {
            const value v = eval(*s.e);
            line_ = s.line;
            emit(to_text(v));
            return flow::normal;
        }
        case stmt_kind::if_:
            for (std::size_t i = 0; i < s.conds.size(); ++i)
                if (eval(*s.conds[i]).truthy()) return exec(s.bodies[i]);
            return exec(s.else_body);
        case stmt_kind::for_: return exec_for(s);
        case stmt_kind::set: {
            value v = eval(*s.e);
            line_ = s.line;
            if (!s.attr.empty()) {
                const value target = lookup(s.names[0]);
                if (!target.is_object()) err(fmt::format("cannot set attribute '{}' of '{}', a value of type {}", s.attr,
                                                         s.names[0], target.type_name()));
                target.get_object().set(s.attr, std::move(v));
            } else if (s.names.size() == 1) {
                assign(s.names[0], std::move(v));
            } else {
                const auto items = iterate(v);
                if (items.size() != s.names.size())
                    err(fmt::format("cannot unpack {} values into {} names", items.size(), s.names.size()));
                for (std::size_t i = 0; i < items.size(); ++i) assign(s.names[i], items[i]);
            }
            return flow::normal;
        }
        case stmt_kind::set_block:
        case stmt_kind::filter_block: {
            value captured = capture(s.bodies[0]);
            if (s.e) {
                frames_.push_back(std::make_shared<frame>(frame{{"\x01block", captured}}));
                try {
                    captured = eval(*s.e);
                } catch (...) {
                    frames_.pop_back();
                    throw;
                }
                frames_.pop_back();
            }
            if (s.kind == stmt_kind::set_block) assign(s.names[0], std::move(captured));
            else emit(to_text(captured));
            return flow::normal;
        }
        case stmt_kind::macro: assign(s.names[0], make_macro(s)); return flow::normal;
        case stmt_kind::call_block: {
            const expr& c = *s.e;
            const value callee = eval(*c.kids[0]);
            call_args a = eval_args(c);
            // caller(): renders the call block's body as a macro without a name would.
            std::vector<std::weak_ptr<frame>> scope(frames_.begin(), frames_.end());
            const stmt* sp = &s;
            a.kw.emplace_back("caller", value(function([this, sp, scope](call_args& ca) {
                                  return invoke_macro(*sp, scope, ca);
                              })));
            emit(to_text(call(callee, a)));
            return flow::normal;
        }
        case stmt_kind::break_: return flow::brk;
        case stmt_kind::continue_: return flow::cont;
        case stmt_kind::do_: eval(*s.e); return flow::normal;
        case stmt_kind::scope: return exec(s.bodies[0]);
    }
    return flow::normal;
}

inline interpreter::flow interpreter::exec_for(const stmt& s) {
    const value seq = eval(*s.e);
    line_ = s.line;
    if (seq.is_none() || seq.is_bool() || seq.is_number() || seq.is_callable())
        err(fmt::format("cannot loop over a value of type {}", seq.type_name()));
    std::vector<value> items = iterate(seq);
    auto bind = [&](const value& item) {
        if (s.names.size() == 1) {
            assign(s.names[0], item);
            return;
        }
        const auto parts = iterate(item);
        if (parts.size() != s.names.size())
            err(fmt::format("cannot unpack {} values into {} loop variables", parts.size(), s.names.size()));
        for (std::size_t i = 0; i < parts.size(); ++i) assign(s.names[i], parts[i]);
    };
    if (s.cond) {
        std::vector<value> kept;
        for (const auto& it : items) {
            step();
            frames_.push_back(std::make_shared<frame>());
            try {
                bind(it);
                if (eval(*s.cond).truthy()) kept.push_back(it);
            } catch (...) {
                frames_.pop_back();
                throw;
            }
            frames_.pop_back();
        }
        items = std::move(kept);
    }
    if (items.empty()) return exec(s.else_body);
    const std::int64_t n = std::int64_t(items.size());
    for (std::int64_t i = 0; i < n; ++i) {
        step();
        object loop;
        loop.items.reserve(12);
        loop.set("index", i + 1);
        loop.set("index0", i);
        loop.set("revindex", n - i);
        loop.set("revindex0", n - i - 1);
        loop.set("first", i == 0);
        loop.set("last", i == n - 1);
        loop.set("length", n);
        loop.set("depth", 1);
        loop.set("depth0", 0);
        loop.set("previtem", i > 0 ? items[std::size_t(i - 1)] : value::undefined("previtem"));
        loop.set("nextitem", i + 1 < n ? items[std::size_t(i + 1)] : value::undefined("nextitem"));
        loop.set("cycle", value(function([i](call_args& a) {
                     return a.pos.empty() ? value::undefined("cycle") : a.pos[std::size_t(i) % a.pos.size()];
                 })));
        frames_.push_back(std::make_shared<frame>());
        flow f;
        try {
            assign("loop", value(std::move(loop)));
            bind(items[std::size_t(i)]);
            f = exec(s.bodies[0]);
        } catch (...) {
            frames_.pop_back();
            throw;
        }
        frames_.pop_back();
        if (f == flow::brk) break;
    }
    return flow::normal;
}

inline value interpreter::make_macro(const stmt& s) {
    // A macro sees the template's globals and top level, and its own arguments.
    // Weak: the macro is stored in a frame it would otherwise keep alive (a reference cycle).
    std::vector<std::weak_ptr<frame>> scope(frames_.begin(), frames_.begin() + 2);
    const stmt* sp = &s;
    return value(function([this, sp, scope](call_args& a) { return invoke_macro(*sp, scope, a); }));
}

inline value interpreter::invoke_macro(const stmt& s, const std::vector<std::weak_ptr<frame>>& scope, call_args& a) {
    depth_guard g(*this);
    std::vector<std::shared_ptr<frame>> chain;
    for (const auto& w : scope) {
        chain.push_back(w.lock());
        if (!chain.back()) err(fmt::format("the macro '{}' is called after its scope ended", s.names.empty() ? "caller" : s.names[0]));
    }
    auto saved = std::move(frames_);
    frames_ = std::move(chain);
    frames_.push_back(std::make_shared<frame>());
    const std::uint32_t line = line_;
    text result;
    try {
        std::size_t used = 0;
        for (std::size_t i = 0; i < s.params.size(); ++i) {
            value v = value::undefined(s.params[i]);
            bool found = false;
            for (const auto& [k, kv] : a.kw)
                if (k == s.params[i]) {
                    v = kv;
                    found = true;
                }
            if (!found && i < a.pos.size()) {
                v = a.pos[i];
                found = true;
                ++used;
            }
            if (!found && s.defaults[i]) v = eval(*s.defaults[i]);
            assign(s.params[i], std::move(v));
        }
        array varargs(a.pos.begin() + std::ptrdiff_t(std::min(a.pos.size(), std::max(used, s.params.size()))), a.pos.end());
        assign("varargs", value(std::move(varargs)));
        object kwargs;
        for (const auto& [k, kv] : a.kw) {
            bool param = false;
            for (const auto& p : s.params) param = param || p == k;
            if (k == "caller" && !param) assign("caller", kv);
            else if (!param) kwargs.set(k, kv);
        }
        assign("kwargs", value(std::move(kwargs)));
        result = capture(s.bodies[0]);
    } catch (...) {
        frames_ = std::move(saved);
        throw;
    }
    frames_ = std::move(saved);
    line_ = line;
    return value(std::move(result));
}

inline call_args interpreter::eval_args(const expr& e) {
    call_args a;
    const std::size_t n = e.kids.size(), nkw = e.kw.size();
    for (std::size_t i = 1; i < n - nkw; ++i) a.pos.push_back(eval(*e.kids[i]));
    for (std::size_t i = 0; i < nkw; ++i) a.kw.emplace_back(e.kw[i], eval(*e.kids[n - nkw + i]));
    return a;
}

inline value interpreter::eval(const expr& e) {
    depth_guard g(*this);
    step();
    line_ = e.line;
    switch (e.kind) {
        case expr_kind::literal: return e.lit;
        case expr_kind::name: return lookup(e.name);
        case expr_kind::list:
        case expr_kind::tuple: {
            array a;
            a.reserve(e.kids.size());
            for (const auto& k : e.kids) a.push_back(eval(*k));
            return a;
        }
        case expr_kind::dict: {
            object o;
            for (std::size_t i = 0; i + 1 < e.kids.size(); i += 2) {
                const value k = eval(*e.kids[i]);
                if (!k.is_string()) err(fmt::format("a dict key must be a string here, not a {}", k.type_name()));
                o.set(k.str(), eval(*e.kids[i + 1]));
            }
            return o;
        }
        case expr_kind::attr: {
            const value v = eval(*e.kids[0]);
            line_ = e.line;
            return get_attr(v, e.name);
        }
        case expr_kind::index: {
            const value v = eval(*e.kids[0]);
            const value k = eval(*e.kids[1]);
            line_ = e.line;
            return get_item(v, k);
        }
        case expr_kind::slice: {
            const value v = eval(*e.kids[0]);
            value idx[3];
            for (int i = 0; i < 3; ++i)
                if (e.kids[std::size_t(i) + 1]) idx[i] = eval(*e.kids[std::size_t(i) + 1]);
            line_ = e.line;
            for (const auto& x : idx)
                if (!x.is_undefined() && !x.is_none() && !x.is_int()) err("slice indices must be integers");
            std::int64_t step = idx[2].is_int() ? idx[2].get_int() : 1;
            if (step == 0) err("a slice step cannot be zero");
            const bool is_str = v.is_string();
            if (!is_str && !v.is_array()) err(fmt::format("a value of type {} cannot be sliced", v.type_name()));
            const std::int64_t len = is_str ? std::int64_t(v.str().size()) : std::int64_t(v.get_array().size());
            auto clamp = [&](const value& x, std::int64_t dflt) {
                if (!x.is_int()) return dflt;
                std::int64_t i = x.get_int();
                if (i < 0) i += len;
                if (step > 0) return std::clamp<std::int64_t>(i, 0, len);
                return std::clamp<std::int64_t>(i, -1, len - 1);
            };
            const std::int64_t b = clamp(idx[0], step > 0 ? 0 : len - 1), en = clamp(idx[1], step > 0 ? len : -1);
            if (is_str && step == 1) return value(v.get_text().substr(std::size_t(b), std::size_t(std::max(b, en))));
            text ts;
            array as;
            for (std::int64_t i = b; step > 0 ? i < en : i > en; i += step) {
                if (is_str) ts.append(v.get_text(), std::size_t(i), std::size_t(i) + 1);
                else as.push_back(v.get_array()[std::size_t(i)]);
            }
            return is_str ? value(std::move(ts)) : value(std::move(as));
        }
        case expr_kind::call: {
            const value f = eval(*e.kids[0]);
            call_args a = eval_args(e);
            line_ = e.line;
            return call(f, a);
        }
        case expr_kind::filter: {
            const value v = eval(*e.kids[0]);
            call_args a = eval_args(e);
            line_ = e.line;
            return apply_filter(e.name, v, a);
        }
        case expr_kind::test: {
            const value v = eval(*e.kids[0]);
            call_args a = eval_args(e);
            line_ = e.line;
            return apply_test(e.name, v, a) != e.negate;
        }
        case expr_kind::unary: {
            const value v = eval(*e.kids[0]);
            line_ = e.line;
            if (v.is_int()) return e.name == "-" ? value(-v.get_int()) : v;
            if (v.is_float()) return e.name == "-" ? value(-v.get_float()) : v;
            if (v.is_bool()) return e.name == "-" ? value(-std::int64_t(v.get_bool())) : value(std::int64_t(v.get_bool()));
            err(fmt::format("bad operand type for unary {}: {}", e.name, v.type_name()));
        }
        case expr_kind::cond:
            if (eval(*e.kids[1]).truthy()) return eval(*e.kids[0]);
            return e.kids[2] ? eval(*e.kids[2]) : value::undefined();
        case expr_kind::and_: {
            value l = eval(*e.kids[0]);
            return l.truthy() ? eval(*e.kids[1]) : l;
        }
        case expr_kind::or_: {
            value l = eval(*e.kids[0]);
            return l.truthy() ? l : eval(*e.kids[1]);
        }
        case expr_kind::not_: return !eval(*e.kids[0]).truthy();
        case expr_kind::binary: return eval_binary(e);
    }
    return value::undefined();
}

}  // namespace detail
}  // namespace jinja
LLMT_END_NAMESPACE
