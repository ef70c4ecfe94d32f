"""Demo data: realistic synthetic exports with planted patterns, and a synthetic report warehouse."""
