"""Competitions: setup, phases and their moves, extensions, and the admin's competition pages."""
