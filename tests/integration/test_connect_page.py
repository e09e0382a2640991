"""The Connect page in a real browser (Debian's Chromium, driven by Playwright) against real credvault
servers on one real OpenBao; only the providers are faked. One browser for the module, a fresh browser
context (cookies) per test. Every page is checked with axe-core and saved as a screenshot."""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import grpc
import pytest
from browser import Screenshots, axe_violations, launch
from connect_support import Embedder, create_session, get_session, page_url, running_embedder
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from support import ORG, CredvaultProcess

from credvault.v1 import credvault_pb2 as pb
from credvault.v1 import credvault_pb2_grpc

DOCS_IMAGE = Path(__file__).parents[2] / "docs" / "img" / "connect-form.png"
"""Refreshed by a run with CREDVAULT_UPDATE_DOCS_IMAGES=1 (tests never write to the tree otherwise)."""
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
    back = f"{embedder.origin}/back?app=1" if provider == "jumpcloud" else ""  # one waits for the redirect
    session = create_session(vault, tenant, providers=[provider], labels={"team": "it"}, return_url=back)
    assert session.connect_url and session.state == pb.CONNECT_SESSION_STATE_PENDING
    assert not session.connection_id  # generated, shown once the session completes

    open_form(page, session.connect_url)
    assert "token=" not in page.url
    checked(page, shots, f"form-{provider}")
    if provider == "jumpcloud" and os.environ.get("CREDVAULT_UPDATE_DOCS_IMAGES"):
        page.screenshot(path=str(DOCS_IMAGE), full_page=True)  # the picture of the form in the README
    fill(page, values)
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("is connected")
    checked(page, shots, f"done-{provider}")

    done = get_session(vault, tenant, session.session_id)
    assert done.state == COMPLETED and done.connection_id and not done.connect_url
    sent = " ".join(headers(vault, tenant, done.connection_id).values())
    basic = base64.b64encode(f"{values.get('credentials.email')}:{secret}".encode()).decode()
    assert secret in sent or basic in sent
    made = vault.GetConnection(pb.GetConnectionRequest(tenant_id=tenant, connection_id=done.connection_id))
    assert made.provider == provider and made.labels == {"team": "it"}
    if back:
        page.wait_for_url(f"{embedder.origin}/back*")  # then back to the application, with the outcome
        assert {
            "session_id": session.session_id,
            "connection_id": done.connection_id,
            "status": "completed",
        }.items() <= (embedder.returns[-1].items())


def jumpcloud_key(fakes) -> str:
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    return key


def test_every_page_and_every_mistake(vault, fakes, tenant, page, context, shots):
    """Landing, choice, form, a rejected key, a wrong organization, a missing key, done, and a reused
    link: each page passes axe-core, and each mistake is explained next to its field, stores nothing and
    never puts the typed secret back."""
    session = create_session(vault, tenant, providers=["jumpcloud", "atlassian-admin"])
    page.goto(session.connect_url)
    checked(page, shots, "landing")
    page.reload()  # a GET never spends the link (mail scanners and link previews open links)
    assert get_session(vault, tenant, session.session_id).state == pb.CONNECT_SESSION_STATE_PENDING
    page.get_by_role("button", name="Continue").click()
    assert "token=" not in page.url
    page.go_back()  # the landing page's history entry lost the token too, and leads back here
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose the account to connect")
    assert "token=" not in page.url
    checked(page, shots, "choose")
    page.get_by_role("link", name="JumpCloud").click()

    wrong = f"jca_{uuid.uuid4().hex}"
    fill(page, {"credentials.api_key": wrong})
    page.get_by_role("button", name="Check and connect").click()
    key_input = page.locator("#f-credentials-api_key")
    error = page.locator("#e-credentials-api_key")
    expect(error).to_contain_text("JumpCloud did not accept the API key")
    assert "e-credentials-api_key" in (key_input.get_attribute("aria-describedby") or "")
    assert key_input.get_attribute("aria-invalid") == "true"
    expect(page.locator("#f-credentials-api_key")).to_be_focused()
    assert key_input.input_value() == "" and wrong not in page.content()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was stored. This link allows 9 more tries.")
    checked(page, shots, "form-rejected")
    page.set_viewport_size({"width": 320, "height": 640})  # a small phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    shots.take(page, "form-rejected-320px")
    page.set_viewport_size({"width": 1100, "height": 900})

    key = jumpcloud_key(fakes)
    fill(page, {"credentials.api_key": key, "config.org_id": "0123456789abcdef01234567"})
    page.get_by_role("button", name="Check and connect").click()
    expect(page.locator("#e-config-org_id")).to_contain_text("organization ID")
    expect(page.locator("#f-config-org_id")).to_be_focused()
    assert page.locator("#f-config-org_id").input_value() == "0123456789abcdef01234567"  # not secret
    assert key not in page.content()

    fill(page, {"credentials.api_key": "", "config.org_id": ""})
    page.get_by_role("button", name="Check and connect").click()
    expect(page.locator("#e-credentials-api_key")).to_contain_text("Required")
    checked(page, shots, "form-missing")
    listed = vault.ListConnections(pb.ListConnectionsRequest(tenant_id=tenant), timeout=10)
    assert list(listed.connections) == []  # nothing stored by any of the mistakes

    fill(page, {"credentials.api_key": key + "\n"})  # pasted with the line's end
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your JumpCloud account is connected")
    done = get_session(vault, tenant, session.session_id)
    assert headers(vault, tenant, done.connection_id)["x-api-key"] == key

    again = context.browser.new_context()
    reused = again.new_page()
    reused.goto(session.connect_url)
    expect(reused.get_by_role("heading", level=1)).to_have_text("This link was already used")
    checked(reused, shots, "problem-used")
    again.close()


