"""Packaging beyond what pyproject.toml can declare: the shipped rubrics and prompts.

The repo's top-level ``rubrics/`` and ``prompts/`` are the one place they are written and
edited. A wheel (and an sdist) carries them inside the package as ``auditor/rubrics`` and
``auditor/prompts`` by mapping those two package paths onto the top-level folders, so an
installed ``auditor`` reads them with ``importlib.resources`` from any folder. A checkout
(``pip install -e .`` or ``PYTHONPATH``) reads the top-level folders directly; see
``auditor/shipped.py``.
"""

from setuptools import find_namespace_packages, setup

SHIPPED = {"auditor.rubrics": "rubrics", "auditor.prompts": "prompts"}

setup(
    packages=[
        *find_namespace_packages(include=["auditor", "auditor.*"], exclude=["*.__pycache__"]),
        *SHIPPED,
    ],
    package_dir=SHIPPED,
)
