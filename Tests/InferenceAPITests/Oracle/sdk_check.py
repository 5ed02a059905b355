"""Feeds responses rendered by InferenceAPI to the official `openai` and `anthropic` SDKs.

Usage: sdk_check.py DIR, where DIR/cases.json lists the cases the Swift test wrote (file, route,
stream, HTTP status and what the SDK must parse out of the bytes). Each response is served through
an httpx MockTransport: no server, no network. Exits 1 with one line per failed case.
"""
import json
import pathlib
import sys

try:
    import httpx2 as httpx  # the SDK generation installed here ships httpx as httpx2
except ImportError:
    import httpx
import anthropic
import openai

TEE_FIELDS = ["tee_signature", "tee_request_hash", "tee_output_hash", "tee_timestamp", "tee_id"]


def mock_client(http_body, status, stream):
    content_type = "text/event-stream" if stream and status == 200 else "application/json"

    def handler(request):
        assert request.url.host == "gateway.invalid", request.url
        return httpx.Response(status, content=http_body, headers={"content-type": content_type})

    return httpx.Client(transport=httpx.MockTransport(handler))


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def check_tee(extra, expect):
    for field in TEE_FIELDS:
        check(field in extra, f"missing {field} in {sorted(extra)}")
    check(extra["tee_request_hash"] == expect["tee_request_hash"], "tee_request_hash differs")


def openai_chat(client, case, expect):
    kwargs = dict(model=expect["model"], messages=[{"role": "user", "content": "hi"}])
    if not case["stream"]:
        response = client.chat.completions.create(**kwargs)
        check(response.id.startswith("chatcmpl-"), f"id {response.id}")
        check(response.model == expect["model"], f"model {response.model}")
        check(response.created == response.model_extra["tee_timestamp"], "created != tee_timestamp")
        message = response.choices[0].message
        check((message.content or "") == expect["text"], f"content {message.content!r}")
        calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
        check_tee(response.model_extra, expect)
        return calls, response.choices[0].finish_reason, response.usage
    if case.get("include_usage"):
        kwargs["stream_options"] = {"include_usage": True}
    if expect["finish_reason"] == "length":
        # The stream helper raises LengthFinishReasonError by design; read the raw chunks instead.
        chunks = list(client.chat.completions.create(stream=True, **kwargs))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        check(text == expect["text"] and finish == ["length"], f"content {text!r}, finish {finish}")
        final = None
    else:
        # The helper rebuilds the whole completion from the deltas, as many apps do.
        with client.chat.completions.stream(**kwargs) as stream:
            chunks = [event.chunk for event in stream if event.type == "chunk"]
            final = stream.get_final_completion()
    check(len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1, "id/created vary across chunks")
    signed = [c for c in chunks if c.model_extra.get("tee_signature")]
    check(len(signed) == 1 and signed[0].choices and signed[0].choices[0].finish_reason, "tee_* must be on the one finishing chunk")
    check_tee(signed[0].model_extra, expect)
    usage_chunks = [c for c in chunks if c.usage is not None]
    check(len(usage_chunks) == 1, f"usage must be reported exactly once, got {len(usage_chunks)}")
    if case.get("include_usage"):
        check(usage_chunks[0].choices == [], "include_usage needs a usage chunk with choices: []")
    if final is None:
        return [], "length", usage_chunks[0].usage
    message = final.choices[0].message
    check((message.content or "") == expect["text"], f"content {message.content!r}")
    calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
    return calls, final.choices[0].finish_reason, final.usage


def openai_completions(client, case, expect):
    kwargs = dict(model=expect["model"], prompt="hi")
    if not case["stream"]:
        response = client.completions.create(**kwargs)
        check(response.id.startswith("cmpl-"), f"id {response.id}")
        check_tee(response.model_extra, expect)
        return response.choices[0].text, response.choices[0].finish_reason, response.usage
    text, finish, usage, signed = "", None, None, []
    for chunk in client.completions.create(stream=True, **kwargs):
        for choice in chunk.choices:
            text += choice.text
            finish = choice.finish_reason or finish
        usage = chunk.usage or usage
        if chunk.model_extra.get("tee_signature"):
            signed.append(chunk)
    check(len(signed) == 1, "tee_* must be on exactly one chunk")
    check_tee(signed[0].model_extra, expect)
    return text, finish, usage


