"""The audit trail's hash chain: sealed once, verified from the start,
and every kind of tampering named by the first row where the chain breaks."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit import chain
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from audit.record import record
from audit.tasks import publish_audit_chain_head, seal_audit_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail() -> list[AuditEvent]:
    return [
        record(AuthAction.LOGIN, detail={"n": n, "why": "ünïcode ✓", "nested": {"b": 1, "a": 2}})
        for n in range(7)
    ]


class _Owner:
    """What the database's owner can do behind Concord's back: switch the trigger off."""

    def __enter__(self) -> _Owner:
        self._sql("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own rows: checks done now
        self._sql("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        return self

    def __exit__(self, *exc: object) -> None:
        self._sql("SET CONSTRAINTS ALL IMMEDIATE")
        self._sql("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")

    @staticmethod
    def _sql(sql: str, params: list[object] | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])


def owner() -> _Owner:
    return _Owner()


def test_sealing_chains_every_row_in_id_order_once(trail):
    assert chain.seal() == 7
    assert chain.seal() == 0  # nothing left: sealing twice changes nothing
    rows = list(AuditEvent.objects.order_by("id").values_list("chain_seq", "chain_hash"))
    assert [seq for seq, _hash in rows] == list(range(1, 8))
    assert all(len(digest) == 64 for _seq, digest in rows)
    verdict = chain.verify()
    assert verdict.ok and verdict.checked == 7 and verdict.unsealed == 0
    assert verdict.head == rows[-1]


def test_a_row_committed_late_is_sealed_in_a_later_run(trail):
    chain.seal(limit=3)
    assert chain.verify().ok  # a chain of three, four rows waiting
    assert chain.verify().unsealed == 4
    later = record(AuthAction.LOGOUT)
    chain.seal()
    assert AuditEvent.objects.get(pk=later.pk).chain_seq == 8
    assert chain.verify().ok


def test_the_trigger_lets_only_the_sealing_through(trail):
    chain.seal()
    sealed = AuditEvent.objects.order_by("id").first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=sealed.pk).update(chain_hash="f" * 64)  # reseal
    unsealed = record(AuthAction.LOGOUT)
    with pytest.raises(DatabaseError), transaction.atomic():
        # Sealing while changing the content is not sealing.
        AuditEvent.objects.filter(pk=unsealed.pk).update(
            chain_seq=99, chain_hash="a" * 64, action="auth.nothing_to_see"
        )
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=sealed.pk).delete()


def test_a_changed_row_is_named(trail):
    chain.seal()
    target = trail[3]
    with owner():
        AuditEvent.objects.filter(pk=target.pk).update(detail={"n": 3, "why": "rewritten"})
    verdict = chain.verify()
    assert not verdict.ok
    assert verdict.checked == 3
    assert f"audit row id {target.pk} (place 4) does not match its hash" in verdict.problem


def test_a_changed_row_with_its_hash_recomputed_breaks_the_next_one(trail):
    chain.seal()
    target, after = trail[2], trail[3]
    with owner():
        AuditEvent.objects.filter(pk=target.pk).update(action="auth.logout")
        row = AuditEvent.objects.filter(pk=target.pk).values_list(*chain.CONTENT_FIELDS).get()
        previous = AuditEvent.objects.get(chain_seq=2).chain_hash
        AuditEvent.objects.filter(pk=target.pk).update(chain_hash=chain.link(previous, 3, row))
    verdict = chain.verify()
    assert not verdict.ok and f"audit row id {after.pk} (place 4)" in verdict.problem


def test_a_removed_row_is_named(trail):
    chain.seal()
    with owner():
        AuditEvent.objects.filter(pk=trail[4].pk).delete()
    verdict = chain.verify()
    assert not verdict.ok
    assert "places 5 to 5 of the chain are missing" in verdict.problem
    assert f"id {trail[5].pk} at 6" in verdict.problem


def test_a_row_slipped_in_is_named(trail):
    chain.seal()
    with owner():
        AuditEvent.objects.filter(chain_seq__gte=4).update(chain_seq=None, chain_hash="")
        forged = record(AuthAction.LOGIN, detail={"n": "forged"})
        AuditEvent.objects.filter(pk=forged.pk).update(chain_seq=4, chain_hash="b" * 64)
    verdict = chain.verify()
    assert not verdict.ok and f"audit row id {forged.pk} (place 4)" in verdict.problem


def test_a_cut_tail_is_found_with_a_published_head(trail):
    chain.seal()
    published = chain.head()
    with owner():
        AuditEvent.objects.filter(chain_seq__gte=6).delete()
    assert chain.verify().ok  # alone, a chain cut at its end looks whole …
    verdict = chain.verify(anchor=published)
    assert not verdict.ok  # … but it no longer reaches the head that was published
    assert "before the published head at 7: rows were cut from its end" in verdict.problem


def test_a_rewritten_chain_does_not_reach_the_published_head(trail):
    chain.seal()
    published = chain.head()
    with owner():
        AuditEvent.objects.filter(pk=trail[0].pk).update(detail={"n": "rewritten"})
        AuditEvent.objects.update(chain_seq=None, chain_hash="")
    chain.seal()  # the owner recomputes every hash: the chain is consistent again …
    assert chain.verify().ok
    verdict = chain.verify(anchor=published)
    assert not verdict.ok and "it was rewritten" in verdict.problem


def test_the_command_exits_0_when_intact_and_1_naming_the_row(trail, capsys):
    call_command("audit_verify", "--seal")
    out = capsys.readouterr().out
    assert "sealed 7 rows" in out and "The audit chain is intact: 7 rows" in out
    seq, digest = chain.head()
    call_command("audit_verify", "--anchor", f"{seq}:{digest}")
    with owner():
        AuditEvent.objects.filter(pk=trail[1].pk).update(action="auth.logout")
    with pytest.raises(CommandError, match=f"audit row id {trail[1].pk} \\(place 2\\)"):
        call_command("audit_verify")
    with pytest.raises(CommandError, match="PLACE:HASH"):
        call_command("audit_verify", "--anchor", "not-an-anchor")


def test_beat_seals_and_publishes_the_head_to_the_log_and_by_email(
    trail, settings, mailoutbox, caplog
):
    settings.AUDIT_ANCHOR_EMAIL = ["anchors@example.org"]
    assert seal_audit_chain() == 7
    record(AuthAction.LOGOUT)
    with caplog.at_level("WARNING", logger="concord.audit.chain"):
        assert publish_audit_chain_head() == 8  # seals what waits, then publishes
    _seq, digest = chain.head()
    assert f"audit chain head: place 8, hash {digest}" in caplog.text
    (mail,) = mailoutbox
    assert mail.to == ["anchors@example.org"] and f"--anchor 8:{digest}" in mail.body


def test_verifying_reads_in_pages(trail) -> None:
    chain.seal()
    seen: list[int] = []
    verdict = chain.verify(chunk=2, progress=seen.append)
    assert verdict.ok and verdict.checked == 7 and seen == [2, 4, 6]
