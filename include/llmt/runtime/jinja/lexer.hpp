// jinja lexer: syntax options, the syntax tree, and the template lexer (trim_blocks, lstrip_blocks, "-" whitespace control)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/runtime/jinja/value.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace jinja {

/// How the template's text around tags is trimmed. The defaults are Hugging Face transformers'
/// (trim_blocks, lstrip_blocks; one trailing newline of the source dropped, as jinja2 does).
struct syntax_options {
    bool trim_blocks = true;
    bool lstrip_blocks = true;
    bool keep_trailing_newline = false;
    /// Nesting of expressions and blocks deeper than this is an error (keeps the parser and the
    /// evaluator off the end of the stack).
    std::uint32_t max_depth = 200;
    std::size_t max_source = std::size_t(1) << 22;
};

enum class expr_kind : std::uint8_t {
    literal, name, list, tuple, dict, attr, index, slice, call, filter, test, unary, binary, cond, and_, or_, not_,
};

/// An expression node. kids: operands; for call / filter / test: kids[0] is the callee or the
/// filtered value, then the positional arguments, then the keyword arguments named by kw (last
/// kw.size() kids). slice: object, start, stop, step (null where left out). dict: key, value
/// pairs. cond: then-value, condition, else-value (null without else).
struct expr {
    expr_kind kind{};
    std::uint32_t line = 0, col = 0, depth = 1;
    value lit;
    std::string name;  // variable, attribute, filter, test or operator
    bool negate = false;  // `is not`
    std::vector<std::unique_ptr<expr>> kids;
    std::vector<std::string> kw;
};
using expr_ptr = std::unique_ptr<expr>;

enum class stmt_kind : std::uint8_t {
    text, output, if_, for_, set, set_block, macro, call_block, break_, continue_, do_, filter_block, scope,
};

struct stmt;
using stmt_ptr = std::unique_ptr<stmt>;
using body = std::vector<stmt_ptr>;

/// A statement node. text: `text`. output/do: e. if: conds[i] guards bodies[i], else_body.
/// for: names = targets, e = iterable, cond = `if` filter, bodies[0], else_body. set: names =
/// targets (attr: `ns.attr`), e. set_block: names[0], bodies[0], e = optional filter chain
/// applied to a placeholder. macro: names[0] = macro name, params / defaults, bodies[0].
/// call_block: e = the call, params / defaults of caller, bodies[0]. filter_block: e = filter
/// chain over a placeholder, bodies[0]. scope: bodies[0] rendered in place (generation blocks).
struct stmt {
    stmt_kind kind{};
    std::uint32_t line = 0, col = 0;
    text txt;
    expr_ptr e, cond;
    std::vector<std::string> names;
    std::string attr;
    std::vector<std::string> params;
    std::vector<expr_ptr> defaults;  // one per param, null when none
    std::vector<expr_ptr> conds;
    std::vector<body> bodies;
    body else_body;
};

