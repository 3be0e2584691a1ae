"""auditor: audit every customer-service chat against a QA rubric."""

__version__ = "0.1.0"
