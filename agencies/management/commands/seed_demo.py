import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the demo partnership. Each app adds its own records through its demo.seed(); "
        "running it again changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # Apps are listed lowest layer first in INSTALLED_APPS, so agencies come before cases.
        for app_config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app_config.name}.demo":
                    raise
                continue
            self.stdout.write(f"Seeding {app_config.verbose_name}...")
            module.seed(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
