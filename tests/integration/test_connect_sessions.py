"""Connect sessions over gRPC and the Connect page's HTTP rules, against the session's real server and
OpenBao (no browser: the page's behaviour in Chromium is test_connect_page's)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import httpx
import pytest
from connect_support import create_session, get_session, page_url
from events_support import Watch, type_name
from fakes.base import Response
from support import ORG, CredvaultProcess, refusal, scrape, violated_fields

from credvault.config import VaultSettings
from credvault.domain.connect_session import ConnectSessionRecord, SessionState
from credvault.domain.errors import NotFoundError
from credvault.sandbox import SANDBOX_KEY
from credvault.v1 import credvault_pb2 as pb
from credvault.v1.credvault_pb2_grpc import CredentialVaultStub
from credvault.vault.connect_sessions import ConnectSessionStore
from credvault.vault.store import VaultStore

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
DOCS = Path(__file__).parents[2] / "docs" / "connect.md"


@pytest.fixture
def session(stub, tenant) -> pb.ConnectSession:
    return create_session(stub, tenant, providers=["jumpcloud"])


@contextmanager
def opened(connect_url: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client that pressed Continue on the link's landing page, and the form's CSRF token."""
    parts = urlsplit(connect_url)
    token = parts.query.removeprefix("token=")
    with httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", timeout=15) as client:
        answer = client.post(parts.path, data={"token": token}, headers={"Sec-Fetch-Site": "same-origin"})
        assert answer.status_code == 303, answer.text
        form = client.get(answer.headers["location"])
        yield client, CSRF.search(form.text).group(1)  # type: ignore[union-attr]


def submit(client: httpx.Client, session_id: str, key: str, csrf: str, **headers: str) -> httpx.Response:
    return post_form(client, session_id, "jumpcloud", {"credentials.api_key": key}, csrf, **headers)


def post_form(
    client: httpx.Client, session_id: str, provider: str, values: dict[str, str], csrf: str, **headers: str
) -> httpx.Response:
    return client.post(
        f"/connect/{session_id}/providers/{provider}",
        data={**values, "csrf": csrf},
        headers={"Sec-Fetch-Site": "same-origin", **headers},
    )


def test_security_headers_on_every_answer(server, session):
    base = page_url(server)
    for path in (urlsplit(session.connect_url).path + "?token=wrong", "/connect/none", "/static/connect.css"):
        answer = httpx.get(base + path, timeout=10)
        assert answer.headers["content-security-policy"] == (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'"
        )
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in answer.headers  # plain HTTP on loopback


def test_link_is_exchanged_for_a_strict_cookie(stub, tenant, session):
    parts = urlsplit(session.connect_url)
    for _ in range(2):  # GETs (mail scanners, previews) change nothing
        landing = httpx.get(session.connect_url, timeout=10)
        assert landing.status_code == 200 and parts.query.removeprefix("token=") not in landing.text
    answer = httpx.post(session.connect_url, timeout=10)  # as a browser without JavaScript sends it
    assert answer.status_code == 303 and "token" not in answer.headers["location"]
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={parts.path};" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; under TLS it is Secure
    again = httpx.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}", data={"token": parts.query.removeprefix("token=")}
    )
    assert "opened in another browser" in again.text  # the link alone no longer works
    form = f"{parts.scheme}://{parts.netloc}{parts.path}/providers/jumpcloud"
    assert "This link does not work" in httpx.get(form, timeout=10).text  # no cookie: no form
    framed = httpx.get(form, headers={"Sec-Fetch-Dest": "iframe"}, timeout=10)  # a frame that keeps none
    assert "Open this link in its own window" in framed.text
    assert get_session(stub, tenant, session.session_id).state == pb.CONNECT_SESSION_STATE_PENDING


