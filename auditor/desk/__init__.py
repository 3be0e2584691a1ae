"""The review desk: ``auditor serve``, a web face over the review library.

Users and roles (``users``), queue claims, disputes and calibration sessions are library
functions here; ``app`` is the Starlette layer (pages and the JSON API) over them, a second
thin face beside the CLI. Reviews go through ``auditor.review.record_review`` exactly as
``auditor review score`` does. See docs/review.md ("The review desk").
"""
