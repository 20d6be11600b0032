"""The Kardia server: an OpenAI-compatible chat-completions API and a chat page, in one FastAPI app.

Endpoints: ``POST /v1/chat/completions`` (streaming and not), ``GET /v1/models``, ``GET /health`` and
the chat page at ``/``.

Two modes per request
---------------------
**Kardia mode** builds the Kardia-R1 prompt, parses the four spans and puts the response span in
``choices[0].message.content``; the parsed spans come in an extra ``kardia`` object (understanding,
reasoning, emotion, emotion_label, problems, well_formed, safety). Every user message and reply passes
the crisis-safety layer: a flagged user message gets the safe reply without calling the model, a flagged
reply is replaced; ``kardia.safety.flagged`` is then true and the turn is logged.

**Pass-through mode** ("raw") generates on the messages as given and returns the model's raw completion
as content, with no span parsing and no safety screening, so judges and data builders can use the server
as a plain OpenAI-compatible endpoint for any prompt.

The mode is chosen in this order:

1. ``"raw": true`` in the body, or the header ``X-Kardia-Mode: raw`` → pass-through;
   ``"raw": false`` or ``X-Kardia-Mode: kardia`` → Kardia mode (a non-Kardia system message is then
   read as the situation).
2. ``persona`` / ``situation`` fields → Kardia mode with those (a system message as well is an error).
3. ``logprobs`` or ``continue_final_message`` requested → pass-through (scoring requests).
4. A system message that already is a Kardia prompt (it names the four span tags) → Kardia mode, as-is.
5. Any other system message → pass-through.
6. No system message → Kardia mode with an empty persona and situation.

Streaming sends the completed, safety-checked reply as server-sent events (``data: {chunk}`` … ``data:
[DONE]``) in word-sized pieces: the reply must be screened before any of it is shown, so generation is
not streamed token by token.

Log-probabilities (pass-through, ``max_tokens: 1``, backends with a transformers model) come in
OpenAI's ``choices[0].logprobs.content[0].top_logprobs`` format; with ``continue_final_message: true``
the final assistant message is continued (vLLM's extension), which the rubric judge's logprob mode uses.

Limits: request body size (413), number of messages and ``max_tokens`` (400), requests in flight (429
with ``Retry-After``). Errors use OpenAI's ``{"error": {...}}`` object; internal errors are logged and
answered with a generic 500. With an API key configured, ``/v1/*`` needs ``Authorization: Bearer KEY``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kardia.models.base import ChatModel, GenerationConfig
from kardia.prompts import turn_messages
from kardia.serve.engine import BatchingEngine, LogprobsUnsupported
from kardia.serve.safety import SafetyLayer
from kardia.serve.turns import KardiaTurn, finish_turn, is_kardia_prompt, last_user_text, screen_user

logger = logging.getLogger("kardia.serve")
NOT_GIVEN = "(not given)"
MAX_TOP_LOGPROBS = 20


@dataclass
class ServeConfig:
    """Server settings.

    Attributes:
        model_name: the id `/v1/models` lists and responses carry.
        api_key: when set, `/v1/*` requires ``Authorization: Bearer <api_key>``.
        max_body_bytes: larger request bodies get 413.
        max_messages: more messages in one request get 400.
        max_tokens_cap: a larger ``max_tokens`` gets 400.
        default_max_tokens: used when the request gives none.
        max_concurrency: completion requests in flight (queued or running); more get 429.
        batch_size: most requests in one model call.
        batch_wait_ms: how long an idle engine waits to batch a first request.
        locale: crisis-resources locale when the request gives none (e.g. ``en-GB``).
    """

    model_name: str = "kardia"
    api_key: str | None = None
    max_body_bytes: int = 1_000_000
    max_messages: int = 128
    max_tokens_cap: int = 1024
    default_max_tokens: int = 256
    max_concurrency: int = 32
    batch_size: int = 8
    batch_wait_ms: float = 5.0
    locale: str = "en-US"


# -- request schema --------------------------------------------------------------------------------


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """The body of ``POST /v1/chat/completions``: OpenAI's fields plus Kardia's extras."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice per request is supported.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=MAX_TOP_LOGPROBS)
    continue_final_message: bool = False
    add_generation_prompt: bool = True
    # Kardia extras
    persona: str | None = None
    situation: str | None = None
    raw: bool | None = None
    locale: str | None = None

    @field_validator("temperature", "top_p", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any, info: Any) -> Any:
        return {"temperature": 0.0, "top_p": 1.0}[info.field_name] if value is None else value


