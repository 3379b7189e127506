"""TensorKart controller service."""
