"""Cases and what is recorded with them: the case itself, its lead assignment and the lead
agency's grants, the person's identity, where they stay, their consents, and the audited
reads of the sensitive parts."""

from __future__ import annotations

import datetime
from typing import Any

from agencies.audit_actions import AgencyAction
from casework.audit_actions import CaseAction
from casework.models import CaseStatus, ConsentMethod, ConsentScope, ExploitationType

from . import vocab
from .drawing import DAY, HISTORY_DAYS, AgencyPlan, CaseDraft, Drawing, Rows
from .pgcopy import RawJSON, Table

READ_ACTIONS = (
    CaseAction.IDENTITY_VIEWED,
    CaseAction.NOTES_VIEWED,
    CaseAction.DOCUMENTS_LISTED,
    CaseAction.LOCATION_VIEWED,
)

# Consents recorded early in a case, with their chances. A child's are safeguarding bases.
ADULT_CONSENTS = (
    (ConsentScope.NRM_REFERRAL, 0.70),
    (ConsentScope.POLICE_CONTACT, 0.35),
    (ConsentScope.EVIDENCE_USE, 0.20),
    (ConsentScope.HEALTH_INFORMATION, 0.25),
)
CHILD_CONSENTS = (
    (ConsentScope.HEALTH_INFORMATION, 0.40),
    (ConsentScope.POLICE_CONTACT, 0.50),
)


