"""Articles in a shared git repository, on one node: each save is a commit by the expert,
pushed; pushes from outside the portal are pulled and recorded; a remote that moves or is
away loses nothing. (Two real nodes: test_two_nodes.py.)"""

from __future__ import annotations

import shutil
import textwrap
from urllib.parse import quote

import pytest

from portal import knowledge_sync
from portal.authoring import store

from .conftest import write_site
from .editing import expert_client
from .editing import read_form
from .editing import revisions
from .editing import submit
from .gitsync import Writer
from .gitsync import git
from .gitsync import push_hook
from .gitsync import remote_file
from .gitsync import remote_log
from .gitsync import seeded_remote
from .servers import wait_until

ARTICLE = "internet/nastrojka-wi-fi"
OTHER = "account/sbros-parolya"


@pytest.fixture
def remote(tmp_path):
    return seeded_remote(tmp_path / "remote.git", write_site(tmp_path / "seed"))


@pytest.fixture
def node(make_app, tmp_path, remote):
    """A portal whose articles folder is a clone of `remote` (made at start-up)."""
    return make_app(tmp_path / "node" / "articles", INDEX_DIR=str(tmp_path / "node" / "index"),
                    ARTICLES_REMOTE=str(remote), ARTICLES_POLL_SECONDS=0.2)


def finds(client, words: str) -> list[str]:
    answer = client.get("/api/v1/search?exact=1&q=" + quote(words)).get_json()
    return [hit["id"] for hit in answer["hits"]]


def wi_fi_text(extra: str) -> str:
    return textwrap.dedent(f"""\
        ---
        title: Настройка Wi-Fi на роутере
        lang: ru
        ---
        ## Смена пароля Wi-Fi

        {extra}
        """)


def test_without_a_remote_the_folder_is_not_a_repository(app, articles_dir):
    client = expert_client(app)
    assert submit(client, f"/expert/articles/{ARTICLE}/edit", "publish",
                  keywords="кварц").status_code == 303
    assert not (articles_dir / ".git").exists()


def test_the_folder_is_cloned_at_start_and_a_publish_is_a_commit_by_the_expert(node,
                                                                               remote):
    root = node.config["ARTICLES_DIR"]
    assert (remote.parent / "node" / "articles" / ".git").is_dir()
    client = expert_client(node, "maria@example.com", "Мария Экспертова")
    assert finds(client, "квазирадиомост") == []
    response = submit(client, f"/expert/articles/{ARTICLE}/edit", "publish",
                      keywords="квазирадиомост", message="Новое слово")
    assert response.status_code == 303
    assert remote_log(remote)[0] == ("Мария Экспертова", "maria@example.com",
                                     f"Publish {ARTICLE}")
    assert "квазирадиомост" in remote_file(remote, f"{ARTICLE}.md")
    body = git(remote, "log", "-1", "--format=%b", "main")
    assert "Новое слово" in body
    assert finds(client, "квазирадиомост") == [ARTICLE]
    # One commit per save: a draft of a new article, then a restore of the first revision.
    assert submit(client, "/expert/articles/new", "save_draft", title="Черновик о роутере",
                  category="internet", slug="chernovik-routera", lang="ru",
                  audience="public", body="Текст.").status_code == 303
    assert remote_log(remote)[0][2] == "Save draft internet/chernovik-routera"
    first = revisions(node, ARTICLE)[0]
    page = client.get(f"/expert/articles/{ARTICLE}/revisions/{first.number}").get_data(
        as_text=True)
    form = read_form(page, "restore-form")
    assert client.post(form.action, data=form.fields).status_code == 303
    assert remote_log(remote)[0][2] == f"Restore revision {first.number} of {ARTICLE}"
    assert git(root, "status", "--porcelain") == ""  # nothing left uncommitted


def test_moving_an_article_is_one_commit_that_removes_the_old_file(node, remote):
    client = expert_client(node)
    assert submit(client, f"/expert/articles/{ARTICLE}/edit", "publish",
                  slug="wi-fi").status_code == 303
    assert remote_log(remote)[0][2] == f"Publish internet/wi-fi (moved from {ARTICLE})"
    files = git(remote, "ls-tree", "-r", "--name-only", "main").split()
    assert "internet/wi-fi.md" in files and f"{ARTICLE}.md" not in files


def test_a_push_from_outside_the_portal_is_pulled_indexed_and_recorded(node, remote,
                                                                       tmp_path):
    client = expert_client(node)
    client.get("/")  # the first request starts the node's follower
    writer = Writer(remote, tmp_path / "writer")
    writer.change(f"{ARTICLE}.md", wi_fi_text("Слово техписателя: гиперпараболоид."),
                  "Explain the router's page")
    assert wait_until(lambda: finds(client, "гиперпараболоид") == [ARTICLE], timeout=10)
    last = revisions(node, ARTICLE)[-1]
    assert last.source == "disk" and last.author_name is None  # "changed outside the portal"
    assert "Explain the router's page" in last.message and "Техписатель Ольга" in last.message
    history = client.get(f"/expert/articles/{ARTICLE}/history").get_data(as_text=True)
    assert "Explain the router" in history
    assert "differs from the newest revision" not in history


