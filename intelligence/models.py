"""Graded intelligence, the entities it names, matches between agencies, and operations.

An ``IntelligenceReport`` is graded 3x5x2 (source evaluation, intelligence assessment,
handling code) and carries a TLP 2.0 colour and a distribution (DOMAIN.md, "Intelligence
grading"). Who may read it is a rule, not a grant: ``intelligence.audience`` turns it into
one SQL filter (``IntelligenceReport.objects.visible_to(user)``). ``full_text`` and
``source_description`` never leave the originating agency; ``summary`` is the sanitised
text that travels.

Every write goes through the services (``intelligence.reports``, ``intelligence.matching``,
``intelligence.operations``); nothing here has behaviour in ``save()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, SharingGroup
from casework.models import Case, ExploitationType
from core.fields import EncryptedTextField

from .permissions import VIEW_MATCH, VIEW_OPERATION, VIEW_REPORT

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The text-search configuration of ``search_vector``. It is part of a generated column,
# so changing it needs a migration (PostgreSQL recomputes every row).
SEARCH_CONFIG = "english"


def title_search_vector() -> SearchVector:
    """The title's part of ``search_vector``. A C report whose conditions wait for its
    reader is found and ranked by this alone (``ReportFilter.filter_q``); a partial GIN
    index on it (C reports only) lets that search keep to indexes."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG)


# --- Grading vocabulary (UK policing 3x5x2, TLP 2.0, MISP-style distribution) ---------


class SourceEvaluation(models.TextChoices):
    RELIABLE = "1", _("1 · Reliable")
    UNTESTED = "2", _("2 · Untested")
    NOT_RELIABLE = "3", _("3 · Not reliable")


class IntelligenceAssessment(models.TextChoices):
    KNOWN_DIRECTLY = "A", _("A · Known directly to the source")
    CORROBORATED = "B", _("B · Known indirectly to the source but corroborated")
    KNOWN_INDIRECTLY = "C", _("C · Known indirectly to the source")
    NOT_KNOWN = "D", _("D · Not known")
    SUSPECTED_FALSE = "E", _("E · Suspected to be false or malicious")


class HandlingCode(models.TextChoices):
    PERMITTED = "P", _("P · Lawful sharing permitted")
    CONDITIONS = "C", _("C · Lawful sharing permitted with conditions")


class TLP(models.TextChoices):
    CLEAR = "CLEAR", _("TLP:CLEAR")
    GREEN = "GREEN", _("TLP:GREEN")
    AMBER = "AMBER", _("TLP:AMBER")
    AMBER_STRICT = "AMBER+STRICT", _("TLP:AMBER+STRICT")
    RED = "RED", _("TLP:RED")


class Distribution(models.TextChoices):
    AGENCY = "agency", _("Originating agency only")
    SHARING_GROUP = "sharing_group", _("A named sharing group")
    PARTNERSHIP = "partnership", _("The partnership")
    ALL = "all", _("All agencies on Concord")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ARCHIVED = "archived", _("Archived")


# What each code means, in the words a form shows next to the choice ("grading
# has inline help"). Sources: DOMAIN.md; FIRST TLP 2.0; MISP distribution levels.
GRADING_HELP: dict[str, dict[str, StrOrPromise]] = {
    "source_evaluation": {
        "1": _(
            "Reliable: the source has proved reliable, or the information comes from a "
            "trusted technical or official source."
        ),
        "2": _("Untested: the source has not been tested, or there is doubt about it."),
        "3": _("Not reliable: the source has proved unreliable in the past."),
    },
    "intelligence_assessment": {
        "A": _("Known directly to the source: they saw or heard it themselves."),
        "B": _("Known indirectly to the source, and corroborated by other information."),
        "C": _("Known indirectly to the source: hearsay, not corroborated."),
        "D": _("Not known: the reliability of the information cannot be judged."),
        "E": _("Suspected to be false or malicious."),
    },
    "handling_code": {
        "P": _("Lawful sharing permitted: readers may pass it on within the law."),
        "C": _(
            "Lawful sharing permitted with conditions: write the conditions; every "
            "reader in another agency must acknowledge them before reading the summary."
        ),
    },
    "tlp": {
        "CLEAR": _("No limit on disclosure beyond the distribution chosen below."),
        "GREEN": _("Readers may share it within their community, not publicly."),
        "AMBER": _("Readers may share it within their agency, on a need-to-know basis."),
        "AMBER+STRICT": _("Only your own agency may read it, whatever the distribution."),
        "RED": _("Only the agencies you name may read it (within the distribution)."),
    },
    "distribution": {
        "agency": _("Only your agency."),
        "sharing_group": _("The agencies of one sharing group your agency owns or belongs to."),
        "partnership": _("The agencies that share a current partnership with yours."),
        "all": _("Every agency on Concord."),
    },
}


