"""The live view: play sessions' frames from Redis (published by the edge relay's live tap).

GET /v1/live                      the sessions that published a frame in the last ACTIVE_S seconds
GET /v1/live/{session}            the latest frame's meta (steering, model, latency, autonomy, ...)
GET /v1/live/{session}/frame.jpg  the latest frame (JPEG), its meta in the X-Live-Meta header
GET /v1/live/{session}/stream     MJPEG (multipart/x-mixed-replace): every frame as it is published,
                                  each part with Content-Length and X-Live-Meta; ends with the session

The bearer token may also come as `?token=` so an <img> tag or a video player can show the stream.
Redis keys: see tensorkart_capture.live_tap (the trainer does not import capture; the names are
the contract between the two).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import redis
import redis.asyncio as aioredis
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import Response, StreamingResponse

from tensorkart_core.auth import token_matches
from tensorkart_trainer.api.deps import SettingsDep
from tensorkart_trainer.api.live_schemas import LiveFrameMeta, LiveSessions
from tensorkart_trainer.api.schemas import NAME_MAX_LENGTH, NAME_PATTERN

SESSIONS_KEY = "tensorkart:live:sessions"
ACTIVE_S = 10.0  # a session that published nothing for this long is not listed
BOUNDARY = "tensorkart-live"
RESPONSES = {404: {"description": "no live frames from this session"}, 400: {"description": "invalid session name"}}
Session = Annotated[
    str, Path(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH, description="a play session, e.g. play-20261129-214000")
]


def session_key(session: str) -> str:
    return f"tensorkart:live:{session}"


def require_token_or_query(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Query(include_in_schema=False)] = None
) -> None:
    """401 unless `Authorization: Bearer <token>` or `?token=<token>` matches TENSORKART_TOKEN (when set)."""
    if not settings.token:
        return
    if token_matches(request.headers.get("authorization"), settings.token):
        return
    if token is not None and token_matches(f"Bearer {token}", settings.token):
        return
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="missing or invalid bearer token",
        headers={"WWW-Authenticate": "Bearer"},
    )


router = APIRouter(prefix="/v1/live", tags=["live"])


def _client(settings: SettingsDep) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url)


def _latest(settings: SettingsDep, session: str) -> tuple[dict[str, Any], bytes]:
    client = _client(settings)
    try:
        raw = client.hmget(session_key(session), ["meta", "jpeg"])
    finally:
        client.close()
    if not raw[0] or not raw[1]:
        raise HTTPException(404, f"no live frames from session {session!r} (see GET /v1/live)")
    return json.loads(raw[0]), raw[1]


@router.get("")
def list_sessions(settings: SettingsDep) -> LiveSessions:
    """Play sessions with a frame in the last ACTIVE_S seconds, newest first, with their latest meta."""
    client = _client(settings)
    try:
        names = [n.decode() for n in client.zrevrangebyscore(SESSIONS_KEY, "+inf", time.time() - ACTIVE_S)]
        metas = [client.hget(session_key(name), "meta") for name in names]
    finally:
        client.close()
    return LiveSessions(sessions=[LiveFrameMeta.model_validate_json(m) for m in metas if m])


@router.get("/{session}", responses=RESPONSES)
def session_meta(settings: SettingsDep, session: Session) -> LiveFrameMeta:
    meta, _ = _latest(settings, session)
    return LiveFrameMeta.model_validate(meta)


@router.get(
    "/{session}/frame.jpg",
    responses={**RESPONSES, 200: {"content": {"image/jpeg": {}}, "description": "the latest frame"}},
    response_class=Response,
)
def latest_frame(settings: SettingsDep, session: Session) -> Response:
    meta, jpeg = _latest(settings, session)
    headers = {"X-Live-Meta": json.dumps(meta), "Cache-Control": "no-store"}
    return Response(jpeg, media_type="image/jpeg", headers=headers)


def _part(meta: bytes, jpeg: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Live-Meta: {meta.decode()}\r\n\r\n"
    )
    return head.encode() + jpeg + b"\r\n"


async def _frames(request: Request, redis_url: str, session: str, first: tuple[bytes, bytes]) -> AsyncIterator[bytes]:
    client = aioredis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(session_key(session))
    try:
        yield _part(*first)
        last_frame = time.monotonic()
        while time.monotonic() - last_frame < ACTIVE_S and not await request.is_disconnected():
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                continue
            meta, _, jpeg = bytes(message["data"]).partition(b"\n")
            if not jpeg:  # the session's last message: ended
                break
            last_frame = time.monotonic()
            yield _part(meta, jpeg)
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()
        await client.aclose()


@router.get(
    "/{session}/stream",
    responses={**RESPONSES, 200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}}},
    response_class=StreamingResponse,
)
def stream(request: Request, settings: SettingsDep, session: Session) -> StreamingResponse:
    """MJPEG: the session's frames as they are published (about LIVE_FPS a second), until it ends."""
    meta, jpeg = _latest(settings, session)
    return StreamingResponse(
        _frames(request, settings.redis_url, session, (json.dumps(meta).encode(), jpeg)),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
