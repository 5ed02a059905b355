"""The unchanged official `openai` SDK against a running dev appliance, every signed answer verified
independently (tee_verify.py) on the bytes that went over the wire.

Usage: openai_client.py URL CERT_PEM — prints one JSON line per scenario and a closing summary line;
exits 1 when any scenario failed.
"""
import json
import sys

import openai
import pydantic

import tee_verify
from wire_capture import Scenarios, check, recording_client

URL, CERT = sys.argv[1], sys.argv[2]
http_client, recorder = recording_client(CERT)
client = openai.OpenAI(base_url=URL + "/v1", api_key="unused", http_client=http_client, max_retries=0)
key = tee_verify.SigningKey.fetch(URL, CERT)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer", "minimum": 1},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "days", "unit"],
            "additionalProperties": False,
        },
    },
}


def verified(route, path, stream):
    """Verifies the last exchange on `path`; returns (answer, exchange)."""
    exchange = recorder.last(path)
    check(exchange.status == 200, f"HTTP {exchange.status}")
    expected_type = "text/event-stream" if stream else "application/json"
    check(exchange.content_type.startswith(expected_type), f"content-type {exchange.content_type}")
    answer = tee_verify.verify_exchange(route, exchange.request_body, exchange.response_body, stream, key)
    return answer, exchange


def tee(obj):
    extra = obj.model_extra or {}
    check(all(f in extra for f in tee_verify.TEE_FIELDS), f"tee_* fields missing from {sorted(extra)}")
    return extra


def chat_nonstream():
    prompt = "Hello from the official SDK — ✓ naïve café"
    response = client.chat.completions.create(
        model="local",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}],
        temperature=0.5,
        max_tokens=200,
    )
    check(response.object == "chat.completion", f"object {response.object}")
    text = response.choices[0].message.content
    check(text == "You said: " + prompt, f"content {text!r}")
    check(response.choices[0].finish_reason == "stop", f"finish {response.choices[0].finish_reason}")
    check(response.usage is not None and response.usage.completion_tokens > 0, f"usage {response.usage}")
    extra = tee(response)
    check(response.created == extra["tee_timestamp"], "created != tee_timestamp")
    answer, _ = verified("chat", "/chat/completions", stream=False)
    check(answer.fields["tee_output_hash"] == extra["tee_output_hash"], "SDK and wire disagree on tee_output_hash")
    return ["content", "finish_reason", "usage", "created==tee_timestamp", "request_hash", "output_hash", "signature"]


def chat_stream():
    prompt = "Stream this back to me, token by token"
    chunks = list(
        client.chat.completions.create(
            model="local",
            messages=[{"role": "user", "content": prompt}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check(text == "You said: " + prompt, f"streamed text {text!r}")
    check(len({c.id for c in chunks}) == 1, "chunk ids differ")
    signed = [c for c in chunks if (c.model_extra or {}).get("tee_signature")]
    check(len(signed) == 1, f"{len(signed)} chunks carry tee_signature")
    final = signed[0]
    check(final.choices and final.choices[0].finish_reason == "stop", "signature is not on the finishing chunk")
    check(chunks.index(final) == len(chunks) - 2, "the signed chunk must come right before the usage chunk")
    usage = chunks[-1]
    check(usage.choices == [] and usage.usage is not None and usage.usage.total_tokens > 0, f"usage chunk {usage}")
    answer, exchange = verified("chat", "/chat/completions", stream=True)
    check(answer.text == text, "wire text differs from what the SDK yielded")
    check(json.loads(exchange.request_body).get("stream_options") == {"include_usage": True}, "stream_options not sent")
    return {
        "chunks": len(chunks),
        "checks": ["text", "signature_on_final_chunk", "usage_chunk", "request_hash", "output_hash", "signature"],
    }


def tool_call_nonstream():
    messages = [{"role": "user", "content": "Please call get_weather for Paris"}]
    response = client.chat.completions.create(model="local", messages=messages, tools=[WEATHER_TOOL])
    choice = response.choices[0]
    check(choice.finish_reason == "tool_calls", f"finish {choice.finish_reason}")
    calls = choice.message.tool_calls or []
    check(len(calls) == 1 and calls[0].function.name == "get_weather", f"calls {calls}")
    arguments = json.loads(calls[0].function.arguments)
    check(set(arguments) == {"city", "days", "unit"}, f"arguments {arguments}")
    check(arguments["unit"] == "celsius" and arguments["days"] >= 1, f"arguments {arguments}")
    verified("chat", "/chat/completions", stream=False)

    # Second turn: the tool's result goes back (assistant tool_calls + tool message are hashed).
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": calls[0].id, "type": "function",
                 "function": {"name": "get_weather", "arguments": calls[0].function.arguments}}
            ],
        },
        {"role": "tool", "tool_call_id": calls[0].id, "content": "18 °C and sunny"},
    ]
    follow_up = client.chat.completions.create(model="local", messages=messages, tools=[WEATHER_TOOL])
    text = follow_up.choices[0].message.content
    check(text == "Tool result: 18 °C and sunny", f"follow-up {text!r}")
    verified("chat", "/chat/completions", stream=False)
    return {"tool": "get_weather", "arguments": arguments, "follow_up": "tool result round trip verified"}


