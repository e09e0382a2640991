"""Webhook delivery: every event in the log, POSTed as JSON to each of `CREDVAULT_WEBHOOK_URLS`, signed
the Standard Webhooks way (the `standardwebhooks` package), at least once and in log order per URL.

One replica delivers at a time: it holds a lease in the document `_webhooks/state` (check-and-set,
renewed every `RENEW` seconds, lost after `LEASE`), which also holds each URL's progress: the seq of the
last event delivered, and the retry schedule of the next one (attempts, first failure, next attempt). A
replica that is killed leaves the lease to run out; the next holder carries on from the last progress
written, so an event is never lost and is sent again with the same `webhook-id` (its event id). Each
URL is served by its own task, so a slow or failing receiver holds up only itself, and no RPC ever waits
for a delivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from credvault.config import EventSettings
from credvault.domain.errors import ConflictError, CredvaultError, OutOfRangeError
from credvault.events.journal import Documents, Journal
from credvault.events.model import Event

log = logging.getLogger(__name__)

STATE = "webhooks/state"
LEASE = 6.0
"""Seconds a delivering replica's claim lasts unless renewed."""
RENEW = 2.0
"""Seconds between renewals of the claim (and writes of progress)."""
SEND_TIMEOUT = 10.0
"""Seconds a receiver may take to answer one delivery."""
RETRY_STEPS = (1, 3, 6, 24, 60, 180, 360, 720, 1440, 2880, 4320)
"""Delays before each retry, in units of CREDVAULT_WEBHOOK_FIRST_RETRY (default 5 s): 5 s, 15 s, 30 s (the
first three within a minute), 2, 5, 15 and 30 min, 1, 2, 4 h, then every 6 h until
CREDVAULT_WEBHOOK_RETRY_FOR (default 24 h) has passed since the first failure."""

Observe = Callable[[str], None]


@dataclass
class Target:
    """One URL's progress, as kept in the state document."""

    seq: int
    attempts: int = 0
    first_failed: float | None = None
    next_at: float = 0.0
    sending_since: float | None = None
    """When the event being delivered happened (for the oldest-undelivered gauge)."""


@dataclass
class State:
    epoch: str
    owner: str
    until: float
    targets: dict[str, Target]
    version: int = 0

    def document(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "owner": self.owner,
            "until": self.until,
            "targets": {key: asdict(target) for key, target in self.targets.items()},
        }


