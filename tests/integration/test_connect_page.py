"""The Connect page in a real browser (Debian's Chromium, driven by Playwright) against real credvault
servers on one real OpenBao; only the providers are faked. One browser for the module, a fresh browser
context (cookies) per test. Every page is checked with axe-core and saved as a screenshot."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from browser import Screenshots, axe_violations, launch
from connect_support import Embedder, create_session, get_session, running_embedder
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from support import ORG, CredvaultProcess

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

DOCS_IMAGE = Path(__file__).parents[2] / "docs" / "img" / "connect-form.png"
COMPLETED = pb.CONNECT_SESSION_STATE_COMPLETED


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    yield from running_embedder()


@pytest.fixture(scope="module")
def replica(openbao, fakes, embedder, tmp_path_factory) -> Iterator[CredvaultProcess]:
    """A second server on the session's OpenBao, whose page the embedding application may frame."""
    from conftest import server_env

    env = server_env(openbao, fakes, CREDVAULT_CONNECT_ALLOWED_ORIGINS=embedder.origin)
    process = CredvaultProcess(env, tmp_path_factory.mktemp("connect-replica")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def vault(replica) -> Iterator[credvault_pb2_grpc.CredentialVaultStub]:
    with grpc.insecure_channel(replica.address) as channel:
        yield credvault_pb2_grpc.CredentialVaultStub(channel)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        started = launch(playwright)
        yield started
        started.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Screenshots:
    return Screenshots(tmp_path_factory.mktemp("connect-screenshots"))


@pytest.fixture
def context(browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1100, "height": 900})
    yield made
    made.close()


@pytest.fixture
def page(context) -> Page:
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    return opened


def checked(page: Page, shots: Screenshots, name: str) -> None:
    """The page passes axe-core (no serious or critical violation) and is saved as a screenshot."""
    shots.take(page, name)
    assert axe_violations(page) == []


def open_form(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Check and connect")).to_be_visible()


def fill(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.locator(f'[name="{name}"]').fill(value)


def headers(stub, tenant: str, cid: str) -> dict[str, str]:
    request = pb.GetAuthHeadersRequest(tenant_id=tenant, connection_id=cid)
    return dict(stub.GetAuthHeaders(request, timeout=10).headers)


def provider_inputs(provider: str, fakes) -> tuple[dict[str, str], str]:
    """Form values the fake provider accepts, and the secret GetAuthHeaders must then carry."""
    if provider == "jumpcloud":
        key = f"jca_{uuid.uuid4().hex}"
        fakes.jumpcloud.add_key(key, orgs=[ORG])
        return {"credentials.api_key": key}, key
    if provider == "atlassian-admin":
        key = fakes.atlassian_admin.add_key(orgs=[str(uuid.uuid4())])
        return {"credentials.api_key": key}, key
    site = fakes.atlassian.add_site(f"s{uuid.uuid4().hex[:12]}.atlassian.net")
    email = "mia@example.com" if provider == "atlassian" else "bot@serviceaccount.atlassian.com"
    fakes.atlassian.add_account(site, email)
    scopes = {"read:jira-user", "read:jira-work"} if provider != "atlassian" else None
    token = fakes.atlassian.add_token(email, scopes=scopes)
    return {"credentials.email": email, "credentials.api_token": token, "config.site": site.host}, token


@pytest.mark.parametrize(
    "provider", ["jumpcloud", "atlassian", "atlassian-admin", "atlassian-service-account"]
)
def test_each_provider_end_to_end(provider, vault, fakes, tenant, page, shots, embedder):
    values, secret = provider_inputs(provider, fakes)
    session = create_session(
        vault, tenant, providers=[provider], labels={"team": "it"}, return_url=f"{embedder.origin}/back?app=1"
    )
    assert session.connect_url and session.state == pb.CONNECT_SESSION_STATE_PENDING
    assert not session.connection_id  # generated, shown once the session completes

    open_form(page, session.connect_url)
    assert "token=" not in page.url
    checked(page, shots, f"form-{provider}")
    if provider == "jumpcloud":
        page.screenshot(path=str(DOCS_IMAGE), full_page=True)  # the README's picture of the form
    fill(page, values)
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("is connected")
    checked(page, shots, f"done-{provider}")

    done = get_session(vault, tenant, session.session_id)
    assert done.state == COMPLETED and done.connection_id and not done.connect_url
    sent = " ".join(headers(vault, tenant, done.connection_id).values())
    basic = base64.b64encode(f"{values.get('credentials.email')}:{secret}".encode()).decode()
    assert secret in sent or basic in sent
    page.wait_for_url(f"{embedder.origin}/back*")  # then back to the application, with the outcome
    assert {
        "session_id": session.session_id,
        "connection_id": done.connection_id,
        "status": "completed",
    }.items() <= (embedder.returns[-1].items())
