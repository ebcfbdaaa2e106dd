// After a passkey is added (django-otp-webauthn's "register_complete" event), go on to
// the recovery codes: the first device's session is verified by then.
document.addEventListener("otp_webauthn.register_complete", () => {
  const button = document.getElementById("passkey-register-button");
  const next = button && button.dataset.nextUrl;
  if (next) {
    window.location.assign(next);
  }
});
