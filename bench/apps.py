from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark tooling (issue 5): synthetic data and measurements. No models."""

    name = "bench"
    verbose_name = "Benchmarks"
