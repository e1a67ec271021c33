"""Cyber cooperation: STIX 2.1 objects, indicator matching against local logs, sightings."""