def test_expired_link(vault, tenant, page, shots):
    session = create_session(vault, tenant, providers=["jumpcloud"], ttl_seconds=1)
    expires = session.expires_at.ToDatetime().timestamp()
    while time.time() <= expires + 0.05:
        time.sleep(0.1)
    page.goto(session.connect_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    checked(page, shots, "problem-expired")
    assert get_session(vault, tenant, session.session_id).state == pb.CONNECT_SESSION_STATE_EXPIRED


def test_reconnect_replaces_the_key(vault, fakes, tenant, page):
    old, new = jumpcloud_key(fakes), jumpcloud_key(fakes)
    vault.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id="jc", provider="jumpcloud", credentials={"api_key": old}
        ),
        timeout=15,
    )
    session = create_session(vault, tenant, connection_id="jc")
    assert list(session.providers) == ["jumpcloud"] and session.connection_id == "jc"
    page.goto(session.connect_url)
    expect(page.locator("main")).to_contain_text("renew the credentials")
    page.get_by_role("button", name="Continue").click()
    fill(page, {"credentials.api_key": new})
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("is connected")
    assert headers(vault, tenant, "jc")["x-api-key"] == new
    connection = vault.GetConnection(
        pb.GetConnectionRequest(tenant_id=tenant, connection_id="jc"), timeout=10
    )
    assert connection.labels == {}  # a reconnect changes the credentials only


def test_without_javascript(browser, vault, fakes, tenant, shots):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    session = create_session(vault, tenant, providers=["jumpcloud"])
    open_form(page, session.connect_url)
    assert "token=" not in page.url  # the server's redirect took it out, no script needed
    fill(page, {"credentials.api_key": f"jca_{uuid.uuid4().hex}"})
    page.get_by_role("button", name="Check and connect").click()
    expect(page.locator("#e-credentials-api_key")).to_contain_text("did not accept")
    shots.take(page, "form-rejected-without-javascript")
    fill(page, {"credentials.api_key": jumpcloud_key(fakes)})
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("is connected")
    assert get_session(vault, tenant, session.session_id).state == COMPLETED
    context.close()


def tab_to(page: Page, selector: str) -> None:
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only(vault, fakes, tenant, page):
    session = create_session(vault, tenant, providers=["jumpcloud"])
    page.goto(session.connect_url)
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/providers/jumpcloud")
    tab_to(page, "#f-credentials-api_key")
    page.keyboard.type("jca_not-a-key-anyone-has")
    page.keyboard.press("Enter")
    expect(page.locator("#e-credentials-api_key")).to_be_visible()
    expect(page.locator("#f-credentials-api_key")).to_be_focused()  # straight back to the field to correct
    page.keyboard.type(jumpcloud_key(fakes))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("is connected")


def test_session_opened_through_a_second_replica(stub, server, replica, fakes, tenant, page, browser):
    """Made through one server, opened and completed through the other's page: sessions live in Vault."""
    session = create_session(stub, tenant, providers=["jumpcloud"])
    here, there = page_url(server), page_url(replica)
    assert session.connect_url.startswith(here)
    open_form(page, there + session.connect_url.removeprefix(here))
    fill(page, {"credentials.api_key": jumpcloud_key(fakes)})
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("is connected")
    assert get_session(stub, tenant, session.session_id).state == COMPLETED
    other = browser.new_context()  # another person with the link: single use holds on every replica
    late = other.new_page()
    late.goto(session.connect_url)
    expect(late.get_by_role("heading", level=1)).to_have_text("This link was already used")
    other.close()


def test_embedded_page_posts_the_outcome_to_the_allowed_parent(vault, replica, embedder, fakes, tenant, page):
    session = create_session(vault, tenant, providers=["jumpcloud"], return_url=f"{embedder.origin}/back")
    page.goto(f"{embedder.origin}/embed?src={quote(session.connect_url, safe='')}")
    frame = page.frame_locator("iframe")
    frame.get_by_role("button", name="Continue").click()
    frame.locator('[name="credentials.api_key"]').fill(jumpcloud_key(fakes))
    frame.get_by_role("button", name="Check and connect").click()
    expect(frame.get_by_role("heading", level=1)).to_contain_text("is connected")
    page.wait_for_function("window.received.length > 0")
    message = page.evaluate("window.received[0]")
    done = get_session(vault, tenant, session.session_id)
    assert message["origin"] == page_url(replica)
    assert message["data"] == {
        "type": "credvault.connect",
        "session_id": session.session_id,
        "connection_id": done.connection_id,
        "status": "completed",
    }
    assert page.url.startswith(f"{embedder.origin}/embed")  # the frame stayed; the parent decides
