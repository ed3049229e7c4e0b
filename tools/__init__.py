"""Command-line tools that ship with the platform program (the credential-free plan, the schema)."""
