"""Insights stage: emerging themes, key drivers, segment lift, KPI inputs and tracked actions."""
