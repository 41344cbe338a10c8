"""Background jobs: the registry of job kinds, the queue (Huey), the runner and the admin's jobs pages."""
