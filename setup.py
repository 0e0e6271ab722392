"""How the distribution is built (the metadata is in pyproject.toml).

The wheel (``python -m build``, ``pip install .``) holds one top-level package, ``news_ingest``,
with the repository's ``crawler/``, ``pipelines/``, ``settings/`` and ``schema/`` inside it and
their imports and dotted paths rewritten to match (``from crawler.pages.page`` becomes ``from
news_ingest.crawler.pages.page``, ``"pipelines.extract.ExtractArticlePipeline"`` becomes
``"news_ingest.pipelines.extract.ExtractArticlePipeline"``): installed beside a Django project,
``import settings`` is still the user's. An editable install (``pip install -e .``, what ``make
install`` does in a checkout) keeps the top-level folders as they are, for development.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CODE = ("crawler", "pipelines", "settings")
EDITABLE = "editable_wheel" in sys.argv
_IMPORT = re.compile(r"^(\s*from\s+)(crawler|pipelines|settings)(?=[.\s])", re.MULTILINE)
# `import settings.base as defaults`: the only form of a plain import that binds no top-level name
_IMPORT_AS = re.compile(r"^(\s*import\s+)(crawler|pipelines|settings)(?=(?:\.\w+)+\s+as\s)", re.MULTILINE)
_DOTTED = re.compile(r"""(["'])((?:crawler|pipelines|settings)(?:\.\w+)+)\1""")


def namespaced(source: str) -> str:
    """A module's text with the product's imports and dotted paths under ``news_ingest``."""
    source = _IMPORT_AS.sub(r"\1news_ingest.\2", _IMPORT.sub(r"\1news_ingest.\2", source))
    return _DOTTED.sub(r"\1news_ingest.\2\1", source)


class BuildNamespaced(build_py):
    def run(self) -> None:
        super().run()
        if EDITABLE:
            return
        root = Path(self.build_lib) / "news_ingest"
        for folder in (*CODE, "schema"):
            for path in sorted((HERE / folder).rglob("*")):
                if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                    continue
                target = root / path.relative_to(HERE)
                target.parent.mkdir(parents=True, exist_ok=True)
                if path.suffix == ".py":
                    target.write_text(namespaced(path.read_text(encoding="utf-8")), encoding="utf-8")
                else:
                    shutil.copyfile(path, target)


packages = ["news_ingest"]
if EDITABLE:
    packages += find_namespace_packages(include=[f"{name}*" for name in CODE] + ["schema"])

setup(packages=packages, cmdclass={"build_py": BuildNamespaced}, package_data={"schema": ["*.json"]})
