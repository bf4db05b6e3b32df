"""The model manager's implementation; `satellite.models` is its public face."""
