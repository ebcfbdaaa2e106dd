"""Generate the synthetic partnership: agencies, their people, and a caseload with history.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the same seed and
sizes give the same rows (ids aside: they come from the tables' sequences). Times are
offsets back from an anchor day, so the same seed on another day gives the same data
shifted in time, except for referral deadlines, which count working days on the calendar
(pin ``--anchor`` for identical timestamps).

Rows are written with COPY, one transaction per batch of cases carrying everything that
hangs off those cases, so a batch is either wholly there or not at all. The grants follow
the same rules as the services that write them in the application:

- every case: ``LEAD_PERMISSIONS`` to its lead agency's group, reason its ``LeadAssignment``
  (``casework.services.case_create``);
- an accepted referral: ``BASE_PERMISSIONS`` (+ location for accommodation) to the
  receiving agency's group, reason the referral; with ``share_identity``, identity too,
  reason the consent naming that agency (``referrals.services.referral_accept``);
- a completed referral: ``view_case`` only, reason the referral (``referral_complete``).

Each kind of row is drawn by one part, a mixin of ``Generator`` (``drawing`` says what
they share): ``people`` (agencies, partnerships, users), ``cases`` (the case, identity,
location, consents, audited reads), ``referrals`` and ``case_records`` (needs, notes,
documents). ``Generator`` sets up the lookups, tables and pickers, and calls the parts in
the one order a seed depends on.
"""

from __future__ import annotations

import datetime
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection

from agencies import access
from audit.models import AuditEvent
from casework.models import (
    Case,
    CaseAgencyGrant,
    CaseLocation,
    CaseNote,
    Consent,
    Document,
    LeadAssignment,
    Need,
    NeedStatusChange,
    VictimIdentity,
)
from casework.permissions import LEAD_PERMISSIONS, VIEW_CASE
from referrals.models import Referral, ReferralKind
from referrals.services import BASE_PERMISSIONS, IDENTITY_PERMISSION, KIND_PERMISSIONS

from . import loading, vocab
from .case_records import CaseRecordDrawing
from .cases import CaseDrawing
from .drawing import Picker, Progress
from .people import PeopleDrawing
from .pgcopy import IdPool, Table
from .referrals import TINY_ONE_IN, ReferralDrawing
from .sizes import Sizes


