"""RTE: rules that send a drug line to the Medicare contractor that pays it."""
