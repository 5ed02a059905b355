"""The unchanged official `anthropic` SDK against a running dev appliance, every signed answer
verified independently (tee_verify.py) on the bytes that went over the wire.

Usage: anthropic_client.py URL CERT_PEM — prints one JSON line per scenario and a closing summary
line; exits 1 when any scenario failed.
"""
import json
import sys

import anthropic

import tee_verify
from wire_capture import Scenarios, check, recording_client

URL, CERT = sys.argv[1], sys.argv[2]
http_client, recorder = recording_client(CERT)
client = anthropic.Anthropic(base_url=URL, api_key="unused", http_client=http_client, max_retries=0)
key = tee_verify.SigningKey.fetch(URL, CERT)

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 2}},
        "required": ["city", "days"],
    },
}


def verified(path, stream):
    exchange = recorder.last(path)
    check(exchange.status == 200, f"HTTP {exchange.status}")
    expected_type = "text/event-stream" if stream else "application/json"
    check(exchange.content_type.startswith(expected_type), f"content-type {exchange.content_type}")
    return tee_verify.verify_exchange("messages", exchange.request_body, exchange.response_body, stream, key)


def messages_nonstream():
    prompt = "Hello from the Anthropic SDK — ✓"
    message = client.messages.create(
        model="local",
        max_tokens=256,
        # This SDK generation has no `temperature` parameter; extra_body sends it as older clients do.
        extra_body={"temperature": 0.7},
        system=[{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
        messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}],
    )
    check(message.type == "message" and message.role == "assistant", f"{message.type}/{message.role}")
    check(len(message.content) == 1 and message.content[0].type == "text", f"content {message.content}")
    check(message.content[0].text == "You said: " + prompt, f"text {message.content[0].text!r}")
    check(message.stop_reason == "end_turn", f"stop_reason {message.stop_reason}")
    check(message.usage.output_tokens > 0, f"usage {message.usage}")
    extra = message.model_extra or {}
    check(all(f in extra for f in tee_verify.TEE_FIELDS), f"tee_* missing from {sorted(extra)}")
    verified("/v1/messages", stream=False)
    return ["text", "stop_reason", "usage", "system blocks joined and temperature in the hash", "signature"]


