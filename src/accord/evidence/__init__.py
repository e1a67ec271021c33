"""Evidence a third party can check: the case log as a Merkle tree, co-signed checkpoints of
its head, and RFC 3161 timestamps on them."""
