#!/usr/bin/python3
"""Renders every (template, conversation) pair with Python's jinja2 the way transformers' apply_chat_template does,
and writes the results to expected.json: the fixtures ChatTemplateTest holds the Java renderer to, byte for byte.

The environment copies transformers' `_compile_jinja_template` (src/transformers/utils/chat_template_utils.py):
an ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols extension, a `{% generation %}`
tag that only renders its body, `raise_exception` and `strftime_now` globals, and a `tojson` filter that is
json.dumps without HTML escaping. It is rendered as transformers renders it: `messages`, `tools=None`,
`documents=None`, `add_generation_prompt`, and the special tokens the model has (a missing one stays undefined).
`strftime_now` reads a fixed clock (NOW below), so that the fixtures do not change with the day.

Run it with Debian's Python and jinja2 (apt-get install python3-jinja2), from anywhere:

    /usr/bin/python3 text/src/test/resources/chat-templates/make_expected.py

Inputs, beside this script: templates.json (name, source, special tokens of each <name>.jinja) and
conversations.json. CI does not run this script; the committed expected.json is what the tests read.
"""
import datetime
import json
import os

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = datetime.datetime(2025, 3, 9, 14, 5, 7)


class GenerationTag(jinja2.ext.Extension):
    """transformers' AssistantTracker without the tracking: `{% generation %}...{% endgeneration %}` renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return NOW.strftime(format)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                       extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, source, spec, messages, add_generation_prompt):
    tokens = {k: spec[k] for k in ("bos_token", "eos_token") if spec.get(k) is not None}
    try:
        text = env.from_string(source).render(messages=messages, tools=None, documents=None,
                                              add_generation_prompt=add_generation_prompt, **tokens)
        return {"output": text}
    except jinja2.exceptions.TemplateError as e:
        # raise_exception raises the base class; its subclasses are the template's own failures.
        if type(e) is jinja2.exceptions.TemplateError:
            return {"raises": str(e)}
        return {"fails": "%s: %s" % (type(e).__name__, e)}
    except Exception as e:  # a template that fails in Python (a TypeError, say) must fail in Java too
        return {"fails": "%s: %s" % (type(e).__name__, e)}


def main():
    with open(os.path.join(HERE, "templates.json"), encoding="utf-8") as f:
        templates = json.load(f)
    with open(os.path.join(HERE, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    env = environment()
    cases = []
    for spec in templates:
        with open(os.path.join(HERE, spec["name"] + ".jinja"), encoding="utf-8", newline="") as f:
            source = f.read()
        for conversation in conversations:
            for add_generation_prompt in (False, True):
                case = {"template": spec["name"], "conversation": conversation["name"],
                        "add_generation_prompt": add_generation_prompt}
                case.update(render(env, source, spec, conversation["messages"], add_generation_prompt))
                cases.append(case)
    out = {"generated_by": "make_expected.py with jinja2 " + jinja2.__version__, "now": NOW.isoformat(),
           "cases": cases}
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    counts = {k: sum(1 for c in cases if k in c) for k in ("output", "raises", "fails")}
    print("%d cases: %d rendered, %d raised, %d failed" % (len(cases), counts["output"], counts["raises"],
                                                          counts["fails"]))


if __name__ == "__main__":
    main()
