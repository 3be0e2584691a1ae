"""CLI command groups that live outside cli.py (review, eval, report): each module is a thin
click layer over a library module, registered by cli.py."""
