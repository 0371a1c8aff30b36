"""Our own tests' engine marker: an engine test skips, with the reason, where no container
engine answers, and fails instead under FALLBACKCHECK_REQUIRE_ENGINE=1 (CI sets it)."""

import os

import pytest

REQUIRE_ENGINE = "FALLBACKCHECK_REQUIRE_ENGINE"


def pytest_runtest_setup(item):
    if item.get_closest_marker("engine") is None:
        return
    from fallbackcheck.engines.docker import engine

    reason = engine().unavailable_reason()
    if reason:
        if os.environ.get(REQUIRE_ENGINE) == "1":
            pytest.fail(f"{REQUIRE_ENGINE}=1 but {reason}", pytrace=False)
        pytest.skip(f"needs a container engine: {reason}")
