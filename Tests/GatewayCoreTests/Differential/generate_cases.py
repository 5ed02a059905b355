#!/usr/bin/env python3
"""Differential oracle for the request hash.

Generates random raw request bodies rich in the hard cases and, for each, computes with Python
itself what upstream computes: json.loads(raw) -> projection -> json.dumps(sort_keys=True) ->
keccak256. The Swift test feeds the same raw bytes to GatewayCore and must agree on every case.

Output: one case per line, tab-separated: kind, raw request (hex of UTF-8), canonical bytes
(hex), keccak256 (hex).
"""
import argparse
import json
import random
import sys

try:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
    from Crypto.Hash import keccak
except ImportError as error:  # the Swift test turns this into a failure with the message
    sys.exit(f"missing Python test dependency ({error}); run scripts/test, which installs Tests/requirements.txt")


def keccak256(data: bytes) -> str:
    h = keccak.new(digest_bits=256)
    h.update(data)
    return h.hexdigest()


# ---------------------------------------------------------------- the projection (upstream's rules)

def canonical_user_content(content):
    if isinstance(content, str):
        return content
    out = []
    for part in content:
        if part.get("type") == "text":
            out.append({"type": "text", "text": part["text"]})
        else:
            projected = {"type": part["type"]}
            filename = part.get("filename") or (part.get("file") or {}).get("filename")
            if filename:
                projected["filename"] = filename
            out.append(projected)
    return out


def project_message(m):
    role = m["role"]
    if role in ("system", "developer"):
        return {"role": role, "content": m["content"]}
    if role == "user":
        return {"role": "user", "content": canonical_user_content(m["content"])}
    if role == "assistant":
        d = {"role": "assistant", "content": m.get("content") or ""}
        if m.get("tool_calls"):
            d["tool_calls"] = [
                {"id": tc.get("id"), "type": tc.get("type"),
                 "function": {"name": (tc.get("function") or {}).get("name"),
                              "arguments": (tc.get("function") or {}).get("arguments")}}
                for tc in m["tool_calls"]
            ]
        return d
    if role == "tool":
        return {"role": "tool", "content": m["content"], "tool_call_id": m["tool_call_id"]}
    if role == "function":
        return {"role": "function", "content": m.get("content"), "name": m["name"]}
    raise ValueError(role)


def project_chat(r):
    d = {
        "model": r["model"],
        "messages": [project_message(m) for m in r["messages"]],
        "temperature": float(r["temperature"]) if r.get("temperature") is not None else 0.0,
    }
    if r.get("max_tokens") is not None:
        d["max_tokens"] = r["max_tokens"]
    if r.get("stop"):
        d["stop"] = r["stop"]
    if r.get("tools"):
        d["tools"] = r["tools"]
    if r.get("response_format"):
        d["response_format"] = r["response_format"]
    return d


MISSING = object()


def project_completions(r):
    temperature = r.get("temperature", MISSING)
    max_tokens = r.get("max_tokens", MISSING)
    d = {"model": r["model"], "prompt": r["prompt"]}
    # Upstream's dataclass defaults: absent temperature is 1, absent max_tokens is 16; an explicit
    # null reaches `float(t) if t is not None else 0.0` and `if max_tokens is not None`.
    d["temperature"] = 1.0 if temperature is MISSING else (float(temperature) if temperature is not None else 0.0)
    if max_tokens is MISSING:
        d["max_tokens"] = 16
    elif max_tokens is not None:
        d["max_tokens"] = max_tokens
    if r.get("stop"):
        d["stop"] = r["stop"]
    return d


# ---------------------------------------------------------------- a raw-text writer with random spellings

class Raw:
    """Marks a number that must be written with a specific spelling (e.g. 1e2, -0, 1.50E+3)."""

    def __init__(self, text):
        self.text = text


