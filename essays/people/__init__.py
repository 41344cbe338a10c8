"""People: accounts and login, units, the roster import, announcements, and the admin's pages for them."""