# --- Reports --------------------------------------------------------------------------


class IntelligenceReportQuerySet(models.QuerySet["IntelligenceReport"]):
    def visible_to(self, user: Any, perm: str = VIEW_REPORT) -> IntelligenceReportQuerySet:
        """The reports ``user`` may read (summary level), in one SQL query: the one scoping
        entry point, which is ``audience.readable_reports`` (the rule lives there; lists,
        search, single reads and matching all go through it).

        The audience is a rule over distribution, TLP and status, not object grants, so
        only ``intelligence.view_report`` can be asked for here.
        """
        if perm != VIEW_REPORT:
            raise ValueError(f"Reports are scoped by {VIEW_REPORT}, not {perm!r}.")
        from .audience import readable_reports

        return readable_reports(user, self)

    def submitted(self) -> IntelligenceReportQuerySet:
        return self.filter(status=ReportStatus.SUBMITTED)


class IntelligenceReport(models.Model):
    originating_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="intelligence_reports"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intelligence_reports"
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(
        _("summary"),
        blank=True,
        help_text=_("The sanitised text that other agencies read: no source, no victim identity."),
    )
    full_text = EncryptedTextField(
        _("full text"), blank=True, help_text=_("Read by your own agency only, always.")
    )
    source_description = EncryptedTextField(
        _("source"), blank=True, help_text=_("Read by your own agency only, always.")
    )
    source_evaluation = models.CharField(
        _("source evaluation"), max_length=1, choices=SourceEvaluation.choices
    )
    intelligence_assessment = models.CharField(
        _("intelligence assessment"), max_length=1, choices=IntelligenceAssessment.choices
    )
    handling_code = models.CharField(_("handling code"), max_length=1, choices=HandlingCode.choices)
    handling_conditions = models.TextField(
        _("handling conditions"),
        blank=True,
        help_text=_("Required for handling code C; readers acknowledge them before reading."),
    )
    # Raised whenever the conditions change: an acknowledgement is of one version, so a
    # reader acknowledges again what they have not yet seen.
    conditions_version = models.PositiveIntegerField(default=1, editable=False)
    tlp = models.CharField(_("TLP"), max_length=16, choices=TLP.choices)
    tlp_recipients = models.ManyToManyField(
        Agency,
        blank=True,
        related_name="intelligence_reports_named_in",
        verbose_name=_("named recipients (TLP:RED)"),
    )
    distribution = models.CharField(_("distribution"), max_length=16, choices=Distribution.choices)
    sharing_group = models.ForeignKey(
        SharingGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="intelligence_reports",
    )
    exploitation_types = ArrayField(
        models.CharField(max_length=32, choices=ExploitationType.choices), default=list, blank=True
    )
    area = models.CharField(
        _("area"), max_length=120, blank=True, help_text=_("A region or a postcode district.")
    )
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    review_on = models.DateField(_("review date"))
    linked_cases = models.ManyToManyField(Case, blank=True, related_name="intelligence_reports")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # Title and summary only: the text that travels. Never full_text or the source, so a
    # search can never find a report by words its reader may not read. Computed by
    # PostgreSQL itself (a stored generated column), so no write path can leave it stale.
    search_vector = models.GeneratedField(
        expression=title_search_vector()
        + SearchVector("summary", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = IntelligenceReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_report", "Can read intelligence reports in their audience"),
            ("add_report", "Can write and submit intelligence reports"),
            ("grade_report", "Can re-grade their agency's intelligence reports"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(handling_code=HandlingCode.CONDITIONS)
                    & ~models.Q(handling_conditions="")
                )
                | models.Q(handling_code=HandlingCode.PERMITTED, handling_conditions=""),
                name="intelligence_conditions_iff_handling_c",
                violation_error_message=_(
                    "Handling code C needs its conditions; handling code P has none."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(distribution=Distribution.SHARING_GROUP)
                    & models.Q(sharing_group__isnull=False)
                )
                | (
                    ~models.Q(distribution=Distribution.SHARING_GROUP)
                    & models.Q(sharing_group__isnull=True)
                ),
                name="intelligence_sharing_group_iff_distribution",
                violation_error_message=_(
                    "A sharing group is chosen exactly when the distribution is a sharing group."
                ),
            ),
            # The audience SQL reads these columns: an unknown value must be impossible.
            models.CheckConstraint(
                condition=models.Q(tlp__in=TLP.values), name="intelligence_tlp_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(distribution__in=Distribution.values),
                name="intelligence_distribution_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReportStatus.values),
                name="intelligence_status_valid",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="intelligence_search_idx"),
            # The other half of filter_q's OR (C reports matched on their title alone).
            GinIndex(
                title_search_vector(),
                name="intel_c_title_search_idx",
                condition=models.Q(handling_code=HandlingCode.CONDITIONS),
            ),
            models.Index(fields=["originating_agency", "status"], name="intel_agency_status_idx"),
            models.Index(fields=["status", "distribution", "tlp"], name="intel_audience_idx"),
            models.Index(fields=["-created_at", "-id"], name="intel_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Intelligence report #{self.pk}"

    @property
    def grading(self) -> str:
        """The 3x5x2 code as analysts write it, e.g. "1/A/P"."""
        return f"{self.source_evaluation}/{self.intelligence_assessment}/{self.handling_code}"

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        conditions = (self.handling_conditions or "").strip()
        if self.handling_code == HandlingCode.CONDITIONS and not conditions:
            errors["handling_conditions"] = _("Handling code C needs the conditions written.")
        if self.handling_code == HandlingCode.PERMITTED and conditions:
            errors["handling_conditions"] = _(
                "Conditions go with handling code C; choose C or remove them."
            )
        if self.distribution == Distribution.SHARING_GROUP and self.sharing_group_id is None:
            errors["sharing_group"] = _("Choose the sharing group to distribute to.")
        if self.distribution != Distribution.SHARING_GROUP and self.sharing_group_id is not None:
            errors["sharing_group"] = _(
                "A sharing group is chosen only with the distribution “a named sharing group”."
            )
        bad = [t for t in self.exploitation_types or [] if t not in ExploitationType.values]
        if bad:
            errors["exploitation_types"] = _("Unknown exploitation type: %s") % ", ".join(bad)
        if errors:
            raise ValidationError(errors)


class GradingChange(models.Model):
    """One re-grade of a report by its originating agency: what it was, what it became, why."""

    report = models.ForeignKey(
        IntelligenceReport, on_delete=models.CASCADE, related_name="grading_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    old_source_evaluation = models.CharField(max_length=1, choices=SourceEvaluation.choices)
    new_source_evaluation = models.CharField(max_length=1, choices=SourceEvaluation.choices)
    old_intelligence_assessment = models.CharField(
        max_length=1, choices=IntelligenceAssessment.choices
    )
    new_intelligence_assessment = models.CharField(
        max_length=1, choices=IntelligenceAssessment.choices
    )
    old_handling_code = models.CharField(max_length=1, choices=HandlingCode.choices)
    new_handling_code = models.CharField(max_length=1, choices=HandlingCode.choices)
    old_handling_conditions = models.TextField(blank=True)
    new_handling_conditions = models.TextField(blank=True)
    old_tlp = models.CharField(max_length=16, choices=TLP.choices)
    new_tlp = models.CharField(max_length=16, choices=TLP.choices)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return (
            f"{self.old_source_evaluation}/{self.old_intelligence_assessment}/"
            f"{self.old_handling_code} {self.old_tlp} → {self.new_source_evaluation}/"
            f"{self.new_intelligence_assessment}/{self.new_handling_code} {self.new_tlp}"
        )


class ConditionsAcknowledgement(models.Model):
    """A reader in another agency accepted a C report's conditions (one version of them)."""

    report = models.ForeignKey(
        IntelligenceReport, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    conditions_version = models.PositiveIntegerField()
    # What exactly was accepted, kept with the acknowledgement.
    conditions = models.TextField()
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "user", "conditions_version"],
                name="intelligence_one_acknowledgement_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} accepted the conditions of {self.report} (v{self.conditions_version})"


# --- Entities and matches -------------------------------------------------------------


class EntityKind(models.TextChoices):
    PHONE = "phone", _("Phone number")
    VEHICLE = "vehicle", _("Vehicle registration")
    POSTCODE = "postcode", _("Postcode")
    ADDRESS = "address", _("Address")
    BUSINESS = "business", _("Business name")
    EMAIL = "email", _("Email address")
    PERSON = "person", _("Person of interest")


class Entity(models.Model):
    """Something a report names, as entered and in the normalised form that is matched."""

    report = models.ForeignKey(
        IntelligenceReport, on_delete=models.CASCADE, related_name="entities"
    )
    kind = models.CharField(max_length=16, choices=EntityKind.choices)
    value = models.CharField(max_length=300)
    normalised = models.CharField(max_length=300)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name_plural = _("entities")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "kind", "normalised"], name="intelligence_entity_once_per_report"
            )
        ]
        indexes = [models.Index(fields=["kind", "normalised"], name="intel_entity_match_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.report}"


class MatchQuerySet(models.QuerySet["Match"]):
    def visible_to(self, user: Any, perm: str = VIEW_MATCH) -> MatchQuerySet:
        """The matches ``user`` is told of, now: the match inbox, and the one scoping entry
        point of every match read (list and detail, page and API). One SQL query.

        A side of a match (the agency of one of its two reports) sees it while all hold:

        1. the user's role holds ``intelligence.view_match``;
        2. the side's report is the user's agency's, and one the user reads (all of the
           agency's reports for a reader; their own for a contributor);
        3. the side is told (``existing_agency_told`` / ``new_agency_told``: its agency
           could read the other report when the match was made, and no write of the
           other agency has since narrowed it away: ``matching.withdraw_notices``);
        4. its agency may *still* read the other report under the audience rule
           (``audience.agency_reads``: submitted, distribution, TLP), checked here.

        Rule 4 is applied at read time, in SQL, rather than by deleting match rows: an
        audience also narrows with no write to the report (a partnership agreement ends
        on its date, an agency leaves a sharing group or closes), and the match stays true
        for the side that may still read. A report archived, re-graded or re-distributed
        away from a side drops out of that side's inbox on the next request; the services
        also withdraw that side's notification of it (``intelligence.matching``).

        Each row carries ``own_report_id`` and ``other_agency_id`` (the contact route,
        named only when the match is opened: ``reads.match_open``).
        """
        if perm != VIEW_MATCH:
            raise ValueError(f"Matches are scoped by {VIEW_MATCH}, not {perm!r}.")
        from agencies import access

        from .audience import agency_reads, readable_reports

        membership = access.active_membership(user)
        if membership is None or not access.role_may(membership.role, perm):
            return self.none()
        agency_id = membership.agency_id
        mine = readable_reports(user).filter(originating_agency_id=agency_id).values("pk")
        theirs = IntelligenceReport.objects.filter(agency_reads(agency_id)).values("pk")
        existing_side = models.Q(
            existing_agency_told=True, existing_report_id__in=mine, new_report_id__in=theirs
        )
        new_side = models.Q(
            new_agency_told=True, new_report_id__in=mine, existing_report_id__in=theirs
        )
        ours = models.Q(existing_report__originating_agency_id=agency_id)
        return self.filter(existing_side | new_side).annotate(
            own_report_id=models.Case(
                models.When(ours, then=models.F("existing_report_id")),
                default=models.F("new_report_id"),
            ),
            other_agency_id=models.Case(
                models.When(ours, then=models.F("new_report__originating_agency_id")),
                default=models.F("existing_report__originating_agency_id"),
            ),
        )


class Match(models.Model):
    """Two agencies' submitted reports name the same entity, and at least one of the two
    agencies may read the other's report under the audience rule (distribution, TLP,
    status). Content never travels: a side that is told learns the kind of entity (its
    own value) and, when it opens the match, which agency to contact. A side whose agency
    may not read the other report is never told and never sees the match. See
    ``intelligence.matching`` and ``MatchQuerySet.visible_to`` (reading)."""

    new_report = models.ForeignKey(
        IntelligenceReport, on_delete=models.CASCADE, related_name="matches_as_new"
    )
    existing_report = models.ForeignKey(
        IntelligenceReport, on_delete=models.CASCADE, related_name="matches_as_existing"
    )
    kind = models.CharField(max_length=16, choices=EntityKind.choices)
    normalised = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    # Which sides are told: a side is told when its agency could read the other side's
    # report when the match was made, and stops being told (its notification withdrawn)
    # when the other agency archives, re-grades or re-distributes that report away from
    # it. Whether it sees the match now is decided at read time (``visible_to``).
    existing_agency_told = models.BooleanField(default=False)
    new_agency_told = models.BooleanField(default=False)

    objects = MatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("matches")
        constraints = [
            models.UniqueConstraint(
                fields=["new_report", "existing_report", "kind", "normalised"],
                name="intelligence_match_once",
            ),
            models.CheckConstraint(
                condition=~models.Q(new_report=models.F("existing_report")),
                name="intelligence_match_two_reports",
            ),
        ]

    def __str__(self) -> str:
        return f"Match #{self.pk} ({self.get_kind_display()})"


class MatchingJob(models.Model):
    """Matching owed to a report: the outbox of matching.

    Written in the transaction that submits a report, or that changes a submitted
    report's entities, and nothing else: the request that writes it does the same work
    whatever other reports exist. After the commit its id goes to a Celery task
    (``intelligence.tasks.match_report``), which claims it, matches the report against
    the reports as they are then (``matching.report_match``), and marks it done in the
    same transaction as the matches, their audit and their notifications. A job whose
    task was lost (the broker or the worker down, a web process gone before publishing)
    is published again by beat (``tasks.requeue_matching``). Nobody reads these rows but
    the workers: they carry ids and times, no content.
    """

    report = models.ForeignKey(IntelligenceReport, on_delete=models.CASCADE, related_name="+")
    # Who submitted the report or changed its entities: their side of a match is told
    # to them, and the audit of each match names them as its cause.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The requeue scan touches only the (few) jobs not yet done.
            models.Index(
                fields=["created_at"],
                condition=models.Q(done_at__isnull=True),
                name="intel_matching_job_due",
            )
        ]

    def __str__(self) -> str:
        return f"Matching of report #{self.report_id}"


# --- Operations and premises visits ---------------------------------------------------


class OperationQuerySet(models.QuerySet["Operation"]):
    def visible_to(self, user: Any, perm: str = VIEW_OPERATION) -> OperationQuerySet:
        """Operations led by, or partnered with, the user's agency (role permitting)."""
        from agencies import access

        membership = access.active_membership(user)
        if membership is None or not access.role_may(membership.role, perm):
            return self.none()
        partnered = Operation.partner_agencies.through.objects.filter(
            agency_id=membership.agency_id
        ).values("operation_id")
        return self.filter(
            models.Q(lead_agency_id=membership.agency_id) | models.Q(pk__in=partnered)
        )


class Operation(models.Model):
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="led_operations")
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    partner_agencies = models.ManyToManyField(Agency, blank=True, related_name="operations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="operation_ends_after_start",
                violation_error_message=_("An operation cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["lead_agency", "name"], name="operation_unique_name_per_agency"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PremisesType(models.TextChoices):
    FARM = "farm", _("Farm")
    CAR_WASH = "car_wash", _("Car wash")
    NAIL_BAR = "nail_bar", _("Nail bar")
    FACTORY = "factory", _("Factory")
    CONSTRUCTION_SITE = "construction_site", _("Construction site")
    RESTAURANT = "restaurant", _("Restaurant")
    RESIDENTIAL = "residential", _("Residential")
    OTHER = "other", _("Other")


class Indicator(models.TextChoices):
    """What a visiting officer or outreach worker saw (the checklist of a visit)."""

    NO_IDENTITY_DOCUMENTS = "no_identity_documents", _("No identity documents")
    LOW_OR_NO_PAY = "low_or_no_pay", _("Low or no pay")
    DEBT_BONDAGE = "debt_bondage", _("Debt bondage")
    LIVING_ON_SITE = "living_on_site", _("Living on site")
    RESTRICTED_MOVEMENT = "restricted_movement", _("Restricted movement")
    SIGNS_OF_ABUSE = "signs_of_abuse", _("Signs of abuse")
    FEAR_OF_AUTHORITIES = "fear_of_authorities", _("Fear of authorities")
    THIRD_PARTY_CONTROL = "third_party_control", _("Controlled by a third party")
    EXCESSIVE_HOURS = "excessive_hours", _("Excessive hours")
    UNSAFE_CONDITIONS = "unsafe_conditions", _("Unsafe conditions")


class VisitOutcome(models.TextChoices):
    NO_CONCERNS = "no_concerns", _("No concerns")
    LABOUR_ABUSE = "labour_abuse", _("Labour abuse issue")
    POTENTIAL_VICTIMS = "potential_victims", _("Potential victims identified")
    INTELLIGENCE_SUBMITTED = "intelligence_submitted", _("Intelligence submitted")


class PremisesVisitQuerySet(models.QuerySet["PremisesVisit"]):
    def visible_to(self, user: Any, perm: str = VIEW_OPERATION) -> PremisesVisitQuerySet:
        """Visits of an operation the user's agency leads or partners, and visits its own
        staff recorded outside any operation."""
        from agencies import access

        membership = access.active_membership(user)
        if membership is None or not access.role_may(membership.role, perm):
            return self.none()
        operations = Operation.objects.visible_to(user, perm).values("pk")
        return self.filter(
            models.Q(operation__in=operations)
            | models.Q(operation__isnull=True, agency_id=membership.agency_id)
        )


# The most workers one visit records: the form, the API and ``visit_record`` all hold
# to it (the column itself would take two billion, then fail with a 500).
MAX_WORKERS_PRESENT = 10_000


class PremisesVisit(models.Model):
    operation = models.ForeignKey(
        Operation, on_delete=models.PROTECT, null=True, blank=True, related_name="visits"
    )
    # The agency whose staff made the visit.
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="premises_visits")
    premises_type = models.CharField(
        _("premises type"), max_length=32, choices=PremisesType.choices
    )
    postcode_district = models.CharField(
        _("postcode district"), max_length=8, help_text=_("The outward code only, e.g. NE1.")
    )
    visited_on = models.DateField(_("visited on"))
    workers_present = models.PositiveIntegerField(_("workers present"), null=True, blank=True)
    indicators = ArrayField(
        models.CharField(max_length=32, choices=Indicator.choices), default=list, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=32, choices=VisitOutcome.choices)
    notes = EncryptedTextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="premises_visits"
    )
    report = models.ForeignKey(
        IntelligenceReport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="premises_visits",
    )

    objects = PremisesVisitQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_on", "-id"]
        permissions = [("add_visit", "Can record premises visits")]
        indexes = [
            models.Index(fields=["postcode_district", "visited_on"], name="visit_district_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_premises_type_display()} visit, {self.postcode_district}"
