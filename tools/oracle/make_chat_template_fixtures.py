#!/usr/bin/env python3
"""Writes tests/fixtures/chat_templates.jsonl: chat templates rendered by
transformers (apply_chat_template / render_jinja_template: Jinja2's sandbox with
trim_blocks, lstrip_blocks, loop controls and transformers' tojson,
raise_exception and namespace). The C++ tests (tests/tokenizer/jinja_test.cpp)
render the same templates and conversations and compare byte for byte.

- "dir" cases: a real tokenizer directory from ../shared/tokenizers (the test
  reads the template from there; it is not copied here), rendered through
  AutoTokenizer.apply_chat_template, so the special tokens are the directory's.
- "template" cases: hand-written templates (in this file) that exercise the
  Jinja features chat templates use, rendered by render_jinja_template with the
  special tokens given.

Regenerate (from the repository root):

    python3 tools/oracle/make_chat_template_fixtures.py [SHARED_DIR]
"""
import json
import os
import subprocess
import sys

try:
    import transformers  # noqa: F401
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "transformers", "jinja2"])
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ALIGNERS_SHARED", os.path.join(ROOT, "..", "shared"))
OUT = os.path.join(ROOT, "tests", "fixtures", "chat_templates.jsonl")

CONVERSATIONS = {
    "user": [{"role": "user", "content": "What is the capital of France?"}],
    "system_user": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "  Hello   there \n"},
    ],
    "multi_turn": [
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello. How can I help?"},
        {"role": "user", "content": "Tell me a joke about {{ braces }} and {% tags %}."},
    ],
    "unicode": [
        {"role": "user", "content": "Ünïcødé — 日本語 \u2028 emoji 😀 \"quotes\" 'single' \\ back"},
    ],
    "thinking": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
        {"role": "user", "content": "3+3?"},
    ],
    "tool_turns": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "{\"temp\": 21.5}"},
    ],
}

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                           "parameters": {"type": "object",
                                                          "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]

# Hand-written templates in the styles of real models' templates, plus one that
# exercises the rest of the Jinja features.
TEMPLATES = {
    # SmolLM2's: a default system message when the conversation has none.
    "chatml_default_system": (
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
        "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    ),
    # Mistral-style [INST] with alternation checks.
    "mistral_inst": (
        "{{ bos_token }}{% for message in messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
        "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
    ),
    # Gemma-style: model role, trim filter, no system role.
    "gemma_turns": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
        "{% endif %}{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}"
        "{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + "
        "message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}"
        "{{'<start_of_turn>model\n'}}{% endif %}"
    ),
    # Multi-line template with indentation: lstrip_blocks / trim_blocks / '-' control.
    "indented_blocks": """{%- set sys = namespace(text='', found=false) %}
{%- for m in messages %}
    {%- if m.role == 'system' %}
        {%- set sys.text = m.content %}
        {%- set sys.found = true %}
    {%- endif %}
{%- endfor %}
<|system|>
{% if sys.found %}
    {{ sys.text | trim }}
{% else %}
    You are a helpful assistant.
{% endif %}
{# a comment line #}
{% for m in messages if m.role != 'system' %}
  <|{{ m.role }}|>
  {{ m.content }}
{% endfor %}
{% if add_generation_prompt %}
<|assistant|>
{% endif %}
""",
    # Everything else templates reach for.
    "stress": r"""{% macro fmt(x, width=3, sep='|') -%}
[{{ x | string | upper }}{{ sep * width }}]
{%- endmacro %}
{%- set ns = namespace(count=0, last='') -%}
{%- for m in messages[::-1] -%}{% set ns.count = ns.count + 1 %}{% set ns.last = m.role %}{%- endfor -%}
count={{ ns.count }} last={{ ns.last }} len={{ messages | length }}
{{ fmt('a') }} {{ fmt(1.5, width=1) }} {{ fmt(none, 2, '-') }}
{% for m in messages -%}
{{ loop.index }}/{{ loop.length }} {{ loop.revindex0 }} {{ 'first' if loop.first else 'not-first' }} {{ m.role | title }}: {{ m.content[:12] | replace('\n', '\\n') }}|{{ m.content.split()[-1] if m.content.split() else '-' }}
{% if m.content is string and m.content.startswith(('W', 'H', 'T')) %}starts-upper {% endif %}
{%- if 'tool_calls' in m %}calls={{ m.tool_calls | map(attribute='function') | map(attribute='name') | join(',') }} args={{ m.tool_calls[0].function.arguments | tojson }}{% endif %}
{%- if loop.index0 is divisibleby 2 %} even{% else %} odd{% endif %}
{% else %}
no messages
{%- endfor %}
users={{ messages | selectattr('role', 'equalto', 'user') | list | length }} others={{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join('+') }}
nums: {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e-5 }} {{ 3.0 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}
values: {{ none }} {{ true }} {{ [1, 'a', none, 2.5] }} {{ {'k': 'v', 'n': [1]} }} {{ undefined_thing }}|{{ undefined_thing | default('dflt') }}|{{ '' | default('empty', true) }}
strings: {{ '  pad  ' | trim }}|{{ 'xxhixx'.strip('x') }}|{{ '\n\nlead'.lstrip('\n') }}|{{ 'a,b,,c'.split(',') }}|{{ 'one two  three'.split(None, 1) }}|{{ 'Hello' ~ 42 ~ none }}|{{ 'abc'[::-1] }}|{{ 'abc'[-1] }}|{{ 'héllo'[1:3] }}
{{ 'tool' in 'toolbox' }} {{ 'x' not in ['a', 'b'] }} {{ 'k' in {'k': 1} }} {{ [1, 2] + [3] }} {{ 'ab' * 3 }}
{% set joined %}{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}{% endset %}joined={{ joined }}
{%- for k, v in {'b': 1, 'a': 2}.items() %} {{ k }}={{ v }}{% endfor %}
{{ {'z': [1, {'y': 'ü'}], 'a': none} | tojson(indent=2) }}
{{ {'z': 1, 'a': [true, false]} | tojson(sort_keys=true) }} {{ 'ü' | tojson(ensure_ascii=true) }} {{ 'ü' | tojson }}
{{ messages | map(attribute='role') | unique | list }} {{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }} {{ [1, 2, 3] | reverse | list }} {{ '42' | int + 1 }} {{ 'x' | int }}
{%- raw %} {{ not rendered }} {% endraw %}
{% if tools is not none %}tools: {% for t in tools %}{{ t.function.name }}{{ ', ' if not loop.last }}{% endfor %}{% endif %}
{{- '\nEND' -}}
""",
}

CASES = []


def add_dir_cases():
    for name in ["qwen3", "llama3"]:
        tok = AutoTokenizer.from_pretrained(os.path.join(SHARED, "tokenizers", name))
        for conv_name, conv in CONVERSATIONS.items():
            for gen in (True, False):
                kwargs = {}
                if conv_name == "tool_turns" and name == "qwen3":
                    kwargs["tools"] = TOOLS
                try:
                    out = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=gen, **kwargs)
                    CASES.append({"dir": name, "conversation": conv_name, "add_generation_prompt": gen,
                                  "tools": "tools" in kwargs, "expected": out})
                except Exception as e:  # the template refuses the conversation: the C++ side must too
                    CASES.append({"dir": name, "conversation": conv_name, "add_generation_prompt": gen,
                                  "tools": "tools" in kwargs, "error": str(e)})
        # thinking switched off (Qwen3's enable_thinking=False)
        if name == "qwen3":
            out = tok.apply_chat_template(CONVERSATIONS["user"], tokenize=False, add_generation_prompt=True,
                                          enable_thinking=False)
            CASES.append({"dir": name, "conversation": "user", "add_generation_prompt": True, "tools": False,
                          "extra": {"enable_thinking": False}, "expected": out})


def add_template_cases():
    special = {"bos_token": "<s>", "eos_token": "</s>"}
    for tname, template in TEMPLATES.items():
        for conv_name, conv in CONVERSATIONS.items():
            for gen in (True, False):
                tools = TOOLS if conv_name == "tool_turns" else None
                case = {"template_name": tname, "template": template, "conversation": conv_name,
                        "add_generation_prompt": gen, "tools": tools is not None, "special_tokens": special}
                try:
                    out = render_jinja_template(conversations=[conv], tools=tools, chat_template=template,
                                                add_generation_prompt=gen, **special)
                    if isinstance(out, tuple):
                        out = out[0]
                    if isinstance(out, list):
                        out = out[0]
                    case["expected"] = out
                except Exception as e:
                    case["error"] = str(e)
                CASES.append(case)


add_dir_cases()
add_template_cases()
with open(OUT, "w", encoding="utf-8") as f:
    f.write(json.dumps({"conversations": CONVERSATIONS, "tools": TOOLS}, ensure_ascii=False) + "\n")
    for c in CASES:
        f.write(json.dumps(c, ensure_ascii=False) + "\n")
print(f"wrote {len(CASES)} cases to {OUT}")
print("errors:", sum(1 for c in CASES if "error" in c))
