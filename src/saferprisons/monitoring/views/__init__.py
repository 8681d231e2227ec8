"""Monitoring staff pages: ``console`` (live alerts, acknowledge, reset, resolve) and ``reports``
(whether it helps: measures and CSV; ingest operations)."""
