from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark tooling: synthetic data and measurements. No models."""

    name = "bench"
    verbose_name = "Benchmarks"
