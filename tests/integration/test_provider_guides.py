"""ListProviders carries what a connect page shows a person: setup steps, warnings, and help and a
placeholder for each input, for every built-in provider."""

from __future__ import annotations

import re

from credvault.v1 import credvault_pb2 as pb

BUILT_IN = ("jumpcloud", "atlassian", "atlassian-admin", "atlassian-service-account")


def _providers(stub) -> dict[str, pb.Provider]:
    return {p.id: p for p in stub.ListProviders(pb.ListProvidersRequest(), timeout=5).providers}


def test_every_built_in_provider_explains_itself(stub):
    providers = _providers(stub)
    for provider_id in BUILT_IN:
        provider = providers[provider_id]
        assert len(provider.setup_steps) >= 3 and provider.warnings, provider_id
        for field in provider.fields:
            assert field.help_text and field.placeholder, (provider_id, field.name)
            if field.secret and field.name != "email":  # a placeholder never passes for a real key
                assert not re.fullmatch(field.pattern or ".+", field.placeholder), (provider_id, field.name)


def test_jumpcloud_warns_that_a_new_key_revokes_the_old_one(stub):
    jumpcloud = _providers(stub)["jumpcloud"]
    assert any("revokes your current key at once" in w for w in jumpcloud.warnings)
    assert any("My API Key" in step for step in jumpcloud.setup_steps)
    fields = {f.name: f for f in jumpcloud.fields}
    assert "Organization Profile" in fields["org_id"].help_text


def test_a_plugin_without_words_still_lists(stub):
    example = _providers(stub)["example-bearer"]
    assert list(example.setup_steps) == [] and list(example.warnings) == []
