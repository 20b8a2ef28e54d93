"""Memory stage: liveness of every buffer over the schedule, a layout in one arena, a verifier."""
