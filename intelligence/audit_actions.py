"""The audit actions of intelligence: reports, searches, matches, operations and visits
(see ``audit.audit_actions`` for the convention)."""

from __future__ import annotations

import enum


@enum.unique
class IntelligenceAction(enum.StrEnum):
    REPORT_CREATED = "intelligence.report_created"
    REPORT_UPDATED = "intelligence.report_updated"
    REPORT_SUBMITTED = "intelligence.report_submitted"
    REPORT_ARCHIVED = "intelligence.report_archived"
    REPORT_REGRADED = "intelligence.report_regraded"
    REPORT_VIEWED = "intelligence.report_viewed"
    CONDITIONS_ACKNOWLEDGED = "intelligence.conditions_acknowledged"
    SEARCHED = "intelligence.searched"
    MATCH_CREATED = "intelligence.match_created"
    MATCH_WITHDRAWN = "intelligence.match_withdrawn"
    MATCH_VIEWED = "intelligence.match_viewed"
    MATCHES_LISTED = "intelligence.matches_listed"
    OPERATION_CREATED = "intelligence.operation_created"
    VISIT_RECORDED = "intelligence.visit_recorded"
    VISIT_LINKED = "intelligence.visit_linked"
    # Reading operations and visits is audited like reading reports: one event per page or
    # list, naming what was shown by id (never a visit's notes or a premises' details).
    OPERATIONS_LISTED = "intelligence.operations_listed"
    OPERATION_VIEWED = "intelligence.operation_viewed"
    VISITS_LISTED = "intelligence.visits_listed"
    VISIT_VIEWED = "intelligence.visit_viewed"
