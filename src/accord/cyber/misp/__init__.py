"""MISP interoperability: MISP events read into the STIX 2.1 a cyber case carries, a case's
indicators written back as a MISP event, and served as a MISP feed (see docs/cyber.md)."""
