"""Reliability: upstream faults, fuzzing, slow clients and a soak (issue #12, item 9)."""
