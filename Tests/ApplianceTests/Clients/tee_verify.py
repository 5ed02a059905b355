"""An independent verifier of the gateway's signed answers, written from docs/wire-contracts.md and
docs/inference-api.md alone (it shares no code with the Swift implementation).

For one exchange — the exact request bytes a client sent and the exact response bytes (JSON, or the
raw SSE text of a stream) it got back — it checks:

1. the signing key: GET /signing-key returns `public_key` (PEM) and `tee_id`, and
   tee_id == "0x" + keccak256(SubjectPublicKeyInfo DER);
2. tee_request_hash == keccak256(canonical JSON of the route's projection of the request);
3. tee_output_hash == keccak256(the answer): the text (for streams the concatenated deltas), or
   json.dumps(tool_calls, sort_keys=True) when the answer has tool calls;
4. tee_signature is RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) by that key over
   keccak256(request_hash ‖ output_hash ‖ uint256_be(tee_timestamp)), and tee_id names the key.

Any mismatch raises VerificationError naming what differed.

Library use: `SigningKey.fetch(url, cafile)` then `verify_exchange(route, request_bytes, response_bytes,
stream=…, key=…)`. Command line (exit 0 verified, 1 mismatch, 2 unusable input):

    tee_verify.py --url URL --cacert PEM --route chat|completions|messages|anthropic \
                  --request FILE --response FILE [--stream]
"""
import argparse
import base64
import json
import ssl
import sys
import urllib.request

from Crypto.Hash import keccak as _keccak
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

TEE_FIELDS = ("tee_signature", "tee_request_hash", "tee_output_hash", "tee_timestamp", "tee_id")
ROUTES = ("chat", "completions", "messages", "anthropic")


class VerificationError(Exception):
    """The response does not verify; the message says which check failed and how."""


