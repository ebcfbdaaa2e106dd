from django.db import models

from agencies.access import ScopedQuerySet
from agencies.models import AgencyGrant, UserGrant


class Dossier(models.Model):
    title = models.CharField(max_length=100)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        permissions = [("view_dossier_secret", "Can view the secret part of a dossier")]

    def __str__(self) -> str:
        return self.title


class Reason(models.Model):
    """Stands in for a referral, consent or request: why a grant exists."""

    label = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.label


class DossierAgencyGrant(AgencyGrant):
    content_object = models.ForeignKey(Dossier, on_delete=models.CASCADE)


class DossierUserGrant(UserGrant):
    content_object = models.ForeignKey(Dossier, on_delete=models.CASCADE)
