"""The benchmark harness (README, "Performance"): `python -m bench [--quick]`."""