def keccak(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (not SHA3-256)."""
    digest = _keccak.new(digest_bits=256)
    digest.update(data)
    return digest.digest()


def canonical(value) -> bytes:
    """The canonical bytes: Python's json.dumps(sort_keys=True), ASCII-only, default separators."""
    return json.dumps(value, sort_keys=True).encode("utf-8")


def require(condition, message):
    if not condition:
        raise VerificationError(message)


# ---------------------------------------------------------------------------------------------
# Signing key


class SigningKey:
    def __init__(self, pem: str, tee_id: str):
        self.public_key = serialization.load_pem_public_key(pem.encode("ascii"))
        spki = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        computed = "0x" + keccak(spki).hex()
        require(
            computed == tee_id,
            f"/signing-key tee_id {tee_id} is not keccak256 of the key's SPKI DER ({computed})",
        )
        self.tee_id = tee_id

    @classmethod
    def fetch(cls, url: str, cafile: str) -> "SigningKey":
        context = ssl.create_default_context(cafile=cafile)
        with urllib.request.urlopen(url.rstrip("/") + "/signing-key", context=context, timeout=30) as reply:
            document = json.loads(reply.read())
        require(isinstance(document.get("public_key"), str), "/signing-key has no string 'public_key'")
        require(isinstance(document.get("tee_id"), str), "/signing-key has no string 'tee_id'")
        return cls(document["public_key"], document["tee_id"])


# ---------------------------------------------------------------------------------------------
# Request hash (wire-contracts §3)


def _truthy(value):
    return bool(value)


def project_message(message):
    role = message.get("role")
    if role in ("system", "developer"):
        return {"role": role, "content": message.get("content")}
    if role == "user":
        content = message.get("content")
        if isinstance(content, list):
            projected = []
            for part in content:
                if part.get("type") == "text":
                    projected.append({"type": "text", "text": part.get("text")})
                    continue
                out = {"type": part.get("type")}
                file_object = part.get("file") if isinstance(part.get("file"), dict) else {}
                if part.get("filename"):
                    out["filename"] = part["filename"]
                elif file_object.get("filename"):
                    out["filename"] = file_object["filename"]
                projected.append(out)
            content = projected
        return {"role": role, "content": content}
    if role == "assistant":
        out = {"role": role, "content": message.get("content") or ""}
        calls = message.get("tool_calls")
        if calls:
            out["tool_calls"] = [
                {
                    "id": call.get("id"),
                    "type": call.get("type"),
                    "function": {
                        "name": (call.get("function") or {}).get("name"),
                        "arguments": (call.get("function") or {}).get("arguments"),
                    },
                }
                for call in calls
            ]
        return out
    if role == "tool":
        return {"role": role, "content": message.get("content"), "tool_call_id": message.get("tool_call_id")}
    if role == "function":
        return {"role": role, "content": message.get("content"), "name": message.get("name")}
    raise VerificationError(f"cannot project a message with role {role!r}")


def chat_projection(body):
    temperature = body.get("temperature")
    projection = {
        "model": body["model"],
        "messages": [project_message(m) for m in body["messages"]],
        "temperature": float(temperature) if temperature is not None else 0.0,
    }
    if body.get("max_tokens") is not None:
        projection["max_tokens"] = body["max_tokens"]
    if _truthy(body.get("stop")):
        projection["stop"] = body["stop"]
    if isinstance(body.get("tools"), list) and body["tools"]:
        projection["tools"] = body["tools"]
    if isinstance(body.get("response_format"), dict) and body["response_format"]:
        projection["response_format"] = body["response_format"]
    return projection


def completions_projection(body):
    projection = {"model": body["model"], "prompt": body["prompt"]}
    if "temperature" not in body:
        projection["temperature"] = 1.0
    else:
        t = body["temperature"]
        projection["temperature"] = float(t) if t is not None else 0.0
    if "max_tokens" not in body:
        projection["max_tokens"] = 16
    elif body["max_tokens"] is not None:
        projection["max_tokens"] = body["max_tokens"]
    if _truthy(body.get("stop")):
        projection["stop"] = body["stop"]
    return projection


def _compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def anthropic_to_chat(body):
    """docs/inference-api.md "Anthropic → chat": only the fields the chat projection hashes."""
    messages = []
    system = body.get("system")
    if isinstance(system, list):
        system = "\n\n".join(block["text"] for block in system if isinstance(block.get("text"), str))
    if isinstance(system, str) and system:
        messages.append({"role": "system", "content": system})
    for message in body["messages"]:
        role, content = message["role"], message["content"]
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        elif role == "assistant":
            text, calls = "", []
            for block in content:
                if block.get("type") == "text":
                    text += block.get("text", "")
                elif block.get("type") == "tool_use":
                    calls.append(
                        {
                            "id": block.get("id", ""),
                            "type": "function",
                            "function": {"name": block.get("name", ""), "arguments": _compact(block.get("input", {}))},
                        }
                    )
            out = {"role": "assistant", "content": None if (not text and calls) else text}
            if calls:
                out["tool_calls"] = calls
            messages.append(out)
        else:
            tool_messages, parts = [], []
            for block in content:
                kind = block.get("type")
                if kind == "tool_result":
                    texts = []
                    result = block.get("content")
                    if isinstance(result, str):
                        texts.append(result)
                    elif isinstance(result, list):
                        for part in result:
                            if part.get("type") == "image":
                                parts.append({"type": "image_url"})
                            elif isinstance(part.get("text"), str):
                                texts.append(part["text"])
                    if block.get("is_error") is True:
                        texts = ["Error"] if not texts else ["Error: " + texts[0]] + texts[1:]
                    tool_content = (texts[0] if texts else "") if len(texts) <= 1 else [
                        {"type": "text", "text": t} for t in texts
                    ]
                    tool_messages.append(
                        {"role": "tool", "tool_call_id": block.get("tool_use_id", ""), "content": tool_content}
                    )
                elif kind == "text":
                    parts.append({"type": "text", "text": block.get("text", "")})
                elif kind == "image":
                    parts.append({"type": "image_url"})
                elif kind == "document":
                    raise VerificationError("document blocks are not covered by this verifier")
            messages.extend(tool_messages)
            if parts:
                single_text = len(parts) == 1 and parts[0]["type"] == "text"
                messages.append({"role": "user", "content": parts[0]["text"] if single_text else parts})
    chat = {"model": body["model"], "messages": messages}
    if body.get("max_tokens") is not None:
        chat["max_tokens"] = body["max_tokens"]
    chat["temperature"] = body["temperature"] if body.get("temperature") is not None else 1.0
    if _truthy(body.get("stop_sequences")):
        chat["stop"] = body["stop_sequences"]
    if isinstance(body.get("tools"), list) and body["tools"]:
        tools = []
        for tool in body["tools"]:
            function = {"name": tool.get("name", "")}
            if tool.get("description") is not None:
                function["description"] = tool["description"]
            function["parameters"] = tool.get("input_schema", {})
            tools.append({"type": "function", "function": function})
        chat["tools"] = tools
    return chat


def request_projection(route, request_bytes):
    body = json.loads(request_bytes)
    if route == "chat":
        return chat_projection(body)
    if route == "completions":
        return completions_projection(body)
    if route == "messages":
        return chat_projection(anthropic_to_chat(body))
    if route == "anthropic":
        return native_anthropic_projection(body)
    raise VerificationError(f"unknown route {route!r}")


# Native Anthropic (/v1/messages to a Claude model), wire-contracts §3.5.1 and §4.1

NATIVE_REQUEST_FIELDS = ("system", "messages", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences",
                         "tools", "tool_choice", "thinking", "output_config")


def _native_block(block):
    """A request block as hashed: no cache_control; base64 sources without their data."""
    if not isinstance(block, dict):
        return block
    out = {k: v for k, v in block.items() if k != "cache_control"}
    source = out.get("source")
    if isinstance(source, dict) and source.get("type") == "base64":
        out["source"] = {k: v for k, v in source.items() if k != "data"}
    if isinstance(out.get("content"), list):
        out["content"] = [_native_block(b) for b in out["content"]]
    return out


def native_anthropic_projection(body):
    projected = {"model": body["model"]}
    for key in NATIVE_REQUEST_FIELDS:
        value = body.get(key)
        if value is None:
            continue
        if key == "messages":
            value = [
                {**m, "content": [_native_block(b) for b in m["content"]]} if isinstance(m.get("content"), list) else m
                for m in value
            ]
        elif key in ("system", "tools") and isinstance(value, list):
            value = [_native_block(b) for b in value]
        projected[key] = value
    return projected


def native_output_block(block):
    kind = block["type"]
    keys = {"text": ("text",), "thinking": ("thinking",), "redacted_thinking": ("data",),
            "tool_use": ("id", "name", "input"), "server_tool_use": ("id", "name", "input")}.get(kind)
    if keys is None:
        return {k: v for k, v in block.items() if k not in ("citations", "cache_control")}
    return {"type": kind, **{k: block.get(k) for k in keys}}


class NativeAnswer:
    """A native Anthropic answer: its content blocks and the tee_* fields."""

    def __init__(self, content, fields, detail):
        self.content = content
        self.fields = fields
        self.detail = detail
        self.tool_calls = [b for b in content if b["type"] == "tool_use"]
        self.text = "".join(b.get("text", "") for b in content if b["type"] == "text")

    def output_hash(self) -> str:
        return keccak(canonical([native_output_block(b) for b in self.content])).hex()


def native_anthropic_answer(response_bytes, stream):
    if not stream:
        body = json.loads(response_bytes)
        require(body.get("type") == "message", f"not an Anthropic message: {body.get('type')!r}")
        return NativeAnswer(body["content"], _tee(body, "message"), {})
    events = sse_events(response_bytes)
    names = [name for name, _ in events]
    require(names and names[0] == "message_start", f"stream does not open with message_start: {names[:3]}")
    require(names[-1] == "message_stop", f"stream does not end with message_stop: {names[-3:]}")
    blocks, partial, signed = {}, {}, []
    for name, data in events:
        event = json.loads(data)
        require(name != "error", f"the stream carried an error: {event.get('error')}")
        if name == "content_block_start":
            blocks[event["index"]] = dict(event["content_block"])
        elif name == "content_block_delta":
            block, delta = blocks[event["index"]], event["delta"]
            for kind, field in (("text_delta", "text"), ("thinking_delta", "thinking"), ("signature_delta", "signature")):
                if delta["type"] == kind:
                    block[field] = block.get(field, "") + delta[field]
            if delta["type"] == "input_json_delta":
                partial[event["index"]] = partial.get(event["index"], "") + delta["partial_json"]
        elif name == "content_block_stop" and event["index"] in partial:
            text = partial.pop(event["index"])
            blocks[event["index"]]["input"] = json.loads(text) if text.strip() else {}
        elif name == "message_delta" and "tee_signature" in event:
            signed.append(event)
    require(len(signed) == 1, f"expected tee_* on exactly one message_delta, found {len(signed)}")
    return NativeAnswer([blocks[i] for i in sorted(blocks)], _tee(signed[0], "message_delta"), {"events": names})


def request_hash(route, request_bytes) -> str:
    return keccak(canonical(request_projection(route, request_bytes))).hex()


# ---------------------------------------------------------------------------------------------
# Answers (wire-contracts §4)


class Answer:
    """What the client received: text, tool calls in index order, and the tee_* fields."""

    def __init__(self, text, tool_calls, fields, detail):
        self.text = text
        self.tool_calls = tool_calls
        self.fields = fields
        self.detail = detail  # extra facts for the caller's report (chunk counts, event names)

    def output_hash(self) -> str:
        if self.tool_calls:
            calls = [
                {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                for c in self.tool_calls
            ]
            return keccak(json.dumps(calls, sort_keys=True).encode("utf-8")).hex()
        return keccak(self.text.encode("utf-8")).hex()


def _tee(obj, where):
    missing = [f for f in TEE_FIELDS if f not in obj]
    require(not missing, f"{where} lacks {', '.join(missing)}")
    return {f: obj[f] for f in TEE_FIELDS}


def sse_events(raw: bytes):
    """(event name or None, data text) per SSE event, in order."""
    text = raw.decode("utf-8").replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, "\n".join(data)))
    return events


