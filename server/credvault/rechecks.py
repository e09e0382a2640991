"""Wires the scheduled re-checks (domain/rechecks) and the expiry pass (domain/expiry_pass) to the
settings, the service and Vault."""

from __future__ import annotations

import uuid
from datetime import datetime

from credvault.config import RecheckSettings, VaultSettings
from credvault.domain.expiry import Expiry
from credvault.domain.expiry_book import ExpiryBook
from credvault.domain.expiry_pass import LEASE, ExpiryPass
from credvault.domain.model import ConnectionRecord, utcnow
from credvault.domain.recheck_book import ScheduleBook
from credvault.domain.recheck_budget import ProviderBudgets
from credvault.domain.recheck_timing import Timing
from credvault.domain.rechecks import CheckObserver, Rechecker, Verifier, lease_for
from credvault.domain.service import NextCheck
from credvault.events.changes import Changes
from credvault.events.journal import Journal
from credvault.vault.schedule_documents import VaultDocuments, VaultRoster
from credvault.vault.store import VaultStore


def timing_of(settings: RecheckSettings) -> Timing:
    return Timing(settings.interval, settings.rate, settings.expiry_warning)


def next_check(timing: Timing) -> NextCheck:
    def at(record: ConnectionRecord, now: datetime) -> datetime | None:
        return timing.next_check_at(
            record.tenant_id, record.connection_id, record.expires_at, now, record.created_at
        )

    return at


def build_expiry(
    settings: RecheckSettings, vault: VaultSettings, store: VaultStore, journal: Journal
) -> ExpiryPass:
    """The expiry pass of one replica (it runs whatever the re-check interval)."""
    book = ExpiryBook(VaultDocuments(store.session, vault), owner=uuid.uuid4().hex, lease=LEASE)
    return ExpiryPass(book, Expiry(store, Changes(store, journal, utcnow), settings.expiry_warning))


def build(
    settings: RecheckSettings,
    vault: VaultSettings,
    store: VaultStore,
    journal: Journal,
    verifier: Verifier,
    expiry: ExpiryPass,
    observe: CheckObserver = lambda *_: None,
) -> Rechecker:
    """The loop of one replica; each gets its own owner id for its claims in Vault."""
    timing = timing_of(settings)
    documents = VaultDocuments(store.session, vault)
    book = ScheduleBook(documents, timing, owner=uuid.uuid4().hex, lease=lease_for(timing))
    return Rechecker(
        timing,
        book,
        ProviderBudgets(book, timing),
        VaultRoster(store, vault),
        verifier,
        Expiry(store, Changes(store, journal, utcnow), settings.expiry_warning),
        expiry.arm,
        observe,
    )