class Dup:
    """An object written with a duplicate key: `shadowed` first, then the real value later."""

    def __init__(self, pairs, dup_key, shadowed):
        self.pairs, self.dup_key, self.shadowed = pairs, dup_key, shadowed


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def write_string(s, rnd):
    out = ['"']
    for ch in s:
        cp = ord(ch)
        choice = rnd.random()
        if ch in SHORT_ESCAPES and choice < 0.7:
            out.append(SHORT_ESCAPES[ch])
        elif ch == "/" and choice < 0.3:
            out.append("\\/")
        elif cp < 0x20 or ch in ('"', "\\") or choice < 0.15:
            if cp >= 0x10000:
                v = cp - 0x10000
                units = [0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)]
            else:
                units = [cp]
            for u in units:
                out.append(("\\u%04X" if rnd.random() < 0.5 else "\\u%04x") % u)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def ws(rnd):
    return "".join(rnd.choice(" \t\n\r") for _ in range(rnd.choice([0, 0, 0, 1, 2])))


def float_spelling(x, rnd):
    r = repr(x)
    options = [r, "%.17g" % x, "%.17e" % x, "%.17E" % x]
    text = rnd.choice(options)
    if "e" not in text.lower() and "." not in text:
        text += ".0"  # %.17g may print an integral value without a point: keep it a float
    return text


def write(value, rnd):
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_spelling(value, rnd)
    if isinstance(value, str):
        return write_string(value, rnd)
    if isinstance(value, list):
        return "[" + ws(rnd) + ("," + ws(rnd)).join(write(v, rnd) + ws(rnd) for v in value) + "]"
    if isinstance(value, Dup):
        pairs = list(value.pairs)
        pairs.insert(0, (value.dup_key, value.shadowed))
        return "{" + ws(rnd) + ("," + ws(rnd)).join(
            write_string(k, rnd) + ws(rnd) + ":" + ws(rnd) + write(v, rnd) + ws(rnd) for k, v in pairs) + "}"
    if isinstance(value, dict):
        return "{" + ws(rnd) + ("," + ws(rnd)).join(
            write_string(k, rnd) + ws(rnd) + ":" + ws(rnd) + write(v, rnd) + ws(rnd) for k, v in value.items()) + "}"
    raise TypeError(type(value))


# ---------------------------------------------------------------- strategies rich in hard cases

HARD = ["\x00", "\x01", "\x1f", "\x7f", "\x80", '"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "é", "e\u0301",
        "\u2028", "\u2029", "\ufeff", "\uffff", "\ufff0", "\U0001F60A", "\U0001F600", "\U00010000", "\U0010FFFF",
        "中文", "\u0000x", "ø", "ß", "ﬁ", "\u00a0", "'", "<>&"]
text = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(HARD) | st.text(max_size=3), max_size=6).map("".join),
)
# Keys chosen so code-point order and UTF-16 order disagree (U+FFxx sorts before astral
# characters by code point, after them by UTF-16 unit).
key = st.one_of(st.text(max_size=6), st.sampled_from(["a", "B", "_", "é", "\uff61", "\U0001F600", "\U00010000", "\uffff", "a\x00", "aa", "A", "type", "Type"]))
integer = st.one_of(st.integers(-1000, 1000), st.integers(-(10 ** 40), 10 ** 40), st.just(2 ** 64), st.just(-(2 ** 63)))
floating = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-05, 1e-5, 0.0001, 1e16, 1e15, 1e+20, 100.0, 0.1, 1.5e300, 5e-324, 1.7976931348623157e308, 123456789.0]),
)
raw_number = st.sampled_from(["1e2", "1E2", "1e+2", "-0", "-0.0", "0e0", "1.50", "2.5E-3", "10e-1", "1e005", "0.1e1"]).map(Raw)


LEAVES = st.none() | st.booleans() | integer | floating | raw_number | text
# What a duplicated key first maps to before the real value overrides it.
SHADOW = st.recursive(LEAVES, lambda children: st.lists(children, max_size=2), max_leaves=3)


def with_duplicate(drawn):
    """Sometimes write an object with a shadowed duplicate key (Python keeps the last value)."""
    d, roll, shadowed, pick = drawn
    if d and roll == 0:
        keys = sorted(d)
        return Dup(list(d.items()), keys[pick % len(keys)], shadowed)
    return d


def objects(values, max_size):
    return st.tuples(st.dictionaries(key, values, max_size=max_size), st.integers(0, 9), SHADOW, st.integers(0, 100)).map(with_duplicate)