def test_a_push_rejected_because_the_remote_moved_is_replayed_and_both_land(node, remote,
                                                                            tmp_path):
    client = expert_client(node)
    writer = Writer(remote, tmp_path / "writer")
    # Between the portal's fetch and its push, someone pushes another article.
    push_hook(node.config["ARTICLES_DIR"] and tmp_path / "node" / "articles", textwrap.dedent(f"""
        import os, pathlib, subprocess
        flag = pathlib.Path({str(tmp_path / "moved")!r})
        if not flag.exists():
            flag.write_text("1")
            env = {{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}}
            work = {str(writer.path)!r}
            pathlib.Path(work, "account", "novaya.md").write_text(
                "---\\ntitle: Новая статья техписателя\\nlang: ru\\n---\\nТекст про ферросплав.\\n")
            for args in (["add", "--all"], ["commit", "-qm", "Add an article"],
                         ["push", "-q", "origin", "main"]):
                subprocess.run(["git", *args], cwd=work, env=env, check=True)
    """))
    response = submit(client, f"/expert/articles/{ARTICLE}/edit", "publish",
                      keywords="квазирадиомост")
    assert response.status_code == 303
    subjects = [subject for _name, _mail, subject in remote_log(remote)]
    assert subjects[:2] == [f"Publish {ARTICLE}", "Add an article"]
    assert finds(client, "ферросплав") == ["account/novaya"]  # theirs, pulled on the way
    assert finds(client, "квазирадиомост") == [ARTICLE]


def test_the_same_article_pushed_from_outside_meanwhile_is_the_editors_conflict(node, remote,
                                                                               tmp_path):
    client = expert_client(node)
    writer = Writer(remote, tmp_path / "writer")
    push_hook(tmp_path / "node" / "articles", textwrap.dedent(f"""
        import os, pathlib, subprocess
        flag = pathlib.Path({str(tmp_path / "moved")!r})
        if not flag.exists():
            flag.write_text("1")
            env = {{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}}
            work = {str(writer.path)!r}
            pathlib.Path(work, {ARTICLE + ".md"!r}).write_text({wi_fi_text("Их версия.")!r})
            for args in (["add", "--all"], ["commit", "-qm", "Their version"],
                         ["push", "-q", "origin", "main"]):
                subprocess.run(["git", *args], cwd=work, env=env, check=True)
    """))
    response = submit(client, f"/expert/articles/{ARTICLE}/edit", "publish",
                      keywords="квазирадиомост")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "квазирадиомост" in read_form(page).fields["keywords"]  # the expert's text kept
    assert "Их версия." in remote_file(remote, f"{ARTICLE}.md")
    assert [s for _n, _m, s in remote_log(remote)][0] == "Their version"
    assert "Их версия." in (tmp_path / "node" / "articles" / f"{ARTICLE}.md").read_text()
    # Saving again is then the deliberate overwrite it is within one node.
    form = read_form(page)
    again = client.post(form.action, data={**form.fields, "publish": form.buttons["publish"]})
    assert again.status_code == 303
    assert [s for _n, _m, s in remote_log(remote)][0] == f"Publish {ARTICLE}"


def test_an_unreachable_remote_keeps_the_save_tells_the_expert_and_sends_it_later(node,
                                                                                  remote,
                                                                                  tmp_path):
    client = expert_client(node)
    client.set_cookie("ui_lang", "en")
    away = tmp_path / "away.git"
    shutil.move(remote, away)
    response = submit(client, f"/expert/articles/{ARTICLE}/edit", "publish",
                      keywords="квазирадиомост")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "shared articles repository cannot be reached: 1 save waits" in page
    assert finds(client, "квазирадиомост") == [ARTICLE]  # kept and live on this node
    assert revisions(node, ARTICLE)[-1].state == "applied"
    shutil.move(away, remote)
    client.get("/")  # the follower starts; it retries every few seconds
    assert wait_until(lambda: remote_log(remote)[0][2] == f"Publish {ARTICLE}", timeout=15)
    folder = knowledge_sync.shared_folder(node)
    assert folder is not None
    # git updates the remote before its own record of it: the count falls just after
    assert wait_until(lambda: folder.waiting() == 0, timeout=5)


def test_a_save_cut_short_before_its_commit_is_committed_as_its_expert_at_restart(
        node, remote, make_app, tmp_path):
    """A node killed between writing the file and committing it: the next catch-up (at
    start-up, or the next save) commits the file as the expert who saved it."""
    from portal.web.knowledge import current_index

    client = expert_client(node, "maria@example.com", "Мария Экспертова")
    root = tmp_path / "node" / "articles"
    with node.app_context():
        index = current_index()
        current = store.snapshot(root, ARTICLE)
        # The save as far as the file and its revision: what a kill before `git commit`
        # leaves (the portal's own steps 1-4, without the commit).
        knowledge = knowledge_sync.shared_folder(node)
        assert knowledge is not None
        from portal.authoring import publishing

        publishing.register(root, None)
        store.save(index, ARTICLE, current.text.replace("192.168.0.1", "192.168.1.1"),
                   base=current.hash, author=_user(node, "maria@example.com"),
                   message="cut short")
        publishing.register(root, knowledge)
    assert git(root, "status", "--porcelain").strip() == f"M {ARTICLE}.md"
    assert client.get("/").status_code == 200  # the follower's first round
    assert wait_until(lambda: remote_log(remote)[0][2] == f"Publish {ARTICLE}", timeout=10)
    assert remote_log(remote)[0][:2] == ("Мария Экспертова", "maria@example.com")
    assert "192.168.1.1" in remote_file(remote, f"{ARTICLE}.md")
    assert git(root, "status", "--porcelain") == ""


