"""Intake: a unit's upload from the file to the stored version.

`docx/` reads a .docx as Word shows it (safety first, then every story in order);
`counting` counts like Word; `rules` and `format_rules` are the intake rules (pure);
`inspection` checks one file against a competition without the database; `receive`
stores an upload; `batch` imports e-mailed files; the pages are `unit_views` (units) and
`admin_views` (the 政工科). A new intake rule goes in `rules` (pure) and is applied in
`inspection` or `receive`.
"""
