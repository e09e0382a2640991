"""The seam between hvac (and the requests library under it) and credvault: how Vault's HTTP answers
and transport failures become credvault's errors, most specific first, and which of them are worth
another try on the active node."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import hvac.exceptions
import requests
from hvac.adapters import JSONAdapter

from credvault.domain.errors import CredvaultError, StoreUnavailableError
from credvault.retry_after import retry_after_seconds

log = logging.getLogger(__name__)


class Transient(Exception):
    """An answer that a moment later, or another node, may not give: worth another try."""

    def __init__(self, error: StoreUnavailableError) -> None:
        super().__init__(error.message)
        self.error = error


class DeadlineAdapter(JSONAdapter):
    """hvac's adapter with three changes: redirects are answers, not followed; each request's timeout
    is the smaller of hvac's and the time the current call has left; transient answers become
    `Transient`, carrying Vault's Retry-After."""

    def __init__(self, *, time_left: Callable[[], float | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._time_left = time_left
        self._timeout = float(kwargs["timeout"])

    def request(self, *args: Any, **kwargs: Any) -> Any:
        left = self._time_left()
        if left is not None:
            kwargs["timeout"] = max(min(self._timeout, left), 0.05)
        answer = super().request(*args, **kwargs)
        if isinstance(answer, requests.Response) and answer.is_redirect:
            raise Transient(
                StoreUnavailableError(
                    "Vault is electing a new active node; try again shortly", reason="VAULT_NO_LEADER"
                )
            )
        return answer

    def _raise_for_error(self, method: str, url: str, response: requests.Response) -> None:
        status = response.status_code
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        if status in (412, 429):
            raise Transient(
                StoreUnavailableError(
                    "Vault asked credvault to slow down or wait for replication",
                    reason="VAULT_RATE_LIMITED",
                    retry_after=retry_after,
                )
            )
        if status == 503:
            raise Transient(
                StoreUnavailableError("Vault is sealed or standing by; unseal it", reason="VAULT_SEALED")
            )
        if status == 500 and "active" in response.text:
            raise Transient(
                StoreUnavailableError(
                    "Vault has no active node at the moment; try again shortly", reason="VAULT_NO_LEADER"
                )
            )
        super()._raise_for_error(method, url, response)  # type: ignore[misc]  # absent from hvac's stubs


@contextmanager
def vault_errors() -> Iterator[None]:
    """Maps hvac's and requests' exceptions to credvault's, most specific first. Vault's own error
    texts are logged, not passed on (they may quote request paths)."""
    try:
        yield
    except CredvaultError:
        raise
    except Transient as transient:
        raise transient.error from None
    except hvac.exceptions.VaultDown:
        raise StoreUnavailableError("Vault is sealed; unseal it", reason="VAULT_SEALED") from None
    except hvac.exceptions.Forbidden:
        log.error("Vault denied credvault's token; check its policy and credentials")
        raise StoreUnavailableError(
            "Vault denied access to credvault; the operator must check its Vault policy",
            reason="VAULT_PERMISSION_DENIED",
        ) from None
    except hvac.exceptions.RateLimitExceeded:
        raise StoreUnavailableError("Vault is rate-limiting credvault", reason="VAULT_RATE_LIMITED") from None
    except hvac.exceptions.VaultError as exc:
        log.error("Vault answered an error: %s", type(exc).__name__)
        raise StoreUnavailableError("Vault answered with an error", reason="VAULT_ERROR") from None
    except requests.exceptions.Timeout:
        raise StoreUnavailableError("Vault did not answer in time", reason="VAULT_TIMEOUT") from None
    except requests.exceptions.RequestException:
        raise StoreUnavailableError("Vault could not be reached", reason="VAULT_UNREACHABLE") from None
