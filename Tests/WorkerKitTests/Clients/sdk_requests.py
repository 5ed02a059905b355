"""The official provider SDKs (google-genai, anthropic, openai) send the scenarios of
SDKComparisonTests straight to a recording server (the Swift test's MockUpstream), so the test can
compare, body for body, what each SDK sends with what the gateway sends for the same scenario.

    sdk_requests.py BASE_URL

Responses are not the point (the mock answers with placeholders), so response parsing errors are
ignored; every request is sent exactly once (retries off), in the order SCENARIOS lists them.
"""
import base64
import sys

import anthropic
import openai
from google import genai
from google.genai import types

BASE = sys.argv[1]
PNG = base64.b64decode("iVBORw0KGgo=")
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}


def attempt(call):
    try:
        result = call()
        if hasattr(result, "__iter__") and not isinstance(result, (dict, list, str)):
            for _ in result:
                pass
    except Exception:  # noqa: BLE001 - the placeholder answers need not parse
        pass


# --- Gemini (google-genai, v1beta) ---------------------------------------------------------

gemini = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=BASE, api_version="v1beta"))
G = "gemini-3-pro-preview"
weather = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="get_weather", description="Weather", parameters_json_schema=WEATHER_SCHEMA)])
history = [
    types.Content(role="user", parts=[types.Part(text="Hi")]),
    types.Content(role="model", parts=[types.Part(text="Hello!")]),
    types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
]


def g(contents, **config):
    config.setdefault("system_instruction", "Be brief.")
    return lambda: gemini.models.generate_content(model=G, contents=contents, config=types.GenerateContentConfig(**config))


def g_stream(contents, **config):
    config.setdefault("system_instruction", "Be brief.")
    return lambda: gemini.models.generate_content_stream(model=G, contents=contents, config=types.GenerateContentConfig(**config))


tool_turns = history + [
    types.Content(role="model", parts=[types.Part(
        function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"}), thought_signature=b"sig-bytes")]),
    types.Content(role="user", parts=[types.Part(
        function_response=types.FunctionResponse(name="get_weather", response={"temp": 21}))]),
]
GEMINI = [
    g(history, system_instruction="Be brief.", temperature=0.5, top_p=0.9, max_output_tokens=100,
      stop_sequences=["END"], seed=7, presence_penalty=0.4, frequency_penalty=0.2),
    g(history, tools=[weather], tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="AUTO"))),
    g(history, tools=[weather], tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(
        mode="ANY", allowed_function_names=["get_weather"]))),
    g(history, tools=[weather], tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="NONE"))),
    g(tool_turns, tools=[weather], tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="AUTO"))),
    g(history, response_mime_type="application/json", response_json_schema=SCHEMA),
    g([types.Content(role="user", parts=[types.Part(text="What is this?"),
                                         types.Part(inline_data=types.Blob(mime_type="image/png", data=PNG))])],
      system_instruction=None),
    g_stream(history, temperature=0.5),
    g(history, thinking_config=types.ThinkingConfig(thinking_level="high")),
]

# --- Anthropic (anthropic SDK, Messages) ----------------------------------------------------

claude = anthropic.Anthropic(api_key="k", base_url=BASE, max_retries=0)
C = "claude-haiku-4-5-20251001"
turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
         {"role": "user", "content": "Weather in Paris?"}]
tool = {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA}
ANTHROPIC = [
    # anthropic 2.17 has no sampling parameters in its signature; a client sets them through extra_body.
    lambda: claude.messages.create(model=C, max_tokens=100, system="Be brief.", stop_sequences=["END"],
                                   messages=turns, extra_body={"temperature": 0.5}),
    lambda: claude.messages.create(model=C, max_tokens=100, system="Be brief.", messages=turns, tools=[tool], tool_choice={"type": "auto"}),
    lambda: claude.messages.create(model=C, max_tokens=100, system="Be brief.", messages=turns, tools=[tool],
                                   tool_choice={"type": "tool", "name": "get_weather"}),
    lambda: claude.messages.create(model=C, max_tokens=100, system="Be brief.", messages=turns, tools=[tool], tool_choice={"type": "none"}),
    lambda: claude.messages.create(model=C, max_tokens=100, system="Be brief.", tools=[tool], tool_choice={"type": "auto"}, messages=turns + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "21C"}]}]),
    lambda: claude.messages.create(model=C, max_tokens=100, system="Be brief.", messages=turns, tools=[
        {"name": "answer", "description": "Respond with your answer as this tool's input.", "input_schema": SCHEMA}],
        tool_choice={"type": "tool", "name": "answer"}),
    lambda: claude.messages.create(model=C, max_tokens=100, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]}]),
    lambda: claude.messages.create(model=C, max_tokens=100, system="Be brief.", messages=turns, stream=True, extra_body={"temperature": 0.5}),
    lambda: claude.messages.create(model=C, max_tokens=20480, system="Be brief.", messages=turns, thinking={"type": "enabled", "budget_tokens": 16384}),
]

# --- OpenAI (openai SDK, Chat Completions) --------------------------------------------------

oai = openai.OpenAI(api_key="k", base_url=BASE + "/v1", max_retries=0)
O = "gpt-4.1-2025-04-14"
chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Weather in Paris?"}]
fn = {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_SCHEMA}}
OPENAI = [
    lambda: oai.chat.completions.create(model=O, messages=chat, temperature=0.5, top_p=0.9, max_completion_tokens=100,
                                        stop=["END"], seed=7, presence_penalty=0.4, frequency_penalty=0.2),
    lambda: oai.chat.completions.create(model=O, messages=chat, tools=[fn], tool_choice="auto"),
    lambda: oai.chat.completions.create(model=O, messages=chat, tools=[fn],
                                        tool_choice={"type": "function", "function": {"name": "get_weather"}}),
    lambda: oai.chat.completions.create(model=O, messages=chat, tools=[fn], tool_choice="none"),
    lambda: oai.chat.completions.create(model=O, tools=[fn], messages=chat + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "21C"}]),
    lambda: oai.chat.completions.create(model=O, messages=chat, response_format={
        "type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True}}),
    lambda: oai.chat.completions.create(model=O, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]),
    lambda: oai.chat.completions.create(model=O, messages=chat, temperature=0.5, stream=True,
                                        stream_options={"include_usage": True}),
    lambda: oai.chat.completions.create(model=O, messages=chat, reasoning_effort="high"),
]

for call in GEMINI + ANTHROPIC + OPENAI:
    attempt(call)
print("sent", len(GEMINI) + len(ANTHROPIC) + len(OPENAI))
