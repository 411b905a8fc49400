"""Celery's file-based scheduler with and without the run lock, for the two-beats test: each beat
keeps its own schedule, so without the lock both send every run (django-celery-beat's shared
tables sometimes make a beat reload another's last runs, which would blur the control)."""

from celery.beat import PersistentScheduler

from mpaspor.beat import RunLock


class LockedPersistentScheduler(RunLock, PersistentScheduler):
    pass
