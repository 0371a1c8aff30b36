"""What a run builds or fetches before anything runs, each cached by content: images and
their root file systems, Debian archives and packages, Debian's kernels, the probe builds."""
