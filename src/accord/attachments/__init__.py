"""Attachments: content-addressed blobs, sent to the peer in encrypted chunks, verified by hash."""
