"""The permission matrix's rows for signing in, the second factor, and an agency's
members (pages and API); see ``tests/permission_matrix.py``."""

from __future__ import annotations

import pytest

from agencies.second_factor import devices_of
from agencies.tests.factories import PASSWORD, code_for
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

ADMIN_ONLY = {"agency_admin": 200}

member_pk = lambda w: {"pk": w.colleague.membership.pk}  # noqa: E731
officer_pk = lambda w: {"pk": w.users["officer"].membership.pk}  # noqa: E731

ROWS: Rows = {
    # --- signing in -------------------------------------------------------------------
    "login": [
        Expect("GET", everyone(302, 200), note="signed-in users are sent home"),
        Expect(
            "POST",
            everyone(302, 302),
            data=lambda w, role: {
                "username": role if role != "anonymous" else "caseworker",
                "password": PASSWORD,
            },
        ),
    ],
    "logout": [Expect("POST", everyone(302, 302)), Expect("GET", everyone(405, 405))],
    "password_change": [Expect("GET", everyone(200, HTML_LOGIN))],
    "password_change_done": [Expect("GET", everyone(200, HTML_LOGIN))],
    "password_reset": [
        Expect("GET", everyone(200, 200)),
        Expect("POST", everyone(302, 302), data=lambda w, r: {"email": "x@example.org"}),
    ],
    "password_reset_done": [Expect("GET", everyone(200, 200))],
    "password_reset_confirm": [
        Expect(
            "GET",
            everyone(200, 200),
            kwargs=lambda w: {"uidb64": "MQ", "token": "bad-token"},
            note="an invalid link says so",
        )
    ],
    "password_reset_complete": [Expect("GET", everyone(200, 200))],
    "api:token": [
        Expect(
            "POST",
            everyone(201, API_ANON),
            api=True,
            data=lambda w, role: {
                "username": role,
                "password": PASSWORD if role != "anonymous" else "wrong",
                "otp": code_for(w.users[role]) if role != "anonymous" else "123456",
            },
            note="password and second factor",
        ),
        Expect(
            "POST",
            everyone(API_ANON, API_ANON),
            api=True,
            data=lambda w, role: {"username": role, "password": PASSWORD},
            note="without otp: nothing is issued",
        ),
        Expect(
            "DELETE",
            everyone(API_ANON, API_ANON),
            api=True,
            note="revokes the token used; sessions have none",
        ),
    ],
    # --- the second step of signing in ------------------------------------
    # The matrix's users have passed it: the page sends them on; anonymous visitors sign
    # in first.
    "security": [Expect("GET", everyone(200, HTML_LOGIN), note="one's own second factors")],
    "security_device_remove": [
        Expect(
            "POST",
            everyone(404, HTML_LOGIN),
            data=lambda w, r: {"device": "otp_totp.totpdevice/999999999"},
            note="a device that is not theirs",
        ),
        Expect(
            "POST",
            everyone(302, HTML_LOGIN),
            data=lambda w, r: {
                "device": "" if r == "anonymous" else devices_of(w.users[r])[0].persistent_id
            },
            note="their only app: refused, told why",
        ),
        Expect("GET", everyone(405, HTML_LOGIN)),
    ],
    "two_factor_verify": [Expect("GET", everyone(302, HTML_LOGIN), note="verified: on")],
    "two_factor_setup": [Expect("GET", everyone(200, HTML_LOGIN), note="add a device")],
    "two_factor_recovery_codes": [
        Expect("GET", everyone(200, HTML_LOGIN), note="first codes issued and shown"),
        Expect("POST", everyone(200, HTML_LOGIN), note="new codes replace the old"),
    ],
    "otp_webauthn:credential-registration-begin": [
        Expect("POST", everyone(200, 403), note="options to add a passkey; signed in only")
    ],
    "otp_webauthn:credential-registration-complete": [
        Expect("POST", everyone(400, 403), note="no ceremony begun: invalid state")
    ],
    "otp_webauthn:credential-authentication-begin": [
        Expect("POST", everyone(200, 403), note="a second factor, never a first")
    ],
    "otp_webauthn:credential-authentication-complete": [
        Expect("POST", everyone(400, 403), note="no ceremony begun: invalid state")
    ],
    "otp_webauthn:js-i18n-catalog": [Expect("GET", everyone(200, 200), note="public")],
    # --- an agency's members: pages ------------------------------------------------------
    "agencies:member_list": [Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN))],
    "agencies:member_create": [
        Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN)),
        Expect(
            "POST",
            only({"agency_admin": 302}, 403, HTML_LOGIN),
            data=lambda w, r: {
                "username": "newbie",
                "email": "newbie@example.org",
                "role": "caseworker",
            },
        ),
    ],
    "agencies:member_detail": [
        Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN), kwargs=member_pk),
        Expect(
            "GET",
            only({"agency_admin": 404}, 403, HTML_LOGIN),
            kwargs=officer_pk,
            note="another agency's member",
        ),
        Expect(
            "POST",
            only({"agency_admin": 302}, 403, HTML_LOGIN),
            kwargs=member_pk,
            data=lambda w, r: {"role": "case_manager"},
        ),
    ],
    "agencies:member_deactivate": [
        Expect("POST", only({"agency_admin": 302}, 403, HTML_LOGIN), kwargs=member_pk),
        Expect("POST", only({"agency_admin": 404}, 403, HTML_LOGIN), kwargs=officer_pk),
        Expect("GET", only({}, 405, HTML_LOGIN), kwargs=member_pk),
    ],
    "agencies:member_reactivate": [
        Expect("POST", only({"agency_admin": 302}, 403, HTML_LOGIN), kwargs=member_pk),
        Expect("POST", only({"agency_admin": 404}, 403, HTML_LOGIN), kwargs=officer_pk),
    ],
    "agencies:member_second_factor_reset": [
        Expect("GET", only(ADMIN_ONLY, 403, HTML_LOGIN), kwargs=member_pk, note="confirm"),
        Expect("POST", only({"agency_admin": 302}, 403, HTML_LOGIN), kwargs=member_pk),
        Expect(
            "POST",
            only({"agency_admin": 404}, 403, HTML_LOGIN),
            kwargs=officer_pk,
            note="another agency's member",
        ),
    ],
    # --- the API: who one is, agencies, partnerships, sharing groups, members -------------
    "api:me": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:agency-list": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:agency-detail": [
        Expect(
            "GET",
            everyone(200, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.agencies["police"].pk},
        )
    ],
    "api:partnership-list": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:partnership-detail": [
        Expect(
            "GET",
            only({"outsider": 404}, 200, API_ANON),
            api=True,
            kwargs=lambda w: {"pk": w.partnership.pk},
        )
    ],
    "api:sharinggroup-list": [Expect("GET", everyone(200, API_ANON), api=True)],
    "api:sharinggroup-detail": [
        Expect(
            "GET",
            only(
                {
                    r: 200
                    for r in ("caseworker", "case_manager", "agency_admin", "officer", "analyst")
                },
                404,
                API_ANON,
            ),
            api=True,
            kwargs=lambda w: {"pk": w.sharing_group.pk},
            note="membership visible to members only",
        )
    ],
    "api:member-list": [
        Expect("GET", only(ADMIN_ONLY, 403, API_ANON), api=True),
        Expect(
            "POST",
            only({"agency_admin": 201}, 403, API_ANON),
            api=True,
            data=lambda w, r: {
                "username": "newbie",
                "email": "newbie@example.org",
                "role": "caseworker",
            },
        ),
    ],
    "api:member-detail": [
        Expect("GET", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect(
            "GET",
            only({"agency_admin": 404}, 403, API_ANON),
            api=True,
            kwargs=officer_pk,
            note="another agency's member",
        ),
        Expect(
            "PATCH",
            only(ADMIN_ONLY, 403, API_ANON),
            api=True,
            kwargs=member_pk,
            data=lambda w, r: {"role": "case_manager"},
        ),
        Expect(
            "PUT",
            only({}, 405, API_ANON),
            api=True,
            kwargs=member_pk,
            note="role changes are PATCH",
        ),
    ],
    "api:member-deactivate": [
        Expect("POST", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect("POST", only({"agency_admin": 404}, 403, API_ANON), api=True, kwargs=officer_pk),
    ],
    "api:member-reset-second-factor": [
        Expect("POST", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect("POST", only({"agency_admin": 404}, 403, API_ANON), api=True, kwargs=officer_pk),
        Expect("GET", only({}, 405, API_ANON), api=True, kwargs=member_pk),
    ],
    "api:member-reactivate": [
        Expect("POST", only(ADMIN_ONLY, 403, API_ANON), api=True, kwargs=member_pk),
        Expect("POST", only({"agency_admin": 404}, 403, API_ANON), api=True, kwargs=officer_pk),
    ],
}


@pytest.mark.django_db
@each_row(ROWS)
def test_route_answers_each_role_as_expected(matrix_world: World, name: str, index: int) -> None:
    check(name, ROWS[name][index], matrix_world)