def test_forged_posts_change_nothing(server, fakes, stub, tenant, session):
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    with opened(session.connect_url) as (client, csrf):
        assert submit(client, session.session_id, key, "forged").status_code == 403
        cross = submit(client, session.session_id, key, csrf, **{"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
        assert get_session(stub, tenant, session.session_id).state == pb.CONNECT_SESSION_STATE_PENDING
        assert submit(client, session.session_id, key, csrf).status_code == 303
        done = client.get(f"/connect/{session.session_id}/done")
    assert done.status_code == 200 and key not in done.text
    assert key not in server.logs() and key not in server.stdout() and key not in scrape(server)[0]


def counts(server) -> tuple[float, float]:
    """Rejected submissions and expired sessions so far, from the server's metrics."""
    _, samples = scrape(server)
    rejected = samples.get(
        ("credvault_connect_submissions_total", frozenset({("outcome", "FAILED_PRECONDITION")})), 0
    )
    expired = samples.get(("credvault_connect_sessions_total", frozenset({("event", "expired")})), 0)
    return rejected, expired


def test_the_connection_event_names_the_connect_session(fakes, stub, tenant, session):
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.add_key(key, orgs=[ORG])
    with Watch(stub, tenant) as watch, opened(session.connect_url) as (client, csrf):
        assert submit(client, session.session_id, key, csrf).status_code == 303
        event = watch.next()
    assert type_name(event) == "CREATED" and event.connect_session_id == session.session_id
    assert event.connection_id == get_session(stub, tenant, session.session_id).connection_id


def test_ten_failed_submissions_spend_the_session(server, stub, tenant, session):
    rejected, expired = counts(server)
    with opened(session.connect_url) as (client, csrf):
        for left in range(9, -1, -1):
            answer = submit(client, session.session_id, f"jca_{uuid.uuid4().hex}", csrf)
            assert answer.status_code == 400
            assert (f"allows {left} more" in answer.text) if left else ("no tries left" in answer.text)
        assert "no tries left" in submit(client, session.session_id, "jca_any", csrf).text
    assert get_session(stub, tenant, session.session_id).state == pb.CONNECT_SESSION_STATE_EXPIRED
    assert counts(server) == (rejected + 10, expired + 1)  # the session expired once, on every count
    audited = [
        json.loads(line)["audit"]
        for line in server.logs().splitlines()
        if '"ConnectPage.Submit"' in line and session.session_id in line
    ]
    assert len(audited) == 11 and {a["outcome"] for a in audited} == {"FAILED_PRECONDITION"}
    assert {a["reason"] for a in audited} == {"CREDENTIALS_REJECTED", "CONNECT_SESSION_SPENT"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"return_url": "https://evil.example/back"}, "return_url"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
        ({"providers": ["jumpcloud", "nope"]}, "providers[1]"),
        ({"ttl_seconds": 0}, "ttl"),
        ({"ttl_seconds": 24 * 3600 + 1}, "ttl"),
        ({"connection_id": "../x"}, "connection_id"),
        ({"labels": {"Bad Key": "x"}}, "labels"),
    ],
)
def test_bad_requests_are_refused(stub, tenant, fields, field):
    with pytest.raises(grpc.RpcError) as error:
        create_session(stub, tenant, **fields)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violated_fields(error.value)


def test_reconnect_must_keep_the_provider(stub, tenant, key):
    stub.CreateConnection(
        pb.CreateConnectionRequest(
            tenant_id=tenant, connection_id="jc", provider="jumpcloud", credentials={"api_key": key}
        ),
        timeout=15,
    )
    with pytest.raises(grpc.RpcError) as error:
        create_session(stub, tenant, connection_id="jc", providers=["atlassian"])
    assert "providers" in violated_fields(error.value)


def test_sessions_are_found_only_in_their_tenant(stub, tenant, session):
    got = get_session(stub, tenant, session.session_id)
    assert (
        got.session_id == session.session_id
        and got.connect_url == ""
        and list(got.providers) == ["jumpcloud"]
    )
    assert got.expires_at.ToSeconds() - got.created_at.ToSeconds() == 30 * 60
    for other_tenant, session_id in (("someone-else", session.session_id), (tenant, str(uuid.uuid4()))):
        with pytest.raises(grpc.RpcError) as error:
            get_session(stub, other_tenant, session_id)
        assert refusal(error.value).code == grpc.StatusCode.NOT_FOUND


def test_secrets_stay_out_of_logs_metrics_and_audit(server, session):
    """The link's token is the session's secret: never in a log line, an audit record or a metric."""
    with opened(session.connect_url):
        pass
    token = urlsplit(session.connect_url).query.removeprefix("token=")
    text, samples = scrape(server)
    assert token not in server.logs() and token not in server.stdout() and token not in text
    assert samples[("credvault_connect_sessions_total", frozenset({("event", "created")}))] >= 1
    assert "ConnectPage.Open" in server.logs()  # the exchange was audited


def documented_command(address: str) -> str:
    """docs/connect.md's one command, as printed but for the server's address."""
    block = DOCS.read_text().split("<!-- connect:start -->")[1].split("<!-- connect:end -->")[0]
    command = re.search(r"```sh\n(.*?)```", block, re.S).group(1).replace("\\\n", " ").strip()  # type: ignore[union-attr]
    grpcurl = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or "grpcurl"
    return command.replace("127.0.0.1:50051", address).replace("grpcurl", grpcurl, 1)


