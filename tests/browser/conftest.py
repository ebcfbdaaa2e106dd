"""Browser tests: Playwright driving Debian's headless Chromium against ``live_server``.

Nothing here downloads a browser: the tests use ``/usr/bin/chromium`` (``apt-get install
chromium``). Without it they are skipped on a developer's machine and fail in CI
(``CI=true``), so a broken CI image cannot pass by skipping the whole journey suite.

Every page a journey reaches is checked with axe-core (``axe_check``; ``visit`` does it
for you): any violation of impact "serious" or "critical" fails the test, with the list
of violations and the elements they concern in the failure message.

    @pytest.mark.browser
    def test_something(live_server, page, visit, axe_check):
        visit("/cases/")                          # goto + wait + axe check
        page.get_by_role("link", name="Open").click()
        expect(page).to_have_url(re.compile(r"/cases/\\d+/$"))
        axe_check(page)                           # after a navigation by click/submit
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"

# Playwright's sync API keeps an asyncio loop running in the test thread (it switches
# greenlets rather than threads), so Django would take every ORM call made by a test,
# or by pytest-django's database fixtures, for a call from async code and raise
# SynchronousOnlyOperation. The calls are in fact synchronous: allow them.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Impacts that fail a test. "moderate" and "minor" are reported but do not fail.
A11Y_BLOCKING_IMPACTS = frozenset({"serious", "critical"})
DEFAULT_TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 900}  # wide enough for the expanded navbar (md+)


# --- Browser ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (``playwright.sync_api.Browser``)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: a missing browser is a failure, not a skip)")
        pytest.skip(reason)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in a fresh context (no cookies shared between tests)."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


# --- Accessibility ----------------------------------------------------------------

_axe: Any = None


def _get_axe() -> Any:
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    return _axe


def format_violations(violations: list[dict[str, Any]]) -> str:
    """One block per violation: id, impact, help, help URL, then each node's target."""
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact')}] {violation.get('help', '')}"
            f" ({violation.get('helpUrl', '')})"
        )
        for node in violation.get("nodes", []):
            target = " ".join(str(part) for part in node.get("target", []))
            html = " ".join(str(node.get("html", "")).split())
            if len(html) > 160:
                html = html[:157] + "..."
            lines.append(f"    at {target}: {html}")
            summary = " ".join(str(node.get("failureSummary", "")).split())
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def check_a11y(
    page: Any,
    *,
    context: str | list | dict | None = None,
    options: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    Returns every violation found (including moderate and minor ones, which are printed
    but do not fail), so a test may make stricter assertions of its own. ``context`` and
    ``options`` are passed to ``axe.run`` as they are (see the axe-core API).
    """
    page.wait_for_load_state("load")  # the stylesheets matter for colour contrast
    run_options = {"resultTypes": ["violations"], **(options or {})}
    results = _get_axe().run(page, context=context, options=run_options)
    violations: list[dict[str, Any]] = list(results.response.get("violations", []))
    blocking = [v for v in violations if v.get("impact") in A11Y_BLOCKING_IMPACTS]
    other = [v for v in violations if v.get("impact") not in A11Y_BLOCKING_IMPACTS]
    if other:
        print(f"axe: non-blocking violations on {page.url}:\n{format_violations(other)}")
    assert not blocking, (
        f"axe found {len(blocking)} serious/critical accessibility violation(s) on {page.url}:\n"
        + format_violations(blocking)
    )
    return violations


@pytest.fixture
def axe_check() -> Callable[..., list[dict[str, Any]]]:
    """``axe_check(page)``: ``check_a11y`` as a fixture, so tests need not import it."""
    return check_a11y


@pytest.fixture
def visit(page: Any, live_server: Any) -> Callable[..., Any]:
    """``visit("/path/")``: open a path of the live server, check the response status and
    the page's accessibility; returns the Playwright response (after redirects).

    ``status`` is the expected final status (None: do not check); ``a11y=False`` skips
    the axe check, e.g. for a page that is checked after further interaction.
    """

    def go(path: str, *, status: int | None = 200, a11y: bool = True) -> Any:
        url = path if "://" in path else live_server.url + path
        response = page.goto(url)
        assert response is not None, f"no response for {url}"
        if status is not None:
            assert response.status == status, f"{url}: HTTP {response.status}, expected {status}"
        if a11y:
            check_a11y(page)
        return response

    return go


# The password every user of the browser stories is given.
PASSWORD = "a-long-test-password-1"


def person(agency: Any, username: str, role: str, *, last_name: str = "Tester") -> Any:
    """A member of ``agency`` who signs in with ``PASSWORD``, made as an agency admin's
    invitation would make them (through the service)."""
    from agencies.services import membership_create
    from agencies.tests.factories import give_authenticator

    user = membership_create(
        actor=None,
        agency=agency,
        username=username,
        email=f"{username}@example.org",
        role=role,
        first_name=username.title(),
        last_name=last_name,
        password=PASSWORD,
    ).user
    give_authenticator(user)  # an authenticator app with the tests' known key
    return user


@pytest.fixture
def log_in(page: Any, visit: Callable[..., Any]) -> Callable[[str], None]:
    """``log_in("alice")``: sign in through the login page (password ``PASSWORD``) and
    the second step (the code of the person's authenticator app)."""

    def sign_in(username: str) -> None:
        from agencies.models import User
        from agencies.tests.factories import code_for

        visit("/accounts/login/", a11y=False)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        # The second step: the code the person's authenticator app shows now.
        page.get_by_role("textbox", name="Code").fill(code_for(User.objects.get(username=username)))
        page.get_by_role("button", name="Continue").click()

    return sign_in


def open_menu(page: Any) -> None:
    """Open the menu, which a phone's width folds behind its toggle button, and wait until
    Bootstrap has finished opening it: a link clicked while the menu is still sliding open
    can miss."""
    from playwright.sync_api import expect

    toggle = page.locator(".navbar-toggler")
    if toggle.is_visible():
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        expect(page.locator(".navbar-collapse.show")).to_be_visible()


def fits_the_width(page: Any) -> bool:
    """No sideways scrolling: the page is no wider than the viewport (WCAG 1.4.10)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def harbour_nrm(*, submitted_days_ago: int = 10) -> tuple[Any, Any, Any]:
    """Harbour Trust (a first responder in England), its caseworker alice, and a case of
    hers whose adult consented to an NRM referral submitted ``submitted_days_ago`` days
    ago: ``(alice, case, nrm)``, made through the services."""
    import datetime

    from django.utils import timezone

    from agencies.models import Role
    from agencies.services import agency_create
    from casework import consents
    from casework import services as casework
    from referrals import nrm_services

    harbour = agency_create(
        actor=None, name="Harbour Trust", kind="charity", country="GB", is_first_responder=True
    )
    alice = person(harbour, "alice", Role.CASEWORKER, last_name="Adams")
    case = casework.case_create(
        actor=alice, exploitation_types=["labour"], identity={"given_name": "Mihai"}
    )
    consents.consent_record(actor=alice, case=case, scope="nrm_referral", method="written")
    nrm = nrm_services.nrm_refer(
        actor=alice,
        case=case,
        submitted_at=timezone.now() - datetime.timedelta(days=submitted_days_ago),
    )
    return alice, case, nrm
