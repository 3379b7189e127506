"""The OpenAPI schema is valid OpenAPI 3.1, and a bounded property-based run over it finds no 500."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.trainer.tinydata import make_dataset


@pytest.fixture
def trainer_app(app_client, data_root: Path):
    make_dataset(data_root, "luigi-1", frames=4, width=64, height=48)
    with app_client() as http:
        yield http


def test_openapi_schema_validates(trainer_app) -> None:
    document = trainer_app.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    jsonschema.Draft202012Validator(OPENAPI_31).validate(document)
    paths = document["paths"]
    expected = [
        "/v1/datasets",
        "/v1/datasets/{name}",
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/events",
        "/v1/models",
        "/v1/models/{version}",
        "/v1/models/{version}/promote",
        "/v1/models/rollback",
    ]
    for path in expected:
        assert path in paths, path
    assert "JobParams" in document["components"]["schemas"]


def test_no_server_errors(trainer_app) -> None:
    """Every operation, a bounded number of generated requests each: never a 5xx."""
    api = schemathesis.openapi.from_asgi("/openapi.json", trainer_app.app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            response = case.call()
            case.validate_response(response, checks=[not_a_server_error])

        check()
