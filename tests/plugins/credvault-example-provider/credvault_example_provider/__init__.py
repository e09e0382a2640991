"""A provider outside credvault: a bearer token, checked with GET /me."""

from credvault.providers import Bearer, Check, ProviderSpec, Rule, credential

PROVIDER = ProviderSpec(
    id="example-bearer",
    display_name="Example (bearer token)",
    docs_url="https://example.com/docs/tokens",
    base_url_template="https://api.example.com/v1",
    allowed_hosts=r"api\.example\.com",
    fields=(credential("token", "token", "A personal access token.", example="ex_0000"),),
    auth=Bearer("token"),
    headers={"Accept": "application/json"},
    check=Check(
        "/me",
        rules=(Rule(401, "CREDENTIALS_REJECTED", "Example did not accept the token; make a new one."),),
    ),
)
