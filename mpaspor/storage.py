"""Storage without public addresses, for files only views that check who asks may send."""

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder whose files have no URL: asking for one is a bug, not a link to show."""

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a view that checks who asks.")
