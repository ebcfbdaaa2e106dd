"""Beat's jobs for the audit chain (``audit.chain``): seal every minute, publish the head
every hour."""

from __future__ import annotations

from celery import shared_task

from . import chain


@shared_task
def seal_audit_chain() -> int:
    """Seal the audit rows committed since the last run (one sealer at a time)."""
    return chain.seal()


@shared_task
def publish_audit_chain_head() -> int:
    """Publish the chain's head to the log (and by email when configured)."""
    seq, _digest = chain.publish_head()
    return seq
