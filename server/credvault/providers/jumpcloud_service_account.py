"""JumpCloud service accounts: OAuth 2.0 client credentials. A token is minted at
`https://admin-oauth.id.jumpcloud.com/oauth2/token` (EU: `admin-oauth.id.eu.jumpcloud.com`) with the
client authenticated by HTTP basic (or, if refused, in the form body) and `scope=api`, and sent as a
Bearer token to the same API, checked the same way, as JumpCloud's API keys."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from credvault.providers import guides, jumpcloud
from credvault.providers.auth import ClientCredentials
from credvault.providers.spec import credential

OAUTH_HOSTS = {"us": "admin-oauth.id.jumpcloud.com", "eu": "admin-oauth.id.eu.jumpcloud.com"}
SECRET_HINT = (
    "JumpCloud did not accept the client ID and secret: they are mistyped, or the secret expired or was "
    "removed. In the Admin Portal open Settings > Service Accounts > the account, add a new client "
    "secret and update the connection."
)
PERMISSION_HINT = (
    "JumpCloud minted a token but refused the request: give the service account a role that can read "
    "users (Settings > Service Accounts > the account > role)."
)

PROVIDER = guides.JUMPCLOUD_OAUTH.apply(
    replace(
        jumpcloud.PROVIDER,
        id="jumpcloud-service-account",
        display_name="JumpCloud (service account)",
        docs_url="https://jumpcloud.com/support/jumpcloud-apis",
        fields=(
            credential("client_id", "client ID", "The service account's client ID.", pattern=r"[\x21-\x7e]+"),
            credential(
                "client_secret",
                "client secret",
                "The service account's client secret.",
                pattern=r"[\x21-\x7e]+",
            ),
            jumpcloud.ORG_ID,
            jumpcloud.REGION,
        ),
        auth=ClientCredentials(
            "https://{oauth_host}/oauth2/token",
            scope="api",
            client_auth=("basic", "body"),
            rejected_hint=SECRET_HINT,
        ),
        verify=partial(jumpcloud.verify, jumpcloud.check(SECRET_HINT, PERMISSION_HINT)),
        derived={**jumpcloud.PROVIDER.derived, "oauth_host": lambda c: OAUTH_HOSTS[c.get("region") or "us"]},
        allowed_hosts=r"(console|admin-oauth\.id)(\.eu)?\.jumpcloud\.com",
    )
)
