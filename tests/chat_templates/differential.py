#!/usr/bin/python3
"""differential.py QWENRUN WORK_DIR: renders each template below with
Python's jinja2, configured as transformers' apply_chat_template configures
it, and with qwenrun --chat-template T --messages V --print-prompt; the two
must give the same bytes, or both fail. The cases are the language's
corners that the nine reference templates do not reach: whitespace control,
scoping, loops, macros, filters, tests, methods, operators and Undefined.

Debian's python3-jinja2 (3.1.2, the version of the reference renders) is
the oracle; the script runs under /usr/bin/python3 so that it is the one used.
"""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

EPOCH = 1768469400  # 2026-01-15 09:30:00 UTC, as the reference renders pin it

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "  Hi, 世界 🐍 \"q\" 'a'\n"},
    {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!"},
    {"role": "user", "content": "Again"},
]
TOOLS = [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {
    "type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": ["string", "null"]}}, "required": ["x"]}}}]

# (name, template, extra variables)
CASES = [
    # whitespace control, trim_blocks and lstrip_blocks
    ("lstrip_trim", "a\n  {% if true %}\n    b\n  {% endif %}\nc\n", {}),
    ("dash_strip", "a  \n {%- if true -%}  \n b \n {%- endif -%} \n c", {}),
    ("plus_keeps", "a\n  {%+ if true %}b{% endif +%}\nc", {}),
    ("var_dash", "x   {{- 1 -}}   y\n{{ 2 }}\n", {}),
    ("comment_ws", "a\n  {# note #}\nb {#- x -#}  c\n", {}),
    ("raw", "{% raw %}{{ not parsed }} {% if %}{% endraw %}!", {}),
    ("trailing_newline", "x\n", {}),
    ("crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("inline_if_lines", "{% for m in messages %}{{ m.role }}\n{% endfor %}", {}),
    # literals and operators
    ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}", {}),
    ("floats", "{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 2.0 }} {{ 10 / 4 }} {{ 1e16 }} {{ 123456789.0 }} {{ 0.0001 }}", {}),
    ("strings", "{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ 'x' 'y' }} {{ \"q'\" }} {{ '\\u00e9\\t|' }}", {}),
    ("compare_chain", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ true == 1 }}", {}),
    ("in_ops", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }}", {}),
    ("bool_ops", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ [] or none }} {{ not '' }} {{ '' and 1 }}", {}),
    ("cond_expr", "{{ 'a' if 0 else 'b' }} {{ 'c' if 1 }}|{{ 'd' if 0 }}|", {}),
    ("concat_types", "{{ 'a' + 1 }}", {}),
    ("list_concat", "{{ [1] + [2, 3] }} {{ (1, 2) + (3,) }} {{ [1, 'a', none, true, 2.5] }} {{ {'a': [1, {'b': none}]} }}", {}),
    ("unary", "{{ -(3) }} {{ +4 }} {{ - 2 ** 2 }} {{ not 1 == 2 }}", {}),
    ("div_zero", "{{ 1 / 0 }}", {}),
    ("repr", "{{ ['it\\'s', \"say \\\"x\\\"\", 'both \\' \"', 'tab\\t', 'é'] }}", {}),
    # variables and scoping
    ("set_scope_loop", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = i %}{{ x }}{% endfor %}{{ x }}", {}),
    ("set_scope_if", "{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}", {}),
    ("namespace_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}", {}),
    ("set_block", "{% set x %}  a{{ 1 }} {% endset %}[{{ x }}]{% set y | upper %}b{% endset %}{{ y }}", {}),
    ("tuple_unpack", "{% set a, b = [1, 2] %}{{ a }}{{ b }}{% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }};{% endfor %}", {}),
    ("shadow_messages", "{% set messages = messages[1:] %}{{ messages|length }}", {}),
    # loops
    ("loop_vars", "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("loop_prev_next", "{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }} {% endfor %}", {}),
    ("loop_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("loop_filter", "{% for m in messages if m.role == 'user' %}{{ loop.index }}/{{ loop.length }}:{{ m.content|trim }};{% endfor %}", {}),
    ("loop_else", "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in undefined_thing %}y{% else %}none{% endfor %}", {}),
    ("break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("reverse_loop", "{% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %} {{ 'abcdef'[1:5:2] }} {{ [1, 2, 3][-2:] }} {{ 'héllo'[::-1] }}", {}),
    ("dict_iter", "{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}", {}),
    ("string_iter", "{% for c in 'hé!' %}[{{ c }}]{% endfor %}", {}),
    ("iterate_none", "{% for x in none %}{% endfor %}", {}),
    # macros and call
    ("macro", "{% macro m(a, b='B', c=none) %}<{{ a }}{{ b }}{{ c }}>{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(1, c=3) }}{{ m(a=0) }}", {}),
    ("macro_varargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("macro_recursion", "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}", {}),
    ("macro_scope", "{% set g = 'G' %}{% macro m() %}{{ g }}{% set g = 'L' %}{{ g }}{% endmacro %}{{ m() }}{{ g }}", {}),
    ("call_block", "{% macro wrap(t) %}[{{ t }}:{{ caller() }}]{% endmacro %}{% call wrap('x') %}inner{% endcall %}", {}),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) each([1, 2]) %}<{{ v }}>{% endcall %}", {}),
    ("filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}", {}),
    # filters
    ("f_text", "{{ '  x y  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'ab'|upper }}{{ 'AB'|lower }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}|{{ 'a-b-c'|replace('-', '+') }}|{{ 'aaa'|replace('a', 'b', 2) }}", {}),
    ("f_length", "{{ messages|length }} {{ 'héllo'|length }} {{ {'a': 1}|count }} {{ undefined_x|length }}", {}),
    ("f_first_last", "{{ messages|first|attr('keys') is defined }} {{ (messages|first).role }} {{ (messages|last).content }} {{ 'abc'|first }}{{ 'abc'|last }} {{ [3, 1]|first }}", {}),
    ("f_join", "{{ [1, 2, 3]|join(', ') }} {{ messages|join('|', attribute='role') }} {{ 'abc'|join('-') }}", {}),
    ("f_default", "{{ nope|default('d') }} {{ ''|default('e') }} {{ ''|default('e', true) }} {{ none|d('n') }} {{ 0|default(5, boolean=true) }}", {}),
    ("f_tojson", "{{ tools|tojson }}\n{{ tools|tojson(indent=2) }}\n{{ {'a': 'é\"\\n', 'b': [1.5, none, true]}|tojson }} {{ 'x'|tojson }} {{ []|tojson(indent=4) }} {{ {}|tojson }}", {"tools": TOOLS}),
    ("f_items", "{% for k, v in {'a': 1, 'b': [2]}|items %}{{ k }}{{ v }}{% endfor %}{{ {'z': 1}.items()|list }} {{ {'a': 1}.keys()|list }} {{ {'a': 1}.values()|list }}", {}),
    ("f_select", "{{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|join(',') }} {{ [1, 0, 2, none]|select|list }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3]|reject('gt', 1)|list }}", {}),
    ("f_map", "{{ ['a', 'b']|map('upper')|join }} {{ messages|map(attribute='role')|unique|list }} {{ [{'a': {'b': 1}}]|map(attribute='a.b')|list }} {{ ['x ', ' y']|map('trim')|list }}", {}),
    ("f_sort", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ messages|sort(attribute='role')|map(attribute='role')|join(',') }}", {}),
    ("f_misc", "{{ [1, 2, 3]|sum }} {{ [1, 2]|max }} {{ [1, 2]|min }} {{ -3|abs }} {{ 3.7|int }} {{ '42'|int }} {{ 'x'|int(7) }} {{ '2.5'|float }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 2.1|round(method='ceil') }} {{ [1, 2]|reverse|list }} {{ 'abc'|reverse }}", {}),
    ("f_indent", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(1, blank=true) }}|{{ 'x\\n'|indent(3) }}", {}),
    ("f_string_list", "{{ 12|string + '!' }} {{ 'ab'|list }} {{ [1, 2]|string }} {{ none|string }}", {}),
    ("f_escape_safe", "{{ '<a href=\"x\">&</a>'|e }} {{ '<b>'|safe + '<i>' }} {{ 'x' ~ '<y>'|safe }} {{ ('<'|e) + '>' }}", {}),
    ("f_format", "{{ '%s-%d-%05.1f%%'|format('a', 3, 2.25) }} {{ '%s and %r' % ('x', 'y') }} {{ 'n=%d' % 5 }}", {}),
    ("f_dictsort", "{{ {'b': 1, 'a': 2, 'C': 0}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value', reverse=true) }}", {}),
    ("f_wordcount_center", "{{ 'one two  three'|wordcount }} [{{ 'ab'|center(6) }}] {{ 'hello world foo'|truncate(9) }}", {}),
    ("unknown_filter", "{{ 'x'|no_such_filter }}", {}),
    ("unknown_test", "{% if x is no_such_test %}{% endif %}", {}),
    # tests
    ("tests_kinds", "{{ x is defined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }} {{ false is false }} {{ 0 is false }} {{ range is callable }} {{ u is undefined }} {{ [] is sequence }}", {"x": 1}),
    ("tests_args", "{{ 4 is divisibleby 2 }} {{ 3 is odd }} {{ 2 is even }} {{ 1 is sameas 1 }} {{ 2 is equalto 2 }} {{ 2 is gt 1 }} {{ 'a' is in 'abc' }} {{ 3 is ne(3) }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ 1 is not none }} {{ 'upper' is filter }} {{ 'odd' is test }}", {}),
    ("defined_attr", "{{ messages[0].nope is defined }} {{ messages[0]['role'] is defined }} {{ messages[9] is defined }} {{ (messages[9] is defined) or 'z' }}", {}),
    # methods
    ("str_methods", "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ 'xhix'.strip('x') }} {{ '\\n a \\n'.lstrip() }}|{{ '\\n a \\n'.rstrip('\\n') }}| {{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abcabc'.count('bc') }} {{ ', '.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'ab'.upper() }} {{ '12'.isdigit() }} {{ 'Ab'.islower() }} {{ 'aXbX'.replace('X', '') }}", {}),
    ("dict_methods", "{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 2) }} {{ messages[0].get('role') }}", {}),
    ("list_mutation_refused", "{% set xs = [1] %}{{ xs.append(2) }}", {}),
    ("dict_attr_method_first", "{{ {'items': 1}.items()|list }} {{ {'items': 1}['items'] }}", {}),
    ("think_split", "{% set c = messages[2].content %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", {}),
    # Undefined
    ("undefined_print", "[{{ nothing }}][{{ nothing|trim }}][{{ messages[0].nothing }}]", {}),
    ("undefined_attr_error", "{{ nothing.attr }}", {}),
    ("undefined_add_error", "{{ nothing + 'x' }}", {}),
    ("undefined_compare", "{{ nothing == nothing }} {{ nothing != 1 }} {{ not nothing }} {{ nothing ~ 'x' }}", {}),
    ("undefined_tojson", "{{ nothing|tojson }}", {}),
    ("missing_key_add", "{{ 'a' + messages[0].nope }}", {}),
    # globals
    ("globals", "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1, b='x') }} {% set j = joiner('/') %}{% for x in 'abc' %}{{ j() }}{{ x }}{% endfor %}", {}),
    ("raise", "{{ raise_exception('nope: ' ~ messages|length) }}", {}),
    ("strftime", "{{ strftime_now('%Y-%m-%d %H:%M %d %b %Y %A') }}", {}),
    ("range_limit", "{{ range(100001)|length }}", {}),
    # variables from the conversation
    ("tools_and_flags", "{{ tools[0].function.name }} {{ add_generation_prompt }} {{ enable_thinking }} {{ tools|length }}", {"tools": TOOLS, "enable_thinking": False}),
    ("no_generation_prompt", "{% if add_generation_prompt %}gen{% else %}nogen{% endif %}", {"add_generation_prompt": False}),
    ("numbers_from_json", "{{ n }} {{ f }} {{ big }} {{ neg }} {{ n is integer }} {{ f is float }} {{ obj }}", {"n": 3, "f": 2.5, "big": 12345678901234, "neg": -0.0, "obj": {"k": [1, 2.0, "s", None, True]}}),
    # syntax errors
    ("unclosed_if", "{% if true %}x", {}),
    ("unclosed_for", "{% for x in y %}", {}),
    ("unclosed_var", "{{ x ", {}),
    ("unclosed_comment", "{# x", {}),
    ("unclosed_string", "{{ 'abc }}", {}),
    ("bad_endtag", "{% if x %}{% endfor %}", {}),
    ("unknown_tag", "{% frobnicate %}", {}),
    ("stray_paren", "{{ (1 + 2 }}", {}),
    ("break_outside", "{% break %}", {}),
    ("include_refused", "{% include 'x.jinja' %}", {}),
    ("do_not_enabled", "{% do x %}", {}),
]


