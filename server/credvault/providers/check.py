"""How credentials are checked, as data: one test call, and a table from the provider's answers to
verdicts. The first rule that matches decides; with none, a 2xx answer is VERIFIED and anything else
UNEXPECTED_RESPONSE (or UNEXPECTED_REDIRECT)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from credvault.domain.model import Verdict
from credvault.providers.http import rejected, send, unexpected, verified
from credvault.providers.spec import ProviderSpec, VerifyRequest

VERIFIED = "VERIFIED"


@dataclass(frozen=True)
class Rule:
    """One row of the table: an answer with `status` (and, when given, `body` text in its body, a
    `header` whose value contains a text, a `config` field that is set) gives the verdict `reason` with
    `hint`. Texts match case-insensitively."""

    status: int | tuple[int, ...]
    reason: str
    hint: str = ""
    body: str = ""
    header: tuple[str, str] | None = None
    config: str = ""

    @property
    def ok(self) -> bool:
        return self.reason == VERIFIED

    def matches(self, response: httpx.Response, config: Mapping[str, str]) -> bool:
        statuses = self.status if isinstance(self.status, tuple) else (self.status,)
        if response.status_code not in statuses or (self.config and not config.get(self.config)):
            return False
        if self.body and self.body.lower() not in body_text(response):
            return False
        if self.header:
            name, text = self.header
            return text.lower() in response.headers.get(name, "").lower()
        return True


@dataclass(frozen=True)
class Check:
    """The test call (`method` on the base URL + `path`, with `params`) and the table for its answers."""

    path: str
    rules: tuple[Rule, ...] = ()
    method: str = "GET"
    params: Mapping[str, str] = field(default_factory=dict)


def verdict_of(
    response: httpx.Response, rules: tuple[Rule, ...], config: Mapping[str, str], provider_name: str
) -> Verdict:
    for rule in rules:
        if rule.matches(response, config):
            return verified(response) if rule.ok else rejected(response, rule.reason, rule.hint)
    if response.is_success:
        return verified(response)
    return unexpected(response, provider_name)


async def run_check(request: VerifyRequest, check: Check, provider_name: str) -> Verdict:
    url = request.base_url + check.path
    response = await send(request, check.method, url, params=check.params, provider_name=provider_name)
    return verdict_of(response, check.rules, request.config, provider_name)


async def verify(spec: ProviderSpec, request: VerifyRequest) -> Verdict:
    """Checks credentials the way the spec says: its `verify` function when it has one, else its table."""
    if spec.verify is not None:
        return await spec.verify(request)
    if spec.check is None:
        raise TypeError(f"provider {spec.id} declares neither check nor verify")  # refused at load
    return await run_check(request, spec.check, spec.display_name)


def body_text(response: httpx.Response) -> str:
    """The start of the body, lower-cased, for matching known texts (never echoed to anyone)."""
    return response.content[:2048].decode("utf-8", "replace").lower()
