"""The trainer REST API in-process (real Redis, real files): datasets, jobs, models, auth, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trainer.tinydata import make_dataset


@pytest.fixture
def client(app_client, data_root: Path):
    make_dataset(data_root, "luigi-1", frames=12, width=160, height=120)
    make_dataset(data_root, "luigi-2", frames=8, seed=3, width=160, height=120)
    with app_client() as http:
        yield http


def test_datasets_list_and_detail(client, data_root: Path) -> None:
    listed = client.get("/v1/datasets").json()
    assert [d["name"] for d in listed] == ["luigi-1", "luigi-2"]
    detail = client.get("/v1/datasets/luigi-1").json()
    assert detail["frames"] == 12
    assert detail["duration_s"] == pytest.approx(1.2)
    assert sum(detail["steering_histogram"]["counts"]) == 12
    assert detail["validation"] == {"valid": True, "bad_rows": 0, "bad_images": 0, "problems": []}
    sheet = client.get("/v1/datasets/luigi-1/contact-sheet.png")
    assert sheet.status_code == 200 and sheet.content.startswith(b"\x89PNG")


def test_dataset_validation_reports_bad_rows_and_images(client, data_root: Path) -> None:
    folder = data_root / "samples" / "luigi-1"
    (folder / "img_3.png").write_bytes(b"not a png at all")
    with open(folder / "data.csv", "a") as handle:
        handle.write("samples/luigi-1/img_99.png,abc,0,1,0,0\n")
        handle.write("only,three,fields\n")
    validation = client.get("/v1/datasets/luigi-1").json()["validation"]
    assert validation["valid"] is False
    assert validation["bad_rows"] == 2 and validation["bad_images"] == 1
    assert any("img_3.png" in p for p in validation["problems"])


@pytest.mark.parametrize("name", ["%2E%2E", ".hidden", "a..b", "-rf", "x" * 65, "a%5Cb", "..%2F..%2Fetc"])
def test_dataset_path_tricks_are_400(client, name: str) -> None:
    response = client.get(f"/v1/datasets/{name}")
    assert response.status_code == 400, response.text


def test_unknown_dataset_404(client) -> None:
    assert client.get("/v1/datasets/nope").status_code == 404
    assert client.get("/v1/datasets/nope/contact-sheet.png").status_code == 404


def test_job_validation_names_the_field(client) -> None:
    cases = [
        ({"datasets": ["luigi-1"], "epochs": 0}, "epochs"),
        ({"datasets": ["luigi-1"], "outputs": ["x", "z"]}, "outputs"),
        ({"datasets": ["luigi-1"], "loss": "huber"}, "loss"),
        ({"datasets": []}, "datasets"),
        ({"datasets": ["luigi-1"], "preprocess": {"crop_left": 0.6, "crop_right": 0.5}}, "preprocess"),
        ({"datasets": ["luigi-1"], "augmentation": {"flip": 2}}, "augmentation.flip"),
        ({"datasets": ["missing-*"]}, "datasets"),
        ({"datasets": ["luigi-1"], "base_model": "m-unknown"}, "base_model"),
        ({"datasets": ["luigi-1"], "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        response = client.post("/v1/jobs", json=body)
        assert response.status_code == 422, (body, response.text)
        text = response.text
        assert field in text, (field, text)


def test_job_dataset_path_tricks_are_rejected_by_the_schema(client) -> None:
    for name in ["../etc", "luigi/../../x", "..", "a\\b", "", "x" * 65]:
        response = client.post("/v1/jobs", json={"datasets": [name]})
        assert response.status_code == 422, response.text
        assert response.json()["message"].startswith("datasets.0: "), response.text


def test_job_queued_listed_and_canceled(client) -> None:
    response = client.post("/v1/jobs", json={"datasets": ["luigi-*"], "epochs": 1})
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json()["datasets"] == ["luigi-1", "luigi-2"]
    view = client.get(f"/v1/jobs/{job_id}").json()
    assert view["state"] == "queued" and view["params"]["outputs"] == ["x", "a"]
    assert [j["id"] for j in client.get("/v1/jobs").json()] == [job_id]
    canceled = client.delete(f"/v1/jobs/{job_id}")
    assert canceled.status_code == 202 and canceled.json()["state"] == "canceled"
    assert client.get(f"/v1/jobs/{job_id}").json()["state"] == "canceled"
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 409


def test_unknown_ids_404(client) -> None:
    assert client.get("/v1/jobs/does-not-exist").status_code == 404
    assert client.delete("/v1/jobs/does-not-exist").status_code == 404
    assert client.get("/v1/jobs/does-not-exist/events").status_code == 404
    assert client.get("/v1/models/m-unknown").status_code == 404
    assert client.post("/v1/models/m-unknown/promote").status_code == 404
    assert client.post("/v1/models/rollback").status_code == 409
    assert client.get("/v1/models/..bad").status_code == 400


def test_token_required_when_set(app_client, data_root: Path) -> None:
    make_dataset(data_root, "d", frames=2, width=64, height=48)
    with app_client(token="s3cret") as http:
        for method, path in [("GET", "/v1/datasets"), ("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("GET", "/v1/models")]:
            assert http.request(method, path).status_code == 401
            wrong = http.request(method, path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
        ok = http.get("/v1/datasets", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()[0]["name"] == "d"
        assert http.get("/healthz").status_code == 200


def test_dashboard_page_and_models_list(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "TensorKart trainer" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org/2000/svg", "")  # no CDN
    assert client.get("/v1/models").json() == {"active": None, "history": [], "models": []}
