"""Privacy stage: find and redact personal health information before any text is scored or reported."""
