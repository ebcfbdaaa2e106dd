"""The National Referral Mechanism as each UK nation has it (DOMAIN.md).

One row per jurisdiction, each number next to its source. An agency's jurisdiction is its
country and, in the UK, its nation (``Agency.subdivision``, ISO 3166-2: GB-ENG, GB-WLS,
GB-SCT, GB-NIR; a UK agency without one is taken as England, where most partnerships
are). An agency in a country without a row here has no NRM: its cases show no NRM section,
and the page says why.

England and Wales read their periods from settings (``CONCORD_NRM_*``: the operator may
follow a change of guidance before a release); the other nations' come from this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from agencies.models import AgencyKind

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Modern Slavery Act 2015 s.52 (police, the NCA, local authorities, the GLAA) and the Home
# Office by policy (Modern Slavery: Statutory Guidance for England and Wales, "Duty to
# notify"). Social services are the local authority's.
_SECTION_52 = frozenset(
    {
        AgencyKind.POLICE,
        AgencyKind.NATIONAL_AGENCY,
        AgencyKind.LOCAL_AUTHORITY,
        AgencyKind.SOCIAL_SERVICES,
        AgencyKind.LABOUR_INSPECTORATE,
        AgencyKind.IMMIGRATION,
    }
)


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: StrOrPromise
    # The ``holidays`` package's subdivision for bank holidays.
    holidays_subdivision: str
    # Agency kinds under a duty to notify (file an MS1 or its equivalent).
    duty_to_notify: frozenset[str]
    # Minimum period of recovery and support after a positive Reasonable Grounds decision;
    # the Conclusive Grounds decision comes no earlier than its end.
    recovery_days: int
    # Reconsideration of a negative RG or CG decision may be asked within this many days.
    reconsideration_days: int
    # Support after the CG decision: calendar days after a positive one, working days
    # after a negative one.
    move_on_positive_days: int
    move_on_negative_working_days: int
    # When an adult declines an NRM referral, the lead caseworker is asked to file the MS1
    # within this many working days (Concord's practice, not a statutory period: the
    # guidance asks for the notification "as soon as practicable").
    ms1_prompt_working_days: int = 5
    sources: dict[str, str] = field(default_factory=dict)


def _england_and_wales(code: str, name: StrOrPromise, subdivision: str) -> Jurisdiction:
    return Jurisdiction(
        code=code,
        name=name,
        holidays_subdivision=subdivision,
        duty_to_notify=_SECTION_52,
        recovery_days=settings.NRM_RECOVERY_DAYS,
        reconsideration_days=settings.NRM_RECONSIDERATION_DAYS,
        move_on_positive_days=45,
        move_on_negative_working_days=9,
        sources={
            "recovery_days": "Modern Slavery Act 2015 s.50A (inserted by the Nationality "
            "and Borders Act 2022): at least 30 days; Modern Slavery: Statutory Guidance "
            "for England and Wales (s.49 MSA 2015), 'Recovery period'",
            "duty_to_notify": "Modern Slavery Act 2015 s.52; the Home Office by policy",
            "reconsideration_days": "Statutory Guidance for England and Wales, "
            "'Reconsiderations': 30 calendar days",
            "move_on": "Statutory Guidance for England and Wales, 'Move-on support': 45 "
            "calendar days after a positive CG, 9 working days after a negative one",
        },
    )


def _table() -> dict[str, Jurisdiction]:
    return {
        "GB-ENG": _england_and_wales("GB-ENG", _("England"), "ENG"),
        "GB-WLS": _england_and_wales("GB-WLS", _("Wales"), "WLS"),
        "GB-SCT": Jurisdiction(
            code="GB-SCT",
            name=_("Scotland"),
            holidays_subdivision="SCT",
            duty_to_notify=_SECTION_52,
            recovery_days=90,
            reconsideration_days=30,
            move_on_positive_days=45,
            move_on_negative_working_days=9,
            sources={
                "recovery_days": "Human Trafficking and Exploitation (Scotland) Act 2015 "
                "s.9, as extended by the Support for Victims (Scotland) Regulations: "
                "support for at least 90 days",
                "duty_to_notify": "Human Trafficking and Exploitation (Scotland) Act 2015 "
                "s.38 and UK-wide bodies under s.52 by policy",
            },
        ),
        "GB-NIR": Jurisdiction(
            code="GB-NIR",
            name=_("Northern Ireland"),
            holidays_subdivision="NIR",
            duty_to_notify=_SECTION_52,
            recovery_days=45,
            reconsideration_days=30,
            move_on_positive_days=45,
            move_on_negative_working_days=9,
            sources={
                "recovery_days": "Human Trafficking and Exploitation (Criminal Justice and "
                "Support for Victims) Act (Northern Ireland) 2015 s.18: at least 45 days",
                "duty_to_notify": "Modern Slavery Act 2015 s.52 bodies by policy",
            },
        ),
    }


DEFAULT_UK_NATION = "GB-ENG"


def for_agency(agency: object) -> Jurisdiction | None:
    """The NRM rules the agency works under, or None where there is no NRM."""
    country = getattr(agency, "country", "")
    if country != "GB":
        return None
    code = getattr(agency, "subdivision", "") or DEFAULT_UK_NATION
    return _table().get(code)


def holidays_subdivision(country: str, subdivision: str = "") -> str | None:
    """The ``holidays`` subdivision of an agency's bank holidays (its nation in the UK)."""
    if country != "GB":
        return None
    jurisdiction = _table().get(subdivision or DEFAULT_UK_NATION)
    return jurisdiction.holidays_subdivision if jurisdiction else "ENG"
