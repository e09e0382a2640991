"""An outside provider: a bearer token checked with GET /me. It uses only credvault's public seam."""

from __future__ import annotations

from collections.abc import Mapping

from credvault.domain.model import Credentials, Verdict
from credvault.providers import FieldLocation, FieldSpec, ProviderSpec, VerifyRequest
from credvault.providers.http import rejected, send, unexpected


def build_headers(credentials: Credentials, config: Mapping[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials['token']}", "Accept": "application/json"}


async def verify(request: VerifyRequest) -> Verdict:
    response = await send(request, "GET", f"{request.base_url}/me", provider_name="Example")
    if response.is_success:
        return Verdict(ok=True, reason="VERIFIED", http_status=response.status_code)
    if response.status_code == 401:
        return rejected(response, "CREDENTIALS_REJECTED", "Example did not accept the token; make a new one.")
    return unexpected(response, "Example")


PROVIDER = ProviderSpec(
    id="example-bearer",
    display_name="Example (bearer token)",
    auth_mode="bearer",
    docs_url="https://example.com/docs/tokens",
    fields=(
        FieldSpec(
            name="token",
            label="token",
            description="A personal access token.",
            location=FieldLocation.CREDENTIALS,
            example="ex_0000",
        ),
    ),
    base_url_template="https://api.example.com/v1",
    allowed_hosts=r"api\.example\.com",
    build_headers=build_headers,
    verify=verify,
)
