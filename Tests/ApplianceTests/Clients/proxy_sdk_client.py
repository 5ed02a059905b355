"""The unchanged official `openai` and `anthropic` SDKs against confidential-proxy running with
`--compat both` (OpenAI on /openai/v1, Anthropic on /anthropic/v1), exactly as a user points them
at it: a base URL and an API key, plain HTTP on loopback.

Every answer the proxy returns must say it was verified (`x-confidential-proxy-verified:
tee_signature`); the texts are the dev appliance's local model's echo, so they are exact.

Usage: proxy_sdk_client.py BASE_URL — prints one JSON line per scenario; exits 1 when one failed.
"""
import json
import sys

import anthropic
import openai
from pydantic import BaseModel

from wire_capture import Scenarios, check

BASE = sys.argv[1]
oai = openai.OpenAI(base_url=BASE + "/openai/v1", api_key="sk-test-not-a-real-key", max_retries=0)
ant = anthropic.Anthropic(base_url=BASE + "/anthropic", api_key="sk-ant-test", max_retries=0)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "unit": {"type": "string", "enum": ["celsius"]}},
            "required": ["city", "days", "unit"],
        },
    },
}
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 2}},
        "required": ["city", "days"],
    },
}


def verified_header(raw):
    value = raw.headers.get("x-confidential-proxy-verified")
    check(value == "tee_signature", f"x-confidential-proxy-verified: {value!r}")


def openai_chat():
    prompt = "Hello through the confidential proxy — ✓ naïve café"
    raw = oai.chat.completions.with_raw_response.create(
        model="local", messages=[{"role": "user", "content": prompt}], temperature=0.5, max_tokens=200
    )
    verified_header(raw)
    response = raw.parse()
    check(response.choices[0].message.content == "You said: " + prompt, f"content {response.choices[0].message.content!r}")
    check(response.choices[0].finish_reason == "stop", f"finish {response.choices[0].finish_reason}")
    check((response.model_extra or {}).get("tee_signature"), "tee_signature not passed through")
    return ["content", "finish_reason", "verified header"]


def openai_stream():
    prompt = "Stream this back through the proxy"
    chunks = list(oai.chat.completions.create(
        model="local", messages=[{"role": "user", "content": prompt}], stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check(text == "You said: " + prompt, f"streamed {text!r}")
    check(chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0, "no usage chunk")
    check(any((c.model_extra or {}).get("tee_signature") for c in chunks), "no signed chunk")
    return {"chunks": len(chunks)}


def openai_tools():
    messages = [{"role": "user", "content": "Please call get_weather for Paris"}]
    response = oai.chat.completions.create(model="local", messages=messages, tools=[WEATHER])
    calls = response.choices[0].message.tool_calls or []
    check(response.choices[0].finish_reason == "tool_calls" and len(calls) == 1, f"{response.choices[0]}")
    check(calls[0].function.name == "get_weather", f"{calls[0]}")
    streamed = list(oai.chat.completions.create(model="local", messages=messages, tools=[WEATHER], stream=True))
    fragments = "".join(
        (tc.function.arguments or "") for c in streamed if c.choices for tc in (c.choices[0].delta.tool_calls or []) if tc.function)
    check(json.loads(fragments) == json.loads(calls[0].function.arguments), "streamed arguments differ")
    return {"arguments": json.loads(calls[0].function.arguments)}


class Person(BaseModel):
    name: str
    age: int


def openai_structured():
    completion = oai.chat.completions.parse(
        model="local", messages=[{"role": "user", "content": "Describe a person"}], response_format=Person)
    person = completion.choices[0].message.parsed
    check(isinstance(person, Person) and person.name and person.age >= 0, f"parsed {person}")
    return {"parsed": person.model_dump()}


def openai_completions_and_models():
    completion = oai.completions.create(model="local", prompt="Say hi")
    check(completion.choices[0].text, f"{completion}")
    models = [m.id for m in oai.models.list()]
    check("local" in models, f"models {models}")
    return {"models": models}


def anthropic_message():
    prompt = "Hello Claude-shaped proxy — ✓"
    raw = ant.messages.with_raw_response.create(model="local", max_tokens=256, messages=[{"role": "user", "content": prompt}])
    verified_header(raw)
    message = raw.parse()
    check(message.content[0].text == "You said: " + prompt, f"{message.content}")
    check(message.stop_reason == "end_turn", f"{message.stop_reason}")
    return ["text", "stop_reason", "verified header"]


def anthropic_stream():
    prompt = "Stream me as Anthropic events"
    with ant.messages.stream(model="local", max_tokens=256, messages=[{"role": "user", "content": prompt}]) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_message()
    check(final.content[0].text == "You said: " + prompt, f"{final.content}")
    check(events[0] == "message_start" and events[-1] == "message_stop", f"events {events[:2]}…{events[-2:]}")
    return {"events": len(events)}


def anthropic_tools():
    messages = [{"role": "user", "content": "Use get_weather for Oslo"}]
    message = ant.messages.create(model="local", max_tokens=256, tools=[WEATHER_TOOL], messages=messages)
    blocks = [b for b in message.content if b.type == "tool_use"]
    check(message.stop_reason == "tool_use" and len(blocks) == 1, f"{message}")
    check(set(blocks[0].input) == {"city", "days"}, f"input {blocks[0].input}")
    with ant.messages.stream(model="local", max_tokens=256, tools=[WEATHER_TOOL], messages=messages) as stream:
        list(stream)
        final = stream.get_final_message()
    streamed = [b for b in final.content if b.type == "tool_use"][0]
    check(streamed.input == blocks[0].input, "stream and non-stream differ")
    return {"input": blocks[0].input}


def anthropic_count_tokens():
    counted = ant.messages.count_tokens(model="local", messages=[{"role": "user", "content": "hi " * 50}])
    check(counted.input_tokens > 10, f"{counted}")
    return {"input_tokens": counted.input_tokens}


scenarios = Scenarios("proxy")
for name, function in [
    ("openai_chat", openai_chat), ("openai_stream", openai_stream), ("openai_tools", openai_tools),
    ("openai_structured", openai_structured), ("openai_completions_and_models", openai_completions_and_models),
    ("anthropic_message", anthropic_message), ("anthropic_stream", anthropic_stream), ("anthropic_tools", anthropic_tools),
    ("anthropic_count_tokens", anthropic_count_tokens),
]:
    scenarios.run(name, function)
sys.exit(1 if scenarios.failed else 0)
