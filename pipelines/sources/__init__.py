"""Source adapters: each configured source maps its exports to the canonical record."""
