"""The version the servers report (engine.__version__) is the installed package's."""

from importlib import metadata

import engine


def test_the_reported_version_is_the_package_version():
    assert engine.__version__ == metadata.version("pgshift")
