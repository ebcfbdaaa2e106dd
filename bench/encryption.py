"""P10: what encryption at rest costs the pages that read it.

Two cases alike in every row — an identity with aliases, a location, 30 notes (some
edited), needs, consents, flags — are read by the same caseworker through the same doors,
round after round. The first holds its encrypted columns as the app writes them
(AES-256-GCM); the second holds the same values as ``plain$<text>``, which this module's
reader returns as they are: the build without encryption, with the same rows, queries and
templates, so the ratio is the cipher's cost alone. The server for the HTTP half runs
``bench.wsgi_plaintext``, the app with that reader installed; nothing of it is in the app.
"""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db import connection, transaction

import core.fields
from agencies.models import Agency, AgencyKind, Membership, Role, User
from core.crypto import SEPARATOR, Keyring, keyring
from core.fields import encrypted_fields

from . import doors, measure

PLAIN = "plain"


class PlainReader(Keyring):
    """The app's keyring, but a value stored as ``plain$<text>`` reads as the text."""

    def __init__(self, real: Keyring) -> None:
        self.__dict__.update(real.__dict__)

    def decrypt_text(self, stored: str, context: str) -> str:
        key_id, _sep, payload = stored.partition(SEPARATOR)
        if key_id == PLAIN:
            return payload
        return super().decrypt_text(stored, context)


def install_plain_reader() -> None:
    reader = PlainReader(keyring())
    # A benchmark's monkeypatch: the cached keyring() swapped for a plain function.
    core.fields.keyring = lambda: reader  # type: ignore[assignment]


@contextmanager
def plain_reader() -> Iterator[None]:
    saved = core.fields.keyring
    install_plain_reader()
    try:
        yield
    finally:
        core.fields.keyring = saved


def _make_case(actor: User, tag: str) -> Any:
    from casework import services

    case = services.case_create(
        actor=actor,
        exploitation_types=["labour", "sexual"],
        risk_level="high",
        nationality="RO",
        region="Benchshire",
        identity={
            "given_name": "Bench",
            "family_name": f"Person {tag}",
            "date_of_birth": datetime.date(1990, 3, 3),
            "phone": "07700 900123",
        },
    )
    services.identity_save(
        actor=actor,
        case=case,
        given_name="Bench",
        family_name=f"Person {tag}",
        aliases=["B. Person", "Benny"],
        date_of_birth=datetime.date(1990, 3, 3),
        phone="07700 900123",
        email="bench.person@example.org",
    )
    services.location_set(
        actor=actor, case=case, accommodation_type="safe_house", address="Safe house 4, Benchshire"
    )
    for category in ("safe_accommodation", "healthcare", "legal_immigration"):
        services.need_add(actor=actor, case=case, category=category, note="Arranged with the GP.")
    services.flag_raise(actor=actor, case=case, kind="do_not_disclose_location", note="Ex-partner.")
    for number in range(30):
        note = services.note_add(
            actor=actor,
            case=case,
            body=f"Visit {number}: spoke about work at the car wash and the debt owed. " * 3,
            visibility="lead_agency",
        )
        if number % 5 == 0:
            services.note_edit(actor=actor, note=note, body=note.body + " Corrected.")
    return case


def _as_plain(case_id: int) -> int:
    """Rewrite every encrypted value reachable from the case as ``plain$<text>``."""
    ring, quote, changed = keyring(), connection.ops.quote_name, 0
    with transaction.atomic(), connection.cursor() as cursor:
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            names = {f.name for f in model._meta.concrete_fields}
            if "case" in names:
                where, args = "case_id = %s", [case_id]
            elif model._meta.db_table == "casework_casenoterevision":
                where = "note_id IN (SELECT id FROM casework_casenote WHERE case_id = %s)"
                args = [case_id]
            else:
                continue
            table = quote(model._meta.db_table)
            for field in fields:
                column = quote(field.column)
                cursor.execute(
                    f"SELECT id, {column} FROM {table} WHERE {where} AND {column} <> ''",  # noqa: S608
                    args,
                )
                for pk, value in cursor.fetchall():
                    plain = ring.decrypt_text(value, field.encryption_context)
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
                        [f"{PLAIN}{SEPARATOR}{plain}", pk],
                    )
                    changed += 1
    return changed


def _alternating(calls: dict[str, Callable[[], Any]], *, runs: int) -> dict[str, measure.Timing]:
    """``measure.compare``, but each pair's two sides (consecutive keys) swap order every
    round: whichever request follows another client's pays for the switch, so a fixed
    order would put that on one side."""
    keys = list(calls)
    pairs = [keys[i : i + 2] for i in range(0, len(keys), 2)]
    for _ in range(3):
        for call in calls.values():
            call()
    timings = {key: measure.Timing(key) for key in keys}
    for number in range(runs):
        for pair in pairs:
            for key in pair if number % 2 == 0 else reversed(pair):
                started = time.perf_counter()
                calls[key]()
                timings[key].samples.append((time.perf_counter() - started) * 1000)
    return timings