class RequestError(Exception):
    """A client error, answered with an OpenAI-style error object."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.headers = status, message, param, code, headers


def error_body(message: str, type_: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _error_response(exc: RequestError) -> JSONResponse:
    type_ = {401: "authentication_error", 413: "invalid_request_error", 429: "rate_limit_error"}.get(
        exc.status, "invalid_request_error")
    return JSONResponse(error_body(exc.message, type_, param=exc.param, code=exc.code), exc.status, headers=exc.headers)


def _validation_message(exc: ValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0]
    param = ".".join(str(p) for p in first["loc"]) or None
    extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"invalid request: {param}: {first['msg']}{extra}", param


# -- the app ---------------------------------------------------------------------------------------


class BodySizeLimit:
    """ASGI middleware: answer 413 to bodies over `limit` bytes (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._reject(send)
        seen = 0

        async def counting_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await self._reject(send)

    async def _reject(self, send: Any) -> None:
        body = json.dumps(error_body(f"request body larger than {self.limit} bytes", "invalid_request_error",
                                     code="request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def create_app(model: ChatModel, config: ServeConfig | None = None, *, safety: SafetyLayer | None = None) -> FastAPI:
    """The FastAPI app serving `model`. The batching engine starts and stops with the app's lifespan."""
    config = config or ServeConfig()
    safety = safety or SafetyLayer(locale=config.locale)
    engine = BatchingEngine(model, max_batch_size=config.batch_size, max_wait_ms=config.batch_wait_ms)
    tokenizer = getattr(model, "tokenizer", None)
    in_flight = 0

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await engine.start()
        yield
        await engine.stop()

    app = FastAPI(title="Kardia", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.config = config
    app.add_middleware(BodySizeLimit, limit=config.max_body_bytes)

    @app.exception_handler(RequestError)
    async def _request_error(_: Request, exc: RequestError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal server error", "server_error"), 500)

    def authorize(request: Request) -> None:
        if config.api_key is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), config.api_key.encode()):
            raise RequestError(401, "missing or invalid API key (send 'Authorization: Bearer <key>')",
                               code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/health")
    async def health() -> dict[str, Any]:
        stats = engine.stats
        return {"status": "ok", "model": config.model_name, "in_flight": in_flight,
                "batching": {"model_calls": stats.model_calls, "requests": stats.requests, "largest_batch": stats.largest_batch}}

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(files("kardia.serve").joinpath("static/index.html").read_text(encoding="utf-8"))

    @app.get("/v1/models")
    async def list_models(request: Request) -> dict[str, Any]:
        authorize(request)
        return {"object": "list", "data": [{"id": config.model_name, "object": "model", "created": 0, "owned_by": "kardia"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        nonlocal in_flight
        authorize(request)
        body = await _read_json(request)
        try:
            req = ChatCompletionRequest.model_validate(body)
        except ValidationError as exc:
            message, param = _validation_message(exc)
            raise RequestError(400, message, param=param) from None
        _check_limits(req, config)
        if in_flight >= config.max_concurrency:
            raise RequestError(429, f"the server is busy ({in_flight} requests in flight); retry shortly",
                               code="server_busy", headers={"Retry-After": "1"})
        in_flight += 1
        try:
            mode = choose_mode(req, request.headers.get("x-kardia-mode"))
            if mode == "raw":
                result = await _raw_completion(req, engine, config)
            else:
                result = await _kardia_completion(req, engine, config, safety, tokenizer)
        finally:
            in_flight -= 1
        completion = _completion_object(req, config, **result)
        if req.stream:
            return StreamingResponse(_sse(completion, req), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return JSONResponse(completion)

    return app


async def _read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"the request body is not valid JSON: {exc}") from None


def _check_limits(req: ChatCompletionRequest, config: ServeConfig) -> None:
    if len(req.messages) > config.max_messages:
        raise RequestError(400, f"too many messages: {len(req.messages)} (at most {config.max_messages})", param="messages")
    limit = req.max_completion_tokens or req.max_tokens
    if limit is not None and limit > config.max_tokens_cap:
        raise RequestError(400, f"max_tokens {limit} exceeds this server's cap of {config.max_tokens_cap}", param="max_tokens")


def choose_mode(req: ChatCompletionRequest, header: str | None) -> Literal["kardia", "raw"]:
    """Kardia or pass-through mode, by the rules in the module docstring."""
    forced = (header or "").strip().lower()
    if forced not in ("", "raw", "kardia"):
        raise RequestError(400, f"X-Kardia-Mode must be 'raw' or 'kardia', not {header!r}")
    if req.raw is not None:
        return "raw" if req.raw else "kardia"
    if forced:
        return forced  # type: ignore[return-value]
    if req.persona is not None or req.situation is not None:
        return "kardia"
    if req.logprobs or req.continue_final_message:
        return "raw"
    system = [m for m in req.messages if m.role in ("system", "developer")]
    if not system:
        return "kardia"
    return "kardia" if is_kardia_prompt(system[0].text()) else "raw"


def _generation_config(req: ChatCompletionRequest, config: ServeConfig) -> GenerationConfig:
    stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
    return GenerationConfig(
        max_new_tokens=req.max_completion_tokens or req.max_tokens or config.default_max_tokens,
        temperature=req.temperature, top_p=req.top_p, seed=req.seed if req.seed is not None else 0, stop=stop,
    )


def _plain_messages(req: ChatCompletionRequest) -> list[dict[str, str]]:
    return [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in req.messages]


def kardia_messages(req: ChatCompletionRequest) -> list[dict[str, str]]:
    """The Kardia prompt for a Kardia-mode request (see the module docstring)."""
    messages = _plain_messages(req)
    system = [m for m in messages if m["role"] == "system"]
    dialogue = [m for m in messages if m["role"] != "system"]
    if req.persona is not None or req.situation is not None:
        if system:
            raise RequestError(400, "give persona/situation fields or a system message, not both", param="messages")
        return turn_messages(req.persona or NOT_GIVEN, req.situation or NOT_GIVEN, dialogue)
    if system and is_kardia_prompt(system[0]["content"]):
        return messages
    situation = "\n".join(m["content"] for m in system) or NOT_GIVEN
    return turn_messages(NOT_GIVEN, situation, dialogue)


async def _kardia_completion(req: ChatCompletionRequest, engine: BatchingEngine, config: ServeConfig,
                             safety: SafetyLayer, tokenizer: Any) -> dict[str, Any]:
    if req.logprobs:
        raise RequestError(400, "logprobs are available in pass-through mode only (send \"raw\": true)", param="logprobs")
    messages = kardia_messages(req)
    if not messages or messages[-1]["role"] != "user":
        raise RequestError(400, "in Kardia mode the last message must be the user's", param="messages")
    user_text = last_user_text(messages)
    locale = req.locale or config.locale
    turn: KardiaTurn | None = screen_user(safety, user_text, locale)
    usage = (0, 0)
    finish = "stop"
    if turn is None:
        generation = await engine.generate(messages, _generation_config(req, config))
        _raise_if_failed(generation.error)
        usage = (generation.prompt_tokens, generation.completion_tokens)
        finish = generation.finish_reason or "stop"
        turn = finish_turn(safety, user_text, generation.text, locale, tokenizer=tokenizer)
    if turn.flagged:
        finish = "stop"
    return {"content": turn.content, "finish_reason": finish, "usage": usage, "kardia": turn.kardia_field()}


async def _raw_completion(req: ChatCompletionRequest, engine: BatchingEngine, config: ServeConfig) -> dict[str, Any]:
    messages = _plain_messages(req)
    prefix = ""
    if req.continue_final_message:
        if messages[-1]["role"] != "assistant":
            raise RequestError(400, "continue_final_message needs a final assistant message", param="messages")
        prefix = messages.pop()["content"]
        if not messages:
            raise RequestError(400, "continue_final_message needs messages before the final assistant message", param="messages")
    if req.logprobs or req.continue_final_message:
        max_tokens = req.max_completion_tokens or req.max_tokens
        if max_tokens != 1:
            raise RequestError(400, "logprobs and continue_final_message are supported with max_tokens=1 only "
                                    "(next-token scoring)", param="max_tokens")
        try:
            top = await engine.top_tokens(messages, prefix, req.top_logprobs or 0)
        except LogprobsUnsupported as exc:
            raise RequestError(400, str(exc), param="logprobs") from None
        token, logprob = top.chosen
        logprobs = {"content": [{
            **_token_entry(token, logprob),
            "top_logprobs": [_token_entry(t, lp) for t, lp in top.top],
        }]} if req.logprobs else None
        return {"content": token, "finish_reason": "length", "usage": (top.prompt_tokens, 1),
                "kardia": {"mode": "raw"}, "logprobs": logprobs}
    generation = await engine.generate(messages, _generation_config(req, config))
    _raise_if_failed(generation.error)
    return {"content": generation.text, "finish_reason": generation.finish_reason or "stop",
            "usage": (generation.prompt_tokens, generation.completion_tokens), "kardia": {"mode": "raw"}}


def _token_entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def _raise_if_failed(error: str | None) -> None:
    if error is not None:
        logger.error("generation failed: %s", error)
        raise RuntimeError("generation failed")  # answered as a generic 500


def _completion_object(req: ChatCompletionRequest, config: ServeConfig, *, content: str, finish_reason: str,
                       usage: tuple[int, int], kardia: dict[str, Any], logprobs: dict | None = None) -> dict[str, Any]:
    prompt_tokens, completion_tokens = usage
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": config.model_name,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "logprobs": logprobs, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "kardia": kardia,
    }


_PIECE = re.compile(r"\s*\S+\s*|\s+")


def _sse(completion: dict[str, Any], req: ChatCompletionRequest) -> Iterator[str]:
    """The completion as `chat.completion.chunk` events: role, word-sized content pieces, finish, [DONE]."""
    base = {"id": completion["id"], "object": "chat.completion.chunk", "created": completion["created"],
            "model": completion["model"]}
    choice = completion["choices"][0]

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for piece in _PIECE.findall(choice["message"]["content"]):
        yield event({"content": piece})
    final = {**base, "choices": [{"index": 0, "delta": {}, "logprobs": choice["logprobs"],
                                  "finish_reason": choice["finish_reason"]}], "kardia": completion["kardia"]}
    yield f"data: {json.dumps(final, ensure_ascii=False)}\n\n"
    if req.stream_options and req.stream_options.include_usage:
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': completion['usage']})}\n\n"
    yield "data: [DONE]\n\n"
