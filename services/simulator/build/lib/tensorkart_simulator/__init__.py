"""TensorKart practice track: a small, fast, deterministic Mode-7 kart simulator."""
