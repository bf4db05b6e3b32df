"""Wiring and threads: the config turned into engines (`loaders`), the parts built and wired
(`build`), the daemon's threads (`daemon`) and MQTT commands carried out (`control`).
See docs/ARCHITECTURE.md.
"""
