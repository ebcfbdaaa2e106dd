"""The app for P10's HTTP half: as ``config.wsgi``, with P10's plain-value reader
installed (``bench.encryption``). Never served outside the benchmark."""

from config.wsgi import application


def _install() -> None:
    # After config.wsgi has set Django up: bench.encryption imports models.
    from bench.encryption import install_plain_reader

    install_plain_reader()


_install()

__all__ = ["application"]