class Generator(PeopleDrawing, ReferralDrawing, CaseDrawing, CaseRecordDrawing):
    def __init__(
        self,
        *,
        sizes: Sizes,
        seed: int,
        password: str,
        anchor: datetime.datetime,
        batch: int,
        log: Callable[[str], None],
        skip_row_checks: bool = True,
    ) -> None:
        self.sizes = sizes
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.password = password
        self.anchor = anchor
        self.batch = max(1, batch)
        self.skip_row_checks = skip_row_checks
        self.progress = Progress(log)
        self.counts = {}
        self.agencies = []
        self.user_agency = {}

    def _lookups(self) -> None:
        content_type = ContentType.objects.get_for_model
        self.ct_lead = content_type(LeadAssignment).pk
        self.ct_referral = content_type(Referral).pk
        self.ct_consent = content_type(Consent).pk

        def perm(name: str) -> int:
            return access.permission_id(name, Case)

        self.lead_perm_ids = [perm(p) for p in sorted(LEAD_PERMISSIONS)]
        self.lead_perm_names = sorted(LEAD_PERMISSIONS)
        self.view_case_id = perm(VIEW_CASE)
        self.referral_perms = {
            kind: sorted(BASE_PERMISSIONS + KIND_PERMISSIONS.get(kind, ()))
            for kind in ReferralKind.values
        }
        self.referral_perm_ids = {
            kind: [perm(p) for p in names] for kind, names in self.referral_perms.items()
        }
        self.identity_perm_id = perm(IDENTITY_PERMISSION)
        # The detail of the lead agency's grant.created, written once per case: built as
        # text, because json.dumps per row is a large share of the drawing time.
        self.lead_grant_detail = (
            json.dumps(
                {
                    "permissions": self.lead_perm_names,
                    "user_id": None,
                    "expires_at": None,
                    "created": len(self.lead_perm_ids),
                    "reason_type": "casework.leadassignment",
                }
            )[:-1]  # without its closing brace: agency_id and reason_id follow
        )

        self.t_audit = Table(
            AuditEvent,
            "occurred_at actor_id actor_agency_id action target_type target_id "
            "case_id request_id detail",
        )

    def _tables(self) -> None:
        self.t_case = Table(
            Case,
            "id reference lead_agency_id lead_caseworker_id status opened_at "
            "closed_at closure_reason closure_note exploitation_types county_lines "
            "exploited_as_child is_child risk_level gender nationality "
            "first_language interpreter_needed region how_identified updated_at",
        )
        self.t_lead = Table(LeadAssignment, "id case_id agency_id started_at ended_at")
        self.t_identity = Table(
            VictimIdentity,
            "case_id given_name family_name aliases date_of_birth estimated_age "
            "phone email documents_held_by_other updated_at",
        )
        self.t_location = Table(
            CaseLocation,
            "id case_id accommodation_type address since ended_at recorded_by_id recorded_at",
        )
        self.t_consent = Table(
            Consent,
            "id case_id scope agency_id given_at method language basis_reason "
            "recorded_by_id recorded_at withdrawn_at withdrawn_reason "
            "withdrawn_by_id",
        )
        self.t_referral = Table(
            Referral,
            "id case_id from_agency_id to_agency_id kind urgency reason "
            "share_identity identity_basis_id status sent_by_id sent_at respond_by "
            "answered_by_id answered_at decline_reason closed_at "
            "overdue_notified_at",
        )
        self.t_need = Table(
            Need,
            "id case_id category urgency status owner_agency_id target_date note "
            "created_by_id created_at updated_at",
        )
        self.t_need_change = Table(
            NeedStatusChange, "need_id from_status to_status changed_by_id changed_at"
        )
        self.t_note = Table(
            CaseNote, "case_id author_id agency_id body visibility created_at updated_at"
        )
        self.t_document = Table(
            Document,
            "case_id file storage_key original_name content_type size sha256 kind "
            "purpose description uploaded_by_id uploaded_at",
        )
        self.t_grant = Table(
            CaseAgencyGrant,
            "group_id permission_id content_object_id reason_type_id reason_id "
            "expires_at granted_at granted_by_id",
        )
        # Parents before children (the constraints are deferred, but it reads better).
        self.case_tables = (
            self.t_case,
            self.t_lead,
            self.t_identity,
            self.t_location,
            self.t_consent,
            self.t_referral,
            self.t_need,
            self.t_need_change,
            self.t_note,
            self.t_document,
            self.t_grant,
            self.t_audit,
        )

    def _pickers(self) -> None:
        self.pick = {
            name: Picker.of(weighted)
            for name, weighted in (
                ("types", vocab.EXPLOITATION_TYPES),
                ("risk", vocab.RISK_LEVELS),
                ("gender", vocab.GENDERS),
                ("how", vocab.HOW_IDENTIFIED),
                ("closure", vocab.CLOSURE_REASONS),
                ("referral_kind", vocab.REFERRAL_KINDS),
                ("urgency", vocab.REFERRAL_URGENCIES),
                ("need", vocab.NEED_CATEGORIES),
                ("accommodation", vocab.ACCOMMODATION_TYPES),
                ("consent_method", vocab.CONSENT_METHODS_ADULT),
            )
        }
        self.pick["nationality"] = Picker(
            [(code, language) for code, _, language in vocab.NATIONALITIES],
            [w for _, w, _ in vocab.NATIONALITIES],
        )
        self.pick["document"] = Picker(
            [(kind, ctype, ext) for kind, _, ctype, ext in vocab.DOCUMENT_KINDS],
            [w for _, w, _, _ in vocab.DOCUMENT_KINDS],
        )
        self.leads = Picker(self.agencies, [a.lead_weight for a in self.agencies])
        self.receivers = self._receivers()

    def _cases(self) -> None:
        sizes = self.sizes
        if sizes.cases == 0:
            return
        self._tables()
        self._pickers()
        block = max(1_000, self.batch)
        self.pools = {
            "case": IdPool(Case, block),
            "lead": IdPool(LeadAssignment, block),
            "location": IdPool(CaseLocation, block),
            "consent": IdPool(Consent, 3 * block),
            "referral": IdPool(Referral, 3 * block),
            "need": IdPool(Need, 6 * block),
        }
        self.respond_by_offsets = {}
        self.tiny = next((a for a in self.agencies if a.tiny), None)
        self.tiny_every = max(1, sizes.cases // max(1, sizes.cases // TINY_ONE_IN))
        self.ref_width = max(6, len(str(sizes.cases)))

        rows: dict[Table, list[tuple[Any, ...]]] = {t: [] for t in self.case_tables}
        width = len(f"{sizes.cases:,}")
        settings, notes = loading.batch_settings(
            (t.name for t in self.case_tables), skip_row_checks=self.skip_row_checks
        )
        self.progress(
            "batch settings: "
            + ", ".join(f"{k}={v}" for k, v in settings.items())
            + (f" ({notes})" if notes else "")
        )
        writer = loading.BatchWriter(
            settings=settings,
            # A second connection cannot see rows of an enclosing, uncommitted transaction.
            background=not connection.in_atomic_block,
        )

        def report(number: int, count: int, drawn: float) -> Callable[[float], None]:
            def done(written: float) -> None:
                self.progress(
                    f"cases {number:>{width},}/{sizes.cases:,} "
                    f"({100 * number / sizes.cases:5.1f}%): {count:,} rows "
                    f"(drawn and encoded in {drawn:.1f}s, written in {written:.1f}s)"
                )

            return done

        mark = time.monotonic()
        try:
            for number in range(1, sizes.cases + 1):
                self._case(number, rows)
                if number % self.batch == 0 or number == sizes.cases:
                    count = sum(len(r) for r in rows.values())
                    batch = [(t, t.encode(rows[t])) for t in self.case_tables]
                    for table in self.case_tables:
                        self._count(table, len(rows[table]))
                    rows = {t: [] for t in self.case_tables}
                    writer.submit(batch, report(number, count, time.monotonic() - mark))
                    mark = time.monotonic()
        finally:
            writer.finish()
        if "session_replication_role" in settings:
            problems = loading.orphans(t.model for t in self.case_tables)
            if problems:
                raise IntegrityError(
                    "Synthetic rows point at rows that do not exist: " + "; ".join(problems)
                )
            self.progress(f"every foreign key of {len(self.case_tables)} tables verified")

    def _case(self, number: int, rows: dict[Table, list[tuple[Any, ...]]]) -> None:
        """One case and everything on it, its parts drawn in the order the seed depends on."""
        case = self._open_case(number, rows)
        self._identity(case, rows)
        self._location(case, rows)
        self._consents(case, rows)
        accepted_to = self._referrals(case, rows)
        self._needs(case, rows, accepted_to)
        self._notes(case, rows)
        self._documents(case, rows)
        self._reads(case, rows)

    # --- All of it -----------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self._lookups()
        self._agencies()
        self._users()
        self._cases()
        return self.counts

    def describe(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "anchor": self.anchor.isoformat(),
            "sizes": asdict(self.sizes),
        }
