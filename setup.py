"""Build script: only what pyproject.toml cannot declare (the C extension comes here)."""

from setuptools import setup

setup()