def chat_answer(response_bytes, stream):
    if not stream:
        body = json.loads(response_bytes)
        message = body["choices"][0]["message"]
        calls = [
            {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for c in message.get("tool_calls") or []
        ]
        return Answer(message.get("content") or "", calls, _tee(body, "chat.completion"), {})
    return _openai_stream_answer(response_bytes, completions=False)


def completions_answer(response_bytes, stream):
    if not stream:
        body = json.loads(response_bytes)
        return Answer(body["choices"][0]["text"], [], _tee(body, "text_completion"), {})
    return _openai_stream_answer(response_bytes, completions=True)


def _openai_stream_answer(raw, completions):
    events = sse_events(raw)
    require(events and events[-1][1] == "[DONE]", "the stream does not end with data: [DONE]")
    text, calls, signed, chunks, fragments = "", {}, [], 0, 0
    for _, data in events[:-1]:
        chunk = json.loads(data)
        require("error" not in chunk, f"the stream carried an error: {chunk.get('error')}")
        chunks += 1
        if "tee_signature" in chunk:
            signed.append(chunk)
        for choice in chunk.get("choices", []):
            if completions:
                text += choice.get("text") or ""
                continue
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            for fragment in delta.get("tool_calls") or []:
                call = calls.setdefault(fragment["index"], {"id": None, "name": None, "arguments": ""})
                if fragment.get("id"):
                    call["id"] = fragment["id"]
                function = fragment.get("function") or {}
                if function.get("name"):
                    call["name"] = function["name"]
                if function.get("arguments"):
                    call["arguments"] += function["arguments"]
                    fragments += 1
    require(len(signed) == 1, f"expected exactly one chunk with tee_signature, found {len(signed)}")
    ordered = [calls[i] for i in sorted(calls)]
    detail = {"chunks": chunks, "argument_fragments": fragments}
    return Answer(text, ordered, _tee(signed[0], "the signed chunk"), detail)


def messages_answer(response_bytes, stream):
    if not stream:
        body = json.loads(response_bytes)
        text, calls = "", []
        for block in body["content"]:
            if block["type"] == "text":
                text += block["text"]
            elif block["type"] == "tool_use":
                # The signed arguments text is not on the wire here; the gateway's tool_use input is
                # its compact JSON re-parsed, so re-serialising it compactly (key order kept) gives it
                # back for the arguments a model writes compactly (the local model does).
                calls.append({"id": block["id"], "name": block["name"], "arguments": _compact(block["input"])})
        return Answer(text, calls, _tee(body, "message"), {})
    events = sse_events(response_bytes)
    names = [name for name, _ in events]
    require(names and names[0] == "message_start", f"stream does not open with message_start: {names[:3]}")
    require(names[-1] == "message_stop", f"stream does not end with message_stop: {names[-3:]}")
    text, calls, signed, open_block = "", [], [], None
    for name, data in events:
        event = json.loads(data)
        require(event.get("type") == name, f"event {name} carries type {event.get('type')}")
        require(name != "error", f"the stream carried an error: {event.get('error')}")
        if name == "content_block_start":
            require(open_block is None, "a content block opened while another was open")
            open_block = event["index"]
            block = event["content_block"]
            if block["type"] == "tool_use":
                calls.append({"id": block["id"], "name": block["name"], "arguments": "", "index": event["index"]})
        elif name == "content_block_delta":
            require(event["index"] == open_block, f"delta for block {event['index']} while {open_block} is open")
            delta = event["delta"]
            if delta["type"] == "text_delta":
                text += delta["text"]
            elif delta["type"] == "input_json_delta":
                require(calls and calls[-1]["index"] == open_block, "input_json_delta outside a tool_use block")
                calls[-1]["arguments"] += delta["partial_json"]
        elif name == "content_block_stop":
            require(event["index"] == open_block, "content_block_stop for a block that is not open")
            open_block = None
        elif name == "message_delta" and "tee_signature" in event:
            signed.append(event)
    require(len(signed) == 1, f"expected tee_* on exactly one message_delta, found {len(signed)}")
    return Answer(text, calls, _tee(signed[0], "message_delta"), {"events": names})


ANSWER_READERS = {"chat": chat_answer, "completions": completions_answer, "messages": messages_answer,
                  "anthropic": native_anthropic_answer}


# ---------------------------------------------------------------------------------------------
# Signature (wire-contracts §2)


def verify_signature(fields, key: SigningKey):
    require(fields["tee_id"] == key.tee_id, f"tee_id {fields['tee_id']} is not the signing key's {key.tee_id}")
    timestamp = fields["tee_timestamp"]
    require(isinstance(timestamp, int) and not isinstance(timestamp, bool) and timestamp >= 0,
            f"tee_timestamp {timestamp!r} is not a non-negative integer")
    try:
        request_digest = bytes.fromhex(fields["tee_request_hash"])
        output_digest = bytes.fromhex(fields["tee_output_hash"])
        signature = base64.b64decode(fields["tee_signature"], validate=True)
    except ValueError as error:
        raise VerificationError(f"malformed tee_* field: {error}") from error
    require(len(request_digest) == 32 and len(output_digest) == 32, "tee hashes are not 32 bytes")
    message = keccak(request_digest + output_digest + timestamp.to_bytes(32, "big"))
    try:
        key.public_key.verify(
            signature,
            message,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        )
    except InvalidSignature as error:
        raise VerificationError("tee_signature is not a valid RSA-PSS signature over the signed message") from error


def verify_exchange(route, request_bytes, response_bytes, stream, key: SigningKey):
    """Verifies one exchange end to end; returns the Answer (raises VerificationError)."""
    require(route in ANSWER_READERS, f"unknown route {route!r}; expected one of {ROUTES}")
    answer = ANSWER_READERS[route](response_bytes, stream)
    expected_request = request_hash(route, request_bytes)
    require(
        answer.fields["tee_request_hash"] == expected_request,
        f"tee_request_hash {answer.fields['tee_request_hash']} != recomputed {expected_request}",
    )
    expected_output = answer.output_hash()
    require(
        answer.fields["tee_output_hash"] == expected_output,
        f"tee_output_hash {answer.fields['tee_output_hash']} != recomputed {expected_output} "
        f"(of {'tool calls' if answer.tool_calls else 'text'} {answer.tool_calls or answer.text!r})",
    )
    verify_signature(answer.fields, key)
    return answer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--cacert", required=True)
    parser.add_argument("--route", required=True, choices=ROUTES)
    parser.add_argument("--request", required=True)
    parser.add_argument("--response", required=True)
    parser.add_argument("--stream", action="store_true")
    args = parser.parse_args(argv)
    try:
        with open(args.request, "rb") as f:
            request_bytes = f.read()
        with open(args.response, "rb") as f:
            response_bytes = f.read()
        key = SigningKey.fetch(args.url, args.cacert)
    except (OSError, ValueError) as error:
        print(json.dumps({"verified": False, "unusable": str(error)}))
        return 2
    try:
        answer = verify_exchange(args.route, request_bytes, response_bytes, args.stream, key)
    except (VerificationError, ValueError, KeyError, TypeError) as error:
        print(json.dumps({"verified": False, "error": f"{type(error).__name__}: {error}"}))
        return 1
    print(json.dumps({"verified": True, "tee_output_hash": answer.fields["tee_output_hash"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
