"""The CrossGuard policy pack; its policies live in `policy.policies`, and only `__main__.py` starts the pack."""
