"""Copies ontology/ data/ queries/ shapes/ into the wheel as hrkg/_bundle/ (see hrkg/resources.py)."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("ontology", "data", "queries", "shapes")


class BuildWithBundle(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # editable installs read the checkout directly
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "hrkg" / "_bundle"
        for kind in BUNDLED:
            destination = target / kind
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(here / kind, destination)


setup(cmdclass={"build_py": BuildWithBundle})
