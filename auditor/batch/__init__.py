"""Grading a day through a provider's Batch API (``/v1/files`` + ``/v1/batches``).

- ``replay``: the online grader with its "send" step answered from batch files;
- ``flow``: submit (capture, split, upload, create) and collect (download, grade, store);
- ``records``: the ``batches`` and ``batch_items`` tables (migration m013_batches);
- ``client``: the two endpoints, through the OpenAI SDK;
- ``jsonl``: input, output and error file lines, and the per-file limits;
- ``estimate``: requests, tokens and cost online vs batch, before anything is sent;
- ``pricing``: the batch price (half the online list price unless overridden).
"""
