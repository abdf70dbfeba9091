"""The server side must never create a decoder or an encoder for forwarded media."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import pytest

from media.router import AiortcRouter

from .helpers import publish, subscribe


class CodecSpy:
    """Wraps aiortc's codec factories and attributes every call to server or client side."""

    def __init__(
        self, router: AiortcRouter, more: Callable[[], Iterable[AiortcRouter]] | None = None
    ) -> None:
        self.router = router
        # The wired path (tests/media/test_signalling.py): the server's routers, looked up live.
        self.more = more or (lambda: ())
        self.server: list[str] = []
        self.client: list[str] = []

    def _transceivers(self) -> list[Any]:
        return [
            t
            for router in (self.router, *self.more())
            for tr in router.transports
            for t in tr.pc.getTransceivers()
        ]

    def _server_receiver_queues(self) -> list[Any]:
        return [t.receiver.__dict__["_RTCRtpReceiver__decoder_queue"] for t in self._transceivers()]

    def _server_senders(self) -> list[Any]:
        return [t.sender for t in self._transceivers()]

    def wrap_decoder(self, original: Any) -> Any:
        def get_decoder(codec: Any) -> Any:
            # Called from aiortc's decoder_worker(loop, input_q, ...) thread.
            input_q = sys._getframe(1).f_locals.get("input_q")
            ours = any(q is input_q for q in self._server_receiver_queues())
            side = self.server if ours else self.client
            side.append(f"decoder {codec.mimeType}")
            return original(codec)

        return get_decoder

    def wrap_encoder(self, original: Any) -> Any:
        def get_encoder(codec: Any) -> Any:
            # Called from RTCRtpSender._next_encoded_frame(self, codec).
            sender = sys._getframe(1).f_locals.get("self")
            side = self.server if any(s is sender for s in self._server_senders()) else self.client
            side.append(f"encoder {codec.mimeType}")
            return original(codec)

        return get_encoder

    def install(self, monkeypatch: pytest.MonkeyPatch) -> CodecSpy:
        """Patch the names the receiver's decoder thread and the sender look up at call time."""
        for module, name, wrap in (
            (aiortc.rtcrtpreceiver, "get_decoder", self.wrap_decoder),
            (aiortc.rtcrtpsender, "get_encoder", self.wrap_encoder),
        ):
            monkeypatch.setattr(module, name, wrap(vars(module)[name]))
        return self


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[CodecSpy]:
    yield CodecSpy(AiortcRouter()).install(monkeypatch)


@pytest.mark.timeout(60)
async def test_server_never_decodes_or_encodes(spy: CodecSpy) -> None:
    router = spy.router
    sub = await subscribe(router, "viewer")
    pub = await publish(router, "teacher")
    late = None
    try:
        await sub.wait_for(lambda: sub.frames("video") >= 30 and sub.frames("audio") >= 30, 20)
        late = await subscribe(router, "late")
        await late.wait_for(lambda: late.frames("video") >= 10, 20)
        # The spy really sees codec creation: the clients decode and encode.
        assert "encoder video/VP8" in spy.client and "decoder video/VP8" in spy.client
        assert "decoder audio/opus" in spy.client
        assert spy.server == []
    finally:
        if late is not None:
            await late.close()
        await sub.close()
        await pub.pc.close()
        await router.close()
