from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import Membership


@shared_task(acks_late=True)
def send_invitation(membership_id: int) -> None:
    """Email a new member a link to choose their password. Takes an id, re-reads it.

    Safe to run twice: a second email carries a link that is just as valid, and once
    the password is set every earlier link stops working.
    """
    membership = (
        Membership.objects.select_related("user", "agency").filter(pk=membership_id).first()
    )
    if membership is None or not membership.user.is_active or membership.user.has_usable_password():
        return
    user = membership.user
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    send_mail(
        subject="You have been invited to Concord",
        message=(
            f"{membership.agency.name} has given you an account on Concord.\n\n"
            f"Your username is {user.username}. Choose your password here:\n"
            f"{settings.CONCORD_BASE_URL}{path}\n\n"
            "The link works once. If you were not expecting this, ignore this email."
        ),
        from_email=None,
        recipient_list=[user.email],
    )
