"""The package list only (everything else is in pyproject.toml). pyproject.toml's `packages.find` lists
what it finds under the source tree and cannot add packages from elsewhere: here conf/, at the top of the
repository for editing, ships as `tuneforge.conf` (mapped to conf/ by pyproject.toml's package-dir), its
group directories included (listed as namespace packages so setuptools takes them as package data
without a warning; conf/recipe, a symlink to ../recipes, is followed)."""
from setuptools import find_namespace_packages, setup

SKIP = ["*__pycache__*"]
setup(packages=[*find_namespace_packages(include=["tuneforge*"], exclude=SKIP), "tuneforge.conf",
                *(f"tuneforge.conf.{group}" for group in find_namespace_packages("conf", exclude=SKIP))])
