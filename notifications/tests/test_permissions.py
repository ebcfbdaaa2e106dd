"""The permission matrix's rows for notifications (pages and API): everyone has an inbox
of their own; a notification of the caseworker's is 404 to everyone else (and marking it
read there changes nothing). See ``tests/permission_matrix.py``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.permission_matrix import (
    API_ANON,
    HTML_LOGIN,
    Expect,
    Rows,
    World,
    check,
    each_row,
    everyone,
    only,
)


def caseworker_notification(w: World) -> dict[str, Any]:
    from django.db import transaction

    from notifications.services import notification_event_expand, notify

    with transaction.atomic():
        event = notify(
            recipients=[w.users["caseworker"]],
            kind="case.matrix",
            target=w.case,
            message="A case needs your attention",
            url=f"/cases/{w.case.pk}/",
            dedup_key="matrix",
        )
    assert event is not None  # None only when nobody is to be told
    [notification_id] = notification_event_expand(event_id=event.pk)  # the worker's part
    return {"pk": notification_id}


ROWS: Rows = {
    "notifications:inbox": [Expect("GET", everyone(200, HTML_LOGIN))],
    "notifications:mark_read": [
        Expect(
            "POST",
            only({"caseworker": 302}, 404, HTML_LOGIN),
            kwargs=caseworker_notification,
            note="back to the inbox",
        ),
        Expect("GET", only({}, 405, HTML_LOGIN), kwargs=caseworker_notification),
    ],
    "notifications:mark_all_read": [
        Expect("POST", everyone(302, HTML_LOGIN)),
        Expect("GET", only({}, 405, HTML_LOGIN)),
    ],
    "api:notification-list": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:notification-read": [
        Expect(
            "POST",
            only({"caseworker": 200}, 404, API_ANON),
            api=True,
            kwargs=caseworker_notification,
        ),
        Expect(
            "GET",
            only({}, 405, API_ANON),
            api=True,
            kwargs=caseworker_notification,
            note="POST only; refused before any lookup",
        ),
    ],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
