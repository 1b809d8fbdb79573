"""Images pasted or uploaded into an article: checked by their content, written again,
stored beside the article, served safely, and shown on the published page."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from .editing import expert_client
from .editing import new_article
from .editing import read_form
from .helpers import csrf_token

ARTICLE = "internet/nastrojka-wi-fi"


def picture(kind: str = "PNG", size: tuple[int, int] = (40, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind, **save)
    return out.getvalue()


@pytest.fixture
def expert(app):
    client = expert_client(app)
    client.set_cookie("ui_lang", "en")
    return client


def upload(client, data: bytes, name: str = "router.png", content_type: str = "image/png",
           **fields):
    page = client.get(f"/expert/articles/{ARTICLE}/edit").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "article_id": ARTICLE, **fields,
            "image": (io.BytesIO(data), name, content_type)}
    return client.post("/expert/images", data=form, content_type="multipart/form-data")


def fetch(client, url: str):
    """GET `url`; its status, headers and body (the file it streams closed)."""
    response = client.get(url)
    try:
        return response.status_code, response.headers, response.get_data()
    finally:
        response.close()


def stored_images(articles_dir) -> list:
    return sorted(p for p in articles_dir.rglob("*.assets/*") if p.is_file())


@pytest.mark.parametrize("kind, extension, content_type", [
    ("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("GIF", "gif", "image/gif"),
    ("WEBP", "webp", "image/webp")])
def test_an_image_is_stored_beside_the_article_and_served_safely(app, expert, articles_dir,
                                                                 kind, extension,
                                                                 content_type):
    response = upload(expert, picture(kind), name=f"Схема роутера.{extension}",
                      content_type="application/octet-stream")  # the browser's word is ignored
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert re.fullmatch(rf"!\[Схема роутера\]\(nastrojka-wi-fi\.assets/[0-9a-f]{{24}}\."
                        rf"{extension}\)", answer["markdown"])
    [path] = stored_images(articles_dir)
    assert path.parent == articles_dir / "internet" / "nastrojka-wi-fi.assets"
    status, headers, data = fetch(app.test_client(), answer["url"])  # public: anyone sees it
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert Image.open(io.BytesIO(data)).format == kind


def test_a_published_article_shows_its_image(app, expert, articles_dir):
    answer = upload(expert, picture()).get_json()
    page = expert.get(f"/expert/articles/{ARTICLE}/edit").get_data(as_text=True)
    form = read_form(page)
    body = form.fields["body"] + "\n\n" + answer["markdown"] + "\n"
    preview = expert.post("/expert/preview", data={**form.fields, "body": body}).get_json()
    assert f'<img alt="router" src="{answer["url"]}"' in preview["html"]
    saved = expert.post(form.action, data={**form.fields, "body": body,
                                           "publish": form.buttons["publish"]})
    assert saved.status_code == 303
    article = app.test_client().get(f"/kb/{ARTICLE}").get_data(as_text=True)
    assert f'<img alt="router" src="{answer["url"]}"' in article
    on_disk = (articles_dir / f"{ARTICLE}.md").read_text("utf-8")
    assert answer["markdown"] in on_disk   # the file links the image relatively


def test_a_new_articles_image_goes_where_the_article_will_be(app, expert, articles_dir):
    page = expert.get("/expert/articles/new").get_data(as_text=True)
    response = expert.post("/expert/images", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "category": "internet", "slug": "", "title": "Новый "
        "роутер", "image": (io.BytesIO(picture()), "image.png", "image/png")})
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["article_id"] == "internet/novyj-router"
    assert answer["markdown"].startswith("![Picture](novyj-router.assets/")
    # Before the article exists, only staff see its images.
    assert fetch(app.test_client(), answer["url"])[0] == 404
    assert fetch(expert, answer["url"])[0] == 200
    saved = new_article(expert, "Новый роутер", answer["markdown"] + "\n")
    assert saved.status_code == 303
    assert fetch(app.test_client(), answer["url"])[0] == 200


def test_images_of_drafts_and_internal_articles_are_for_staff_only(app, expert):
    for article_id in ("account/chernovik", "account/vnutrennyaya-instrukciya"):
        page = expert.get(f"/expert/articles/{article_id}/edit").get_data(as_text=True)
        answer = expert.post("/expert/images", content_type="multipart/form-data", data={
            "csrf_token": csrf_token(page), "article_id": article_id,
            "image": (io.BytesIO(picture()), "x.png", "image/png")}).get_json()
        assert fetch(app.test_client(), answer["url"])[0] == 404, article_id
        assert fetch(expert, answer["url"])[0] == 200


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
       b'<script>alert(document.cookie)</script></svg>')


@pytest.mark.parametrize("data, name, code, status", [
    (SVG, "logo.svg", "not_image", 400),
    (SVG, "logo.png", "not_image", 400),                               # a lying name
    (b"<html><script>alert(1)</script></html>", "x.png", "not_image", 400),
    (b"GIF89a<script>alert(1)</script>", "x.gif", "polyglot", 400),
    (picture() + b"<script>alert(1)</script>", "x.png", "polyglot", 400),  # PNG + page
    (picture("JPEG") + b"PK\x03\x04" + b"\0" * 64, "x.jpg", "polyglot", 400),  # JPEG + zip
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "x.png", "broken", 400),        # a PNG in name only
    (b"", "x.png", "empty", 400),
    (b"%PDF-1.7\n", "x.pdf", "not_image", 400),
    (picture(size=(8000, 6000)), "huge.png", "too_many_pixels", 400),   # a small file, huge
])
def test_what_is_not_a_plain_image_is_refused_and_nothing_is_stored(expert, articles_dir,
                                                                    data, name, code, status):
    response = upload(expert, data, name=name)
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert answer["error"] == code and answer["message"]
    assert "<script" not in answer["message"]
    assert stored_images(articles_dir) == []


def test_a_too_large_upload_is_refused_with_a_clear_413(make_app, articles_dir):
    app = make_app(articles_dir, EDITOR_IMAGE_MAX_BYTES=20_000)
    client = expert_client(app)
    client.set_cookie("ui_lang", "en")
    big = picture("BMP", size=(200, 200))     # not an image we take, but bigger first
    for data in (big, picture(size=(120, 120), compress_level=0),
                 b"\x89PNG\r\n\x1a\n" + b"\0" * 200_000):   # far above the request limit too
        response = upload(client, data)
        assert response.status_code == 413
        assert response.get_json()["error"] == "too_large"
        assert "larger than" in response.get_json()["message"]
        response.close()
    assert stored_images(articles_dir) == []


@pytest.mark.parametrize("fields", [
    {"article_id": "../../etc"}, {"article_id": "nope/missing"},
    {"article_id": "", "category": "../x", "title": "x"}, {"article_id": "", "category": ""},
])
def test_an_image_needs_an_article_to_go_beside(expert, articles_dir, fields):
    response = upload(expert, picture(), **fields)
    assert response.status_code == 400 and response.get_json()["error"] == "no_article"
    assert stored_images(articles_dir) == []


def test_uploading_needs_an_expert_and_a_fresh_form(app, expert, articles_dir):
    stale = expert.post("/expert/images", content_type="multipart/form-data", data={
        "csrf_token": "stale", "article_id": ARTICLE,
        "image": (io.BytesIO(picture()), "x.png", "image/png")})
    assert stale.status_code == 400 and stale.get_json()["error"] == "csrf"
    assert app.test_client().post("/expert/images").status_code in (302, 303, 401)
    assert stored_images(articles_dir) == []


@pytest.mark.parametrize("path", [
    "/media/internet/nastrojka-wi-fi.assets/../../../portal.sqlite3",
    "/media/internet/nastrojka-wi-fi.md", "/media/internet/nastrojka-wi-fi.assets/x.svg",
    "/media/internet/nastrojka-wi-fi.assets/" + "0" * 24 + ".png",
    "/media/" + "a/" * 400 + "b.assets/" + "0" * 24 + ".png",
])
def test_only_stored_images_are_served(app, path):
    assert app.test_client().get(path).status_code == 404


def test_moving_an_article_takes_its_images_along(app, expert, articles_dir):
    answer = upload(expert, picture()).get_json()
    url = f"/expert/articles/{ARTICLE}/edit"
    form = read_form(expert.get(url).get_data(as_text=True))
    body = form.fields["body"] + "\n\n" + answer["markdown"] + "\n"
    assert expert.post(form.action, data={**form.fields, "body": body,
                                          "publish": form.buttons["publish"]}).status_code == 303
    form = read_form(expert.get(url).get_data(as_text=True))
    moved = expert.post(form.action, data={**form.fields, "category": "account",
                                           "slug": "wi-fi-parol",
                                           "publish": form.buttons["publish"]})
    assert moved.status_code == 303, moved.get_data(as_text=True)[:300]
    text = (articles_dir / "account/wi-fi-parol.md").read_text("utf-8")
    assert "](wi-fi-parol.assets/" in text and "nastrojka-wi-fi.assets" not in text
    assert not (articles_dir / "internet/nastrojka-wi-fi.assets").exists()
    page = app.test_client().get("/kb/account/wi-fi-parol").get_data(as_text=True)
    src = re.search(r'<img alt="router" src="([^"]+)"', page).group(1)
    assert src.startswith("/media/account/wi-fi-parol.assets/")
    assert fetch(app.test_client(), src)[0] == 200
