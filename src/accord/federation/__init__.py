"""Federation: node keys, signed and encrypted envelopes, outbox, inbox, delivery, peers."""
