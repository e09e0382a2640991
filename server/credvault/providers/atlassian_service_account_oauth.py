"""Atlassian service accounts with OAuth 2.0 credentials: a token is minted at
`https://auth.atlassian.com/oauth/token` (client id and secret in the form body, as Atlassian documents;
HTTP basic if the body is refused) and sent as a Bearer token to the same gateway, with the same cloud
id lookup and checks, as the service account's scoped API tokens. Tokens live 60 minutes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial

from credvault.providers import atlassian_service_account as api_token
from credvault.providers import guides
from credvault.providers.atlassian_site import SITE_HOSTS
from credvault.providers.auth import ClientCredentials
from credvault.providers.spec import credential

ADMIN_PAGE = api_token.ADMIN_PAGE
SECRET_HINT = (
    "Atlassian did not accept the client ID and secret: they are mistyped, or the secret expired or the "
    f"credentials were revoked. Create new OAuth 2.0 credentials in {ADMIN_PAGE} > the account > Create "
    "credentials, and update the connection."
)
TOKEN_HINT = (
    "Atlassian minted a token but the gateway refused it: the service account may be deactivated, or "
    "config.cloud_id is not a site of its organization (an organization ID in its place is answered "
    "this way too)."
)
SCOPE_HINT = (
    "The credentials lack the scopes this check needs, {scopes}. Scopes cannot be added to existing "
    f"credentials: create new OAuth 2.0 credentials with them in {ADMIN_PAGE}."
)


def normalise_config(config: Mapping[str, str]) -> dict[str, str]:
    """The API-token provider's rules, without its `auth` setting (a minted token is always Bearer)."""
    result = api_token.normalise_config({**config, "auth": "bearer"})
    del result["auth"]
    return result


PROVIDER = guides.ATLASSIAN_OAUTH.apply(
    replace(
        api_token.PROVIDER,
        id="atlassian-service-account-oauth",
        display_name="Atlassian (service account, OAuth 2.0)",
        fields=(
            credential(
                "client_id", "client ID", "The OAuth 2.0 credentials' client ID.", pattern=r"[\x21-\x7e]+"
            ),
            credential(
                "client_secret",
                "client secret",
                f"The client secret, shown once when the credentials are created in {ADMIN_PAGE}.",
                pattern=r"[\x21-\x7e]+",
                max_length=4096,
            ),
            *(f for f in api_token.PROVIDER.fields if f.name in ("cloud_id", "site", "product")),
            replace(
                next(f for f in api_token.PROVIDER.fields if f.name == "expires_at"),
                label="secret expiry",
                description="When the client secret expires, as chosen when it was created: a date (the "
                "start of that day UTC) or an ISO-8601 time. Past it the connection is EXPIRED.",
            ),
        ),
        auth=ClientCredentials(
            "https://auth.atlassian.com/oauth/token", client_auth=("body", "basic"), rejected_hint=SECRET_HINT
        ),
        verify=partial(api_token.verify, token_hint=TOKEN_HINT, scope_hint=SCOPE_HINT),
        normalise_config=normalise_config,
        allowed_hosts=rf"(api|auth)\.atlassian\.com|{SITE_HOSTS}",
    )
)
