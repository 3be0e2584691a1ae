"""The review desk: ``auditor serve``, the web face of the review library.

Users and roles, queue claims, disputes and calibration sessions are library functions in
``auditor.review`` (``users``, ``claims``, ``disputes``, ``sessions``), their tables are the
store's (``auditor.store_desk``); this package is the Starlette layer over them (``app``:
pages and the JSON API) and the read-models the pages show (``chatview``, ``agents``), a
second thin face beside the CLI. Reviews go through ``auditor.review.record_review``
exactly as ``auditor review score`` does. See docs/review.md ("The review desk").
"""
