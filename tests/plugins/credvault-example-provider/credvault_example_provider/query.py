"""A provider outside credvault that takes its key in the URL (`?api_key=`), checked with GET /me."""

from credvault.providers import Check, ProviderSpec, QueryParam, Rule, credential

PROVIDER = ProviderSpec(
    id="example-query",
    display_name="Example (key in the query)",
    docs_url="https://example.com/docs/keys",
    base_url_template="https://api.example.com/v1",
    allowed_hosts=r"api\.example\.com",
    fields=(credential("api_key", "API key", "An API key.", example="exk_0000"),),
    auth=QueryParam("api_key"),
    check=Check("/me", rules=(Rule(401, "CREDENTIALS_REJECTED", "Example did not accept the key."),)),
)
