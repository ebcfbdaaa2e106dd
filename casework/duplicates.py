"""The cross-agency duplicate person check: hit or no hit, never the other case.

When a case's identity is recorded or its names or date of birth change, its keyed blind
indexes (``VictimIdentity.match_exact``, ``match_likely``: ``core.blind_index``) are
looked for among the cases led by the other agencies that share a partnership in force
with its lead agency. Each side of a hit learns only that a person with these details is
known to the other agency, how to reach it (its intelligence or safeguarding mailbox) and
how strong the match is: never the other case's id, reference, identity or content.
``PossibleDuplicate.other_case`` stays on the server, so that the pair can be refreshed,
dismissed and told to the other side.

Sides are the cases' lead agencies, asked again at every read: a hit whose two cases are
now led by the same agency, or by agencies no longer in a partnership in force (an
agreement lapsed, a lead moved), is not shown, and shows again if the partnership comes
back. Either side may say "not the same person", with a reason: the pair is then not
raised again until a name or the date of birth changes on either case. (Record linkage in
SORMAS and OpenCRVS learned that staff stop reading warnings that cannot be answered.)

Everyone who can read the identity of a case reads its hits (a page or the API); those who
can change the identity dismiss them. The same functions serve both doors.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from agencies import access
from agencies.models import Agency, Role, User, partnered_now
from audit.audit_actions import AuthAction
from audit.record import NOBODY, record
from core.errors import IllegalTransition
from notifications.services import notify, notify_agency

from . import reads
from .audit_actions import CaseAction
from .models import Case, DuplicateStrength, PossibleDuplicate, VictimIdentity
from .permissions import CHANGE_IDENTITY, VIEW_IDENTITY

# Notification kinds.
FOUND_NOTIFICATION = "possible_duplicate.found"
DISMISSED_NOTIFICATION = "possible_duplicate.dismissed"

# The identity fields the blind indexes are made of: a change to one refreshes the hits.
MATCHED_FIELDS = frozenset({"given_name", "family_name", "date_of_birth"})

REASON_NEEDED = _lazy("Say why this is not the same person.")


def _url(case: Case) -> str:
    return f"/cases/{case.pk}/#possible-duplicates"


def _contact(agency: Agency) -> str:
    """The agency and its mailbox, for a notification (a team address, never a person's)."""
    if agency.intelligence_contact:
        return f"{agency.name} ({agency.intelligence_contact})"
    return agency.name


def _tell(*, actor: User, case: Case, kind: str, message: str, dedup_key: str) -> None:
    """The case's lead caseworker (not the actor, who sees it already), or its lead
    agency's case managers when the case has no lead caseworker. No personal data."""
    if case.lead_caseworker_id is not None:
        if case.lead_caseworker_id != actor.pk:
            notify(
                recipients=[case.lead_caseworker],
                kind=kind,
                target=case,
                message=message,
                url=_url(case),
                dedup_key=dedup_key,
            )
        return
    notify_agency(
        agency=case.lead_agency,
        roles=[Role.CASE_MANAGER],
        kind=kind,
        target=case,
        message=message,
        url=_url(case),
        dedup_key=dedup_key,
    )


# --- Finding -----------------------------------------------------------------------------


def _candidates(identity: VictimIdentity, lead_agency_id: int) -> QuerySet[Case]:
    """Other cases whose identity meets this one's blind indexes, led by another active
    agency that shares a partnership in force with ``lead_agency_id``: one query, whatever
    the number of partnerships or hits (the exact token's partial index and the likely
    tokens' GIN index, then one semi-join through the partnership members)."""
    same = Q(identity__match_exact=identity.match_exact)
    alike = Q(identity__match_likely__overlap=identity.match_likely)
    return (
        Case.objects.filter(same | alike)
        .exclude(pk=identity.case_id)
        .exclude(lead_agency_id=lead_agency_id)
        .filter(lead_agency__active=True)
        .filter(partnered_now(OuterRef("lead_agency_id"), lead_agency_id))
        .annotate(their_exact=F("identity__match_exact"))
        .select_related("lead_agency", "lead_caseworker")
        .order_by("pk")
    )


def find_for(*, actor: User, identity: VictimIdentity) -> list[PossibleDuplicate]:
    """Refresh the hits of ``identity``'s case after its identity was recorded or a name
    or the date of birth changed (``services.identity_save``, in its transaction).

    The case's earlier hits go, in both directions (a dismissed pair may now be raised
    again: the details changed). Then every case of another agency in a partnership in
    force with this case's lead agency whose blind indexes meet these is a hit: exact
    when the names (in either order) and the date of birth are the same, likely when a
    family name sounds the same with the same date of birth. An identity without a given
    name, a family name and a date of birth has no index and meets nothing.

    Each hit is one row per side, audited on each side's case (naming its own row and the
    other agency only), and each side's lead caseworker is told which agency to contact,
    after the commit. Returns this case's new rows.
    """
    case = identity.case
    with transaction.atomic():
        PossibleDuplicate.objects.filter(Q(case=case) | Q(other_case=case)).delete()
        if not identity.match_exact:
            return []
        others = list(_candidates(identity, case.lead_agency_id))
        if not others:
            return []
        now = timezone.now()
        pairs: list[PossibleDuplicate] = []
        for other in others:
            strength = (
                DuplicateStrength.EXACT
                if other.their_exact == identity.match_exact
                else DuplicateStrength.LIKELY
            )
            pairs.append(
                PossibleDuplicate(case=case, other_case=other, strength=strength, found_at=now)
            )
            pairs.append(
                PossibleDuplicate(case=other, other_case=case, strength=strength, found_at=now)
            )
        # Two cases of one person saved at the same moment find each other twice: the
        # second transaction waits for the first and updates its rows (same ids, so the
        # notifications' dedup keys hold) instead of failing on the pair's unique key.
        PossibleDuplicate.objects.bulk_create(
            pairs,
            update_conflicts=True,
            unique_fields=["case", "other_case"],
            update_fields=["strength", "found_at"],
        )
        ours = pairs[0::2]
        for mine, theirs in zip(ours, pairs[1::2], strict=True):
            other = theirs.case
            # The other side's trail names this agency (in the detail), not its person.
            for row, other_agency, recorder in (
                (mine, other.lead_agency, actor),
                (theirs, case.lead_agency, NOBODY),
            ):
                record(
                    CaseAction.POSSIBLE_DUPLICATE_FOUND,
                    actor=recorder,
                    target=row.case,
                    detail={
                        "possible_duplicate_id": row.pk,
                        "agency_id": other_agency.pk,
                        "strength": row.strength,
                    },
                )
                _tell(
                    actor=actor,
                    case=row.case,
                    kind=FOUND_NOTIFICATION,
                    message=_("The person on case %(ref)s may be known to %(agency)s")
                    % {"ref": row.case.reference, "agency": _contact(other_agency)},
                    dedup_key=f"possible-duplicate:{row.pk}:found",
                )
    return ours


# --- Reading -----------------------------------------------------------------------------


def _shown(case: Case) -> QuerySet[PossibleDuplicate]:
    """This case's hits (dismissed or not) whose other case is led, now, by another active
    agency in a partnership in force with this case's lead agency; each annotated with
    that agency and its contact, the only things of the other side a reader learns."""
    other_lead = "other_case__lead_agency"
    return (
        PossibleDuplicate.objects.filter(case=case, **{f"{other_lead}__active": True})
        .exclude(**{f"{other_lead}_id": case.lead_agency_id})
        .filter(partnered_now(case.lead_agency_id, OuterRef(f"{other_lead}_id")))
        .annotate(
            other_agency_id=F(f"{other_lead}_id"),
            other_agency_name=F(f"{other_lead}__name"),
            other_agency_contact=F(f"{other_lead}__intelligence_contact"),
        )
        .order_by("-found_at", "-id")
    )


def _on_the_side(user: Any, case: Case) -> bool:
    """Hits are between lead agencies: only the lead's own people read them. A partner
    that may read the identity (a referral with consent) may share no agreement with the
    other side, and would learn that that agency knows the person."""
    membership = getattr(user, "membership", None)
    return membership is not None and membership.agency_id == case.lead_agency_id


def for_case(
    user: Any, case: Case, *, perms: frozenset[str] | None = None
) -> list[PossibleDuplicate]:
    """The hits of ``case`` not marked "not the same person", for the lead agency's people
    who may read its identity (404 for whoever may not read it, audited, as the identity
    itself: ``reads.hidden``; none for another agency's reader). One query; a list that
    shows any is audited, naming the rows shown."""
    held = perms if perms is not None else access.perms_for(user, case)
    if VIEW_IDENTITY not in held:
        raise reads.hidden(user, case, VIEW_IDENTITY)
    if not _on_the_side(user, case):
        return []
    hits = list(_shown(case).filter(dismissed_at__isnull=True))
    if hits:
        record(
            CaseAction.POSSIBLE_DUPLICATES_LISTED,
            actor=user,
            target=case,
            detail={"possible_duplicate_ids": [hit.pk for hit in hits]},
        )
    return hits


def hit_or_404(user: Any, case: Case, hit_id: Any) -> PossibleDuplicate:
    """One hit of ``case`` named in a URL, dismissed or not, once the caller may read the
    case's identity. One of another case, or one no longer shown (the agencies' agreement
    lapsed), is the 404 of one that does not exist; one of a case whose identity the
    caller may not read is audited, as a hidden record is (``reads.child_or_404``)."""
    found = _shown(case).select_related("case__lead_agency").filter(pk=hit_id).first()
    if found is not None and _on_the_side(user, case):
        return found
    elsewhere = PossibleDuplicate.objects.filter(pk=hit_id).select_related("case").first()
    if elsewhere is not None and not access.can(user, VIEW_IDENTITY, elsewhere.case):
        record(
            AuthAction.ACCESS_DENIED,
            actor=user if getattr(user, "is_authenticated", False) else None,
            target=elsewhere,
            case_id=elsewhere.case_id,
            detail={"permission": VIEW_IDENTITY},
        )
    raise Http404


# --- Dismissing --------------------------------------------------------------------------


def dismiss(*, actor: User, hit: PossibleDuplicate, reason: str) -> PossibleDuplicate:
    """Mark a hit "not the same person", for both sides, with the reason.

    Those who may change the case's identity (its lead agency's caseworkers and case
    managers) may; anyone else who sees the hit is refused (403). A reason is required
    (400); a pair already dismissed, by either side, is not dismissed again (409). Both
    rows are marked, so neither side sees the pair again until a name or the date of
    birth changes on either case (``find_for``). Audited on both sides by ids (the reason
    is free text: it stays on this side's row, not in the trail and not on the other
    side's row); the other side's lead caseworker is told which agency said so, after the
    commit.
    """
    case = hit.case
    if not access.can(actor, CHANGE_IDENTITY, case):
        raise PermissionDenied(_("Only the lead agency's caseworkers may answer this match."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_NEEDED})
    with transaction.atomic():
        rows = {
            row.case_id: row
            for row in PossibleDuplicate.objects.select_for_update(of=("self",))
            .filter(Q(pk=hit.pk) | Q(case_id=hit.other_case_id, other_case_id=hit.case_id))
            .select_related("case__lead_agency", "case__lead_caseworker")
        }
        mine, theirs = rows.get(hit.case_id), rows.get(hit.other_case_id)
        if mine is None:  # a name or a birth date changed meanwhile: the hits were redone
            raise IllegalTransition(_("This match is no longer current. Reload the case."))
        if mine.dismissed_at is not None:
            raise IllegalTransition(_("This match was already marked as not the same person."))
        now = timezone.now()
        # The reason is free text about this side's person ("ours was born in Durrës"):
        # it stays on this side's row, never on the other agency's.
        for row, why in ((mine, reason), (theirs, "")):
            if row is None:
                continue
            row.dismissed_at, row.dismissed_by, row.dismissed_reason = now, actor, why
            row.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_reason"])
        other_case = theirs.case if theirs is not None else hit.other_case
        record(
            CaseAction.POSSIBLE_DUPLICATE_DISMISSED,
            actor=actor,
            target=case,
            detail={"possible_duplicate_id": mine.pk, "agency_id": other_case.lead_agency_id},
        )
        if theirs is not None:
            record(
                CaseAction.POSSIBLE_DUPLICATE_DISMISSED,
                actor=NOBODY,
                target=other_case,
                detail={
                    "possible_duplicate_id": theirs.pk,
                    "agency_id": case.lead_agency_id,
                    "by_other_agency": True,
                },
            )
            _tell(
                actor=actor,
                case=other_case,
                kind=DISMISSED_NOTIFICATION,
                message=_(
                    "%(agency)s marked a possible match on case %(ref)s as not the same person"
                )
                % {"agency": case.lead_agency.name, "ref": other_case.reference},
                dedup_key=f"possible-duplicate:{theirs.pk}:dismissed",
            )
    hit.dismissed_at, hit.dismissed_by, hit.dismissed_reason = now, actor, reason
    return hit
