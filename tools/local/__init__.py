"""The laptop platform: prerequisites, the kind cluster, the readiness wait and the resource budget."""
