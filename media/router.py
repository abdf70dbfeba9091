"""MediaRouter: the media of one room; wires producers to every other participant's consumers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .aiortc_hooks import install_host_address, install_prompt_ice_completion
from .interfaces import InvalidStateError, Source, TransportRole
from .producer import AiortcProducer
from .settings import MediaSettings
from .transport import AiortcTransport


class AiortcRouter:
    """One room's SFU: transports, producers and the consumers between them."""

    def __init__(self, settings: MediaSettings | None = None) -> None:
        self.settings = settings or MediaSettings()
        # aioice decides gathered addresses process-wide; the setting is therefore global too.
        install_host_address(self.settings.gather_address)
        install_prompt_ice_completion()
        self._closed = False
        self.transports: list[AiortcTransport] = []
        self._producers: list[AiortcProducer] = []
        # Told of every new producer (the recorder starts a file for it).
        self.producer_listeners: list[Callable[[AiortcProducer], None]] = []

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._closed

    async def create_transport(self, participant_id: str, role: TransportRole) -> AiortcTransport:
        """Open a publish or subscribe connection; a subscriber consumes existing producers."""
        if self._closed:
            raise InvalidStateError("router closed")
        if len(self.transports) >= self.settings.max_transports_per_router:
            raise InvalidStateError("too many transports")
        transport = AiortcTransport(self, participant_id, role, self.settings)
        self.transports.append(transport)
        if role == "subscribe":
            for producer in self._producers:
                if producer.participant_id != participant_id:
                    transport._add_consumer(producer)
        return transport

    def producers(self) -> list[AiortcProducer]:
        """Open producers of all participants."""
        return list(self._producers)

    def _add_producer(self, producer: AiortcProducer) -> None:
        # A participant has at most one producer per source: a new one replaces the old.
        for old in list(self._producers):
            if old.participant_id == producer.participant_id and old.source == producer.source:
                old.close()
        self._producers.append(producer)
        for transport in list(self.transports):
            if (
                transport.role == "subscribe"
                and not transport.closed
                and transport.participant_id != producer.participant_id
            ):
                transport._add_consumer(producer)
        for listener in list(self.producer_listeners):
            listener(producer)

    def _remove_producer(self, producer: AiortcProducer) -> None:
        if producer in self._producers:
            self._producers.remove(producer)

    def _remove_transport(self, transport: AiortcTransport) -> None:
        if transport in self.transports:
            self.transports.remove(transport)

    def close_producer(self, participant_id: str, source: Source) -> bool:
        """Close a participant's producer of this source (permission revoked); True if one was."""
        if self._closed:
            raise InvalidStateError("router closed")
        found = False
        for producer in list(self._producers):
            if producer.participant_id == participant_id and producer.source == source:
                producer.close()
                found = True
        return found

    async def remove_participant(self, participant_id: str) -> None:
        """A participant left: close its transports, its producers and its consumers everywhere."""
        if self._closed:
            return
        mine = [t for t in self.transports if t.participant_id == participant_id]
        await asyncio.gather(*(t.close() for t in mine))

    async def close(self) -> None:
        """Close every transport (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*(t.close() for t in list(self.transports)))
