"""Capabilities of the intelligence app: which roles may ever hold which permission.

Reports are not reached through object grants: who reads one is a rule over its
distribution and TLP (``intelligence.audience``). The role layer still decides first.

- Reading intelligence (``view_report``) is for analysts and officers only.
  Officers include labour-inspectorate, immigration and national-agency officers (the
  role exists only in those agencies and the police). Prosecutors do not read raw
  intelligence: it reaches a prosecutor through the officer in the case, as material the
  officer has assessed for disclosure. Partnership managers see aggregates only, agency
  admins manage accounts: neither reads intelligence.
- Submitting (``add_report``) is wider: partners contribute intelligence from outreach and
  inspections, so caseworkers and case managers (charities, social services...) may write
  and submit reports. A contributor who cannot read intelligence still reads, changes and
  follows up the reports they wrote themselves, and nothing else.
- Re-grading a submitted report (``grade_report``) is a professional judgement for the
  originating agency's analysts, officers and case managers (the supervisors of charity
  contributors); a draft's grading is simply edited by whoever may edit it.
- A match is seen (``view_match``) by the people of the agency whose report matched, who
  may read that report: contributors see matches on their own reports.
- Operations are led (``add_operation``) by officers, analysts and case managers (charity
  outreach); anyone who takes part in visits records them (``add_visit``).
"""

from agencies.models import Role

VIEW_REPORT = "intelligence.view_report"
ADD_REPORT = "intelligence.add_report"
GRADE_REPORT = "intelligence.grade_report"
VIEW_MATCH = "intelligence.view_match"
VIEW_OPERATION = "intelligence.view_operation"
ADD_OPERATION = "intelligence.add_operation"
ADD_VISIT = "intelligence.add_visit"

READERS = frozenset({Role.ANALYST, Role.OFFICER})
CONTRIBUTORS = READERS | {Role.CASEWORKER, Role.CASE_MANAGER}

CAPABILITIES: dict[str, frozenset[str]] = {
    VIEW_REPORT: READERS,
    ADD_REPORT: CONTRIBUTORS,
    GRADE_REPORT: READERS | {Role.CASE_MANAGER},
    VIEW_MATCH: CONTRIBUTORS,
    VIEW_OPERATION: CONTRIBUTORS,
    ADD_OPERATION: READERS | {Role.CASE_MANAGER},
    ADD_VISIT: CONTRIBUTORS,
}

# Who, in an agency whose report matched, is told at once (besides the report's author).
MATCH_NOTIFIED_ROLES = frozenset({Role.ANALYST})
