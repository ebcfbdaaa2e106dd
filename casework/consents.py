"""Consent: what the person agreed to, recorded and withdrawn.

Withdrawing consent takes with it, in the same transaction, every grant it justified and
the evidence approvals that needed it. Callers have fetched the case as for every case
write (``casework.services``).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies import access
from agencies.models import Agency, User
from audit.record import record
from core.errors import IllegalTransition

from .audit_actions import CaseAction
from .evidence import services as evidence_services
from .models import Case, Consent, ConsentMethod, ConsentScope
from .permissions import CHANGE_CONSENTS
from .services import _require

# No consent is older: a time before it is a typing error, and one before 1847 would be
# shown in the zone's local mean time (London's was -00:01:15), which no ISO 8601
# timestamp can carry (found by fuzzing the API against its schema).
EARLIEST_CONSENT = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)


def consent_record(
    *,
    actor: User,
    case: Case,
    scope: str,
    method: str,
    agency: Agency | None = None,
    given_at: datetime.datetime | None = None,
    language: str = "",
    basis_reason: str = "",
) -> Consent:
    """Record what the person agreed to, or a child's safeguarding basis with its reason."""
    _require(actor, CHANGE_CONSENTS, case, _("You may not record consent on this case."))
    errors: dict[str, str] = {}
    if scope == ConsentScope.SHARE_IDENTITY and agency is None:
        errors["agency"] = _("Name the agency the person agreed to share their identity with.")
    if scope != ConsentScope.SHARE_IDENTITY and agency is not None:
        errors["agency"] = _("Only consent to share identity names an agency.")
    if method == ConsentMethod.SAFEGUARDING_BASIS:
        if not case.is_child:
            errors["method"] = _("A safeguarding basis replaces consent only for a child.")
        if not basis_reason.strip():
            errors["basis_reason"] = _("Record the safeguarding reason.")
    if method == ConsentMethod.VERBAL_INTERPRETER and not language.strip():
        errors["language"] = _("Record the language the interpreter used.")
    given_at = given_at or timezone.now()
    if given_at > timezone.now() + datetime.timedelta(minutes=5):
        errors["given_at"] = _("Consent cannot be given in the future.")
    elif given_at < EARLIEST_CONSENT:
        errors["given_at"] = _("Consent cannot be given before 1900.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consent = Consent(
            case=case,
            scope=scope,
            agency=agency,
            method=method,
            given_at=given_at,
            language=language,
            basis_reason=basis_reason,
            recorded_by=actor,
        )
        consent.full_clean()
        consent.save()
        record(
            CaseAction.CONSENT_RECORDED,
            actor=actor,
            target=case,
            detail={"consent_id": consent.pk, "scope": scope, "method": method},
        )
    return consent


def consent_withdraw(*, actor: User, consent: Consent, reason: str = "") -> Consent:
    """Withdraw consent and, in the same transaction, every grant it justified."""
    _require(
        actor,
        CHANGE_CONSENTS,
        consent.case,
        _("You may not withdraw consent here."),
    )
    if consent.withdrawn_at is not None:
        raise IllegalTransition(_("This consent was already withdrawn."))
    with transaction.atomic():
        consent.withdrawn_at = timezone.now()
        consent.withdrawn_reason = reason
        consent.withdrawn_by = actor
        consent.save(update_fields=["withdrawn_at", "withdrawn_reason", "withdrawn_by"])
        revoked = access.revoke_for_reason(actor=actor, reason=consent)
        # Evidence approvals whose items needed this consent end with it.
        evidence_services.evidence_requests_end_for_consent(actor=actor, consent=consent)
        record(
            CaseAction.CONSENT_WITHDRAWN,
            actor=actor,
            target=consent.case,
            detail={"consent_id": consent.pk, "scope": consent.scope, "grants_revoked": revoked},
        )
    return consent
