// jinja parser: tokens to the syntax tree, jinja2's grammar and operator precedence, with a nesting limit
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/runtime/jinja/lexer.hpp>

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace jinja {
namespace detail {

class parser {
public:
    parser(std::vector<token> toks, const syntax_options& o) : t_(std::move(toks)), o_(o) {}

    body parse_template() {
        std::string end;
        return parse_body({}, end, 0);
    }

private:
    std::vector<token> t_;
    const syntax_options& o_;
    std::size_t i_ = 0;
    std::uint32_t depth_ = 0;

    struct guard {
        parser& p;
        explicit guard(parser& pp) : p(pp) {
            if (++p.depth_ > p.o_.max_depth)
                p.error(fmt::format("the template nests deeper than {} levels", p.o_.max_depth));
        }
        ~guard() { --p.depth_; }
    };

    const token& cur() const { return t_[i_]; }
    const token& peek(std::size_t n = 1) const { return t_[std::min(i_ + n, t_.size() - 1)]; }
    void next() {
        if (i_ + 1 < t_.size()) ++i_;
    }
    bool at_op(std::string_view op) const { return cur().kind == tok::op && cur().s == op; }
    bool at_name(std::string_view n) const { return cur().kind == tok::name && cur().s == n; }

    [[noreturn]] void error(std::string_view what) const { error_at(cur(), what); }
    [[noreturn]] static void error_at(const token& t, std::string_view what) {
        fail(errc::format, "jinja: line {}, column {}: {}", t.line, t.col, what);
    }
    static std::string describe(const token& t) {
        switch (t.kind) {
            case tok::eof: return "the end of the template";
            case tok::block_end: return "'%}'";
            case tok::var_end: return "'}}'";
            case tok::string: return fmt::format("the string '{}'", t.s);
            default: return fmt::format("'{}'", t.s);
        }
    }
    void expect_op(std::string_view op) {
        if (!at_op(op)) error(fmt::format("expected '{}', found {}", op, describe(cur())));
        next();
    }
    std::string expect_name(std::string_view what) {
        if (cur().kind != tok::name) error(fmt::format("expected {}, found {}", what, describe(cur())));
        std::string s = cur().s;
        next();
        return s;
    }
    void expect_name_kw(std::string_view kw) {
        if (!at_name(kw)) error(fmt::format("expected '{}', found {}", kw, describe(cur())));
        next();
    }
    void expect_block_end(std::string_view tag) {
        if (cur().kind != tok::block_end)
            error(fmt::format("expected '%}}' to close the {} tag, found {}", tag, describe(cur())));
        next();
    }

    expr_ptr make(expr_kind k, const token& at) {
        auto e = std::make_unique<expr>();
        e->kind = k;
        e->line = at.line;
        e->col = at.col;
        return e;
    }
    expr_ptr add(expr_ptr e, expr_ptr kid) {
        if (kid) {
            e->depth = std::max(e->depth, kid->depth + 1);
            if (e->depth > o_.max_depth)
                fail(errc::format, "jinja: line {}, column {}: an expression nests deeper than {} levels", e->line, e->col,
                     o_.max_depth);
        }
        e->kids.push_back(std::move(kid));
        return e;
    }
    expr_ptr binary(expr_kind k, std::string op, expr_ptr l, expr_ptr r, const token& at) {
        auto e = make(k, at);
        e->name = std::move(op);
        e = add(std::move(e), std::move(l));
        return add(std::move(e), std::move(r));
    }

    // ---- statements ----

    body parse_body(std::initializer_list<std::string_view> ends, std::string& found, std::uint32_t open_line) {
        guard g(*this);
        body out;
        while (true) {
            const token& t = cur();
            if (t.kind == tok::eof) {
                if (ends.size() == 0) return out;
                error(fmt::format("the block opened at line {} is never closed (expected {{% {} %}})", open_line,
                                  *(ends.end() - 1)));
            }
            if (t.kind == tok::text) {
                auto s = std::make_unique<stmt>();
                s->kind = stmt_kind::text;
                s->line = t.line;
                s->txt = text(t.s);
                out.push_back(std::move(s));
                next();
            } else if (t.kind == tok::var_begin) {
                next();
                auto s = std::make_unique<stmt>();
                s->kind = stmt_kind::output;
                s->line = t.line;
                s->col = t.col;
                s->e = parse_expression();
                if (cur().kind != tok::var_end) error(fmt::format("expected '}}}}', found {}", describe(cur())));
                next();
                out.push_back(std::move(s));
            } else if (t.kind == tok::block_begin) {
                next();
                if (cur().kind != tok::name) error(fmt::format("expected a tag name, found {}", describe(cur())));
                for (auto e : ends)
                    if (cur().s == e) {
                        found = cur().s;
                        next();
                        return out;
                    }
                out.push_back(parse_statement(t));
            } else {
                error(fmt::format("unexpected {}", describe(t)));
            }
        }
    }

    stmt_ptr new_stmt(stmt_kind k, const token& at) {
        auto s = std::make_unique<stmt>();
        s->kind = k;
        s->line = at.line;
        s->col = at.col;
        return s;
    }

    stmt_ptr parse_statement(const token& open) {
        const token name = cur();
        const std::string& n = name.s;
        next();
        std::string end;
        if (n == "if") {
            auto s = new_stmt(stmt_kind::if_, open);
            s->conds.push_back(parse_expression());
            expect_block_end("if");
            while (true) {
                s->bodies.push_back(parse_body({"elif", "else", "endif"}, end, open.line));
                if (end == "elif") {
                    s->conds.push_back(parse_expression());
                    expect_block_end("elif");
                    continue;
                }
                if (end == "else") {
                    expect_block_end("else");
                    s->else_body = parse_body({"endif"}, end, open.line);
                }
                expect_block_end("endif");
                return s;
            }
        }
        if (n == "for") {
            auto s = new_stmt(stmt_kind::for_, open);
            const bool paren = at_op("(");
            if (paren) next();
            s->names.push_back(expect_name("a loop variable name"));
            while (at_op(",")) {
                next();
                s->names.push_back(expect_name("a loop variable name"));
            }
            if (paren) expect_op(")");
            expect_name_kw("in");
            s->e = parse_expression(false);
            if (at_name("if")) {
                next();
                s->cond = parse_expression(false);
            }
            if (at_name("recursive")) error("recursive for loops are not supported");
            expect_block_end("for");
            s->bodies.push_back(parse_body({"else", "endfor"}, end, open.line));
            if (end == "else") {
                expect_block_end("else");
                s->else_body = parse_body({"endfor"}, end, open.line);
            }
            expect_block_end("endfor");
            return s;
        }
        if (n == "set") {
            auto s = new_stmt(stmt_kind::set, open);
            s->names.push_back(expect_name("a variable name after 'set'"));
            if (at_op(".")) {
                next();
                s->attr = expect_name("an attribute name");
            }
            while (at_op(",") && s->attr.empty()) {
                next();
                s->names.push_back(expect_name("a variable name"));
            }
            if (at_op("=")) {
                next();
                s->e = parse_tuple();
                expect_block_end("set");
                return s;
            }
            if (s->names.size() != 1 || !s->attr.empty()) error("a block set takes one variable name");
            s->kind = stmt_kind::set_block;
            if (at_op("|")) s->e = parse_filter_chain(open);
            expect_block_end("set");
            s->bodies.push_back(parse_body({"endset"}, end, open.line));
            expect_block_end("endset");
            return s;
        }
        if (n == "macro") {
            auto s = new_stmt(stmt_kind::macro, open);
            s->names.push_back(expect_name("a macro name"));
            parse_params(*s);
            expect_block_end("macro");
            s->bodies.push_back(parse_body({"endmacro"}, end, open.line));
            expect_block_end("endmacro");
            return s;
        }
        if (n == "call") {
            auto s = new_stmt(stmt_kind::call_block, open);
            if (at_op("(")) parse_params(*s);
            s->e = parse_expression();
            if (s->e->kind != expr_kind::call) error("a call block needs a macro call");
            expect_block_end("call");
            s->bodies.push_back(parse_body({"endcall"}, end, open.line));
            expect_block_end("endcall");
            return s;
        }
        if (n == "filter") {
            auto s = new_stmt(stmt_kind::filter_block, open);
            s->e = parse_filter_chain(open, true);
            expect_block_end("filter");
            s->bodies.push_back(parse_body({"endfilter"}, end, open.line));
            expect_block_end("endfilter");
            return s;
        }
        if (n == "generation") {
            auto s = new_stmt(stmt_kind::scope, open);
            expect_block_end("generation");
            s->bodies.push_back(parse_body({"endgeneration"}, end, open.line));
            expect_block_end("endgeneration");
            return s;
        }
        if (n == "break" || n == "continue") {
            auto s = new_stmt(n == "break" ? stmt_kind::break_ : stmt_kind::continue_, open);
            expect_block_end(n);
            return s;
        }
        if (n == "do") {
            auto s = new_stmt(stmt_kind::do_, open);
            s->e = parse_tuple();
            expect_block_end("do");
            return s;
        }
        static constexpr std::string_view ends[] = {"endif", "endfor", "endset", "endmacro", "endcall", "endfilter",
                                                    "endgeneration", "elif", "else", "endraw"};
        for (auto e : ends)
            if (n == e) error_at(name, fmt::format("'{}' has no open block to end or continue here", n));
        error_at(name, fmt::format("unknown tag '{}'", n));
    }

    void parse_params(stmt& s) {
        expect_op("(");
        while (!at_op(")")) {
            if (!s.params.empty()) expect_op(",");
            if (at_op(")")) break;
            s.params.push_back(expect_name("a parameter name"));
            if (at_op("=")) {
                next();
                s.defaults.push_back(parse_expression());
            } else {
                s.defaults.push_back(nullptr);
            }
        }
        next();
    }

    // "| f(args) | g" (or, for a filter block, "f(args) | g") applied to a placeholder name.
    expr_ptr parse_filter_chain(const token& at, bool first_bare = false) {
        auto e = make(expr_kind::name, at);
        e->name = "\x01block";
        bool first = true;
        while ((first && first_bare) || at_op("|")) {
            if (!(first && first_bare)) next();
            first = false;
            e = parse_filter(std::move(e));
        }
        return e;
    }

    // ---- expressions ----

    expr_ptr parse_tuple() {
        const token at = cur();
        auto e = parse_expression();
        if (!at_op(",")) return e;
        auto t = make(expr_kind::tuple, at);
        t = add(std::move(t), std::move(e));
        while (at_op(",")) {
            next();
            if (cur().kind == tok::block_end || cur().kind == tok::var_end) break;
            t = add(std::move(t), parse_expression());
        }
        return t;
    }

    expr_ptr parse_expression(bool with_cond = true) {
        guard g(*this);
        auto e = parse_or();
        while (with_cond && at_name("if")) {
            const token at = cur();
            next();
            auto c = make(expr_kind::cond, at);
            c = add(std::move(c), std::move(e));
            c = add(std::move(c), parse_or());
            if (at_name("else")) {
                next();
                c = add(std::move(c), parse_expression());
            } else {
                c->kids.push_back(nullptr);
            }
            e = std::move(c);
        }
        return e;
    }

    expr_ptr parse_or() {
        auto e = parse_and();
        while (at_name("or")) {
            const token at = cur();
            next();
            e = binary(expr_kind::or_, "or", std::move(e), parse_and(), at);
        }
        return e;
    }
    expr_ptr parse_and() {
        auto e = parse_not();
        while (at_name("and")) {
            const token at = cur();
            next();
            e = binary(expr_kind::and_, "and", std::move(e), parse_not(), at);
        }
        return e;
    }
    expr_ptr parse_not() {
        if (at_name("not")) {
            guard g(*this);
            const token at = cur();
            next();
            return add(make(expr_kind::not_, at), parse_not());
        }
        return parse_compare();
    }
    expr_ptr parse_compare() {
        auto e = parse_math1();
        while (true) {
            const token at = cur();
            std::string op;
            if (cur().kind == tok::op && (cur().s == "==" || cur().s == "!=" || cur().s == "<" || cur().s == "<=" ||
                                          cur().s == ">" || cur().s == ">=")) {
                op = cur().s;
                next();
            } else if (at_name("in")) {
                op = "in";
                next();
            } else if (at_name("not") && peek().kind == tok::name && peek().s == "in") {
                op = "not in";
                next();
                next();
            } else {
                return e;
            }
            e = binary(expr_kind::binary, op, std::move(e), parse_math1(), at);
        }
    }
    template <class Sub>
    expr_ptr parse_left(std::initializer_list<std::string_view> ops, Sub sub) {
        auto e = (this->*sub)();
        while (cur().kind == tok::op) {
            bool hit = false;
            for (auto op : ops) hit = hit || cur().s == op;
            if (!hit) break;
            const token at = cur();
            next();
            e = binary(expr_kind::binary, at.s, std::move(e), (this->*sub)(), at);
        }
        return e;
    }
    expr_ptr parse_math1() { return parse_left({"+", "-"}, &parser::parse_concat); }
    expr_ptr parse_concat() { return parse_left({"~"}, &parser::parse_math2); }
    expr_ptr parse_math2() { return parse_left({"*", "/", "//", "%"}, &parser::parse_pow); }
    expr_ptr parse_pow() { return parse_left({"**"}, &parser::parse_unary_f); }
    expr_ptr parse_unary_f() { return parse_unary(true); }

    expr_ptr parse_unary(bool with_filter) {
        guard g(*this);
        expr_ptr e;
        if (at_op("-") || at_op("+")) {
            const token at = cur();
            next();
            e = make(expr_kind::unary, at);
            e->name = at.s;
            e = add(std::move(e), parse_unary(false));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filter_expr(std::move(e));
        return e;
    }

    expr_ptr parse_primary() {
        const token at = cur();
        switch (at.kind) {
            case tok::name: {
                next();
                if (at.s == "true" || at.s == "True") return literal(true, at);
                if (at.s == "false" || at.s == "False") return literal(false, at);
                if (at.s == "none" || at.s == "None") return literal(none_t{}, at);
                auto e = make(expr_kind::name, at);
                e->name = at.s;
                return e;
            }
            case tok::string: {
                std::string s;
                while (cur().kind == tok::string) {  // adjacent literals concatenate
                    s += cur().s;
                    next();
                }
                return literal(value(std::move(s)), at);
            }
            case tok::integer: {
                next();
                std::int64_t v = 0;
                const auto r = std::from_chars(at.s.data(), at.s.data() + at.s.size(), v);
                if (r.ec != std::errc()) error_at(at, fmt::format("the integer {} is out of range", at.s));
                return literal(v, at);
            }
            case tok::floating: {
                next();
                double v = 0;
                std::from_chars(at.s.data(), at.s.data() + at.s.size(), v);
                return literal(v, at);
            }
            default: break;
        }
        if (at_op("(")) {
            guard g(*this);
            next();
            if (at_op(")")) {
                next();
                return make(expr_kind::tuple, at);
            }
            auto e = parse_expression();
            if (at_op(",")) {
                auto t = make(expr_kind::tuple, at);
                t = add(std::move(t), std::move(e));
                while (at_op(",")) {
                    next();
                    if (at_op(")")) break;
                    t = add(std::move(t), parse_expression());
                }
                e = std::move(t);
            }
            expect_op(")");
            return e;
        }
        if (at_op("[")) {
            guard g(*this);
            next();
            auto e = make(expr_kind::list, at);
            while (!at_op("]")) {
                if (!e->kids.empty()) expect_op(",");
                if (at_op("]")) break;
                e = add(std::move(e), parse_expression());
            }
            next();
            return e;
        }
        if (at_op("{")) {
            guard g(*this);
            next();
            auto e = make(expr_kind::dict, at);
            while (!at_op("}")) {
                if (!e->kids.empty()) expect_op(",");
                if (at_op("}")) break;
                e = add(std::move(e), parse_expression());
                expect_op(":");
                e = add(std::move(e), parse_expression());
            }
            next();
            return e;
        }
        error(fmt::format("expected an expression, found {}", describe(at)));
    }

    expr_ptr literal(value v, const token& at) {
        auto e = make(expr_kind::literal, at);
        e->lit = std::move(v);
        return e;
    }

    expr_ptr parse_postfix(expr_ptr e) {
        while (true) {
            const token at = cur();
            if (at_op(".")) {
                next();
                if (cur().kind != tok::name && cur().kind != tok::integer)
                    error(fmt::format("expected an attribute name after '.', found {}", describe(cur())));
                auto a = make(cur().kind == tok::name ? expr_kind::attr : expr_kind::index, at);
                if (cur().kind == tok::name) {
                    a->name = cur().s;
                    a = add(std::move(a), std::move(e));
                } else {
                    a = add(std::move(a), std::move(e));
                    std::int64_t idx = 0;
                    const auto r = std::from_chars(cur().s.data(), cur().s.data() + cur().s.size(), idx);
                    if (r.ec != std::errc()) error(fmt::format("the index {} is out of range", cur().s));
                    a = add(std::move(a), literal(idx, cur()));
                }
                next();
                e = std::move(a);
            } else if (at_op("[")) {
                guard g(*this);
                next();
                expr_ptr parts[3];
                int n = 0;
                bool is_slice = false;
                while (true) {
                    if (!at_op(":") && !at_op("]")) parts[n] = parse_expression();
                    if (at_op(":")) {
                        is_slice = true;
                        if (++n > 2) error("a slice takes at most start:stop:step");
                        next();
                        continue;
                    }
                    break;
                }
                expect_op("]");
                if (!is_slice) {
                    if (!parts[0]) error_at(at, "expected an index inside '[]'");
                    auto x = make(expr_kind::index, at);
                    x = add(std::move(x), std::move(e));
                    e = add(std::move(x), std::move(parts[0]));
                } else {
                    auto x = make(expr_kind::slice, at);
                    x = add(std::move(x), std::move(e));
                    for (auto& p : parts) x = add(std::move(x), std::move(p));
                    e = std::move(x);
                }
            } else if (at_op("(")) {
                auto c = make(expr_kind::call, at);
                c = add(std::move(c), std::move(e));
                e = parse_call_args(std::move(c));
            } else {
                return e;
            }
        }
    }

    // Arguments of a call, filter or test: positional first, then name=value.
    expr_ptr parse_call_args(expr_ptr c) {
        guard g(*this);
        expect_op("(");
        bool first = true;
        while (!at_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (at_op(")")) break;
            if (cur().kind == tok::name && peek().kind == tok::op && peek().s == "=") {
                c->kw.push_back(cur().s);
                next();
                next();
                c = add(std::move(c), parse_expression());
            } else {
                if (!c->kw.empty()) error("a positional argument follows a keyword argument");
                c = add(std::move(c), parse_expression());
            }
        }
        next();
        return c;
    }

    expr_ptr parse_filter(expr_ptr e) {
        const token at = cur();
        std::string name = expect_name("a filter name");
        while (at_op(".")) {  // dotted filter names are not used by chat templates; keep the last part
            next();
            name = expect_name("a filter name");
        }
        auto f = make(expr_kind::filter, at);
        f->name = std::move(name);
        f = add(std::move(f), std::move(e));
        if (at_op("(")) f = parse_call_args(std::move(f));
        return f;
    }

    expr_ptr parse_filter_expr(expr_ptr e) {
        while (true) {
            if (at_op("|")) {
                next();
                e = parse_filter(std::move(e));
            } else if (at_name("is")) {
                const token at = cur();
                next();
                auto t = make(expr_kind::test, at);
                if (at_name("not")) {
                    t->negate = true;
                    next();
                }
                t->name = expect_name("a test name after 'is'");
                t = add(std::move(t), std::move(e));
                if (at_op("(")) {
                    t = parse_call_args(std::move(t));
                } else if ((cur().kind == tok::name || cur().kind == tok::string || cur().kind == tok::integer ||
                            cur().kind == tok::floating || at_op("[") || at_op("{")) &&
                           !at_name("else") && !at_name("or") && !at_name("and") && !at_name("if")) {
                    if (at_name("is")) error("tests cannot be chained with 'is'");
                    t = add(std::move(t), parse_postfix(parse_primary()));
                }
                e = std::move(t);
            } else if (at_op("(")) {
                auto c = make(expr_kind::call, cur());
                c = add(std::move(c), std::move(e));
                e = parse_call_args(std::move(c));
            } else {
                return e;
            }
        }
    }
};

}  // namespace detail
}  // namespace jinja
LLMT_END_NAMESPACE
