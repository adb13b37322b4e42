"""porter: from an AI Hub model file to a ready-to-run inference script."""
