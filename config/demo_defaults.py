"""What ``make demo`` signs in with unless the environment says otherwise: one place for
the settings and for ``devtools`` (which prints them), plain values without Django.

Neither is ever used in production: settings refuse ``CONCORD_DEMO_TOTP_SECRET`` there,
and the demo password is only given to the users ``seed_demo`` creates.
"""

# Every demo user's password (``CONCORD_DEMO_PASSWORD``).
DEMO_PASSWORD = "concord-demo-2026"

# Every demo and synthetic user's authenticator secret, base32 as authenticator apps take
# it (``CONCORD_DEMO_TOTP_SECRET``; 20 bytes, the length RFC 4226 recommends).
DEMO_TOTP_SECRET = "MNXW4Y3POJSC2ZDFNVXS25DPORYC2MRQ"
