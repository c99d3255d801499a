"""End-to-end tasks: each trains, evaluates against baselines, saves a run directory and predicts."""
