"""The words credvault shows a person for each built-in provider: how to find or create the
credentials step by step, what to know first, help beside each input (ListProviders, the Connect page),
and some of the hints that say what to do when the provider refuses them.

Written for someone who is not a developer: where to click, what to copy, and what can go wrong.
Kept apart from the provider modules so those stay about how the API is called and checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from credvault.providers.spec import ProviderSpec


@dataclass(frozen=True)
class Help:
    """Help for one input: `placeholder` fills the empty box, `text` sits beside it."""

    placeholder: str
    text: str


@dataclass(frozen=True)
class Guide:
    steps: tuple[str, ...]
    warnings: tuple[str, ...]
    fields: Mapping[str, Help]

    def apply(self, spec: ProviderSpec) -> ProviderSpec:
        """The spec with these words on it; every field must have its help (checked at import)."""
        missing = {f.name for f in spec.fields} ^ set(self.fields)
        if missing:
            raise ValueError(f"guide for {spec.id} does not match its fields: {sorted(missing)}")
        fields = tuple(
            replace(f, placeholder=self.fields[f.name].placeholder, help_text=self.fields[f.name].text)
            for f in spec.fields
        )
        return replace(spec, fields=fields, setup_steps=self.steps, warnings=self.warnings)


JUMPCLOUD_KEY_HINT = (
    "JumpCloud did not accept the API key: it may be mistyped, or it was reset (a reset invalidates the "
    "old key at once). In the JumpCloud Admin Portal open your account menu (top right) > My API Key, "
    "copy the current key and connect again."
)
JUMPCLOUD_ORG_REQUIRED_HINT = (
    "This is a multi-tenant administrator's key: set config.org_id to the id of the organization to "
    "connect (Admin Portal > Settings > Organization Profile, or GET /api/organizations with this key)."
)
JUMPCLOUD_ORG_NOT_FOUND_HINT = (
    "JumpCloud knows no organization with this org_id that this key may manage: check config.org_id "
    "(Admin Portal > Settings > Organization Profile), or leave it empty for a single-organization key."
)
JUMPCLOUD_FORBIDDEN_HINT = (
    "JumpCloud refused the request: the administrator behind the key may lack the role to read users, "
    "or requests from credvault's address are blocked. Use a key of an administrator with at least "
    "read access, or ask JumpCloud support to lift the block."
)

JUMPCLOUD = Guide(
    steps=(
        "Sign in to the JumpCloud Admin Portal as an administrator (console.jumpcloud.com, or "
        "console.eu.jumpcloud.com if your organization is hosted in the EU).",
        "Click your initials in the top-right corner and choose My API Key.",
        "Copy the key that is shown. Only if there is none, click Generate New API Key (read the warning "
        "below first) and copy the new key.",
        "Paste the key into API key.",
        "If you manage several organizations from one portal (multi-tenant), enter the ID of the one to "
        "connect as organization ID (Settings > Organization Profile); otherwise leave it empty.",
        "If you sign in at console.eu.jumpcloud.com, set region to eu.",
    ),
    warnings=(
        "Generating a new API key revokes your current key at once: every tool still using the old key stops "
        "working. Copy the existing key if there is one.",
        "The key can do everything your administrator account can do in JumpCloud. Keep it secret, and "
        "prefer an administrator account with only the role this connection needs.",
        "The key belongs to your administrator account: if that account is removed or its key reset, the "
        "connection stops working.",
    ),
    fields={
        "api_key": Help("jca_…", "Your administrator API key: Admin Portal > your initials > My API Key."),
        "org_id": Help(
            "only for multi-tenant administrators",
            "Leave empty if you manage one organization. Otherwise the organization's ID, shown in "
            "Settings > Organization Profile.",
        ),
        "region": Help("us", "Enter eu if you sign in at console.eu.jumpcloud.com; otherwise leave empty."),
    },
)

ATLASSIAN = Guide(
    steps=(
        "Sign in to Atlassian with the account this connection should act as, and open "
        "id.atlassian.com/manage-profile/security/api-tokens (Account settings > Security > API tokens).",
        "Click Create API token (not the one with scopes: scoped tokens need the Atlassian service "
        "account provider).",
        "Name the token after where it will be used, choose an expiry date and click Create.",
        "Click Copy and paste the token into API token right away: Atlassian shows it only once.",
        "Enter the email address you sign in to Atlassian with.",
        "Open Jira or Confluence and copy the site from the browser's address bar, e.g. acme.atlassian.net.",
    ),
    warnings=(
        "The token can see and do everything your Atlassian account can, on every site you can open.",
        "API tokens expire (1 to 365 days after creation, as you chose): create a new one and update the "
        "connection before then.",
        "Atlassian shows a token only once. If you lose it, revoke it and create another.",
    ),
    fields={
        "email": Help("you@example.com", "The email you sign in to Atlassian with: the token's owner."),
        "api_token": Help(
            "ATATT…",
            "From id.atlassian.com > Account settings > Security > API tokens > Create API token. "
            "Shown only once.",
        ),
        "site": Help(
            "acme.atlassian.net",
            "The address you open Jira or Confluence at; the part before .atlassian.net is enough.",
        ),
        "product": Help(
            "jira",
            "Leave empty to try Jira first, then Confluence. Enter confluence if the site has only "
            "Confluence.",
        ),
    },
)

ATLASSIAN_ADMIN = Guide(
    steps=(
        "Sign in to admin.atlassian.com as an organization admin; pick the organization if you have several.",
        "Go to Settings > API keys and click Create API key.",
        "Choose a key with scopes (safer: only the access you pick) or without scopes (full admin access), "
        "then click Next.",
        "Name the key after what will use it and choose an expiry date (at most one year away).",
        "For a key with scopes, pick the ones you need and include read:orgs:admin, so the key can be "
        "checked.",
        "Review, click Create, and copy the API key at once: it is shown only once. Copy the organization ID "
        "shown with it too.",
        "Paste the key. The organization ID is optional for a key without scopes and needed for one with "
        "scopes.",
    ),
    warnings=(
        "A key without scopes can manage your whole organization: users, groups and security settings. "
        "Prefer a key with only the scopes you need.",
        "Admin API keys expire at most one year after they are created: plan to replace the key.",
        "The key is shown only once, when it is created.",
    ),
    fields={
        "api_key": Help("ATCTT…", "From admin.atlassian.com > Settings > API keys; shown only once."),
        "org_id": Help(
            "optional for keys without scopes",
            "Shown with the key when you create it, and in the admin address: "
            "admin.atlassian.com/o/<organization ID>/overview.",
        ),
    },
)

SERVICE_ACCOUNT = Guide(
    steps=(
        "Sign in to admin.atlassian.com as an organization admin, pick the organization and open "
        "Directory > Service accounts. Create a service account there if you have none.",
        "Give the service account access to Jira or Confluence (an app role), and the project or space "
        "roles it needs.",
        "Open the service account, click Create credentials, choose API token and click Next.",
        "Name the token, choose when it expires (1 to 365 days; note the date for token expiry) and click "
        "Next.",
        "Choose the scopes; include read:jira-user for Jira (read:confluence-user for Confluence) so the "
        "token can be checked. Click Next, review, and click Create.",
        "Copy the token at once: it cannot be shown again.",
        "Enter the service account's email (it ends in @serviceaccount.atlassian.com), the token, and your "
        "site (e.g. acme.atlassian.net) or its cloud ID.",
    ),
    warnings=(
        "Scopes cannot be changed once the token exists: for other scopes, create a new token.",
        "Use the site's cloud ID, not the organization ID: they look alike, and the organization ID is "
        "answered with 'not found'. Entering the site instead avoids the mix-up.",
        "Revoking a token takes up to 10 minutes to apply.",
        "Tokens expire at most 365 days after creation.",
    ),
    fields={
        "email": Help(
            "name@serviceaccount.atlassian.com",
            "The service account's email, shown in Directory > Service accounts.",
        ),
        "api_token": Help(
            "ATSTT…",
            "Made in Directory > Service accounts > the account > Create credentials > API token; "
            "shown once.",
        ),
        "cloud_id": Help(
            "leave empty if you enter the site",
            "The cloudId shown at https://<your site>.atlassian.net/_edge/tenant_info (not the "
            "organization ID).",
        ),
        "site": Help(
            "acme.atlassian.net", "The address you open Jira or Confluence at; its cloud ID is looked up."
        ),
        "product": Help("jira", "jira (the default) or confluence: the app the token's scopes are for."),
        "auth": Help("basic", "Leave empty. Enter bearer only to send the token without the email."),
        "expires_at": Help(
            "2026-12-31", "The expiry date you chose for the token; after it the connection shows as expired."
        ),
    },
)

ATLASSIAN_OAUTH = Guide(
    steps=(
        "Sign in to admin.atlassian.com as an organization admin, pick the organization and open "
        "Directory > Service accounts. Create a service account there if you have none.",
        "Give the service account access to Jira or Confluence (an app role), and the project or space "
        "roles it needs.",
        "Open the service account, click Create credentials, choose OAuth 2.0 and click Next.",
        "Choose the scopes; include read:jira-user for Jira (read:confluence-user for Confluence) so the "
        "credentials can be checked. Review and click Create.",
        "Copy the client ID and the client secret at once: the secret is shown only once.",
        "Enter them, and your site (e.g. acme.atlassian.net) or its cloud ID.",
    ),
    warnings=(
        "The client secret is shown only once. If you lose it, create new credentials.",
        "Scopes cannot be changed once the credentials exist: for other scopes, create new credentials.",
        "Use the site's cloud ID, not the organization ID; entering the site instead avoids the mix-up.",
        "Client secrets expire on the date chosen when they were created: replace them before then.",
    ),
    fields={
        "client_id": Help(
            "client ID", "Shown when you create OAuth 2.0 credentials for the service account."
        ),
        "client_secret": Help("client secret", "Shown once, next to the client ID, when you create them."),
        "cloud_id": Help(
            "leave empty if you enter the site",
            "The cloudId shown at https://<your site>.atlassian.net/_edge/tenant_info (not the "
            "organization ID).",
        ),
        "site": Help(
            "acme.atlassian.net", "The address you open Jira or Confluence at; its cloud ID is looked up."
        ),
        "product": Help("jira", "jira (the default) or confluence: the app the credentials' scopes are for."),
        "expires_at": Help(
            "2026-12-31", "The expiry date of the client secret; after it the connection shows as expired."
        ),
    },
)

JUMPCLOUD_OAUTH = Guide(
    steps=(
        "Sign in to the JumpCloud Admin Portal as an administrator with the Billing role (only they can "
        "create service accounts).",
        "Go to Settings > Service Accounts and click + New.",
        "Name the service account, give it a role with at least read access (a custom role is fine), "
        "choose Client Secret as the key type and pick how long the secret lives.",
        "Save, then copy the client ID and the client secret at once: they are shown only once.",
        "Enter them here. If you manage several organizations (multi-tenant), also enter the ID of the one "
        "to connect; if you sign in at console.eu.jumpcloud.com, set region to eu.",
    ),
    warnings=(
        "The client secret is shown only once. A service account can hold two secrets, so you can add a "
        "new one and update the connection before removing the old one.",
        "Secrets expire after the lifetime you chose; JumpCloud emails admins a week before.",
        "The service account can do what its role allows: give it only the role this connection needs.",
    ),
    fields={
        "client_id": Help("client ID", "Shown when you create the service account's client secret."),
        "client_secret": Help("client secret", "Shown once, when it is created."),
        "org_id": JUMPCLOUD.fields["org_id"],
        "region": JUMPCLOUD.fields["region"],
    },
)
