"""TensorKart simulator service."""
