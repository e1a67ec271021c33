"""Enumerations of attachments, each with its English and Chinese labels in one place."""

from __future__ import annotations

from accord.core.labels import Labelled


class FileStatus(Labelled):
    """Whether a file a case names is here for that case."""

    AVAILABLE = "available", "here and verified", "已到达并核验"
    RECEIVING = "receiving", "on its way", "传输中"
    NOT_RECEIVED = "not_received", "not received", "未收到"
    """Its chunks did not all arrive in time (ACCORD_ATTACHMENT_TRANSFER_EXPIRY_SECONDS) and
    were deleted; the sender must attach it again."""
