"""Exports: every table as CSV files in one ZIP, built by a Celery task from the job's id.

The first tests run the task in this process (eager, on commit); the last ones start a
real worker on real Redis (the notifications' real-worker fixtures) and watch a job go
from the button to the download, and a job refused because its requester lost the role.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from agencies.tests.factories import member
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from dashboards import exports
from dashboards.audit_actions import DashboardAction
from dashboards.measures import build_dashboard
from dashboards.models import ExportJob, ExportStatus
from dashboards.suppression import publish
from dashboards.tasks import build_export, purge_expired_exports, requeue_exports

# A real worker on real Redis, started as notifications' tests start theirs.
from tests.real_worker import wait_for

YEAR = {"from": "2025-01-01", "to": "2025-12-31"}


@pytest.fixture(autouse=True)
def _private_files(private_root: Any) -> Any:
    """Export files go to this test's own directory."""
    return private_root


def export_url(partnership: Any) -> str:
    return reverse("dashboards:partnership_export", args=[partnership.pk])


def table_keys(published: Any) -> list[str]:
    return [table.key for section in published.sections for table in section.tables]


def zip_of(response: Any) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def request_export(client: Any, partnership: Any, **params: str) -> ExportJob:
    response = client.post(export_url(partnership), {**YEAR, **params})
    assert response.status_code == 302
    job = ExportJob.objects.latest("pk")
    assert response["Location"] == reverse("dashboards:export_detail", args=[job.pk])
    return job


# --- In this process ---------------------------------------------------------------


def test_the_button_makes_a_job_and_queues_its_id_after_the_commit(
    login, manager, partnership, data, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = request_export(login(manager), partnership, exploitation_type="labour")
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.progress, job.requested_by) == (ExportStatus.QUEUED, 0, manager)
    assert (job.scope_kind, job.scope_id) == ("partnership", partnership.pk)
    assert job.filters == {
        "from": "2025-01-01",
        "to": "2025-12-31",
        "agency": None,
        "region": None,
        "exploitation_type": "labour",
    }
    event = AuditEvent.objects.get(action=DashboardAction.EXPORT_REQUESTED)
    assert event.actor == manager
    assert event.detail == {"scope": "partnership", "filters": job.filters, "job": job.pk}


