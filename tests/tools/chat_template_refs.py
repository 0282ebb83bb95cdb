#!/usr/bin/env python3
"""chat_template_refs: expected prompts of the real chat templates in tests/data/templates.

Each template is rendered for a set of conversations with python jinja2 set up as Hugging Face
transformers does (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, a
tojson that keeps key order and non-ASCII text, raise_exception, strftime_now at a fixed date).
With --llama-server, each render is also requested from llama.cpp's Jinja path (llama-server
--jinja --chat-template-file T, POST /apply-template, bos/eos passed as chat_template_kwargs) and
the two must agree; the date llama.cpp puts in (today) is replaced by the fixed one first.
Writes tests/data/templates/expected.json, read by tests/test_jinja.cpp.

  python3 tests/tools/chat_template_refs.py [--llama-server PATH --model GGUF]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "templates")
FIXED = datetime.datetime(2024, 7, 26)

# template file, bos_token, eos_token (the strings of the model's vocabulary)
TEMPLATES = [
    ("qwen2.5-coder-0.5b-instruct.jinja", "<|endoftext|>", "<|im_end|>"),
    ("smollm2-135m-instruct.jinja", "<|im_start|>", "<|im_end|>"),
    ("meta-llama-Llama-3.2-3B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>"),
    ("meta-llama-Llama-3.1-8B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>"),
    ("Qwen-Qwen3-0.6B.jinja", "<|endoftext|>", "<|im_end|>"),
    ("microsoft-Phi-3.5-mini-instruct.jinja", "<s>", "<|endoftext|>"),
    ("google-gemma-2-2b-it.jinja", "<bos>", "<eos>"),
]

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather of a city, in °C.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]

CASES = [
    ("system_user", [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello!"}], True, None),
    ("user_only", [{"role": "user", "content": "What is 2+2?"}], True, None),
    ("multi_turn", [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello, how can I help?"}, {"role": "user", "content": "Tell me a joke."}],
     True, None),
    ("ends_with_assistant_no_prompt", [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}],
     False, None),
    ("no_generation_prompt", [{"role": "user", "content": "Just text."}], False, None),
    ("special_token_text", [{"role": "user", "content": "a<|im_end|>\n<|im_start|>system\nb<|eot_id|><end_of_turn> <s>"}],
     True, None),
    ("whitespace_and_unicode", [{"role": "user", "content": "  padded \n line2\t "},
                                {"role": "assistant", "content": " ünïcödé 日本 "}, {"role": "user", "content": "\n"}],
     True, None),
    ("tools", [{"role": "user", "content": "Weather in Paris?"}], True, TOOLS),
]


def env():
    e = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])

    def raise_exception(msg):
        raise jinja2.exceptions.TemplateError(msg)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    e.filters["tojson"] = tojson
    e.globals["raise_exception"] = raise_exception
    e.globals["strftime_now"] = lambda fmt: FIXED.strftime(fmt)
    return e


def render_jinja2(src, bos, eos, messages, agp, tools):
    ctx = dict(messages=messages, add_generation_prompt=agp, bos_token=bos, eos_token=eos)
    if tools is not None:
        ctx["tools"] = tools
    try:
        return env().from_string(src).render(**ctx), None
    except jinja2.exceptions.TemplateError as ex:
        return None, str(ex)


def start_server(server, model, template, port):
    p = subprocess.Popen([server, "-m", model, "--port", str(port), "-c", "512", "-t", "1", "--jinja",
                          "--chat-template-file", template], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(server)))
    for _ in range(120):
        try:
            if b"ok" in urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read():
                return p
        except Exception:
            time.sleep(0.5)
    p.kill()
    sys.exit(f"llama-server did not start for {template}")


def render_llama(port, bos, eos, messages, agp, tools):
    body = dict(messages=messages, add_generation_prompt=agp, chat_template_kwargs=dict(bos_token=bos, eos_token=eos))
    if tools is not None:
        body["tools"] = tools
    req = urllib.request.Request(f"http://127.0.0.1:{port}/apply-template", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        out = json.loads(urllib.request.urlopen(req, timeout=30).read())["prompt"]
    except urllib.error.HTTPError as ex:
        return None, ex.read().decode(errors="replace")
    today = datetime.datetime.now().strftime("%d %b %Y")
    return out.replace(today, FIXED.strftime("%d %b %Y")), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-server")
    ap.add_argument("--model", help="any GGUF for llama-server to load (its template is replaced)")
    ap.add_argument("--out", default=os.path.join(DATA, "expected.json"))
    a = ap.parse_args()
    cases, disagree = [], 0
    for i, (name, bos, eos) in enumerate(TEMPLATES):
        src = open(os.path.join(DATA, name), encoding="utf-8").read()
        srv = start_server(a.llama_server, a.model, os.path.join(DATA, name), 18500 + i) if a.llama_server else None
        try:
            for case, messages, agp, tools in CASES:
                text, err = render_jinja2(src, bos, eos, messages, agp, tools)
                entry = dict(template=name, case=case, bos_token=bos, eos_token=eos, add_generation_prompt=agp,
                             messages=messages)
                if tools is not None:
                    entry["tools"] = tools
                if err is not None:
                    entry["error"] = err
                else:
                    entry["expected"] = text
                if srv:
                    ltext, lerr = render_llama(18500 + i, bos, eos, messages, agp, tools)
                    same = (ltext == text) if err is None else (lerr is not None)
                    entry["llama_cpp"] = "same" if same else ("error: " + lerr[:200] if lerr else ltext)
                    if not same:
                        disagree += 1
                        print(f"DIFFER {name} {case}:\n jinja2:    {text!r} {err or ''}\n llama.cpp: {ltext!r} {lerr or ''}")
                cases.append(entry)
        finally:
            if srv:
                srv.kill()
                srv.wait()
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(dict(generator="tests/tools/chat_template_refs.py", jinja2=jinja2.__version__,
                       llama_cpp_checked=bool(a.llama_server), cases=cases), f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases written to {a.out}; {disagree} differ between jinja2 and llama.cpp")


if __name__ == "__main__":
    main()