namespace detail {

enum class tok : std::uint8_t { text, var_begin, var_end, block_begin, block_end, name, string, integer, floating, op, eof };

struct token {
    tok kind{};
    std::string s;
    std::uint32_t line = 0, col = 0;
};

class lexer {
public:
    lexer(std::string_view src, const syntax_options& o) : o_(o) {
        LLMT_CHECK_CODE(src.size() <= o.max_source, errc::format,
                        "jinja: the template is {} bytes, more than the limit of {}", src.size(), o.max_source);
        // jinja2 normalizes \r\n and \r to \n and drops one trailing newline.
        src_.reserve(src.size());
        for (std::size_t i = 0; i < src.size(); ++i) {
            if (src[i] == '\r') {
                src_ += '\n';
                if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
            } else {
                src_ += src[i];
            }
        }
        if (!o.keep_trailing_newline && !src_.empty() && src_.back() == '\n') src_.pop_back();
        line_starts_.push_back(0);
        for (std::size_t i = 0; i < src_.size(); ++i)
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<token> run() {
        std::size_t pos = 0;
        bool line_starting = true;
        while (pos <= src_.size()) {
            const std::size_t tag = next_tag(pos);
            std::string txt = src_.substr(pos, (tag == std::string::npos ? src_.size() : tag) - pos);
            if (tag == std::string::npos) {
                push_text(std::move(txt), pos);
                break;
            }
            const char kind = src_[tag + 1];  // '{', '%' or '#'
            const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
            if (sign == '-') {
                rstrip(txt);
            } else if (sign != '+' && o_.lstrip_blocks && kind != '{') {
                const std::size_t nl = txt.rfind('\n');
                const std::size_t l = nl == std::string::npos ? 0 : nl + 1;
                if ((l > 0 || line_starting) && l < txt.size() &&
                    std::all_of(txt.begin() + std::ptrdiff_t(l), txt.end(), [](char c) { return is_space(c); }))
                    txt.resize(l);
            }
            push_text(std::move(txt), pos);
            std::size_t p = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
            if (kind == '#') {
                const std::size_t end = src_.find("#}", p);
                if (end == std::string::npos) fail_at(tag, "a comment opened here is never closed with '#}'");
                const char before = end >= p && end > 0 && (src_[end - 1] == '-' || src_[end - 1] == '+') && end - 1 >= p
                                        ? src_[end - 1] : '\0';
                pos = after_tag(end + 2, before, true);
            } else if (kind == '{') {
                out_.push_back({tok::var_begin, "{{", line_of(tag), col_of(tag)});
                char end_sign = '\0';
                p = lex_expr(p, tag, "}}", end_sign);
                pos = after_tag(p, end_sign, false);
            } else {
                out_.push_back({tok::block_begin, "{%", line_of(tag), col_of(tag)});
                const std::size_t first = out_.size();
                char end_sign = '\0';
                p = lex_expr(p, tag, "%}", end_sign);
                pos = after_tag(p, end_sign, true);
                if (out_.size() == first + 2 && out_[first].kind == tok::name && out_[first].s == "raw") pos = raw(pos, tag);
            }
            line_starting = pos > 0 && src_[pos - 1] == '\n';
        }
        out_.push_back({tok::eof, "", line_of(src_.size()), col_of(src_.size())});
        return std::move(out_);
    }

private:
    const syntax_options& o_;
    std::string src_;
    std::vector<std::size_t> line_starts_;
    std::vector<token> out_;

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
    static void rstrip(std::string& s) {
        while (!s.empty() && is_space(s.back())) s.pop_back();
    }
    std::uint32_t line_of(std::size_t off) const {
        return std::uint32_t(std::upper_bound(line_starts_.begin(), line_starts_.end(), off) - line_starts_.begin());
    }
    std::uint32_t col_of(std::size_t off) const { return std::uint32_t(off - line_starts_[line_of(off) - 1] + 1); }

    [[noreturn]] void fail_at(std::size_t off, std::string_view what) const {
        fail(errc::format, "jinja: line {}, column {}: {}", line_of(off), col_of(off), what);
    }

    std::size_t next_tag(std::size_t pos) const {
        for (std::size_t i = src_.find('{', pos); i != std::string::npos; i = src_.find('{', i + 1))
            if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
        return std::string::npos;
    }

    void push_text(std::string txt, std::size_t off) {
        if (txt.empty()) return;
        out_.push_back({tok::text, std::move(txt), line_of(off), col_of(off)});
    }

    // Past a tag's end at p: '-' before it strips the whitespace that follows, trim_blocks drops one newline.
    std::size_t after_tag(std::size_t p, char sign, bool block) const {
        if (sign == '-') {
            while (p < src_.size() && is_space(src_[p])) ++p;
        } else if (block && sign != '+' && o_.trim_blocks && p < src_.size() && src_[p] == '\n') {
            ++p;
        }
        return p;
    }

    // {% raw %}...{% endraw %}: the text between is output as it is.
    std::size_t raw(std::size_t pos, std::size_t tag) {
        out_.resize(out_.size() - 3);  // block_begin, raw, block_end
        for (std::size_t i = src_.find("{%", pos); i != std::string::npos; i = src_.find("{%", i + 2)) {
            std::size_t p = i + 2;
            const char sign = p < src_.size() ? src_[p] : '\0';
            if (sign == '-' || sign == '+') ++p;
            while (p < src_.size() && is_space(src_[p])) ++p;
            if (src_.compare(p, 6, "endraw") != 0) continue;
            p += 6;
            while (p < src_.size() && is_space(src_[p])) ++p;
            char end_sign = '\0';
            if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) end_sign = src_[p++];
            if (src_.compare(p, 2, "%}") != 0) continue;
            std::string txt = src_.substr(pos, i - pos);
            if (sign == '-') rstrip(txt);
            push_text(std::move(txt), pos);
            return after_tag(p + 2, end_sign, true);
        }
        fail_at(tag, "a {% raw %} block opened here has no {% endraw %}");
    }