def test_the_job_builds_a_zip_with_each_published_table(
    login, manager, partnership, data, northshire, year, django_capture_on_commit_callbacks
):
    client = login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(client, partnership)
    job.refresh_from_db()
    assert (job.status, job.progress, job.error) == (ExportStatus.DONE, 100, "")
    assert job.finished_at is not None
    assert job.expires_at == job.finished_at + datetime.timedelta(hours=24)
    assert job.file.name.startswith(f"exports/{job.pk}/")

    response = client.get(reverse("dashboards:export_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    published = publish(build_dashboard(northshire, year))
    archive = zip_of(response)
    names = archive.namelist()
    assert names == ["README.txt", *(f"{key}.csv" for key in table_keys(published))]
    for section in published.sections:
        for table in section.tables:
            assert archive.read(f"{table.key}.csv") == exports.table_csv(table)
    readme = archive.read("README.txt").decode()
    assert "Northshire Partnership" in readme and "Suppression threshold: 10" in readme
    assert "2025-01-01 to 2025-12-31" in readme
    for secret in ("Hoxha", "TEST-C"):
        assert all(secret not in archive.read(name).decode("utf-8-sig") for name in names)
    downloaded = AuditEvent.objects.get(action=DashboardAction.EXPORT_DOWNLOADED)
    assert (downloaded.actor, downloaded.detail["job"]) == (manager, job.pk)


def test_only_the_requester_sees_or_downloads_the_export(
    login, manager, council, partnership, data, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(login(manager), partnership)
    colleague = member(council, Role.PARTNERSHIP_MANAGER, username="other-manager")
    for name in ("export_detail", "export_download"):
        path = reverse(f"dashboards:{name}", args=[job.pk])
        assert login(colleague).get(path).status_code == 404
        assert login(manager).get(path).status_code == 200
    assert (
        AuditEvent.objects.filter(
            action=AuthAction.ACCESS_DENIED, actor=colleague, target_type="dashboards.exportjob"
        ).count()
        == 2
    )
    assert login(manager).get(reverse("dashboards:export_detail", args=[99_999])).status_code == 404


def test_a_role_without_dashboards_gets_403_for_any_export_whether_it_exists(
    login, manager, caseworker, partnership, data
):
    job = ExportJob.objects.create(
        requested_by=manager, scope_kind="partnership", scope_id=partnership.pk, filters=YEAR
    )
    for name in ("export_detail", "export_download"):
        for pk in (job.pk, 99_999):
            path = reverse(f"dashboards:{name}", args=[pk])
            assert login(caseworker).get(path).status_code == 403
    assert not AuditEvent.objects.filter(action=AuthAction.ACCESS_DENIED, actor=caseworker).exists()


def test_the_task_refuses_a_requester_who_lost_the_role(
    login, manager, partnership, data, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = request_export(login(manager), partnership)
    manager.membership.role = Role.CASEWORKER
    manager.membership.save()
    for callback in callbacks:
        callback()  # the worker runs the task now
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "no longer open this dashboard" in job.error
    assert not job.file
    assert job.finished_at is not None
    assert AuditEvent.objects.filter(
        action=AuthAction.ACCESS_DENIED, actor=manager, target_type="agencies.partnership"
    ).exists()
    # The page says so, to... nobody: their role no longer opens dashboards at all.
    detail = reverse("dashboards:export_detail", args=[job.pk])
    assert login(manager).get(detail).status_code == 403


def test_a_failed_job_says_so(login, manager, partnership, data):
    job = ExportJob.objects.create(
        requested_by=manager,
        scope_kind="partnership",
        scope_id=partnership.pk,
        filters={"from": "2025-01-01", "to": "2025-12-31", "agency": 999_999},
    )
    exports.export_build(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "filters are no longer valid" in job.error
    response = login(manager).get(reverse("dashboards:export_detail", args=[job.pk]))
    html = response.content.decode()
    assert "The export failed." in html and 'role="alert"' in html
    assert "hx-trigger" not in html
    download = reverse("dashboards:export_download", args=[job.pk])
    assert login(manager).get(download).status_code == 404


def test_running_the_task_twice_builds_once(login, manager, partnership, data):
    job = ExportJob.objects.create(
        requested_by=manager, scope_kind="partnership", scope_id=partnership.pk, filters=YEAR
    )
    build_export(job.pk)
    job.refresh_from_db()
    first = (job.status, job.file.name, job.finished_at)
    build_export(job.pk)
    job.refresh_from_db()
    assert (job.status, job.file.name, job.finished_at) == first
    assert first[0] == ExportStatus.DONE


def test_a_job_left_running_by_a_dead_worker_is_taken_over_after_its_lease(
    manager, partnership, data
):
    job = ExportJob.objects.create(
        requested_by=manager,
        scope_kind="partnership",
        scope_id=partnership.pk,
        filters=YEAR,
        status=ExportStatus.RUNNING,
        started_at=timezone.now(),
        progress=40,
    )
    assert exports.export_build(job_id=job.pk) is None  # another worker holds it
    ExportJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert exports.export_build(job_id=job.pk).status == ExportStatus.DONE


def test_the_progress_fragment_polls_until_done(login, manager, partnership, data):
    job = ExportJob.objects.create(
        requested_by=manager,
        scope_kind="partnership",
        scope_id=partnership.pk,
        filters=YEAR,
        status=ExportStatus.RUNNING,
        progress=40,
    )
    client = login(manager)
    path = reverse("dashboards:export_detail", args=[job.pk])
    page = client.get(path).content.decode()
    assert '<div id="export-status"' in page and 'aria-live="polite"' in page
    fragment = client.get(path, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert f'hx-get="{path}"' in fragment and 'hx-trigger="every 2s"' in fragment
    assert (
        '<progress id="export-progress" class="export-progress" max="100" value="40">' in fragment
    )
    exports.export_build(job_id=job.pk)  # not claimable (running, lease live): unchanged
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.QUEUED, progress=0)
    exports.export_build(job_id=job.pk)
    fragment = client.get(path, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment
    assert reverse("dashboards:export_download", args=[job.pk]) in fragment
    assert 'value="100"' in fragment


def test_the_poller_stops_when_the_requester_loses_the_role(login, manager, partnership, data):
    job = ExportJob.objects.create(
        requested_by=manager, scope_kind="partnership", scope_id=partnership.pk, filters=YEAR
    )
    client = login(manager)
    path = reverse("dashboards:export_detail", args=[job.pk])
    assert 'hx-trigger="every 2s"' in client.get(path, HTTP_HX_REQUEST="true").content.decode()
    manager.membership.role = Role.CASEWORKER
    manager.membership.save()
    response = client.get(path, HTTP_HX_REQUEST="true")
    assert response.status_code == 286  # htmx: stop polling
    assert "hx-trigger" not in response.content.decode()
    assert "not available to you" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuthAction.ACCESS_FORBIDDEN, actor=manager).count() == 1
    assert client.get(path).status_code == 403  # the page itself: the role opens none


def test_expired_files_are_purged_and_no_longer_served(
    login, manager, partnership, data, private_root
):
    job = ExportJob.objects.create(
        requested_by=manager, scope_kind="partnership", scope_id=partnership.pk, filters=YEAR
    )
    exports.export_build(job_id=job.pk)
    job.refresh_from_db()
    stored = private_root / job.file.name
    assert stored.exists()
    download = reverse("dashboards:export_download", args=[job.pk])
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    assert login(manager).get(download).status_code == 404
    assert purge_expired_exports() == 1
    assert not stored.exists()
    job.refresh_from_db()
    assert (job.status, job.file.name) == (ExportStatus.DONE, "")
    html = login(manager).get(reverse("dashboards:export_detail", args=[job.pk])).content.decode()
    assert "This export has expired" in html
    assert purge_expired_exports() == 0


def test_bad_filters_send_the_requester_back_to_the_form(login, manager, partnership, data):
    response = login(manager).post(export_url(partnership), {"from": "yesterday"})
    assert response.status_code == 302
    assert response["Location"].endswith("?from=yesterday")
    assert not ExportJob.objects.exists()


def test_nobody_else_may_ask_for_an_export(login, caseworker, south_manager, partnership, data):
    # A role that opens no dashboard: 403; the manager of another partnership: 404.
    assert login(caseworker).post(export_url(partnership), YEAR).status_code == 403
    assert login(south_manager).post(export_url(partnership), YEAR).status_code == 404
    assert login(None).post(export_url(partnership), YEAR).status_code == 302
    assert login(caseworker).get(export_url(partnership)).status_code == 405
    assert not ExportJob.objects.exists()


def test_the_list_shows_my_exports_only(
    login, manager, council, partnership, data, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_export(login(manager), partnership)
    html = login(manager).get(reverse("dashboards:list")).content.decode()
    assert reverse("dashboards:export_detail", args=[job.pk]) in html
    assert "Northshire Partnership" in html
    colleague = member(council, Role.PARTNERSHIP_MANAGER, username="other-manager")
    html = login(colleague).get(reverse("dashboards:list")).content.decode()
    assert reverse("dashboards:export_detail", args=[job.pk]) not in html


# --- A real worker on a real broker (Redis, or RabbitMQ: tests/real_worker.py) -------


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")  # this process publishes to the test's queue on the broker
def test_a_real_worker_builds_the_export_and_only_the_requester_downloads_it(
    login,
    manager,
    council,
    partnership,
    data,
    northshire,
    year,
    start_worker,
    private_root,
):
    client = login(manager)
    with start_worker("exporter", CONCORD_PRIVATE_ROOT=str(private_root)) as worker:
        worker.wait_ready()
        job = request_export(client, partnership)
        detail = reverse("dashboards:export_detail", args=[job.pk])
        download = reverse("dashboards:export_download", args=[job.pk])

        def ready() -> bool:
            # What the page's htmx poller asks for every 2 seconds.
            fragment = client.get(detail, HTTP_HX_REQUEST="true").content.decode()
            return download in fragment

        wait_for("the export to be built", ready)
    job.refresh_from_db()
    assert (job.status, job.progress) == (ExportStatus.DONE, 100)
    response = client.get(download)
    assert response.status_code == 200
    archive = zip_of(response)
    published = publish(build_dashboard(northshire, year))
    assert archive.namelist() == ["README.txt", *(f"{k}.csv" for k in table_keys(published))]
    for section in published.sections:
        for table in section.tables:
            assert archive.read(f"{table.key}.csv") == exports.table_csv(table)
    colleague = member(council, Role.PARTNERSHIP_MANAGER, username="other-manager")
    assert login(colleague).get(download).status_code == 404


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("queue")
def test_a_real_worker_refuses_the_export_of_a_requester_who_lost_the_role(
    login,
    manager,
    partnership,
    data,
    start_worker,
    private_root,
):
    # Asked for while no worker runs: the job's id waits on Redis.
    job = request_export(login(manager), partnership)
    manager.membership.role = Role.CASEWORKER
    manager.membership.save()
    with start_worker("refuser", CONCORD_PRIVATE_ROOT=str(private_root)) as worker:
        worker.wait_ready()
        wait_for(
            "the job to fail",
            lambda: ExportJob.objects.get(pk=job.pk).status == ExportStatus.FAILED,
        )
    job.refresh_from_db()
    assert "no longer open this dashboard" in job.error
    assert not job.file
    assert not list(private_root.rglob("*.zip"))


# --- The broker down (issue 19) -----------------------------------------------------------


# Transactional: the request's own commit runs its on-commit publish, as in production,
# where a publish that raised answered 500 and left the job queued for ever.
@pytest.mark.django_db(transaction=True)
def test_an_export_asked_for_while_the_broker_is_down_is_built_by_beat_once_it_is_back(
    login, manager, partnership, data, broker_down
):
    job = request_export(login(manager), partnership)  # 302 to the job's page, not 500
    job.refresh_from_db()
    assert job.status == ExportStatus.QUEUED
    assert broker_down.published == [(build_export.name, (job.pk,))]

    assert requeue_exports.run() == 0  # within the grace its message may be on its way
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - exports.EXPORT_REQUEUE_GRACE - datetime.timedelta(seconds=1)
    )
    assert requeue_exports.run() == 0  # still down: the job stays queued, nothing lost
    broker_down.back()
    assert requeue_exports.run() == 1  # eager: published and built here
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.file
    assert requeue_exports.run() == 0