def anthropic_messages(client, case, expect):
    kwargs = dict(model=expect["model"], max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    if not case["stream"]:
        message = client.messages.create(**kwargs)
        extra = message.model_extra
    else:
        with client.messages.stream(**kwargs) as stream:
            events = list(stream)
            message = stream.get_final_message()
        deltas = [e for e in events if e.type == "message_delta"]
        check(len(deltas) == 1, "one message_delta expected")
        extra = deltas[0].model_extra
        check(events[-1].type == "message_stop", f"last event {events[-1].type}")
    check(message.id.startswith("msg_"), f"id {message.id}")
    check(message.model == expect["model"], f"model {message.model}")
    check_tee(extra, expect)
    text = "".join(b.text for b in message.content if b.type == "text")
    uses = [(b.id, b.name, b.input) for b in message.content if b.type == "tool_use"]
    return text, uses, message.stop_reason, message.usage


def run(case, directory):
    expect = case["expect"]
    body = (directory / case["file"]).read_bytes()
    http = mock_client(body, case["status"], case["stream"])
    if case["route"] == "messages":
        client = anthropic.Anthropic(api_key="test", base_url="http://gateway.invalid", http_client=http, max_retries=0)
        error_type = anthropic.APIError
    else:
        client = openai.OpenAI(api_key="test", base_url="http://gateway.invalid/v1", http_client=http, max_retries=0)
        error_type = openai.APIError
    call = {"chat": openai_chat, "completions": openai_completions, "messages": anthropic_messages}[case["route"]]
    if "error" in expect:
        try:
            call(client, case, expect)
        except error_type as error:
            check(expect["error"] in str(error), f"error {error!r} lacks {expect['error']!r}")
            if "status" in expect:
                check(getattr(error, "status_code", None) == expect["status"], f"status {getattr(error, 'status_code', None)}")
            if "param" in expect:
                check(getattr(error, "param", None) == expect["param"], f"param {getattr(error, 'param', None)}")
            return
        raise AssertionError("the SDK accepted an error response")

    if case["route"] == "chat":
        calls, finish, usage = call(client, case, expect)
        check([list(c) for c in calls] == expect["tool_calls"], f"tool calls {calls}")
        check(finish == expect["finish_reason"], f"finish_reason {finish}")
        check(usage.prompt_tokens == expect["prompt_tokens"] and usage.completion_tokens == expect["completion_tokens"], f"usage {usage}")
        check(usage.total_tokens == expect["prompt_tokens"] + expect["completion_tokens"], f"total {usage}")
    elif case["route"] == "completions":
        text, finish, usage = call(client, case, expect)
        check(text == expect["text"], f"text {text!r}")
        check(finish == expect["finish_reason"], f"finish_reason {finish}")
        check(usage.prompt_tokens == expect["prompt_tokens"], f"usage {usage}")
    else:
        text, uses, stop, usage = call(client, case, expect)
        check(text == expect["text"], f"text {text!r}")
        check([[i, n, u] for i, n, u in uses] == expect["tool_uses"], f"tool_use {uses}")
        check(stop == expect["stop_reason"], f"stop_reason {stop}")
        check(usage.input_tokens == expect["input_tokens"] and usage.output_tokens == expect["output_tokens"], f"usage {usage}")


def main():
    directory = pathlib.Path(sys.argv[1])
    cases = json.loads((directory / "cases.json").read_text())
    failures = []
    for case in cases:
        try:
            run(case, directory)
        except Exception as error:  # report every case, not only the first
            failures.append(f"{case['file']}: {type(error).__name__}: {error}")
    print(f"{len(cases) - len(failures)}/{len(cases)} cases accepted by openai {openai.__version__} / anthropic {anthropic.__version__}")
    for failure in failures:
        print("FAIL", failure)
    sys.exit(1 if failures or not cases else 0)


if __name__ == "__main__":
    main()
