"""Search stage: find the tiling plan that best meets an objective (least RAM, a MAC budget,
a RAM budget) by growing fused paths around the buffers that set the peak and scoring each
candidate with the real memory planner."""
