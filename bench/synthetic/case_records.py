"""What a case's workers record on it over time: needs with their status history, notes
and documents (metadata only)."""

from __future__ import annotations

import datetime

from casework.audit_actions import CaseAction
from casework.models import DEFAULT_URGENCY, DocumentPurpose, NeedStatus, NoteVisibility

from . import vocab
from .drawing import AgencyPlan, CaseDraft, Drawing, Rows, how_many

OPEN_CASE_NEEDS = (
    (NeedStatus.IDENTIFIED, 0.30),
    (NeedStatus.IN_PROGRESS, 0.70),
    (NeedStatus.MET, 0.95),
    (NeedStatus.DECLINED, 0.98),
    (NeedStatus.UNMET, 1.0),
)
CLOSED_CASE_NEEDS = (
    (NeedStatus.MET, 0.60),
    (NeedStatus.DECLINED, 0.75),
    (NeedStatus.UNMET, 1.0),
)
# The statuses a need passes through to reach its current one (others: via in progress).
NEED_PATHS: dict[str, tuple[str, ...]] = {
    NeedStatus.IDENTIFIED: (NeedStatus.IDENTIFIED,),
    NeedStatus.IN_PROGRESS: (NeedStatus.IDENTIFIED, NeedStatus.IN_PROGRESS),
    NeedStatus.DECLINED: (NeedStatus.IDENTIFIED, NeedStatus.DECLINED),
}
EVIDENCE_KINDS = frozenset({"statement", "identity_document"})


class CaseRecordDrawing(Drawing):
    def _needs(self, case: CaseDraft, rows: Rows, accepted_to: list[AgencyPlan]) -> None:
        rng = self.rng
        for _ in range(how_many(rng, self.sizes.needs_per_case)):
            need_id = self.pools["need"].take()
            category = self.pick["need"](rng)
            created = self._between(
                case.opened, min(case.end, case.opened + datetime.timedelta(days=30))
            )
            roll = rng.random()
            outcomes = CLOSED_CASE_NEEDS if case.closed_at else OPEN_CASE_NEEDS
            final = next((s for s, upto in outcomes if roll < upto), outcomes[-1][0])
            owner = rng.choice(accepted_to) if accepted_to and rng.random() < 0.15 else case.lead
            when, previous = created, ""
            for step in NEED_PATHS.get(
                final, (NeedStatus.IDENTIFIED, NeedStatus.IN_PROGRESS, final)
            ):
                rows[self.t_need_change].append((need_id, previous, step, case.worker, when))
                previous = step
                when = self._between(when, max(case.end, when))
            target = (created + datetime.timedelta(days=rng.randrange(7, 91))).date()
            rows[self.t_need].append(
                (
                    need_id,
                    case.id,
                    category,
                    DEFAULT_URGENCY.get(category, 4),
                    final,
                    owner.id,
                    target if rng.random() < 0.85 else None,
                    rng.choice(vocab.NEED_NOTES),
                    case.worker,
                    created,
                    when,
                )
            )
            self._audit(
                rows[self.t_audit],
                created,
                case.worker,
                CaseAction.NEED_ADDED,
                "casework.case",
                case.id,
                case.id,
                {"need_id": need_id, "category": category},
            )

    def _notes(self, case: CaseDraft, rows: Rows) -> None:
        """Written by the lead agency's care staff: only the lead holds add_case_note."""
        rng = self.rng
        for _ in range(how_many(rng, self.sizes.notes_per_case)):
            written = self._between(case.opened, case.end)
            body = rng.choice(vocab.NOTE_TEMPLATES).format(
                topic=rng.choice(vocab.NOTE_TOPICS), days=rng.randrange(2, 15)
            )
            visibility = (
                NoteVisibility.LEAD_AGENCY if rng.random() < 0.6 else NoteVisibility.CASE_TEAM
            )
            rows[self.t_note].append(
                (
                    case.id,
                    rng.choice(case.lead.care),
                    case.lead.id,
                    body,
                    visibility,
                    written,
                    written,
                )
            )

    def _documents(self, case: CaseDraft, rows: Rows) -> None:
        """Metadata only: no file exists behind these rows."""
        rng = self.rng
        for k in range(1, how_many(rng, self.sizes.documents_per_case) + 1):
            kind, content_type, ext = self.pick["document"](rng)
            key = f"{vocab.STORAGE_KEY_PREFIX}{case.number:0{self.ref_width}d}-{k}"
            evidence = kind in EVIDENCE_KINDS and rng.random() < 0.4
            rows[self.t_document].append(
                (
                    case.id,
                    f"documents/{case.id}/{key}",
                    key,
                    f"{kind}-{k}.{ext}",
                    content_type,
                    rng.randrange(20_000, 5_000_000),
                    f"{rng.getrandbits(256):064x}",
                    kind,
                    DocumentPurpose.EVIDENCE if evidence else DocumentPurpose.SUPPORT,
                    "",
                    case.worker,
                    self._between(case.opened, case.end),
                )
            )