class CaseDrawing(Drawing):
    def _open_case(self, number: int, rows: dict[Table, list[tuple[Any, ...]]]) -> CaseDraft:
        """The case row, its lead assignment, the lead agency's grants and their audit."""
        rng, anchor, pick = self.rng, self.anchor, self.pick
        lead: AgencyPlan = self.leads(rng)
        case_id, assignment_id = self.pools["case"].take(), self.pools["lead"].take()
        worker = rng.choice(lead.care)
        # References follow the order of opening, as the application issues them; more
        # cases were opened recently than long ago. Older cases are more often closed.
        quantile = 1 - (number - rng.random()) / self.sizes.cases
        age_days = (quantile**1.6) * HISTORY_DAYS
        opened = anchor - datetime.timedelta(seconds=int(age_days * DAY) + 3600)
        p_closed = 0.02 if age_days < 30 else min(0.75, 0.9 * age_days / HISTORY_DAYS)
        roll = rng.random()
        if roll < p_closed:
            status = CaseStatus.CLOSED
        elif roll < p_closed + (1 - p_closed) * (0.6 if age_days < 14 else 0.2):
            status = CaseStatus.OPEN
        else:
            status = CaseStatus.ACTIVE
        closed_at = None
        if status == CaseStatus.CLOSED:
            closed_at = self._between(opened + (anchor - opened) * 0.3, anchor)
        closure = pick["closure"](rng) if closed_at else ""
        draws = 1 + (rng.random() < 0.15) + (rng.random() < 0.02)
        types = {pick["types"](rng) for _ in range(draws)}
        if len(types) > 1:
            types.discard(ExploitationType.UNKNOWN)
        as_child = rng.random() < 0.42
        is_child = as_child and rng.random() < 0.75
        county_lines = ExploitationType.CRIMINAL in types and (
            rng.random() < (0.5 if as_child else 0.05)
        )
        nationality, language = ("GB", "English") if county_lines else pick["nationality"](rng)
        region = lead.region if lead.region != "National" else rng.choice(vocab.REGIONS)
        reference = f"{vocab.CASE_PREFIX}{number:0{self.ref_width}d}"
        case = CaseDraft(
            id=case_id,
            number=number,
            lead=lead,
            worker=worker,
            opened=opened,
            closed_at=closed_at,
            is_child=is_child,
            language=language,
            region=region,
            exploited_as_child=as_child,
            end=closed_at or anchor,
        )
        rows[self.t_case].append(
            (
                case_id,
                reference,
                lead.id,
                worker,
                status,
                opened,
                closed_at,
                closure,
                rng.choice(vocab.CLOSURE_NOTES) if closure == "other" else "",
                sorted(types),
                county_lines,
                as_child,
                is_child,
                pick["risk"](rng),
                pick["gender"](rng),
                nationality,
                language,
                language not in ("", "English") and rng.random() < 0.7,
                region,
                pick["how"](rng),
                case.end,
            )
        )
        rows[self.t_lead].append((assignment_id, case_id, lead.id, opened, None))
        rows[self.t_grant].extend(
            (lead.group_id, pid, case_id, self.ct_lead, assignment_id, None, opened, worker)
            for pid in self.lead_perm_ids
        )
        audit = rows[self.t_audit]
        self._audit(
            audit,
            opened,
            worker,
            CaseAction.CREATED,
            "casework.case",
            case_id,
            case_id,
            {"reference": reference},
        )
        self._audit(
            audit,
            opened,
            worker,
            AgencyAction.GRANT_CREATED,
            "casework.case",
            case_id,
            case_id,
            RawJSON(
                f'{self.lead_grant_detail}, "agency_id": {lead.id}, "reason_id": {assignment_id}}}'
            ),
        )
        if closed_at:
            self._audit(
                audit,
                closed_at,
                worker,
                CaseAction.CLOSED,
                "casework.case",
                case_id,
                case_id,
                {"from": CaseStatus.ACTIVE, "reason": closure},
            )
        return case

    def _reads(self, case: CaseDraft, rows: Rows) -> None:
        """Reads of the sensitive parts, as audited."""
        rng = self.rng
        for _ in range(int(rng.random() * 4)):
            self._audit(
                rows[self.t_audit],
                self._between(case.opened, case.end),
                rng.choice(case.lead.care),
                rng.choice(READ_ACTIONS),
                "casework.case",
                case.id,
                case.id,
                {},
            )

    def _identity(self, case: CaseDraft, rows: Rows) -> None:
        rng = self.rng
        if rng.random() >= 0.92:  # some people are not (yet) identified
            return
        if case.is_child:
            years = 12 + rng.random() * 6
        elif case.exploited_as_child:
            years = 18 + rng.random() * 8
        else:
            years = 18 + rng.random() * 42
        known_dob = rng.random() < 0.8
        dob = (self.anchor - datetime.timedelta(days=int(years * 365.25))).date()
        rows[self.t_identity].append(
            (
                case.id,
                rng.choice(vocab.GIVEN_NAMES),
                rng.choice(vocab.FAMILY_NAMES),
                [rng.choice(vocab.GIVEN_NAMES)] if rng.random() < 0.1 else [],
                dob if known_dob else None,
                None if known_dob else int(years),
                f"+447700900{rng.randrange(1000):03d}" if rng.random() < 0.6 else "",
                f"person-{case.number}@example.org" if rng.random() < 0.25 else "",
                rng.random() < 0.2,
                self._between(case.opened, case.end),
            )
        )

    def _location(self, case: CaseDraft, rows: Rows) -> None:
        rng = self.rng
        if rng.random() >= (0.3 if case.closed_at else 0.6):
            return
        location_id = self.pools["location"].take()
        recorded = self._between(case.opened, case.opened + (case.end - case.opened) * 0.2)
        rows[self.t_location].append(
            (
                location_id,
                case.id,
                self.pick["accommodation"](rng),
                f"Flat {rng.randrange(1, 40)}, {rng.randrange(1, 300)} Example Road, {case.region}",
                recorded.date(),
                case.closed_at,
                case.worker,
                recorded,
            )
        )
        self._audit(
            rows[self.t_audit],
            recorded,
            case.worker,
            CaseAction.LOCATION_RECORDED,
            "casework.case",
            case.id,
            case.id,
            {"location_id": location_id},
        )

    def _consent(
        self,
        case: CaseDraft,
        rows: Rows,
        scope: str,
        given: datetime.datetime,
        *,
        agency_id: int | None = None,
        withdrawable: bool = True,
    ) -> int:
        """Adults consent (in writing, verbally, through an interpreter); for a child a
        safeguarding basis, with its reason, stands in."""
        rng = self.rng
        consent_id = self.pools["consent"].take()
        language = ""
        if case.is_child:
            method = ConsentMethod.SAFEGUARDING_BASIS
            basis = rng.choice(vocab.SAFEGUARDING_REASONS)
        else:
            method, basis = self.pick["consent_method"](rng), ""
            if method == ConsentMethod.VERBAL_INTERPRETER:
                language = (
                    case.language
                    if case.language not in ("", "English")
                    else rng.choice(vocab.CONSENT_LANGUAGES)
                )
        withdrawn_at = (
            self._between(given, case.end) if withdrawable and rng.random() < 0.04 else None
        )
        rows[self.t_consent].append(
            (
                consent_id,
                case.id,
                scope,
                agency_id,
                given,
                method,
                language,
                basis,
                case.worker,
                given,
                withdrawn_at,
                "The person changed their mind." if withdrawn_at else "",
                case.worker if withdrawn_at else None,
            )
        )
        audit = rows[self.t_audit]
        self._audit(
            audit,
            given,
            case.worker,
            CaseAction.CONSENT_RECORDED,
            "casework.case",
            case.id,
            case.id,
            {"consent_id": consent_id, "scope": scope, "method": method},
        )
        if withdrawn_at:
            self._audit(
                audit,
                withdrawn_at,
                case.worker,
                CaseAction.CONSENT_WITHDRAWN,
                "casework.case",
                case.id,
                case.id,
                {"consent_id": consent_id, "scope": scope, "grants_revoked": 0},
            )
        return consent_id

    def _consents(self, case: CaseDraft, rows: Rows) -> None:
        early = min(case.end, case.opened + datetime.timedelta(days=14))
        for scope, chance in CHILD_CONSENTS if case.is_child else ADULT_CONSENTS:
            if self.rng.random() < chance:
                self._consent(case, rows, scope, self._between(case.opened, early))
