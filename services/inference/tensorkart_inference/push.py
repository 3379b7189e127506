"""Direct delivery: pushing Drive answers to the edge's controller from the inference server.

An edge that can be reached from this server (same host, or a LAN the policy allows) asks for
it with Drive call metadata; each answer then reaches the controller in one gRPC hop instead
of two (server -> edge relay -> controller). The server stays stateless: the controller's
address comes with every stream, and a stream to one controller is shared by all Drive
streams that name it. INFERENCE_PUSH says which addresses may be named: "loopback" (default:
this host only, so a client cannot make the server connect anywhere else), "any", or "off".
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from tensorkart_core.steering_push import SteeringPusher, is_loopback_address

log = logging.getLogger(__name__)

PushPolicy = Literal["loopback", "any", "off"]


class PushRefused(ValueError):
    """The policy does not allow pushing to this address; the message says why."""


class PushTargets:
    """One SteeringPusher per controller address, opened on first use, closed at shutdown."""

    def __init__(self, policy: PushPolicy) -> None:
        self.policy = policy
        self._pushers: dict[str, SteeringPusher] = {}
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        if self.policy == "off":
            raise PushRefused(f"direct push to {address} refused: INFERENCE_PUSH=off")
        if self.policy == "loopback" and not is_loopback_address(address):
            raise PushRefused(
                f"direct push to {address} refused: INFERENCE_PUSH=loopback allows this host's controllers only"
            )

    def pusher(self, address: str) -> SteeringPusher:
        """The pusher for `address` (raises PushRefused when the policy forbids it)."""
        self.check(address)
        with self._lock:
            pusher = self._pushers.get(address)
            if pusher is None:
                log.info("pushing steering directly to the controller at %s", address)
                pusher = self._pushers[address] = SteeringPusher(address).start()
            return pusher

    def close(self) -> None:
        with self._lock:
            pushers, self._pushers = list(self._pushers.values()), {}
        for pusher in pushers:
            pusher.close()
