"""Partnership and agency dashboards: aggregates only, with small-number suppression.

``scope`` decides which dashboard a user may open, ``filters`` reads its parameters,
``measures`` counts everything in SQL (``build_dashboard``) and ``suppression`` makes it
fit to show (``publish``). Pages, charts, CSV files and the API show only the published
dashboard.
"""
