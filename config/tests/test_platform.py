"""Health check, security headers, the API root, schema and offline docs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_database_and_redis_answer(client, redis_url, settings):
    settings.REDIS_URL = redis_url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_livez_answers_without_the_database_or_redis(client, settings, django_assert_num_queries):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200 and response.content == b"ok"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"] == "unavailable"
    assert response.json()["database"] == "ok"


def test_healthz_checks_a_rabbitmq_broker_too(client, redis_url, settings):
    from tests.real_worker import _rabbitmq_url

    settings.REDIS_URL = redis_url
    settings.CELERY_BROKER_URL = _rabbitmq_url()  # skipped without RabbitMQ, failed in CI
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "broker": "ok"}

    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert response.json()["redis"] == "ok"


def test_signed_in_pages_are_never_cached_and_carry_security_headers(login, caseworker):
    response = login(caseworker).get("/")
    assert "no-store" in response["Cache-Control"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response["X-Request-ID"]) >= 8


def test_a_well_formed_request_id_from_the_proxy_is_kept(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="abc12345-proxy")
    assert response["X-Request-ID"] == "abc12345-proxy"
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"


def test_static_files_are_served_without_a_cdn(client):
    response = client.get("/static/vendor/bootstrap-5.3.9/bootstrap.min.css")
    assert response.status_code == 200
    page = client.get("/accounts/login/").content.decode()
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in page
    assert "https://" not in page


def test_api_root_schema_and_docs(api, caseworker):
    client = api(caseworker)
    root = client.get("/api/v1/").json()
    assert {"me", "token", "agencies", "agency_users", "schema", "docs"} <= set(root)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.content.decode()
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"https://" not in docs.content.replace(b"https://swagger.io", b"")


def test_home_page_per_role(login, partnership, caseworker, agency_admin, police_officer, manager):
    home = login(caseworker).get("/").content.decode()
    assert "You are signed in as Caseworker at Harbour Trust." in home
    assert "Manage the users of your agency" not in home
    assert "Northshire Partnership" in home

    admin_home = login(agency_admin).get("/").content.decode()
    assert "Manage the users of your agency" in admin_home
    assert "/agency/users/" in admin_home

    assert "Officer at Northshire Police" in login(police_officer).get("/").content.decode()
    assert "Partnership manager at Northshire Council" in login(manager).get("/").content.decode()


def test_home_without_membership_says_so(login, django_user_model):
    user = django_user_model.objects.create_user("drifter", password="a-long-password-1")
    page = login(user).get("/").content.decode()
    assert "not attached to an active agency" in page
