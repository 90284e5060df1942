"""A bounded upload: a statement larger than the limit is refused before it is stored.

Django keeps reading a multipart body whatever its size (into a temporary file past
``FILE_UPLOAD_MAX_MEMORY_SIZE``). This handler keeps the file in memory and stops the upload
as soon as it passes ``FINANCE_STATEMENT_MAX_BYTES``; the view also refuses a request whose
``Content-Length`` already says it is too large, without reading it.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

DEFAULT_STATEMENT_MAX_BYTES = 20 * 1024 * 1024
#: Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


def statement_max_bytes() -> int:
    """The limit, read at call time (setting ``FINANCE_STATEMENT_MAX_BYTES``, default 20 MiB)."""
    return int(getattr(settings, "FINANCE_STATEMENT_MAX_BYTES", DEFAULT_STATEMENT_MAX_BYTES))


class BoundedMemoryUploadHandler(FileUploadHandler):
    """Keeps uploaded files in memory up to ``limit`` bytes in total; past it, stops."""

    def __init__(self, request: Any = None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False
        self._buffer = io.BytesIO()

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        self._buffer.write(raw_data)
        return None  # this handler keeps the data: later handlers get nothing

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self._buffer.seek(0)
        return InMemoryUploadedFile(
            file=self._buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
