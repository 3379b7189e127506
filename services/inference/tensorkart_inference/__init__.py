"""TensorKart inference service."""
