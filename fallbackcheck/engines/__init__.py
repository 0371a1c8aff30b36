"""Engines: the container engines fallbackcheck talks to (the Docker engine through its SDK),
and the record of what was loaded into which engine. Below hosts/ (where a batch runs) and
runtimes/ (how it is started), which both use them."""
