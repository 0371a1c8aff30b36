# The pytest surface of fallbackcheck lives in fallbackcheck/pytest_plugin/plugin.py; this file only
# loads it, so that `pytest suites` and `pytest tests` from the checkout pick it up
# without the package being installed as a pytest11 entry point.
pytest_plugins = ["fallbackcheck.pytest_plugin.plugin"]
