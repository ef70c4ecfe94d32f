-- Write everything into the extract file itself (no WAL left beside it) before it is renamed.
checkpoint;
