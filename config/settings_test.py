"""Settings for the test suite: the production settings module in ``test`` mode."""

import os

os.environ.setdefault("CONCORD_ENV", "test")

from .settings import *  # noqa: F403

# Fast hashing keeps the suite quick; password rules are still validated by the
# validators above, which do not depend on the hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks queued on commit run in-process in unit tests; the Celery tests that need a
# real worker on real Redis start one themselves (see notifications tests, issue 4).
CELERY_TASK_ALWAYS_EAGER = True

# A test-only app registers a model with the access engine (tests/accesstest).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.accesstest"]  # noqa: F405
