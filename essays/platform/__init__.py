"""What every feature stands on: the database (`db`), the web plumbing (`web`) and error
pages (`error_pages`), stable error codes (`errors`), security (`security`), the audit log
(`audit`), configuration (`config`), times (`timeutil`), migrations (`migrate`), backups
(`backup`) and the base commands (`cli`).

Nothing here knows a competition's rules; features build on it, never the reverse.
"""
