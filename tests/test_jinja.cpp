// test_jinja: the Jinja interpreter: each construct, whitespace control, errors naming the line, limits, garbage input, real chat templates against jinja2 / llama.cpp renders
#include <llmt/runtime/jinja.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace jinja = llmt::jinja;

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    REQUIRE_MESSAGE(f.good(), "cannot open " << path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string templates_dir() { return std::string(LLMT_TEST_DATA_DIR) + "/templates/"; }

// Renders src with the variables of a JSON object.
std::string render(std::string_view src, std::string_view ctx_json = "{}", const jinja::render_options& o = {}) {
    return jinja::program::parse(src).render(jinja::from_json(ctx_json).get_object(), o).s;
}

std::string error_of(std::string_view src, std::string_view ctx_json = "{}", const jinja::render_options& o = {}) {
    try {
        render(src, ctx_json, o);
    } catch (const llmt::error& e) {
        return e.what();
    }
    return "(no error)";
}

struct construct_case {
    const char* src;
    const char* ctx;
    const char* expected;
};

}  // namespace

TEST_CASE("jinja: expressions, statements, filters and tests render as jinja2 does") {
    // Expected strings are jinja2 3.1's output with trim_blocks and lstrip_blocks.
    const construct_case cases[] = {
        {"Hello {{ name }}!", R"({"name":"World"})", "Hello World!"},
        {"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }}",
         "{}", "7 9 3 -4 1 2 3.5 1024"},
        {"{{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 1.0 }} {{ 1e20 }} {{ 0.1 + 0.2 }}", "{}",
         "a1None ababab [1, 2] 1.0 1e+20 0.30000000000000004"},
        {"{{ true and 'x' }} {{ false or 'y' }} {{ not 0 }} {{ 1 < 2 }} {{ 'b' > 'a' }} {{ 1 == 1.0 }} {{ 1 != 2 }}", "{}",
         "x y True True True True True"},
        {"{{ 'x' if c else 'y' }} {{ 'x' if not c else 'y' }}[{{ 'z' if c }}]", R"({"c":false})", "y x[]"},
        {"{{ 'ell' in 'hello' }} {{ 2 in [1,2] }} {{ 'k' in {'k':1} }} {{ 3 not in [1] }}", "{}", "True True True True"},
        {"{{ s[1:3] }} {{ s[::-1] }} {{ s[-2:] }} {{ l[1:] }} {{ l[::2] }} {{ l[-1] }} {{ l[5] }}",
         R"({"s":"hello","l":[1,2,3,4]})", "el olleh lo [2, 3, 4] [1, 3] 4 "},
        {"{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }},{% endfor %}",
         R"({"l":["a","b"]})", "10TrueFalse22,21FalseTrue21,"},
        {"{% for x in l if x > 1 %}{{ x }}{{ loop.length }}{% else %}empty{% endfor %}|{% for x in [] %}x{% else %}none{% endfor %}",
         R"({"l":[1,2,3]})", "2232|none"},
        {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
         R"({"d":{"b":1,"a":2}})", "b=1;a=2;ba"},
        {"{% for x in l %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
         R"({"l":[1,2,3,4,5]})", "13"},
        {"{% if a %}A{% elif b %}B{% else %}C{% endif %}{% if not a and not b %}!{% endif %}", R"({"a":0,"b":1})", "B"},
        {"{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "{}", "1"},
        {"{% set ns = namespace(x=1, found=false) %}{% for i in [1,2] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}",
         "{}", "4"},
        {"{% set a, b = [1, 2] %}{{ b }}{{ a }}", "{}", "21"},
        {"{% set blk %}in {{ 1 }}{% endset %}[{{ blk }}]", "{}", "[in 1]"},
        {"{% macro m(a, b='d', c=none) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 2) }} {{ m(1, c=3) }}", "{}",
         "1dNone 12None 1d3"},
        {"{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}inside{% endcall %}", "{}", "<inside>"},
        {"{% filter upper %}abc{% endfilter %}", "{}", "ABC"},
        {"{# a comment #}x{#- trimmed -#}  y", "{}", "xy"},
        {"{{ '  a b  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}",
         "{}", "a b|ABC|abc|Hello World|Hello"},
        {"{{ l | length }} {{ l | count }} {{ 'héllo' | length }} {{ l | first }} {{ l | last }} {{ l | join(', ') }} {{ l | reverse | list }}",
         R"({"l":[3,1,2]})", "3 3 5 3 2 3, 1, 2 [2, 1, 3]"},
        {"{{ u | default('dflt') }} {{ '' | default('e', true) }} {{ u | d('x') }} {{ 0 | string }} {{ '42' | int + 1 }} {{ 'x' | int }}",
         "{}", "dflt e x 0 43 0"},
        {"{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}|"
         "{{ ms | rejectattr('role', 'equalto', 'user') | list | length }}|{{ ms | selectattr('tool') | list | length }}|"
         "{{ ms | selectattr('x', 'defined') | list | length }}",
         R"({"ms":[{"role":"user","content":"a"},{"role":"assistant","content":"b","tool":1},{"role":"user","content":"c"}]})",
         "a,c|1|1|0"},
        {"{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\n' | tojson }}|{{ [] | tojson }}",
         R"({"d":{"b":[1,2.5,null],"a":true}})",
         "{\"b\": [1, 2.5, null], \"a\": true}|{\n  \"b\": [\n    1,\n    2.5,\n    null\n  ],\n  \"a\": true\n}|\"é\\\"\\n\"|[]"},
        {"{{ d | dictsort }} {{ d | items | list }} {{ 'a<b' | escape }} {{ 'x' | safe }} {{ 'a-b' | replace('-', '+') }}",
         R"({"d":{"b":1,"A":2}})", "[['A', 2], ['b', 1]] [['b', 1], ['A', 2]] a&lt;b x a+b"},
        {"{{ x is defined }} {{ u is undefined }} {{ n is none }} {{ s is string }} {{ d is mapping }} {{ l is iterable }} "
         "{{ l is sequence }} {{ 1 is number }} {{ true is boolean }} {{ 2 is equalto 2 }} {{ 2 is in [1, 2] }} {{ s is not string }}",
         R"({"x":1,"n":null,"s":"t","d":{},"l":[]})", "True True True True True True True True True True True False"},
        {"{{ s.startswith('he') }} {{ s.endswith(('x', 'lo')) }} {{ '  a '.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'a\n'.rstrip() }}|"
         "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ s.upper() }} {{ s.replace('l', 'L') }} {{ s.find('l') }} {{ s.title() }}",
         R"({"s":"hello"})", "True True a|axx|a|['a', 'b', '', 'c'] ['a', 'b'] HELLO heLLo 2 Hello"},
        {"{{ d.get('a') }} {{ d.get('z', 'no') }} {{ d.get('z') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d['a'] }} {{ d.a }}",
         R"({"d":{"a":1}})", "1 no None ['a'] [1] 1 1"},
        {"{% set l = [] %}{% do l.append(1) %}{{ l.append(2) }}{{ l }}", "{}", "None[1, 2]"},
        {"{{ '%s-%d' | format('a', 3) }} {{ '{}+{}'.format(1, 'b') }} {{ range(3) | list }} {{ range(1, 7, 2) | list }}", "{}",
         "a-3 1+b [0, 1, 2] [1, 3, 5]"},
        {"{{ strftime_now('%Y-%m-%d %d %b %Y') }}", "{}", "2024-07-26 26 Jul 2024"},
        {"{% generation %}kept{% endgeneration %} {% raw %}{{ not parsed }}{% endraw %}", "{}", "kept {{ not parsed }}"},
        {"{{ [1, 2] }} {{ {'a': 'b'} }} {{ none }} {{ true }} {{ \"it's\" }} {{ ('t', 1) }}", "{}",
         "[1, 2] {'a': 'b'} None True it's ['t', 1]"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.src);
        CHECK(render(c.src, c.ctx) == c.expected);
    }
}

TEST_CASE("jinja: whitespace control as Hugging Face sets it (trim_blocks, lstrip_blocks, '-' and '+')") {
    // Expected strings are jinja2's with trim_blocks=True, lstrip_blocks=True.
    CHECK(render("{% if true %}\nyes\n{% endif %}\nafter") == "yes\nafter");
    CHECK(render("  {% if true %}\n  x\n  {% endif %}\n") == "  x\n");
    CHECK(render("a  {% if true %}b{% endif %}") == "a  b");              // not alone on its line: kept
    CHECK(render("a\n    {%- if true -%}\n   b\n{%- endif %}") == "ab");
    CHECK(render("{{ 'x' }}\n{{ 'y' }}\n") == "x\ny");                    // one trailing newline dropped
    CHECK(render("a {{- ' b ' -}} c") == "a b c");
    CHECK(render("  {%+ if true %}x{% endif %}") == "  x");
    CHECK(render("{% if true +%}\nx{% endif %}") == "\nx");
    CHECK(render("{# c #}\nx") == "x");
    CHECK(render("a\r\nb{% if true %}\r\nc{% endif %}") == "a\nbc");       // newlines normalized as jinja2 does
    jinja::syntax_options raw;
    raw.trim_blocks = false;
    raw.lstrip_blocks = false;
    raw.keep_trailing_newline = true;
    CHECK(jinja::program::parse("  {% if true %}\nx\n{% endif %}\n", raw).render({}).s == "  \nx\n\n");
}

TEST_CASE("jinja: undefined values behave as jinja2's default Undefined") {
    CHECK(render("[{{ u }}][{{ u | length }}][{% for x in u %}x{% endfor %}][{{ u is defined }}][{% if u %}t{% endif %}]") ==
          "[][0][][False][]");
    CHECK(render("{{ d.missing }}|{{ d.missing is defined }}|{{ n.attr }}", R"({"d":{},"n":null})") == "|False|");
    CHECK(error_of("{{ u.attr }}").find("'u' is undefined") != std::string::npos);
    CHECK(error_of("{{ d.x.y }}", R"({"d":{}})").find("'x' is undefined") != std::string::npos);
    CHECK(error_of("{{ u + 1 }}").find("'u' is undefined") != std::string::npos);
    CHECK(error_of("{{ u() }}").find("'u' is undefined") != std::string::npos);
}

TEST_CASE("jinja: broken templates are errors naming the line and what is wrong") {
    struct bad {
        const char* src;
        const char* says;
    };
    const bad cases[] = {
        {"line1\n{% if x %}\nno end", "line 3, column 7: the block opened at line 2 is never closed (expected {% endif %})"},
        {"a\nb {{ 1 + }}", "line 2, column 10: expected an expression, found '}}'"},
        {"{% foo %}", "line 1, column 4: unknown tag 'foo'"},
        {"x\n\n{% endfor %}", "line 3, column 4: 'endfor' has no open block"},
        {"{% for x in l %}{% endif %}", "'endif' has no open block"},
        {"{{ 'abc }}", "string literal opened here is never closed"},
        {"{{ x ", "is never closed with '}}'"},
        {"{% if x", "never closed with '%}'"},
        {"{# open", "comment opened here is never closed"},
        {"{{ x $ y }}", "unexpected character '$'"},
        {"{% set %}", "expected a variable name after 'set'"},
        {"{% for in l %}{% endfor %}", "line 1, column 11: expected 'in', found 'l'"},
        {"{% for %}{% endfor %}", "expected a loop variable name"},
        {"{{ 99999999999999999999 }}", "out of range"},
        {"{{ x.99999999999999999999 }}", "the index 99999999999999999999 is out of range"},  // found by fuzz_chat_template
        {"{% raw %} never ends", "has no {% endraw %}"},
        {"{% macro m( %}{% endmacro %}", "expected a parameter name"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.src);
        const std::string e = error_of(c.src);
        CHECK_MESSAGE(e.find(c.says) != std::string::npos, e);
        CHECK(e.rfind("jinja: line ", 0) == 0);
    }
    // Errors at render time name the line too.
    CHECK(error_of("a\n\n{{ raise_exception('Conversation roles must alternate') }}") ==
          "jinja: line 3: the template raised an exception: Conversation roles must alternate");
    CHECK(error_of("\n{{ 1 / 0 }}") == "jinja: line 2: division by zero");
    CHECK(error_of("{{ 'a' + 1 }}").find("unsupported operand types for +: string and int") != std::string::npos);
    CHECK(error_of("{{ x | nosuchfilter }}").find("line 1: unknown filter 'nosuchfilter'") != std::string::npos);
    CHECK(error_of("{{ x is nosuchtest }}").find("unknown test 'nosuchtest'") != std::string::npos);
    CHECK(error_of("\n\n{% for x in 3 %}{% endfor %}").find("line 3: cannot loop over a value of type int") != std::string::npos);
    CHECK(error_of("{% set a, b = [1] %}").find("cannot unpack 1 values into 2 names") != std::string::npos);
    CHECK(error_of("{{ d | tojson }}", R"({"d":{"f":1}})") == "(no error)");
    CHECK_NOTHROW((void)render("{{ l | map(attribute='99999999999999999999') | first }}", R"({"l":[[1]]})"));
    CHECK(error_of("{{ range | tojson }}").find("not JSON serializable") != std::string::npos);
    // Only llmt::error escapes, with the code that says what kind of failure it is.
    try {
        render("{% if %}");
        FAIL("no error");
    } catch (const llmt::error& e) {
        CHECK(e.code() == llmt::errc::format);
    }
}

TEST_CASE("jinja: limits: deep nesting, recursion, long loops and huge output stop with an error") {
    // 100000 '(' neither overflows the stack in the parser nor in the evaluator.
    CHECK(error_of("{{" + std::string(100000, '(') + "1" + std::string(100000, ')') + "}}").find("nests deeper than") !=
          std::string::npos);
    std::string chain = "{{ 1";
    for (int i = 0; i < 100000; ++i) chain += " + 1";
    CHECK(error_of(chain + " }}").find("nests deeper than") != std::string::npos);
    std::string nots = "{{ ";
    for (int i = 0; i < 100000; ++i) nots += "not ";
    CHECK(error_of(nots + "1 }}").find("nests deeper than") != std::string::npos);
    std::string ifs;
    for (int i = 0; i < 10000; ++i) ifs += "{% if true %}";
    CHECK(error_of(ifs).find("nests deeper than") != std::string::npos);
    std::string brackets = "{{ x";
    for (int i = 0; i < 100000; ++i) brackets += "[0]";
    CHECK(error_of(brackets + " }}").find("nests deeper than") != std::string::npos);
    // Unbounded macro recursion.
    CHECK(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("unbounded recursion") != std::string::npos);
    // A huge loop stops at the step limit, quickly.
    jinja::render_options small;
    small.lim.max_steps = 100000;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(error_of("{% for i in range(30000) %}{% for j in range(30000) %}{% endfor %}{% endfor %}", "{}", small)
              .find("more than 100000 steps") != std::string::npos);
    CHECK(error_of("{% for i in range(1000000) %}{% endfor %}", "{}", small).find("more than 100000 steps") !=
          std::string::npos);  // the list range() makes counts too
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    // Output and strings are bounded.
    jinja::render_options tiny;
    tiny.lim.max_output = 1000;
    CHECK(error_of("{% for i in range(200) %}0123456789{% endfor %}", "{}", tiny).find("exceeds the limit of 1000 bytes") !=
          std::string::npos);
    CHECK(error_of("{{ 'x' * 100000000000 }}", "{}", tiny).find("exceeds the limit") != std::string::npos);
    CHECK(error_of("{% set ns = namespace(s='xx') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "{}",
                   tiny)
              .find("exceeds the limit") != std::string::npos);
    CHECK(error_of("{{ range(100000000000) }}").find("exceeds the limit") != std::string::npos);
    CHECK(error_of("{{ [0] * 100000000000 }}").find("exceeds the limit") != std::string::npos);
    CHECK(error_of("{{ 2 ** 100 }}").find("integer overflow") != std::string::npos);
    jinja::syntax_options so;
    so.max_source = 10;
    CHECK_THROWS_AS(jinja::program::parse("01234567890", so), llmt::error);
}

TEST_CASE("jinja: literal strings of the context keep their byte ranges through the render") {
    jinja::object ctx;
    ctx.set("c", jinja::value::literal("  <|im_end|>x  "));
    ctx.set("p", jinja::value("plain"));
    const auto r = jinja::program::parse("<|im_start|>{{ p }}:{{ c | trim }}|{{ c[2:5] ~ '!' }}|{{ c.split('|')[1] }}<|im_end|>")
                       .render(ctx);
    REQUIRE(r.s == "<|im_start|>plain:<|im_end|>x|<|i!|im_end<|im_end|>");
    const std::vector<std::pair<std::size_t, std::size_t>> want{{18, 29}, {30, 33}, {35, 41}};
    CHECK(r.lit == want);
    // Text the template makes from a literal by other means is literal as a whole; template text never is.
    const auto j = jinja::program::parse("{{ d | tojson }}<x>").render([] {
        jinja::object o;
        jinja::object d;
        d.set("k", jinja::value::literal("<s>"));
        o.set("d", jinja::value(std::move(d)));
        return o;
    }());
    CHECK(j.s == "{\"k\": \"<s>\"}<x>");
    CHECK(j.lit == std::vector<std::pair<std::size_t, std::size_t>>{{0, 12}});
}

TEST_CASE("jinja: real chat templates render what jinja2 (Hugging Face settings) and llama.cpp render") {
    const auto refs = jinja::from_json(read_file(templates_dir() + "expected.json"));
    const auto& cases = refs.get_object().find("cases")->get_array();
    REQUIRE(cases.size() >= 50);
    int checked = 0;
    for (const auto& c : cases) {
        const auto& o = c.get_object();
        const std::string name = o.find("template")->str();
        CAPTURE(name);
        CAPTURE(o.find("case")->str());
        const auto prog = jinja::program::parse(read_file(templates_dir() + name));
        jinja::object ctx;
        for (const char* k : {"messages", "add_generation_prompt", "bos_token", "eos_token", "tools"})
            if (const auto* v = o.find(k)) ctx.set(k, *v);
        if (const auto* want = o.find("expected")) {
            CHECK(prog.render(ctx).s == want->str());
        } else {
            std::string err = "(no error)";
            try {
                (void)prog.render(ctx);
            } catch (const llmt::error& e) {
                err = e.what();
            }
            CHECK_MESSAGE(err.find(o.find("error")->str()) != std::string::npos, err);
        }
        ++checked;
    }
    CHECK(checked == int(cases.size()));
}

TEST_CASE("jinja: garbage and mutated templates never crash and stay bounded") {
    std::vector<std::string> seeds;
    for (const char* n : {"qwen2.5-coder-0.5b-instruct.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja", "Qwen-Qwen3-0.6B.jinja"})
        seeds.push_back(read_file(templates_dir() + n));
    const std::string alphabet = "{}%#-+()[]'\".,:|~=<>!*/ \nabcxyzifendforsetinnotisloopmessages0123456789";
    std::mt19937 rng(1234);
    jinja::render_options o;
    o.lim.max_steps = 200000;
    o.lim.max_output = 1 << 20;
    const auto ctx = jinja::from_json(
        R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"assistant","content":"a"}],
            "add_generation_prompt":true,"bos_token":"<s>","eos_token":"</s>",
            "tools":[{"type":"function","function":{"name":"f","parameters":{}}}]})").get_object();
    int rendered = 0, errors = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int iter = 0; iter < 3000; ++iter) {
        std::string src;
        if (iter % 3 == 0) {
            const std::size_t n = rng() % 200;
            for (std::size_t i = 0; i < n; ++i) src += alphabet[rng() % alphabet.size()];
        } else {
            src = seeds[rng() % seeds.size()];
            const int edits = 1 + int(rng() % 4);
            for (int e = 0; e < edits && !src.empty(); ++e) {
                const std::size_t at = rng() % src.size();
                switch (rng() % 3) {
                    case 0: src.erase(at, 1 + rng() % 8); break;
                    case 1: src.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
                    default: src.insert(at, src.substr(rng() % src.size(), rng() % 40));
                }
            }
        }
        try {
            (void)jinja::program::parse(src).render(ctx, o);
            ++rendered;
        } catch (const llmt::error&) {
            ++errors;
        }
    }
    MESSAGE(rendered << " rendered, " << errors << " errors");
    CHECK(rendered > 100);
    CHECK(errors > 100);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120));
}
