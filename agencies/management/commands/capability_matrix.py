from typing import Any

from django.core.management.base import BaseCommand

from agencies.access import capability_matrix_markdown


class Command(BaseCommand):
    help = "Print the role capability matrix (layer 1 of the access model) as a Markdown table."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(capability_matrix_markdown())
