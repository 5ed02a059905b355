"""Unchanged official SDKs (anthropic, openai) against one inference worker on a Unix socket,
whose providers are a recording mock the Swift test scripted (ApiFidelitySDKTests).

Each scenario prints one JSON line {"scenario", "ok", "error"?}; the Swift side then checks what
the mock received. Signed answers are checked with tee_verify.py, the independent verifier.

    sdk_fidelity.py SOCKET_PATH
"""
import json
import os
import sys
import traceback

import anthropic
import httpx2 as httpx
import openai

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "ApplianceTests", "Clients"))
import tee_verify  # noqa: E402

SOCKET = sys.argv[1]
MODEL = "claude-haiku-4-5"


def http():
    return httpx.Client(transport=httpx.HTTPTransport(uds=SOCKET), base_url="http://worker", timeout=30)


def signing_key():
    document = http().get("/signing-key").json()
    return tee_verify.SigningKey(document["public_key"], document["tee_id"])


KEY = signing_key()
CLAUDE = anthropic.Anthropic(api_key="unused", base_url="http://worker", http_client=http(), max_retries=0)
OPENAI = openai.OpenAI(api_key="unused", base_url="http://worker/v1", http_client=http(), max_retries=0)
RESULTS = []


def scenario(function):
    try:
        function()
        RESULTS.append({"scenario": function.__name__, "ok": True})
    except Exception as error:  # noqa: BLE001 - every failure is reported by name
        RESULTS.append({"scenario": function.__name__, "ok": False,
                        "error": f"{type(error).__name__}: {error}\n{traceback.format_exc()}"})
    print(json.dumps(RESULTS[-1]), flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


THINKING = {"type": "enabled", "budget_tokens": 1024}
QUESTION = [{"role": "user", "content": "What is 27 * 453?"}]
first_answer = {}


def thinking_plain():
    raw = CLAUDE.messages.with_raw_response.create(model=MODEL, max_tokens=2048, thinking=THINKING, messages=QUESTION)
    message = raw.parse()
    check([b.type for b in message.content] == ["thinking", "text"], f"blocks: {[b.type for b in message.content]}")
    check(message.content[0].thinking.startswith("Let me compute"), "thinking text lost")
    check(message.content[0].signature == "EqQBCgIYAhIM1gbcDa9GJwZA", "thinking signature lost")
    check(message.content[1].text == "12231", f"text: {message.content[1].text!r}")
    request = json.dumps({"model": MODEL, "max_tokens": 2048, "thinking": THINKING, "messages": QUESTION}).encode()
    tee_verify.verify_exchange("anthropic", request, raw.http_response.content, False, KEY)
    first_answer["content"] = [b.model_dump(exclude_none=True) for b in message.content]


def thinking_stream():
    kinds, deltas = [], []
    with CLAUDE.messages.stream(model=MODEL, max_tokens=2048, thinking=THINKING, messages=QUESTION) as stream:
        for event in stream:
            kinds.append(event.type)
            if event.type == "content_block_delta":
                deltas.append(event.delta.type)
        final = stream.get_final_message()
    check("thinking_delta" in deltas and "signature_delta" in deltas, f"deltas: {deltas}")
    check(final.content[0].type == "thinking" and final.content[0].signature == "EqQBCgIYAhIM1gbcDa9GJwZA",
          f"final thinking block: {final.content[0]}")
    check(final.content[1].text == "12231", "streamed text lost")


def thinking_stream_verified():
    body = {"model": MODEL, "max_tokens": 2048, "thinking": THINKING, "messages": QUESTION, "stream": True}
    request = json.dumps(body).encode()
    reply = http().post("/v1/messages", content=request, headers={"content-type": "application/json"})
    check(reply.status_code == 200, f"status {reply.status_code}: {reply.text}")
    answer = tee_verify.verify_exchange("anthropic", request, reply.content, True, KEY)
    events = answer.detail["events"]
    check("ping" in events and events[-2:] == ["message_delta", "message_stop"], f"events: {events}")


def multi_turn_sends_thinking_back():
    tools = [{"name": "calculator", "description": "Multiplies", "input_schema": {"type": "object"}}]
    history = QUESTION + [
        {"role": "assistant", "content": first_answer["content"] + [
            {"type": "tool_use", "id": "toolu_01", "name": "calculator", "input": {"a": 27, "b": 453}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "12231", "is_error": False}]},
    ]
    message = CLAUDE.messages.create(model=MODEL, max_tokens=2048, thinking=THINKING, tools=tools, messages=history)
    check(message.content[-1].text == "Done: 12231", f"answer: {message.content}")


def prompt_caching_usage():
    system = [{"type": "text", "text": "A long, stable system prompt.", "cache_control": {"type": "ephemeral"}}]
    message = CLAUDE.messages.create(model=MODEL, max_tokens=100, system=system, messages=QUESTION)
    usage = message.usage
    check(usage.cache_creation_input_tokens == 1200 and usage.cache_read_input_tokens == 3400,
          f"usage: {usage}")


def count_tokens_native():
    count = CLAUDE.messages.count_tokens(model=MODEL, messages=QUESTION)
    check(count.input_tokens == 17, f"count: {count}")


def openai_logprobs():
    completion = OPENAI.chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": "Say hi"}], logprobs=True, top_logprobs=2)
    choice = completion.choices[0]
    check(choice.message.content == "Hi", f"content: {choice.message.content!r}")
    entries = choice.logprobs.content
    check([e.token for e in entries] == ["Hi"], f"logprobs: {entries}")
    check(entries[0].logprob == -0.25 and [t.token for t in entries[0].top_logprobs] == ["Hi", "Hello"],
          f"entry: {entries[0]}")


for test in (thinking_plain, thinking_stream, thinking_stream_verified, multi_turn_sends_thinking_back,
             prompt_caching_usage, count_tokens_native, openai_logprobs):
    scenario(test)
print(json.dumps({"failed": [r["scenario"] for r in RESULTS if not r["ok"]]}))
