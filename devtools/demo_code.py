"""``make demo-code``: the code the demo's authenticator shows now, for signing in to
``make demo`` without an app, and for scripts (``CODE=$(make -s demo-code)``).

Every demo user's authenticator has the secret ``CONCORD_DEMO_TOTP_SECRET`` (default in
``config/demo_defaults.py``). The code comes from django-otp's own TOTP, as the server
checks it; no Django settings or database are needed.
"""

from __future__ import annotations

import base64
import os
import sys
import time

from django_otp.oath import TOTP

from config.demo_defaults import DEMO_TOTP_SECRET


def code_now(secret: str, at: float | None = None) -> tuple[str, int]:
    """The 6-digit code for ``secret`` (base32) at ``at`` and the seconds it has left."""
    secret = "".join(secret.split()).upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() if at is None else at
    left = 30 - int(totp.time) % 30
    return f"{totp.token():06d}", left


def main() -> int:
    code, left = code_now(os.environ.get("CONCORD_DEMO_TOTP_SECRET") or DEMO_TOTP_SECRET)
    print(code)
    if sys.stderr.isatty():
        print(
            f"(valid for {left} more seconds; a code is accepted once per user)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
