"""TensorKart recorder service."""