def tool_call_stream():
    messages = [{"role": "user", "content": "Please call get_weather for Paris"}]
    stream = client.chat.completions.create(model="local", messages=messages, tools=[WEATHER_TOOL], stream=True)
    fragments, call_id, name = [], None, None
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                check(delta.index == 0, f"tool call index {delta.index}")
                call_id = call_id or delta.id
                name = name or (delta.function and delta.function.name)
                if delta.function and delta.function.arguments:
                    fragments.append(delta.function.arguments)
            finish = choice.finish_reason or finish
    check(finish == "tool_calls", f"finish {finish}")
    check(len(fragments) > 1, f"arguments arrived in {len(fragments)} fragment(s), not incrementally")
    arguments = "".join(fragments)
    reference = client.chat.completions.create(model="local", messages=messages, tools=[WEATHER_TOOL])
    reference_call = reference.choices[0].message.tool_calls[0]
    check(arguments == reference_call.function.arguments, "streamed arguments differ from the non-streamed ones")
    check(call_id == reference_call.id and name == "get_weather", f"call id {call_id} / name {name}")
    exchange = recorder.exchanges[-2]
    answer = tee_verify.verify_exchange("chat", exchange.request_body, exchange.response_body, True, key)
    check(answer.tool_calls[0]["arguments"] == arguments, "wire arguments differ from what the SDK yielded")

    # The helper reassembles the same call.
    with client.chat.completions.stream(model="local", messages=messages, tools=[WEATHER_TOOL]) as helper:
        final = helper.get_final_completion()
    check(final.choices[0].message.tool_calls[0].function.arguments == arguments, "stream helper reassembly differs")
    verified("chat", "/chat/completions", stream=True)
    return {"fragments": len(fragments), "arguments": arguments}


PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["name", "age", "email", "tags"],
    "additionalProperties": False,
}


class Person(pydantic.BaseModel):
    name: str
    age: int
    email: str
    tags: list[str]


def structured_json_schema():
    response = client.chat.completions.create(
        model="local",
        messages=[{"role": "user", "content": "Describe a person"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "strict": True, "schema": PERSON_SCHEMA},
        },
    )
    document = json.loads(response.choices[0].message.content)
    check(set(document) == set(PERSON_SCHEMA["required"]), f"keys {sorted(document)}")
    check(isinstance(document["age"], int) and document["age"] >= 18, f"age {document['age']}")
    check(isinstance(document["tags"], list) and len(document["tags"]) >= 2, f"tags {document['tags']}")
    answer, exchange = verified("chat", "/chat/completions", stream=False)
    projection = tee_verify.request_projection("chat", exchange.request_body)
    check("response_format" in projection, "response_format not hashed")

    parsed = client.chat.completions.parse(
        model="local", messages=[{"role": "user", "content": "Describe a person"}], response_format=Person
    )
    person = parsed.choices[0].message.parsed
    check(isinstance(person, Person) and person.age >= 0 and len(person.tags) >= 1, f"parsed {person!r}")
    verified("chat", "/chat/completions", stream=False)
    return {"document_keys": sorted(document), "pydantic_parse": type(person).__name__}


def structured_json_object():
    prompt = "Answer as JSON please"
    response = client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": prompt}], response_format={"type": "json_object"}
    )
    document = json.loads(response.choices[0].message.content)
    check(document == {"reply": "You said: " + prompt}, f"document {document}")
    verified("chat", "/chat/completions", stream=False)
    return {"document": document}


def completions():
    response = client.completions.create(model="local", prompt="Once upon a time", max_tokens=50, temperature=0.2)
    text = response.choices[0].text
    check(text == "You said: Once upon a time", f"text {text!r}")
    tee(response)
    verified("completions", "/completions", stream=False)
    # Defaults: absent max_tokens is hashed as 16 and absent temperature as 1.0 (and enforced).
    words = " ".join(f"w{i}" for i in range(30))  # "You said: " + 30 words is over 16 tokens
    response = client.completions.create(model="local", prompt=words)
    check(response.choices[0].finish_reason == "length", f"finish {response.choices[0].finish_reason}")
    check(response.usage.completion_tokens == 16, f"completion tokens {response.usage.completion_tokens}")
    verified("completions", "/completions", stream=False)
    pieces = list(client.completions.create(model="local", prompt="Once upon a time", max_tokens=50, stream=True))
    streamed = "".join(c.choices[0].text for c in pieces if c.choices)
    check(streamed == text, f"streamed {streamed!r}")
    verified("completions", "/completions", stream=True)
    return ["text", "default max_tokens 16 enforced and hashed", "stream", "signatures"]


def error_unknown_model():
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    except openai.NotFoundError as error:
        check(error.status_code == 404, f"status {error.status_code}")
        message = error.body.get("message", "") if isinstance(error.body, dict) else str(error)
        check("no-such-model" in message and "local" in message, f"message does not list models: {message}")
        check(error.code == "model_not_found", f"code {error.code}")
        return {"status": 404, "lists_supported_models": True}
    raise AssertionError("an unknown model did not raise openai.NotFoundError")


def error_invalid_role():
    try:
        client.chat.completions.create(model="local", messages=[{"role": "wizard", "content": "hi"}])
    except openai.BadRequestError as error:
        check(error.status_code == 400, f"status {error.status_code}")
        check("role" in str(error.body), f"message does not name the role: {error.body}")
        return {"status": 400, "param": error.param}
    raise AssertionError("an invalid role did not raise openai.BadRequestError")


scenarios = Scenarios("openai")
scenarios.run("chat_nonstream", chat_nonstream)
scenarios.run("chat_stream", chat_stream)
scenarios.run("tool_call_nonstream", tool_call_nonstream)
scenarios.run("tool_call_stream", tool_call_stream)
scenarios.run("structured_json_schema", structured_json_schema)
scenarios.run("structured_json_object", structured_json_object)
scenarios.run("completions", completions)
scenarios.run("error_unknown_model", error_unknown_model)
scenarios.run("error_invalid_role", error_invalid_role)
scenarios.exit()
