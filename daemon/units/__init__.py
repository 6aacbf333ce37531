"""The unit files `reverie systemd install` renders (copies of the repository's systemd/).

Package data only; tests/test_systemd_units.py checks the copies match.
"""