    // Tokens of one tag's expression, from p up to its closing delimiter; returns the offset past it.
    std::size_t lex_expr(std::size_t p, std::size_t tag, std::string_view close, char& sign) {
        const bool var = close == "}}";
        while (true) {
            while (p < src_.size() && is_space(src_[p])) ++p;
            if (p >= src_.size())
                fail_at(tag, var ? "an expression opened here with '{{' is never closed with '}}'"
                                 : "a tag opened here with '{%' is never closed with '%}'");
            if ((src_[p] == '-' || src_[p] == '+') && src_.compare(p + 1, 2, close) == 0 && (!var || src_[p] == '-')) {
                out_.push_back({var ? tok::var_end : tok::block_end, std::string(close), line_of(p), col_of(p)});
                sign = src_[p];
                return p + 3;
            }
            if (src_.compare(p, 2, close) == 0) {
                out_.push_back({var ? tok::var_end : tok::block_end, std::string(close), line_of(p), col_of(p)});
                return p + 2;
            }
            p = lex_token(p);
        }
    }

    std::size_t lex_token(std::size_t p) {
        const std::size_t b = p;
        const char c = src_[p];
        auto push = [&](tok k, std::string s) { out_.push_back({k, std::move(s), line_of(b), col_of(b)}); };
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            while (p < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[p])) || src_[p] == '_')) ++p;
            push(tok::name, src_.substr(b, p - b));
            return p;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) {
            bool fl = false;
            while (p < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[p])) || src_[p] == '_')) ++p;
            if (p + 1 < src_.size() && src_[p] == '.' && std::isdigit(static_cast<unsigned char>(src_[p + 1]))) {
                fl = true;
                ++p;
                while (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) ++p;
            }
            if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
                std::size_t q = p + 1;
                if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
                if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
                    fl = true;
                    p = q;
                    while (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) ++p;
                }
            }
            std::string num;
            for (std::size_t i = b; i < p; ++i)
                if (src_[i] != '_') num += src_[i];
            push(fl ? tok::floating : tok::integer, std::move(num));
            return p;
        }
        if (c == '\'' || c == '"') return lex_string(p);
        static constexpr std::string_view two[] = {"//", "**", "==", "!=", "<=", ">="};
        for (auto op : two)
            if (src_.compare(p, 2, op) == 0) {
                push(tok::op, std::string(op));
                return p + 2;
            }
        if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) != std::string_view::npos) {
            push(tok::op, std::string(1, c));
            return p + 1;
        }
        fail_at(p, fmt::format("unexpected character '{}' in an expression", c));
    }

    std::size_t lex_string(std::size_t p) {
        const std::size_t b = p;
        const char q = src_[p++];
        std::string s;
        while (true) {
            if (p >= src_.size()) fail_at(b, "a string literal opened here is never closed");
            const char c = src_[p++];
            if (c == q) break;
            if (c != '\\' || p >= src_.size()) {
                s += c;
                continue;
            }
            const char e = src_[p++];
            switch (e) {
                case 'n': s += '\n'; break;
                case 't': s += '\t'; break;
                case 'r': s += '\r'; break;
                case '0': s += '\0'; break;
                case 'a': s += '\a'; break;
                case 'b': s += '\b'; break;
                case 'f': s += '\f'; break;
                case 'v': s += '\v'; break;
                case '\\': s += '\\'; break;
                case '\'': s += '\''; break;
                case '"': s += '"'; break;
                case '\n': break;
                case 'x':
                case 'u':
                case 'U': {
                    const std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    std::uint32_t cp = 0;
                    bool ok = p + n <= src_.size();
                    for (std::size_t i = 0; ok && i < n; ++i) {
                        const char h = src_[p + i];
                        cp <<= 4;
                        if (h >= '0' && h <= '9') cp |= std::uint32_t(h - '0');
                        else if (h >= 'a' && h <= 'f') cp |= std::uint32_t(h - 'a' + 10);
                        else if (h >= 'A' && h <= 'F') cp |= std::uint32_t(h - 'A' + 10);
                        else ok = false;
                    }
                    if (!ok || cp > 0x10FFFF) fail_at(p - 2, "a malformed \\x, \\u or \\U escape in a string literal");
                    p += n;
                    json_reader::put_utf8(s, cp);
                    break;
                }
                default:
                    s += '\\';
                    s += e;
            }
        }
        out_.push_back({tok::string, std::move(s), line_of(b), col_of(b)});
        return p;
    }
};

}  // namespace detail
}  // namespace jinja
LLMT_END_NAMESPACE
