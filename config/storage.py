"""File storage for files that must never have an address of their own."""

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder served by nothing: its files reach people only through views that check
    who asks (and audit it). FileSystemStorage would give them MEDIA_URL addresses."""

    def url(self, name):
        raise ValueError("Files in private storage have no address; serve them through a view.")
