"""ComfyUI mock conformance: issue 15 item 9's remaining routes, as Comfy-Org/ComfyUI
v0.3.77 (tag v0.3.77) serves them: server.py get_root, image_upload and upload_mask, and
api_server/routes/internal/internal_routes.py (checked side by side with a real --cpu run)."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from harness._waiting import wait_for

SERVER_ERROR = "500 Internal Server Error\n\nServer got itself in trouble"


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def upload(api: httpx.Client, name: str, img: Image.Image, kind: str = "input") -> None:
    r = api.post("/upload/image", files={"image": (name, png(img))}, data={"type": kind})
    assert r.status_code == 200


@pytest.mark.parametrize("path", ["/", "/api/"])
def test_root_is_the_frontend_page_never_cached(comfyui_api: httpx.Client, path: str) -> None:
    """get_root: index.html with Cache-Control no-cache, Pragma no-cache, Expires 0 (the
    mock's page is its own: the frontend bundle is not shipped)."""
    r = comfyui_api.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    no_cache = {k: r.headers[k] for k in ("cache-control", "pragma", "expires")}
    assert no_cache == {"cache-control": "no-cache", "pragma": "no-cache", "expires": "0"}
    assert "<title>ComfyUI</title>" in r.text


def test_internal_files_lists_a_folder_newest_first(comfyui_api: httpx.Client) -> None:
    """GET /internal/files/{type} (LoadImageOutput's remote list): top-level files by
    mtime, newest first; another type is 400; internal routes have no /comfyui_api twin."""
    upload(comfyui_api, "a_old.png", Image.new("RGB", (2, 2)), "output")
    nested = {"image": ("in_a_folder.png", png(Image.new("RGB", (2, 2))))}
    comfyui_api.post("/upload/image", files=nested, data={"type": "output", "subfolder": "sub"})

    def rewritten_listed_first() -> bool:
        # files written within one filesystem clock tick share an mtime: rewrite until not
        files = {"image": ("b_new.png", png(Image.new("RGB", (3, 3))))}
        comfyui_api.post("/upload/image", files=files, data={"type": "output", "overwrite": "true"})
        return bool(comfyui_api.get("/internal/files/output").json() == ["b_new.png", "a_old.png"])

    wait_for(rewritten_listed_first, 10, "the newest file listed first")
    r = comfyui_api.get("/internal/files/bogus")
    assert (r.status_code, r.json()) == (400, {"error": "Invalid directory type"})
    assert isinstance(comfyui_api.get("/internal/logs").json(), str)
    assert comfyui_api.get("/api/internal/logs").status_code == 404


@pytest.mark.parametrize(
    ("files", "data"),
    [
        ({"image": ("u.png", b"x")}, {"type": ""}),
        (None, {"type": "bogus"}),
        (None, {"image": "text"}),
    ],
    ids=["empty-type", "bogus-type-without-image", "image-as-a-text-field"],
)
def test_uploads_that_raise_in_the_release_are_500(
    comfyui_api: httpx.Client, files: dict[str, tuple[str, bytes]] | None, data: dict[str, str]
) -> None:
    """image_upload looks the folder up first (get_dir_by_type leaves type_dir unbound for
    any type but input/temp/output, "" included), then reads image.file (a str has none)."""
    r = comfyui_api.post("/upload/image", files=files, data=data)
    assert (r.status_code, r.text) == (500, SERVER_ERROR)


def test_upload_without_an_image_is_400(comfyui_api: httpx.Client) -> None:
    assert comfyui_api.post("/upload/image", data={"type": "input"}).status_code == 400


def test_upload_mask_puts_the_uploads_alpha_on_the_original(comfyui_api: httpx.Client) -> None:
    """upload_mask: the original (original_ref) as RGBA with the upload's alpha, saved
    under the upload's name; the answer is image_upload's."""
    upload(comfyui_api, "photo.png", Image.new("RGB", (6, 4), (10, 20, 30)))
    mask = png(Image.new("RGBA", (6, 4), (0, 0, 0, 100)))
    ref = json.dumps({"filename": "photo.png", "type": "input", "subfolder": ""})
    r = comfyui_api.post(
        "/upload/mask", files={"image": ("m.png", mask)}, data={"original_ref": ref}
    )
    assert r.json() == {"name": "m.png", "subfolder": "", "type": "input"}
    view = comfyui_api.get("/view", params={"filename": "m.png", "type": "input"})
    img = Image.open(io.BytesIO(view.content))
    assert (img.mode, img.size, img.getpixel((0, 0))) == ("RGBA", (6, 4), (10, 20, 30, 100))


@pytest.mark.parametrize(
    "ref",
    [
        {"filename": "nope.png", "type": "input"},
        {"filename": "../x.png", "type": "input"},
        {"filename": "photo.png", "type": "bogus"},
    ],
    ids=["missing-original", "dot-dot", "unknown-type"],
)
def test_upload_mask_with_a_bad_reference_answers_200_and_writes_nothing(
    comfyui_api: httpx.Client, ref: dict[str, str]
) -> None:
    """image_save_function's own 400/403 responses are discarded by image_upload, which
    answers 200 although nothing was written (v0.3.77)."""
    mask = png(Image.new("RGBA", (6, 4)))
    data = {"original_ref": json.dumps(ref)}
    r = comfyui_api.post("/upload/mask", files={"image": ("k.png", mask)}, data=data)
    assert r.json() == {"name": "k.png", "subfolder": "", "type": "input"}
    assert (
        comfyui_api.get("/view", params={"filename": "k.png", "type": "input"}).status_code == 404
    )


def test_upload_mask_that_raises_is_500(comfyui_api: httpx.Client) -> None:
    """json.loads(None) without original_ref, and putalpha of another size, raise."""
    upload(comfyui_api, "photo.png", Image.new("RGB", (6, 4)))
    small = png(Image.new("RGBA", (2, 2)))
    ref = json.dumps({"filename": "photo.png", "type": "input"})
    for data in ({}, {"original_ref": ref}):
        r = comfyui_api.post("/upload/mask", files={"image": ("z.png", small)}, data=data)
        assert (r.status_code, r.text) == (500, SERVER_ERROR)
