"""Settings for the test suite: the production settings module in ``test`` mode."""

import os

os.environ.setdefault("CONCORD_ENV", "test")

from .settings import *  # noqa: F403

# Fast hashing keeps the suite quick; password rules are still validated by the
# validators above, which do not depend on the hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks queued on commit run in-process in unit tests; the Celery tests that need a
# real worker on real Redis start one themselves (notifications/tests/test_real_worker.py)
# with the CONCORD_* variables below. Only this test settings module reads them.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CONCORD_CELERY_EAGER", "true") == "true"
# A queue of the test's own, so a test's worker takes only that test's tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CONCORD_CELERY_QUEUE") or "celery"
# Where a test's worker writes the emails it sends (with the file-based email backend).
if os.environ.get("CONCORD_EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = os.environ["CONCORD_EMAIL_FILE_PATH"]
# Test-only: deliver_notification sleeps this long after claiming a notification and
# before sending it, so a test can kill the worker mid-delivery. Never set elsewhere.
if os.environ.get("CONCORD_TEST_DELIVERY_PAUSE_SECONDS"):
    NOTIFICATION_TEST_DELIVERY_PAUSE_SECONDS = float(
        os.environ["CONCORD_TEST_DELIVERY_PAUSE_SECONDS"]
    )

# A test-only app registers a model with the access engine (tests/accesstest).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.accesstest"]  # noqa: F405