def _user(app, email: str):
    from portal import staff

    return staff.find_user(email)


def test_synonyms_saved_in_the_console_are_a_commit_and_searched_on_the_remote(node, remote):
    from portal.authoring import terms
    from portal.web.knowledge import current_index

    with node.app_context():
        index = current_index()
        root = index.articles_dir
        version = terms.read_synonyms(root).version
        terms.save_synonyms(root, index, "роутер, маршрутизатор, router\nвайфай, wi-fi",
                            version)
    assert remote_log(remote)[0][2] == "Update _synonyms.yml"
    assert "вайфай" in remote_file(remote, "_synonyms.yml")


def test_an_author_name_with_angle_brackets_and_line_breaks_makes_a_clean_commit(tmp_path):
    from portal.knowledge_sync.git import Git
    from portal.knowledge_sync.git import Identity

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "a.md").write_text("x\n")
    who = Identity.of("Ева <evil@example.com>\nSigned-off-by: Mallory", "eva@example.com>\n")
    assert Git(repo).commit(["a.md"], who, "Publish a\n")
    name, mail, _subject = git(repo, "log", "-1", "--format=%an%x00%ae%x00%s").strip().split(
        "\0")
    assert name == "Ева evil@example.com Signed-off-by: Mallory"
    assert mail == "eva@example.com"
    assert "Signed-off-by" not in git(repo, "log", "-1", "--format=%b")


def test_a_save_cut_short_on_one_node_is_left_to_it_by_the_other_and_finished_there(
        make_app, remote, tmp_path, monkeypatch):
    from portal.web.knowledge import current_index

    a, b = (make_app(tmp_path / name / "articles", INDEX_DIR=str(tmp_path / name / "index"),
                     ARTICLES_REMOTE=str(remote)) for name in ("a", "b"))
    expert_client(a, "maria@example.com", "Мария Экспертова")
    with a.app_context():
        index = current_index()
        current = store.snapshot(index.articles_dir, ARTICLE)

        def killed(*args, **kwargs):
            raise SystemExit("killed between the file and the index")

        monkeypatch.setattr(index, "replace_article", killed)
        with pytest.raises(SystemExit):
            store.save(index, ARTICLE, current.text.replace("192.168.0.1", "192.168.1.1"),
                       base=current.hash, author=_user(a, "maria@example.com"),
                       message="cut short")
        monkeypatch.undo()
    assert [r.state for r in revisions(a, ARTICLE)] == ["applied", "pending"]
    with b.app_context():  # the other node starts, finishes what it can: not A's save
        store.recover(current_index())
    assert [r.state for r in revisions(a, ARTICLE)] == ["applied", "pending"]
    with a.app_context():  # node A starts again
        store.recover(current_index())
    rows = revisions(a, ARTICLE)
    assert [(r.state, r.message) for r in rows] == [("applied", ""), ("applied", "cut short")]
    assert remote_log(remote)[0] == ("Мария Экспертова", "maria@example.com",
                                     f"Publish {ARTICLE}")
    with b.app_context():
        store.recover(current_index())  # B's next round pulls it
    assert "192.168.1.1" in (tmp_path / "b" / "articles" / f"{ARTICLE}.md").read_text()


def test_an_image_goes_to_the_remote_with_the_save_of_its_article(node, remote):
    import io

    from PIL import Image

    from .helpers import csrf_token

    client = expert_client(node)
    picture = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 120, 200)).save(picture, format="PNG")
    page = client.get(f"/expert/articles/{ARTICLE}/edit").get_data(as_text=True)
    stored = client.post("/expert/images", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "article_id": ARTICLE,
        "image": (io.BytesIO(picture.getvalue()), "router.png", "image/png")})
    assert stored.status_code == 201
    markdown = stored.get_json()["markdown"]
    editor = client.get(f"/expert/articles/{ARTICLE}/edit").get_data(as_text=True)
    body = read_form(editor).fields["body"] + "\n\n" + markdown
    assert submit(client, f"/expert/articles/{ARTICLE}/edit", "publish",
                  body=body).status_code == 303
    image = stored.get_json()["src"].split("/", 1)[1]
    # In the expert's own commit, not left for a later catch-up to send as the portal's.
    publish = git(remote, "log", "-1", "--format=%an|%s", "--name-only", "main").split()
    assert publish[0].startswith("Эксперт|Publish")
    assert f"internet/nastrojka-wi-fi.assets/{image}" in publish
    assert markdown.split("(")[1].rstrip(")") in remote_file(remote, f"{ARTICLE}.md")
