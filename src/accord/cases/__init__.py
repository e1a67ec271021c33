"""Cases: the hash-chained case log, the generic workflow engine and the case types."""
