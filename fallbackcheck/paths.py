"""Where the data fallbackcheck needs lives: the probes, the image recipes, the suites.

In a checkout they are the repository's top-level probes/, images/ and suites/. An installed
package (`pip install .`) carries copies of them as package data under fallbackcheck/share/
(pyproject.toml maps them there), so the tool runs from any directory without a checkout.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE.parent
# A checkout has the catalogue beside the package; an installed package does not.
IN_CHECKOUT = (_CHECKOUT / "probes" / "catalogue").is_dir() and (_CHECKOUT / "suites").is_dir()
BASE = _CHECKOUT if IN_CHECKOUT else PACKAGE / "share"

PROBES = BASE / "probes"
CATALOGUE = PROBES / "catalogue"
RECIPES = BASE / "images" / "recipes.toml"
SUITES = BASE / "suites"


def default_report_dir() -> Path:
    """reports/ of the checkout when run from one; ./reports in the current directory otherwise."""
    return _CHECKOUT / "reports" if IN_CHECKOUT else Path.cwd() / "reports"