def transformers_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.fromtimestamp(EPOCH, timezone.utc).strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    qwenrun, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    env = transformers_env()
    failures = 0
    for name, template, extra in CASES:
        variables = {"messages": MSGS, "add_generation_prompt": True}
        variables.update(extra)
        try:
            expected, expected_error = env.from_string(template).render(**variables), None
        except Exception as e:  # the template refuses or fails: qwenrun must fail too
            expected, expected_error = None, f"{type(e).__name__}: {e}"
        t_path, v_path = os.path.join(work, name + ".jinja"), os.path.join(work, name + ".json")
        with open(t_path, "w", encoding="utf-8", newline="") as f:
            f.write(template)
        with open(v_path, "w", encoding="utf-8") as f:
            json.dump(variables, f, ensure_ascii=False)
        r = subprocess.run([qwenrun, "--chat-template", t_path, "--messages", v_path, "--print-prompt"],
                           capture_output=True, timeout=10, env=dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH)))
        got, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace").strip()
        if expected_error is not None:
            ok = r.returncode == 1 and len(err.splitlines()) == 1 and err.startswith("qwenrun: error: " + t_path)
            detail = f"jinja2 fails ({expected_error}); qwenrun exit {r.returncode}: {err or got!r}"
        else:
            ok = r.returncode == 0 and got == expected
            detail = f"jinja2: {expected!r}\n    qwenrun (exit {r.returncode}): {got!r} {err}"
        print(("ok    " if ok else "FAIL  ") + name + ("" if ok else "\n    " + detail))
        failures += not ok
    print(f"{len(CASES) - failures} of {len(CASES)} cases agree with jinja2 {jinja2.__version__}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
