// jinja: a bounded Jinja2 interpreter for chat templates (parse once, render with a context of values)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/runtime/jinja/filters.hpp>
#include <llmt/runtime/jinja/interpreter.hpp>
#include <llmt/runtime/jinja/lexer.hpp>
#include <llmt/runtime/jinja/parser.hpp>
#include <llmt/runtime/jinja/value.hpp>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

LLMT_BEGIN_NAMESPACE
namespace jinja {

/// A parsed template. Covers what chat templates use (jinja2 with Hugging Face's settings:
/// trim_blocks, lstrip_blocks, loopcontrols, a tojson that keeps key order and non-ASCII text).
/// Globals: range, namespace, dict, raise_exception(msg) and strftime_now(fmt). Undefined values
/// behave as jinja2's default Undefined: they print as nothing and are false, but reading an
/// attribute or item of one is an error. Every error (syntax, unknown tag, unbalanced block, a
/// limit reached, raise_exception) is an llmt::error whose message names the line.
class program {
public:
    /// Parses src; a syntax error is llmt::error(errc::format) naming its line and column.
    static program parse(std::string_view src, const syntax_options& o = {}) {
        detail::lexer lx(src, o);
        detail::parser p(lx.run(), o);
        program r;
        r.body_ = std::make_shared<const body>(p.parse_template());
        return r;
    }

    /// Renders with the variables of `context` (the globals are added unless it defines them).
    /// The result keeps the byte ranges that came from literal strings of the context (text).
    [[nodiscard]] text render(const object& context, const render_options& o = {}) const {
        LLMT_CHECK_CODE(body_ != nullptr, errc::invalid_argument, "jinja: render of a template that was never parsed");
        detail::interpreter in(o);
        object ctx = globals(o);
        for (const auto& [k, v] : context.items) ctx.set(k, v);
        return in.run(*body_, ctx);
    }

private:
    std::shared_ptr<const body> body_;

    static object globals(const render_options& o) {
        object g;
        const std::size_t max_items = o.lim.max_items;
        g.set("range", value(function([max_items](call_args& a) {
                  std::int64_t start = 0, stop = 0, step = 1;
                  auto num = [](const value& v) {
                      LLMT_CHECK_CODE(v.is_int(), errc::invalid_argument, "jinja: range() needs integers, not a {}", v.type_name());
                      return v.get_int();
                  };
                  if (a.pos.size() == 1) stop = num(a.pos[0]);
                  else if (a.pos.size() >= 2) {
                      start = num(a.pos[0]);
                      stop = num(a.pos[1]);
                      if (a.pos.size() >= 3) step = num(a.pos[2]);
                  }
                  LLMT_CHECK_CODE(step != 0, errc::invalid_argument, "jinja: range() step must not be zero");
                  const long double n = step > 0 ? (stop > start ? ((long double)stop - start + step - 1) / step : 0)
                                                  : (stop < start ? ((long double)start - stop - step - 1) / -step : 0);
                  LLMT_CHECK_CODE(n <= (long double)max_items, errc::runtime,
                                  "jinja: range() of {} items exceeds the limit of {} items", (double)n, max_items);
                  array r;
                  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) r.push_back(i);
                  return value(std::move(r));
              })));
        auto make_dict = [](call_args& a) {
            object ns;
            for (const auto& p : a.pos)
                if (p.is_object())
                    for (const auto& [k, v] : p.get_object().items) ns.set(k, v);
            for (const auto& [k, v] : a.kw) ns.set(k, v);
            return value(std::move(ns));
        };
        g.set("namespace", value(function(make_dict)));
        g.set("dict", value(function(make_dict)));
        g.set("raise_exception", value(function([](call_args& a) -> value {
                  fail(errc::invalid_argument, "the template raised an exception: {}", to_text(a.get(0, "message")).s);
              })));
        const std::tm now = o.now;
        g.set("strftime_now", value(function([now](call_args& a) {
                  const value f = a.get(0, "format");
                  LLMT_CHECK_CODE(f.is_string() && f.str().size() < 256, errc::invalid_argument,
                                  "jinja: strftime_now() needs a format string of under 256 bytes");
                  char buf[1024];
                  const std::size_t n = std::strftime(buf, sizeof buf, f.str().c_str(), &now);
                  return value(std::string(buf, n));
              })));
        return g;
    }
};

/// Parses and renders in one call.
inline text render(std::string_view src, const object& context, const render_options& o = {}) {
    return program::parse(src).render(context, o);
}

}  // namespace jinja
LLMT_END_NAMESPACE