def measure_encryption(
    say: Callable[[str], None], *, runs: int, port: int | None, tokens: doors.Tokens
) -> None:
    from agencies.services import agency_create

    agency = Agency.objects.filter(name="Bench Encryption Trust").first() or agency_create(
        actor=None, name="Bench Encryption Trust", kind=AgencyKind.CHARITY, country="GB"
    )
    user = User.objects.filter(username="bench-encryption").first()
    if user is None:
        user = User.objects.create_user("bench-encryption", password=None)
        Membership.objects.create(user=user, agency=agency, role=Role.CASEWORKER)
    user = User.objects.get(pk=user.pk)
    from casework.models import Case
    from notifications.models import Notification, NotificationEvent

    last_event = NotificationEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    last_notification = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    encrypted, plain = _make_case(user, "A"), _make_case(user, "B")
    try:
        rewritten = _as_plain(plain.pk)
        _measure(say, user, encrypted, plain, rewritten, runs=runs, port=port, tokens=tokens)
    finally:
        # Leave the data as it was (the audit trail keeps its rows: it is append-only).
        Case.objects.filter(pk__in=[encrypted.pk, plain.pk]).delete()
        NotificationEvent.objects.filter(pk__gt=last_event or 0).delete()
        Notification.objects.filter(pk__gt=last_notification or 0).delete()


def _measure(
    say: Callable[[str], None],
    user: User,
    encrypted: Any,
    plain: Any,
    rewritten: int,
    *,
    runs: int,
    port: int | None,
    tokens: doors.Tokens,
) -> None:
    pages = {
        "case page (HTML)": "/cases/{}/",
        "identity (API)": "/api/v1/cases/{}/identity/",
        "notes, 30 (API)": "/api/v1/cases/{}/notes/",
    }
    transports = (doors.TEST_CLIENT, doors.HTTP) if port is not None else (doors.TEST_CLIENT,)
    calls: dict[str, Callable[[], Any]] = {}
    connections: list[doors.Connection] = []
    with plain_reader():
        try:
            for door in doors.DOORS:
                for transport in transports:
                    client = (
                        doors.client_at(user, door, tokens)
                        if transport == doors.TEST_CLIENT
                        # The HTTP transport is only listed when a server (a port) runs.
                        else doors.Connection(port, doors.http_headers(user, door, tokens))  # type: ignore[arg-type]
                    )
                    if transport == doors.HTTP:
                        # The HTTP transport's client is the Connection made above.
                        connections.append(client)  # type: ignore[arg-type]
                    for page, url in pages.items():
                        if door == doors.TOKEN and "HTML" in page:
                            continue
                        for side, case in (("encrypted", encrypted), ("plain", plain)):
                            key = f"{page} | {door} | {transport} | {side}"
                            path = url.format(case.pk)
                            calls[key] = (
                                functools.partial(measure.get_ok, client, path)
                                if transport == doors.TEST_CLIENT
                                else functools.partial(client.get, path)
                            )
            timings = _alternating(calls, runs=runs)
        finally:
            for open_connection in connections:
                open_connection.close()
    say("## P10 — encryption at rest")
    say("")
    say(
        "The same caseworker reads two cases alike in every row (identity with aliases, a "
        "location, 30 notes of which 6 edited, 3 needs, a flag): one as stored, AES-256-GCM "
        f"({rewritten} values in the other case), and its twin whose values are stored as "
        "`plain$<text>` and read as they are (the build without encryption: same rows, "
        "queries and templates). Timed in turn, round after round, at both doors, through "
        "the test client"
        + (
            " and over HTTP (gunicorn, one worker, one thread, `bench.wsgi_plaintext`)."
            if port
            else "."
        )
        + " Target ≤ 1.1x."
    )
    say("")
    say(
        "| read | door | transport | encrypted median | plain median | ratio | p95 ratio "
        "| within target |"
    )
    say("| --- | --- | --- | ---: | ---: | ---: | ---: | :-: |")
    for key in calls:
        page, door, transport, side = key.split(" | ")
        if side != "encrypted":
            continue
        top, bottom = timings[key], timings[f"{page} | {door} | {transport} | plain"]
        median_ratio = top.median / bottom.median
        say(
            f"| {page} | {door} | {transport} | {top.median:.2f} | {bottom.median:.2f} "
            f"| {median_ratio:.2f}x | {top.p95 / bottom.p95:.2f}x "
            f"| {'yes' if median_ratio <= 1.1 else '**no**'} |"
        )
    say("")