def url_key(url: str) -> str:
    """How a URL is known in Vault: a digest, since a URL may carry a token."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def payload(event: Event, cursor: str) -> str:
    data = {**event.to_dict(), "cursor": cursor}
    del data["seq"]
    return json.dumps(
        {"type": f"connection.{event.type.value.lower()}", "timestamp": data["occurred_at"], "data": data},
        separators=(",", ":"),
    )


class Webhooks:
    def __init__(
        self,
        journal: Journal,
        documents: Documents,
        settings: EventSettings,
        observe_delivery: Observe,
        observe_age: Callable[[float], None],
    ) -> None:
        assert settings.webhook_secret is not None
        self._journal = journal
        self._documents = documents
        self._settings = settings
        self._signer = Webhook(settings.webhook_secret)
        self._urls = {url_key(url): url for url in settings.webhook_urls}
        self._observe_delivery = observe_delivery
        self._observe_age = observe_age
        self._me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=SEND_TIMEOUT) as http:
            while True:
                try:
                    state = await self._claim()
                    if state is not None:
                        await self._lead(state, http)
                except CredvaultError as error:
                    log.warning("webhook delivery paused (%s); trying again", error.reason)
                except Exception:  # a bug must not end delivery for good
                    log.exception("webhook delivery failed; trying again")
                self._observe_age(0.0)
                await asyncio.sleep(RENEW)

    async def _claim(self) -> State | None:
        """The state with this replica as its holder, or None while another replica holds it."""
        head = await self._journal.head()
        found = await self._documents.read(STATE, None)
        now = time.time()
        if found is None:
            state = State(head.epoch, "", 0.0, {}, 0)
        else:
            data, version = found
            targets = {k: Target(**v) for k, v in data["targets"].items()}
            state = State(data["epoch"], data["owner"], float(data["until"]), targets, version)
            if state.owner != self._me and state.until > now:
                return None
        if state.epoch != head.epoch:  # the log was made anew: deliver from its present
            state.epoch, state.targets = head.epoch, {}
        state.targets = {key: state.targets.get(key) or Target(seq=head.last) for key in self._urls}
        state.owner, state.until = self._me, now + LEASE
        try:
            state.version = await self._documents.write(STATE, state.document(), state.version, None)
        except ConflictError:
            return None
        log.info("this replica now delivers webhooks")
        return state

    async def _lead(self, state: State, http: httpx.AsyncClient) -> None:
        """Delivers while the claim holds: one task per URL, progress written with each renewal."""
        tasks = [
            asyncio.create_task(self._serve(self._urls[key], target, state.epoch, http))
            for key, target in state.targets.items()
        ]
        held_until = state.until
        try:
            while True:
                try:
                    async with asyncio.timeout(RENEW):
                        await self._progress.wait()
                except TimeoutError:
                    pass
                self._progress.clear()
                state.until = time.time() + LEASE
                try:
                    state.version = await self._documents.write(STATE, state.document(), state.version, None)
                except ConflictError:
                    log.warning("another replica took over webhook delivery")
                    return
                except CredvaultError:
                    if time.time() > held_until:  # the claim ran out: another replica may deliver now
                        raise
                    continue
                held_until = state.until
                ages = [time.time() - t.sending_since for t in state.targets.values() if t.sending_since]
                self._observe_age(max(ages, default=0.0))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, url: str, target: Target, epoch: str, http: httpx.AsyncClient) -> None:
        """Delivers every event after `target.seq` to `url`, in order, each until it is taken."""
        while True:
            head = await self._journal.newer_than(target.seq, RENEW)
            if head is None:
                continue
            try:
                async for event in self._journal.events_after(target.seq, head):
                    target.sending_since = event.occurred_at.timestamp()
                    await self._deliver(url, target, event, event.cursor(epoch), http)
                    target.seq, target.sending_since = event.seq, None
                    self._progress.set()
            except OutOfRangeError:
                log.error(
                    "webhook events past the retention were never delivered; skipping to the oldest kept"
                )
                target.seq = head.first - 1
            except CredvaultError as error:  # a page could not be read: this URL waits, then goes on
                log.warning("webhook events could not be read (%s); trying again", error.reason)
                await asyncio.sleep(RENEW)
            except Exception:  # a bug must not end this URL's deliveries while the lease is held
                log.exception("webhook delivery failed; trying again")
                await asyncio.sleep(RENEW)

    async def _deliver(
        self, url: str, target: Target, event: Event, cursor: str, http: httpx.AsyncClient
    ) -> None:
        body = payload(event, cursor)
        while True:
            wait = target.next_at - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if await self._send(url, event.event_id, body, http):
                target.attempts, target.first_failed, target.next_at = 0, None, 0.0
                self._observe_delivery("ok")
                return
            now = time.time()
            target.first_failed = target.first_failed or now
            target.attempts += 1
            if now - target.first_failed >= self._settings.webhook_retry_for:
                log.error("gave up delivering event %s to %s", event.event_id, _where(url))
                self._observe_delivery("gave_up")
                target.attempts, target.first_failed, target.next_at = 0, None, 0.0
                return
            self._observe_delivery("failed")
            step = RETRY_STEPS[min(target.attempts - 1, len(RETRY_STEPS) - 1)]
            target.next_at = now + step * self._settings.webhook_first_retry
            self._progress.set()

    async def _send(self, url: str, event_id: str, body: str, http: httpx.AsyncClient) -> bool:
        sent_at = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(event_id, sent_at, body),
        }
        try:
            answer = await http.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as error:
            log.warning("webhook %s not delivered to %s (%s)", event_id, _where(url), type(error).__name__)
            return False
        if answer.is_success:
            return True
        log.warning("webhook %s not delivered to %s (HTTP %d)", event_id, _where(url), answer.status_code)
        return False


def _where(url: str) -> str:
    """The host and port of a URL, for logs (its path or query may carry a token)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
