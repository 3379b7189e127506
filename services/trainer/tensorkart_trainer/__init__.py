"""TensorKart trainer: REST API for datasets, training jobs and models; RQ workers run the jobs."""
