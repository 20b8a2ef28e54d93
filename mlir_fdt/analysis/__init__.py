"""Analysis stage: facts about a linalg module (MACs, buffers) used by the report and the search."""
