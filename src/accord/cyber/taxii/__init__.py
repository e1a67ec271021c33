"""TAXII 2.1 server: the collections of each peer agreement, served under /taxii2/."""