def messages_stream():
    prompt = "Stream this back, please"
    with client.messages.stream(
        model="local", max_tokens=256, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        events = [event for event in stream]
        final = stream.get_final_message()
    raw_types = [e.type for e in events if e.type in (
        "message_start", "content_block_start", "content_block_delta", "content_block_stop",
        "message_delta", "message_stop")]
    check(raw_types[0] == "message_start" and raw_types[-2:] == ["message_delta", "message_stop"], f"{raw_types}")
    check(raw_types[1] == "content_block_start" and raw_types[-3] == "content_block_stop", f"{raw_types}")
    deltas = [e for e in events if e.type == "content_block_delta"]
    check(len(deltas) > 1 and all(d.delta.type == "text_delta" for d in deltas), f"{len(deltas)} deltas")
    streamed = "".join(d.delta.text for d in deltas)
    check(streamed == "You said: " + prompt, f"streamed {streamed!r}")
    check(final.content[0].text == streamed and final.stop_reason == "end_turn", f"final {final}")
    answer = verified("/v1/messages", stream=True)
    check(answer.text == streamed, "wire text differs from what the SDK yielded")
    check(answer.detail["events"] == raw_types, f"SDK events {raw_types} vs wire {answer.detail['events']}")
    return {"events": len(raw_types), "text_deltas": len(deltas), "signature": "on message_delta",
            "hash": "absent temperature as 1.0"}


def tool_use():
    messages = [{"role": "user", "content": "Use get_weather for Oslo"}]
    message = client.messages.create(model="local", max_tokens=256, tools=[WEATHER_TOOL], messages=messages)
    check(message.stop_reason == "tool_use", f"stop_reason {message.stop_reason}")
    blocks = [b for b in message.content if b.type == "tool_use"]
    check(len(blocks) == 1 and blocks[0].name == "get_weather", f"content {message.content}")
    check(set(blocks[0].input) == {"city", "days"} and blocks[0].input["days"] >= 2, f"input {blocks[0].input}")
    verified("/v1/messages", stream=False)

    # The same call streamed: input_json_delta fragments carry the signed arguments text verbatim.
    with client.messages.stream(model="local", max_tokens=256, tools=[WEATHER_TOOL], messages=messages) as stream:
        events = list(stream)
        final = stream.get_final_message()
    fragments = [e.delta.partial_json for e in events
                 if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
    check(len(fragments) > 1, f"{len(fragments)} input_json_delta fragment(s)")
    streamed_block = [b for b in final.content if b.type == "tool_use"][0]
    check(streamed_block.input == blocks[0].input and streamed_block.id == blocks[0].id, "stream/non-stream differ")
    answer = verified("/v1/messages", stream=True)
    check(json.loads(answer.tool_calls[0]["arguments"]) == blocks[0].input, "wire arguments differ")

    # Round trip: the tool result goes back (translated to tool messages, then hashed).
    follow_up = client.messages.create(
        model="local",
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=messages + [
            {"role": "assistant", "content": [b.model_dump() for b in message.content]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": blocks[0].id, "content": "-3 °C, snow"}]},
        ],
    )
    check(follow_up.content[0].text == "Tool result: -3 °C, snow", f"follow-up {follow_up.content}")
    verified("/v1/messages", stream=False)
    return {"input": blocks[0].input, "stream_fragments": len(fragments), "round_trip": "verified"}


def count_tokens():
    short = client.messages.count_tokens(model="local", messages=[{"role": "user", "content": "hi"}])
    longer = client.messages.count_tokens(
        model="local",
        system="You are a careful assistant.",
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "hi " * 200}],
    )
    check(isinstance(short.input_tokens, int) and short.input_tokens > 0, f"short {short.input_tokens}")
    check(longer.input_tokens > short.input_tokens + 100, f"{longer.input_tokens} vs {short.input_tokens}")
    body = json.loads(recorder.last("/count_tokens").response_body)
    check(not any(f in body for f in tee_verify.TEE_FIELDS), "count_tokens is an estimate and must not be signed")
    return {"short": short.input_tokens, "longer": longer.input_tokens}


def error_invalid_request():
    try:
        client.messages.create(
            model="local", max_tokens=64, messages=[{"role": "system", "content": "not a turn role"}]
        )
    except anthropic.BadRequestError as error:
        check(error.status_code == 400, f"status {error.status_code}")
        body = error.body if isinstance(error.body, dict) else {}
        check(body.get("type") == "error", f"not Anthropic's error envelope: {body}")
        check(body.get("error", {}).get("type") == "invalid_request_error", f"error type {body}")
        check("role" in body["error"].get("message", ""), f"message does not name the role: {body}")
        return {"status": 400, "message": body["error"]["message"]}
    raise AssertionError("an invalid role did not raise anthropic.BadRequestError")


def error_unknown_model():
    try:
        client.messages.create(model="no-such-model", max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    except anthropic.NotFoundError as error:
        check(error.status_code == 404, f"status {error.status_code}")
        check("local" in str(error.body), f"message does not list models: {error.body}")
        return {"status": 404}
    raise AssertionError("an unknown model did not raise anthropic.NotFoundError")


scenarios = Scenarios("anthropic")
scenarios.run("messages_nonstream", messages_nonstream)
scenarios.run("messages_stream", messages_stream)
scenarios.run("tool_use", tool_use)
scenarios.run("count_tokens", count_tokens)
scenarios.run("error_invalid_request", error_invalid_request)
scenarios.run("error_unknown_model", error_unknown_model)
scenarios.exit()