JSON_VALUES = st.recursive(LEAVES, lambda children: st.lists(children, max_size=4) | objects(children, 4), max_leaves=12)


content_part = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": text}, optional={"cache_control": st.just({"type": "ephemeral"})}),
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": st.fixed_dictionaries({"url": text})}),
    st.fixed_dictionaries({"type": st.just("file"), "file": st.fixed_dictionaries({}, optional={"filename": text, "file_data": text})}),
    st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": st.fixed_dictionaries({"data": text, "format": st.just("wav")})}, optional={"filename": text}),
)
tool_call = st.fixed_dictionaries(
    {"id": text, "type": st.just("function"), "function": st.fixed_dictionaries({"name": text, "arguments": text})},
)
message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "developer"]), "content": text | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": text}), max_size=3)}, optional={"name": text}),
    st.fixed_dictionaries({"role": st.just("user"), "content": text | st.lists(content_part, max_size=4)}, optional={"name": text}),
    st.fixed_dictionaries({"role": st.just("assistant")}, optional={"content": st.none() | text, "tool_calls": st.lists(tool_call, max_size=3), "refusal": st.none()}),
    st.fixed_dictionaries({"role": st.just("tool"), "content": text, "tool_call_id": text}, optional={"name": text}),
    st.fixed_dictionaries({"role": st.just("function"), "name": text}, optional={"content": st.none() | text}),
)
tool = st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
    {"name": text}, optional={"description": text, "parameters": st.dictionaries(key, JSON_VALUES, max_size=5), "strict": st.booleans()})})
response_format = st.one_of(
    st.just({}), st.just({"type": "text"}), st.just({"type": "json_object"}),
    st.fixed_dictionaries({"type": st.just("json_schema"), "json_schema": st.fixed_dictionaries(
        {"name": text}, optional={"schema": st.dictionaries(key, JSON_VALUES, max_size=5), "strict": st.booleans()})}),
)
temperature = st.one_of(st.none(), st.floats(0, 2), st.integers(0, 2), st.sampled_from([Raw("1e0"), Raw("2E-1"), Raw("0.70")]))
stop = st.one_of(st.none(), st.just(""), st.just([]), text, st.lists(text, min_size=1, max_size=4))
ignored = st.dictionaries(st.sampled_from(["stream", "n", "seed", "top_p", "user", "tool_choice", "max_completion_tokens", "stream_options", "logit_bias", "metadata"]), JSON_VALUES, max_size=4)


@st.composite
def chat_request(draw):
    r = {"model": draw(text), "messages": draw(st.lists(message, min_size=1, max_size=5))}
    optional = {
        "temperature": temperature, "max_tokens": st.none() | integer, "stop": stop,
        "tools": st.lists(tool, max_size=3), "response_format": response_format,
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            r[name] = draw(strategy)
    r.update(draw(ignored))
    items = list(r.items())
    random.Random(draw(st.integers(0, 2 ** 32))).shuffle(items)
    return with_duplicate((dict(items), draw(st.integers(0, 9)), draw(SHADOW), draw(st.integers(0, 100))))


@st.composite
def completions_request(draw):
    r = {"model": draw(text), "prompt": draw(text | st.lists(text, min_size=1, max_size=3))}
    for name, strategy in {"temperature": temperature, "max_tokens": st.none() | integer, "stop": stop}.items():
        if draw(st.booleans()):
            r[name] = draw(strategy)
    return r


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10000, help="chat requests to generate")
    parser.add_argument("--completions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    lines = []

    def emit(kind, request, project):
        raw = write(request, rnd)
        parsed = json.loads(raw)  # Python is the oracle: it parses the very bytes Swift gets
        canonical = json.dumps(project(parsed), sort_keys=True).encode("utf-8")
        lines.append("\t".join([kind, raw.encode("utf-8").hex(), canonical.hex(), keccak256(canonical)]))

    common = dict(database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))

    @seed(args.seed)
    @settings(**{**common, "max_examples": args.count})
    @given(chat_request())
    def chat(request):
        emit("chat", request, project_chat)

    @seed(args.seed + 1)
    @settings(**{**common, "max_examples": args.completions})
    @given(completions_request())
    def completions(request):
        emit("completions", request, project_completions)

    chat()
    completions()
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