def test_the_documented_command_links_an_account_in_the_sandbox(tmp_path):
    """The docs' way to try it: `credvault sandbox`, the one grpcurl command, the link, the sandbox key."""
    sandbox = CredvaultProcess(
        {"CREDVAULT_LISTEN": "127.0.0.1:0"}, tmp_path, command=[sys.executable, "-m", "credvault", "sandbox"]
    ).start()
    try:
        result = subprocess.run(
            documented_command(sandbox.address), shell=True, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        with opened(answer["connect_url"]) as (client, csrf):
            assert submit(client, answer["session_id"], SANDBOX_KEY, csrf).status_code == 303
        with grpc.insecure_channel(sandbox.address) as channel:
            done = get_session(CredentialVaultStub(channel), "acme", answer["session_id"])
            assert done.state == pb.CONNECT_SESSION_STATE_COMPLETED
    finally:
        assert sandbox.stop() == 0


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            Response(429, {"message": "Too Many Requests"}, headers={"Retry-After": "30"}),
            "Try again in 30 seconds",
        ),
        (Response(503, {"message": "Service Unavailable"}), "We could not reach JumpCloud"),
        (Response(200, drop=True), "We could not reach JumpCloud"),
    ],
    ids=["rate-limited", "5xx", "unreachable"],
)
def test_provider_trouble_is_explained_in_words(fakes, session, answer, said):
    key = f"jca_{uuid.uuid4().hex}"
    fakes.jumpcloud.override(key, answer)
    with opened(session.connect_url) as (client, csrf):
        page = submit(client, session.session_id, key, csrf)
    assert said in page.text and "Nothing was stored" in page.text and key not in page.text


@pytest.mark.parametrize(
    ("provider", "values", "field"),
    [
        ("atlassian", {"config.site": "no-such-site.atlassian.net"}, "config-site"),
        ("atlassian-service-account", {"config.cloud_id": str(uuid.uuid4())}, "config-cloud_id"),
    ],
    ids=["site-not-found", "organization-id-as-cloud-id"],
)
def test_a_rejection_is_shown_next_to_the_field_it_names(fakes, stub, tenant, provider, values, field):
    email = "mia@example.com"
    token = fakes.atlassian.add_token(email)
    session = create_session(stub, tenant, providers=[provider])
    with opened(session.connect_url) as (client, csrf):
        page = post_form(
            client,
            session.session_id,
            provider,
            {"credentials.email": email, "credentials.api_token": token, **values},
            csrf,
        )
    error = re.search(rf'<p class="error" id="e-{field}">([^<]+)</p>', page.text)
    assert error, page.text
    assert "config." not in error.group(1)  # the field's label, not its path
    assert f'aria-describedby="e-{field}' in page.text and token not in page.text


def test_ended_sessions_are_swept_from_vault(openbao):
    """The sweep every replica runs about hourly: sessions unchanged since the cutoff go, with every
    version; newer ones stay. (Its own folder, so no other test's sessions are touched.)"""
    settings = VaultSettings(
        addr=openbao.addr,
        token=openbao.root_token,
        create_mount=False,
        prefix=f"sweep-{uuid.uuid4().hex[:8]}",
    )
    store = VaultStore(settings)
    sessions = ConnectSessionStore(store.session, settings)
    now = datetime.now(UTC)
    made = [
        ConnectSessionRecord(
            session_id=str(uuid.uuid4()),
            tenant_id="acme",
            providers=("jumpcloud",),
            connection_id="jc",
            connection_id_given=True,
            reconnect=False,
            labels={},
            return_url="",
            state=SessionState.PENDING,
            created_at=now,
            expires_at=now + timedelta(minutes=30),
            link_hash="0" * 64,
        )
        for _ in range(2)
    ]

    async def scenario() -> None:
        await store.open(10)
        for record in made:
            await sessions.create(record, 5)
        assert await sessions.delete_unchanged_since(now - timedelta(hours=1)) == 0
        assert await sessions.delete_unchanged_since(datetime.now(UTC) + timedelta(seconds=2)) == 2
        for record in made:
            with pytest.raises(NotFoundError):
                await sessions.read(record.session_id, 5)
        assert await sessions.delete_unchanged_since(datetime.now(UTC) + timedelta(seconds=2)) == 0

    try:
        asyncio.run(scenario())
    finally:
        store.close()
