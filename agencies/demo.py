"""The demo partnership: agencies, a partnership, a sharing group, one user
per role. Idempotent: what exists is left as it is."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from . import second_factor, services
from .models import Agency, AgencyKind, Membership, Partnership, Role, SharingGroup, User

PARTNERSHIP = "Northshire Modern Slavery Partnership"

AGENCIES: list[dict[str, Any]] = [
    {
        "name": "Northshire Police",
        "kind": AgencyKind.POLICE,
        "country": "GB",
        "subdivision": "GB-ENG",
        "region": "Northshire",
        "is_first_responder": True,
        "intelligence_contact": "intel.desk@northshire-police.example",
    },
    {
        "name": "Northshire Council Adult Social Care",
        "kind": AgencyKind.SOCIAL_SERVICES,
        "country": "GB",
        "subdivision": "GB-ENG",
        "region": "Northshire",
        "is_first_responder": True,
        "intelligence_contact": "mash@northshire-council.example",
    },
    {
        "name": "Harbour Trust",
        "kind": AgencyKind.CHARITY,
        "country": "GB",
        "subdivision": "GB-ENG",
        "region": "Northshire",
        "is_first_responder": True,
        "intelligence_contact": "safeguarding@harbourtrust.example",
    },
    {
        "name": "Northshire Health",
        "kind": AgencyKind.HEALTH,
        "country": "GB",
        "subdivision": "GB-ENG",
        "region": "Northshire",
        "is_first_responder": False,
    },
    {
        "name": "Crown Prosecution Northshire",
        "kind": AgencyKind.PROSECUTION,
        "country": "GB",
        "subdivision": "GB-ENG",
        "region": "Northshire",
        "is_first_responder": False,
    },
    {
        "name": "Labour Inspectorate",
        "kind": AgencyKind.LABOUR_INSPECTORATE,
        "country": "GB",
        "subdivision": "GB-ENG",
        "region": "",
        "is_first_responder": True,
        "intelligence_contact": "intelligence@labour-inspectorate.example",
    },
    {
        "name": "Ljubljana Police Directorate",
        "kind": AgencyKind.POLICE,
        "country": "SI",
        "region": "Ljubljana",
        "is_first_responder": False,
    },
    # Outside the partnership: sees nothing of it.
    {
        "name": "Southshire Police",
        "kind": AgencyKind.POLICE,
        "country": "GB",
        "subdivision": "GB-ENG",
        "region": "Southshire",
        "is_first_responder": True,
    },
]
OUTSIDE = {"Southshire Police"}

USERS: list[tuple[str, str, str, str, str]] = [
    # username, agency, role, first name, last name
    ("harbour.caseworker", "Harbour Trust", Role.CASEWORKER, "Amira", "Haddad"),
    ("harbour.manager", "Harbour Trust", Role.CASE_MANAGER, "Beth", "Okafor"),
    ("harbour.admin", "Harbour Trust", Role.AGENCY_ADMIN, "Colin", "Marsh"),
    (
        "council.caseworker",
        "Northshire Council Adult Social Care",
        Role.CASEWORKER,
        "Dana",
        "Whitfield",
    ),
    (
        "partnership.manager",
        "Northshire Council Adult Social Care",
        Role.PARTNERSHIP_MANAGER,
        "Eleanor",
        "Price",
    ),
    ("north.officer", "Northshire Police", Role.OFFICER, "Farid", "Khan"),
    ("north.analyst", "Northshire Police", Role.ANALYST, "Grace", "Lin"),
    ("health.caseworker", "Northshire Health", Role.CASEWORKER, "Hannah", "Doyle"),
    ("cps.prosecutor", "Crown Prosecution Northshire", Role.PROSECUTOR, "Ian", "Forsyth"),
    ("labour.officer", "Labour Inspectorate", Role.OFFICER, "Julia", "Nowak"),
    ("ljubljana.officer", "Ljubljana Police Directorate", Role.OFFICER, "Luka", "Kovač"),
    ("south.officer", "Southshire Police", Role.OFFICER, "Maya", "Reid"),
]

SHARING_GROUP = (
    "Northshire Labour Exploitation Cell",
    "Northshire Police",
    ["Northshire Police", "Labour Inspectorate", "Harbour Trust"],
)


def seed(log: Any = print) -> None:
    with transaction.atomic():
        agencies: dict[str, Agency] = {}
        for spec in AGENCIES:
            agency = Agency.objects.filter(name=spec["name"]).first()
            if agency is None:
                agency = services.agency_create(actor=None, **spec)
                log(f"  agency {agency.name}")
            elif spec.get("intelligence_contact") and not agency.intelligence_contact:
                # A demo database from before agencies had an intelligence contact.
                agency.intelligence_contact = spec["intelligence_contact"]
                agency.save(update_fields=["intelligence_contact"])
            agencies[agency.name] = agency

        partnership, created = Partnership.objects.get_or_create(
            name=PARTNERSHIP,
            defaults={
                "agreement_reference": "NMSP-ISA-2024-01",
                "starts_on": datetime.date(2024, 4, 1),
            },
        )
        if created:
            partnership.agencies.set([a for name, a in agencies.items() if name not in OUTSIDE])
            log(f"  partnership {partnership.name}")

        name, owner, members = SHARING_GROUP
        group, created = SharingGroup.objects.get_or_create(name=name, owner=agencies[owner])
        if created:
            group.members.set([agencies[m] for m in members])
            log(f"  sharing group {group.name}")

        for username, agency_name, role, first, last in USERS:
            existing = User.objects.filter(username=username).first()
            if existing is not None:
                second_factor.give_demo_authenticator(existing)  # the secret may have changed
                continue
            membership: Membership = services.membership_create(
                actor=None,
                agency=agencies[agency_name],
                username=username,
                email=f"{username}@demo.concord.example",
                role=role,
                first_name=first,
                last_name=last,
                password=settings.DEMO_PASSWORD,
            )
            second_factor.give_demo_authenticator(membership.user)
            log(f"  user {membership.user.username} ({membership.get_role_display()})")
