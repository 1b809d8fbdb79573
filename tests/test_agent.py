"""The agent console: the queue with its response clocks, the ticket page with the customer's
trail, and what an agent does with a ticket (take, reply, escalate, link, resolve, flag)."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from portal import outbox
from portal import tracking
from portal.extensions import db
from portal.models import ArticleFlag
from portal.models import ArticleRequest
from portal.models import StaffUser
from portal.models import Ticket

from .conftest import database_urls
from .helpers import csrf_token
from .helpers import result_links
from .staff import AGENT
from .staff import act
from .staff import agent
from .staff import file_ticket
from .staff import token

COLLEAGUE = "Борис Орлов"
INTERNAL = "account/vnutrennyaya-instrukciya"


@pytest.fixture
def site(make_app, articles_dir):
    """Open round the clock, so a response target is a fixed number of minutes away."""
    return make_app(articles_dir, SUPPORT_HOURS="24/7", RATELIMIT_ENABLED=False)


def staff_id(app, email: str = "anna@example.com") -> int:
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))


def ticket_page(client, number: str, **query) -> str:
    response = client.get(f"/agent/tickets/{number}", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, title_id: str) -> str:
    """The part of a page under the heading with id `title_id`."""
    start = page.index(f'aria-labelledby="{title_id}"')
    return page[start:page.index("</section>", start)]


def stored(app, number: str) -> Ticket:
    with app.app_context():
        found = db.session.scalar(select(Ticket).where(Ticket.number == number).options(
            selectinload(Ticket.messages), selectinload(Ticket.events),
            selectinload(Ticket.links), selectinload(Ticket.assignee)))
        db.session.expunge_all()
        return found


def history(page: str) -> list[str]:
    """The ticket page's history entries as text: "who: what"."""
    entries = re.findall(r"<li><span class=\"trail-time\">[^<]*</span> · (.*?)(?:\n|</li>)",
                         section(page, "history-title"))
    return [html.unescape(entry).strip() for entry in entries]


def queue_numbers(client, **query) -> list[str]:
    """The ticket numbers in the queue table, top to bottom."""
    response = client.get("/agent/", query_string=query)
    assert response.status_code == 200, query
    page = response.get_data(as_text=True)
    if 'class="staff-table queue"' not in page:
        return []
    table = page[page.index('class="staff-table queue"'):page.index("</table>")]
    return re.findall(r'href="/agent/tickets/([A-Z]+-\d+)"', table)


def queue_row(client, number: str) -> str:
    page = client.get("/agent/").get_data(as_text=True)
    start = page.index(f'href="/agent/tickets/{number}"', page.index("<tbody>"))
    return page[start:page.index("</tr>", start)]


def move_clock_back(app, number: str, minutes: int) -> None:
    """As if the ticket came in `minutes` earlier (its response target with it)."""
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        shift = dt.timedelta(minutes=minutes)
        db.session.execute(update(Ticket).where(Ticket.id == ticket.id).values(
            created_at=ticket.created_at - shift, awaiting_since=ticket.awaiting_since - shift,
            response_due_at=ticket.response_due_at - shift))
        db.session.commit()


# --- The queue ---------------------------------------------------------------------------


def test_a_new_ticket_waits_in_the_queue_with_its_response_clock(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    assert queue_numbers(anna) == [number]
    row = queue_row(anna, number)
    assert "Роутер мигает красным" in row and "Ирина Петрова" in row
    assert re.search(r'<span class="clock" title="[^"]+">1[45] min left</span>', row)
    assert 'aria-label="Take ' + number + '"' in row
    page = ticket_page(anna, number)
    assert re.search(r"Response target: 1[45] min left", page)


def test_an_overdue_ticket_says_so_and_comes_first(site):
    fresh, _link = file_ticket(site, subject="Не работает телевидение")
    late, _link = file_ticket(site, subject="Роутер мигает красным")
    move_clock_back(site, late, 40)
    anna = agent(site)
    assert queue_numbers(anna) == [late, fresh]
    assert re.search(r'<span class="clock overdue"[^>]*>overdue by 2[45] min</span>',
                     queue_row(anna, late))
    assert "min left" in queue_row(anna, fresh)
    assert re.search(r'class="clock overdue">Response target: overdue by 2[45] min',
                     ticket_page(anna, late))


@pytest.fixture
def busy_queue(site):
    """Six tickets: Anna's, Boris's, an unassigned one, one waiting for the customer, one on
    line 2 and a closed one."""
    anna = agent(site)
    boris = agent(site, COLLEAGUE, "boris@example.com")
    numbers = {}
    for key, subject, extra in [
            ("anna", "Роутер мигает красным", {}),
            ("boris", "Не могу сбросить пароль", {"category": "account", "urgency": "high"}),
            ("unassigned", "Медленный Wi-Fi вечером", {}),
            ("waiting", "Нет интернета после оплаты", {}),
            ("line2", "Ошибка 651 при подключении", {}),
            ("closed", "Спасибо, всё заработало", {})]:
        numbers[key], _link = file_ticket(site, subject=subject, **extra)
    assert act(anna, numbers["anna"], "take").status_code == 303
    assert act(boris, numbers["boris"], "take").status_code == 303
    assert act(anna, numbers["waiting"], "status", status="waiting").status_code == 303
    assert act(anna, numbers["line2"], "escalate", line="2",
               note="Кабель проверен, нужен инженер").status_code == 303
    assert act(anna, numbers["closed"], "status", status="closed").status_code == 303
    return anna, numbers


def test_views_and_filters_show_the_right_tickets(site, busy_queue):
    anna, numbers = busy_queue
    boris_id = staff_id(site, "boris@example.com")
    expected = [
        ({}, ["anna", "boris", "unassigned", "waiting", "line2"]),
        ({"view": "mine"}, ["anna"]),
        ({"view": "unassigned"}, ["unassigned", "waiting", "line2"]),
        ({"view": "waiting"}, ["waiting"]),
        ({"view": "all"}, ["anna", "boris", "unassigned", "waiting", "line2", "closed"]),
        ({"status": "closed"}, ["closed"]),
        ({"status": "open"}, ["anna", "boris"]),
        ({"line": "2"}, ["line2"]),
        ({"line": "1"}, ["anna", "boris", "unassigned", "waiting"]),
        ({"priority": "high"}, ["boris"]),
        ({"category": "account"}, ["boris"]),
        ({"assignee": str(boris_id)}, ["boris"]),
        ({"assignee": "none"}, ["unassigned", "waiting", "line2"]),
        ({"view": "mine", "status": "waiting"}, []),
    ]
    for query, keys in expected:
        assert sorted(queue_numbers(anna, **query)) == sorted(numbers[k] for k in keys), query
    internet = queue_numbers(anna, category="internet")
    assert numbers["anna"] in internet and numbers["boris"] not in internet


def test_possible_mass_incidents_come_first_and_in_their_own_box(make_app, articles_dir):
    app = make_app(articles_dir, SUPPORT_HOURS="24/7", RATELIMIT_ENABLED=False,
                   SURGE_TICKETS=3)
    single, _link = file_ticket(app, subject="Не могу сбросить пароль")
    move_clock_back(app, single, 5)  # its response is due soonest
    surge = [file_ticket(app, subject=subject, email=f"c{n}@example.com")[0]
             for n, subject in enumerate(["Нет интернета с утра", "Пропал интернет с утра",
                                          "С утра нет интернета"])]
    anna = agent(app)
    order = queue_numbers(anna)
    assert sorted(order[:3]) == sorted(surge) and order[3] == single
    page = anna.get("/agent/").get_data(as_text=True)
    box = section(page, "incidents-title")
    assert "Possible mass incidents" in box
    assert all(number in box for number in surge) and single not in box
    assert page.index("incidents-title") < page.index('class="staff-table queue"')
    assert page.count("mass incident?") == 3


def test_odd_filter_values_are_a_clear_400(site):
    anna = agent(site)
    for query in ({"view": "everything"}, {"status": "deleted"}, {"line": "5"},
                  {"line": "1; DROP"}, {"priority": "panic"}, {"category": "../etc"},
                  {"assignee": "999"}, {"assignee": "' OR 1=1"}, {"page": "-1"},
                  {"page": "x" * 300}):
        response = anna.get("/agent/", query_string=query)
        assert response.status_code == 400, query
        assert f"“{next(iter(query))}”" in response.get_data(as_text=True), query


def test_taking_a_ticket_makes_it_yours(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    response = act(anna, number, "take")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == f"/agent/tickets/{number}"
    assert f"<td>{AGENT}</td>" in queue_row(anna, number)
    assert queue_numbers(anna, view="mine") == [number]
    assert queue_numbers(anna, view="unassigned") == []
    page = ticket_page(anna, number)
    assert f"Assignee: <strong>{AGENT}</strong>" in page
    assert "Put back in the queue" in page and "Take it" not in page
    assert history(page)[-1] == f"{AGENT}: Assigned to {AGENT}."
    ticket = stored(site, number)
    assert (ticket.status, ticket.assignee_id) == ("open", staff_id(site))

    boris = agent(site, COLLEAGUE, "boris@example.com")
    act(boris, number, "take")  # a colleague takes it over
    assert stored(site, number).assignee.name == COLLEAGUE
    assert history(ticket_page(anna, number))[-1] == f"{COLLEAGUE}: Assigned to {COLLEAGUE}."
    act(boris, number, "release")
    assert stored(site, number).assignee_id is None
    assert history(ticket_page(anna, number))[-1] == f"{COLLEAGUE}: Put back in the queue."


# --- The ticket page ---------------------------------------------------------------------


def test_the_ticket_page_shows_what_the_customer_wrote(site):
    number, _link = file_ticket(site, name="Пётр <Иванов>", email="petr@example.com",
                                category="internet", version="FW 2.1.7", os="Windows 11",
                                occurred_at="2025-03-01T08:30", error_text="Ошибка 651",
                                description="Мигает красным с утра.\nПерезагрузка не помогла.")
    page = ticket_page(agent(site), number)
    facts = section(page, "facts-title")
    assert "Пётр &lt;Иванов&gt;" in facts and "<Иванов>" not in facts
    assert '<a href="mailto:petr@example.com">petr@example.com</a>' in facts
    for shown in ("FW 2.1.7", "Windows 11", "Ошибка 651", "Перезагрузка не помогла.",
                  "1 March 2025"):
        assert shown in facts
    assert (f'<h1><span class="ticket-number">{number}</span> · Роутер мигает красным</h1>'
            in page)
    assert '<span class="badge status-new">new</span>' in page
    # The category by its title in the reader's language, never its folder name.
    assert "<dd>Internet and Wi-Fi" in facts and "<dd>internet" not in facts


def test_the_trail_shows_what_the_customer_searched_and_read(site):
    customer = site.test_client()
    customer.get("/search?q=телепорт в квартиру")                    # nothing found
    results = customer.get("/search?q=роутер").get_data(as_text=True)
    opened = result_links(results)[0]
    article_page = customer.get(opened).get_data(as_text=True)
    article_url = opened.split("?")[0]
    view = re.search(r'data-view="([\w-]+)"', article_page).group(1)
    customer.post(article_url + "/read", data={"view": view, "ms": "95000"})
    customer.post(article_url + "/feedback", data={"csrf_token": csrf_token(article_page),
                                                   "no": "1", "reason": "not_solved"})
    number, _link = file_ticket(site, customer)

    page = ticket_page(agent(site), number)
    trail = section(page, "trail-title")
    nothing, voted_no = re.findall(r'<li class="trail-search failed">(.*?)</li>', trail, re.S)
    assert "«<span class=\"trail-query\">телепорт в квартиру</span>»" in nothing
    assert "0 results" in nothing
    assert '<strong class="trail-failure">nothing found</strong>' in nothing
    assert "«<span class=\"trail-query\">роутер</span>»" in voted_no
    assert '<strong class="trail-failure">the article did not help</strong>' in voted_no
    assert "(#1)" in voted_no
    read = re.search(r'<li class="trail-read">(.*?)</li>', trail, re.S).group(1)
    assert f'href="{article_url}"' in read
    assert "95 seconds" in read and "from the search results" in read
    assert "voted: did not help" in read and "not_solved" in read
    assert trail.index("телепорт") < trail.index("trail-read")

    suggested = section(page, "suggested-title")
    item = suggested[suggested.index(f'href="{article_url}"'):]
    assert item[:item.index("</li>")].count("the customer read it · did not help") == 1


def test_a_ticket_without_a_trail_says_so(site):
    number, _link = file_ticket(site)
    trail = section(ticket_page(agent(site), number), "trail-title")
    assert "did not search or read anything" in trail


def test_similar_earlier_tickets_show_how_they_were_solved(site):
    earlier, _link = file_ticket(site, subject="Нет интернета с утра")
    file_ticket(site, subject="Не могу сбросить пароль")
    later, _link = file_ticket(site, subject="Пропал интернет с утра")
    anna = agent(site)
    act(anna, earlier, "resolve", outcome="article", article="internet/net-interneta")
    similar = section(ticket_page(anna, later), "similar-title")
    assert f'href="/agent/tickets/{earlier}"' in similar and "Нет интернета с утра" in similar
    assert "пароль" not in similar
    assert "solved by" in similar and "Нет интернета — что проверить" in similar
    # Only earlier tickets count: the later one is not offered on the earlier one's page.
    assert "None found." in section(ticket_page(anna, earlier), "similar-title")


def test_suggested_articles_match_the_ticket(site):
    number, _link = file_ticket(site, subject="Как сбросить пароль от кабинета",
                                description="Забыл пароль, не могу войти.")
    suggested = section(ticket_page(agent(site), number), "suggested-title")
    assert 'href="/kb/account/sbros-parolya"' in suggested
    assert suggested.index("sbros-parolya") < suggested.index("</li>")  # the first one
    assert "Insert link" in suggested


def test_the_kb_search_finds_internal_articles_for_staff_only(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    kb = section(ticket_page(anna, number, kb="секретная инструкция"), "kb-title")
    assert f'href="/kb/{INTERNAL}"' in kb
    item = kb[kb.index(f'href="/kb/{INTERNAL}"'):]
    item = item[:item.index("</li>")]
    assert '<span class="badge">internal</span>' in item
    assert "Insert link" not in item  # customers could not open it

    data = anna.get("/agent/kb", query_string={"q": "секретная инструкция"}).get_json()
    [hit] = [h for h in data["hits"] if h["id"] == INTERNAL]
    assert hit["internal"] is True and hit["url"] == f"/kb/{INTERNAL}"

    public = site.test_client().get("/search?q=секретная инструкция").get_data(as_text=True)
    assert INTERNAL not in public and "Секретная инструкция" not in public
    assert site.test_client().get(f"/kb/{INTERNAL}").status_code == 404
    assert "Nothing found." in section(ticket_page(anna, number, kb="телепорт"), "kb-title")


# --- Insert link -------------------------------------------------------------------------


def test_a_linked_article_is_tracked_when_the_customer_opens_it(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    response = anna.post(f"/agent/tickets/{number}/links", headers={"Accept": "application/json"},
                         data={"csrf_token": token(anna, number),
                               "article": "internet/net-interneta"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["title"] == "Нет интернета — что проверить"
    url = urlsplit(data["url"])
    assert url.path == "/kb/internet/net-interneta" and url.query.startswith("t=")
    [link] = stored(site, number).links
    assert (link.article_id, link.staff_id, link.source, link.opens) == (
        "internet/net-interneta", staff_id(site), "console", 0)
    page = ticket_page(anna, number)
    assert "Нет интернета — что проверить · Анна Смирнова · not opened yet" in page
    assert history(page)[-1] == f"{AGENT}: Article linked: internet/net-interneta."

    assert anna.get(data["url"]).status_code == 200  # the agent checks the link: not counted
    with site.app_context():
        tracking.flush()
    assert stored(site, number).links[0].opens == 0

    customer = site.test_client()
    assert customer.get(data["url"]).status_code == 200
    customer.get(data["url"])
    with site.app_context():
        tracking.flush()
    ticket = stored(site, number)
    assert ticket.links[0].opens == 2 and ticket.links[0].first_opened_at is not None
    assert [e.kind for e in ticket.events].count("link_opened") == 1
    page = ticket_page(anna, number)
    assert "opened 2 times" in section(page, "links-title")
    assert history(page)[-1] == ("Customer: The customer opened the linked article "
                                 "internet/net-interneta.")


def test_insert_link_without_json_says_what_to_paste(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    response = act(anna, number, "links", article="account/sbros-parolya")
    assert response.status_code == 303
    page = anna.get(response.headers["Location"]).get_data(as_text=True)
    [link] = stored(site, number).links
    assert f"http://localhost/kb/account/sbros-parolya?t={link.code}" in page


def test_only_public_articles_can_be_linked(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    for article, message in [(INTERNAL, "This article is internal"),
                             ("account/chernovik", "no published article"),
                             ("nope/missing", "no published article"),
                             ("../etc/passwd", "no published article"),
                             ("", "no published article")]:
        response = act(anna, number, "links", article=article)
        assert response.status_code == 400, article
        assert message in response.get_data(as_text=True), article
    assert stored(site, number).links == []


# --- Replies -----------------------------------------------------------------------------


@pytest.mark.parametrize("database", database_urls())
def test_a_public_reply_reaches_the_status_page_and_a_note_does_not(make_app, articles_dir,
                                                                    database):
    app = make_app(articles_dir, database, SUPPORT_HOURS="24/7")
    number, status_link = file_ticket(app)
    anna = agent(app)
    assert act(anna, number, "reply", visibility="internal",
               body="Похоже на сгоревший блок питания.").status_code == 303
    ticket = stored(app, number)
    assert ticket.response_due_at is not None  # a note is no answer to the customer
    assert act(anna, number, "reply", visibility="public",
               body="Проверьте по шагам: https://help.example/kb/internet/net-interneta."
               ).status_code == 303

    status_page = app.test_client().get(status_link).get_data(as_text=True)
    assert ('<a href="https://help.example/kb/internet/net-interneta" '
            'rel="noopener noreferrer nofollow">') in status_page
    assert "net-interneta</a>." in status_page
    assert AGENT in status_page
    assert "блок питания" not in status_page
    staff_view = section(ticket_page(anna, number), "conversation-title")
    assert "блок питания" in staff_view and "internal note" in staff_view

    ticket = stored(app, number)
    assert [(m.author, m.public) for m in ticket.messages] == [("staff", False),
                                                               ("staff", True)]
    assert ticket.status == "open" and ticket.first_response_at is not None
    assert ticket.awaiting_since is None and ticket.response_due_at is None
    assert "—" in queue_row(anna, number) and "min left" not in queue_row(anna, number)
    assert history(ticket_page(anna, number))[-3:] == [
        f"{AGENT}: Internal note added.", f"{AGENT}: Response given within the target time.",
        f"{AGENT}: Public reply sent."]


def test_a_public_reply_is_mailed_with_a_working_status_link(make_app, articles_dir,
                                                             smtp_server):
    app = make_app(articles_dir, SUPPORT_HOURS="24/7", MAIL_SENDER="Линия 0 <help@line0.example>",
                   **smtp_server.settings)
    number, _link = file_ticket(app)
    anna = agent(app)
    act(anna, number, "reply", visibility="internal", body="Внутренняя заметка")
    act(anna, number, "reply", visibility="public", body="Перезагрузите роутер, пожалуйста.")
    mails = smtp_server.wait_for(2)
    [reply] = [m for m in mails if "Перезагрузите роутер" in m.get_content()]
    assert reply["To"] == "irina@example.com" and number in reply["Subject"]
    body = reply.get_content()
    assert "Перезагрузите роутер, пожалуйста." in body and AGENT in body
    assert not any("Внутренняя заметка" in mail.get_content() for mail in mails)
    link = re.search(r"http://localhost/tickets/\S+", body).group(0)
    page = app.test_client().get(link)
    assert page.status_code == 200
    assert "Перезагрузите роутер, пожалуйста." in page.get_data(as_text=True)
    with app.app_context():
        outbox.stop()
    assert len(mails) == 2  # the confirmation and the reply; the note sent nothing


def test_the_assignee_is_mailed_when_the_customer_writes_again(make_app, articles_dir,
                                                              smtp_server):
    app = make_app(articles_dir, SUPPORT_HOURS="24/7", MAIL_SENDER="Линия 0 <help@line0.example>",
                   **smtp_server.settings)
    number, status_link = file_ticket(app)
    anna = agent(app)
    act(anna, number, "take")
    customer = app.test_client()
    page = customer.get(status_link).get_data(as_text=True)
    customer.post(f"/tickets/{number}/messages", data={
        "csrf_token": csrf_token(page), "token": status_link.split("token=")[1],
        "body": "Индикатор WAN не горит."})
    mails = smtp_server.wait_for(2)
    [note] = [m for m in mails if m["To"] == "anna@example.com"]
    assert number in note["Subject"]
    assert "Индикатор WAN не горит." in note.get_content()
    assert f"http://localhost/agent/tickets/{number}" in note.get_content()
    with app.app_context():
        outbox.stop()


def test_waiting_for_the_customer_until_they_write_again(site):
    number, status_link = file_ticket(site)
    anna = agent(site)
    act(anna, number, "reply", visibility="public", body="Какой индикатор горит?",
        then="waiting")
    ticket = stored(site, number)
    assert ticket.status == "waiting" and ticket.response_due_at is None
    assert queue_numbers(anna, view="waiting") == [number]

    customer = site.test_client()
    page = customer.get(status_link).get_data(as_text=True)
    assert "Какой индикатор горит?" in page
    response = customer.post(f"/tickets/{number}/messages", data={
        "csrf_token": csrf_token(page), "token": status_link.split("token=")[1],
        "body": "Горит красный WAN."})
    assert response.status_code == 303
    ticket = stored(site, number)
    assert ticket.status == "open"
    assert dt.timedelta(minutes=14) < ticket.response_due_at - dt.datetime.now(dt.UTC) \
        <= dt.timedelta(minutes=15)
    assert queue_numbers(anna, view="waiting") == []
    assert re.search(r">1[45] min left<", queue_row(anna, number))
    page = ticket_page(anna, number)
    assert "Горит красный WAN." in section(page, "conversation-title")
    assert history(page)[-2:] == [
        f"{AGENT}: Status: open → waiting for customer.", "Customer: The customer wrote again."]


def test_a_late_first_reply_is_recorded_as_late(site):
    number, _link = file_ticket(site)
    move_clock_back(site, number, 30)
    anna = agent(site)
    act(anna, number, "reply", visibility="public", body="Извините за ожидание.")
    assert f"{AGENT}: Response given after the target time." in history(
        ticket_page(anna, number))


# --- Escalation --------------------------------------------------------------------------


def test_escalation_needs_a_note_and_for_a_vendor_its_reference(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    act(anna, number, "take")
    before = stored(site, number)
    for data, messages in [
            ({"line": "2", "note": "  "}, ["Say why the ticket moves."]),
            ({"line": "4", "note": "Ошибка в прошивке", "vendor": "", "vendor_ref": ""},
             ["Name the vendor the ticket goes to.",
              "Give the vendor's reference number."]),
            ({"line": "4", "note": "Ошибка в прошивке", "vendor": "TP-Link"},
             ["Give the vendor's reference number."]),
            ({"line": "7", "note": "куда-то"}, ["Not a valid choice"]),
            ({"line": "2", "note": "я" * 2001}, ["2000"])]:
        response = act(anna, number, "escalate", **data)
        assert response.status_code == 400, data
        form = html.unescape(section_form(response.get_data(as_text=True), "escalate"))
        for message in messages:
            assert message in form, data
        if data["note"].strip() and len(data["note"]) <= 2000:
            assert data["note"] in form  # what was typed is still there
    after = stored(site, number)
    assert (after.line, after.status, after.assignee_id) == (1, "open", before.assignee_id)
    assert len(after.events) == len(before.events) and after.messages == []


def section_form(page: str, form_id: str) -> str:
    start = page.index(f'<form id="{form_id}"')
    return page[start:page.index("</form>", start)]


def test_escalation_moves_the_ticket_and_back(site):
    number, status_link = file_ticket(site)
    anna = agent(site)
    act(anna, number, "take")
    response = act(anna, number, "escalate", line="2", note="Кабель цел, нужен инженер")
    assert response.status_code == 303
    ticket = stored(site, number)
    assert (ticket.line, ticket.status, ticket.assignee_id) == (2, "escalated", None)
    [note] = ticket.messages
    assert (note.public, note.body, note.author_name) == (False, "Кабель цел, нужен инженер",
                                                          AGENT)
    assert ticket.response_due_at is not None  # line 2's own target starts now
    page = ticket_page(anna, number)
    assert history(page)[-1] == f"{AGENT}: Moved from line 1 to line 2 (engineers)."
    assert "Кабель цел, нужен инженер" in section(page, "history-title")
    assert "Кабель цел" not in site.test_client().get(status_link).get_data(as_text=True)
    assert queue_numbers(anna, line="2") == [number]

    act(anna, number, "escalate", line="4", note="Брак прошивки", vendor="TP-Link",
        vendor_ref="TPL-42-7")
    ticket = stored(site, number)
    assert (ticket.line, ticket.vendor, ticket.vendor_ref) == (4, "TP-Link", "TPL-42-7")
    page = ticket_page(anna, number)
    assert "Vendor: TP-Link, reference TPL-42-7" in page
    assert history(page)[-1] == (f"{AGENT}: Moved from line 2 (engineers) to line 4 (vendor). "
                                 "Vendor: TP-Link, reference TPL-42-7.")

    act(anna, number, "escalate", line="1", note="Вендор прислал прошивку, ставим")
    ticket = stored(site, number)
    assert (ticket.line, ticket.status) == (1, "open")
    response = act(anna, number, "escalate", line="1", note="Ещё раз")
    assert response.status_code == 303
    page = anna.get(response.headers["Location"]).get_data(as_text=True)
    assert "The ticket is already on this line." in page


# --- Resolving and flagging --------------------------------------------------------------


def test_resolving_with_the_article_that_solved_it(site):
    number, status_link = file_ticket(site)
    anna = agent(site)
    assert act(anna, number, "resolve", outcome="article",
               article="internet/net-interneta").status_code == 303
    ticket = stored(site, number)
    assert (ticket.status, ticket.resolution_article_id) == ("resolved",
                                                             "internet/net-interneta")
    assert ticket.resolved_at is not None and ticket.response_due_at is None
    assert history(ticket_page(anna, number))[-1] == (
        f"{AGENT}: Resolved with the article internet/net-interneta.")
    assert "Решено" in site.test_client().get(status_link).get_data(as_text=True)
    assert number not in queue_numbers(anna)


def test_resolving_with_an_unknown_article_is_refused(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    unknown = "No published article has this title: choose one from the list."
    for article, message in [("nope/missing", unknown),
                             ("account/chernovik", unknown),
                             ("Черновик о пароле по ключу доступа", unknown),  # a draft
                             ("../x", unknown), ("/kb/../../etc/passwd", unknown),
                             ("", "Choose the article that solved the problem.")]:
        response = act(anna, number, "resolve", outcome="article", article=article,
                       article_id="account/chernovik")
        assert response.status_code == 400, article
        assert message in section_form(response.get_data(as_text=True), "resolve"), article
    ticket = stored(site, number)
    assert (ticket.status, ticket.resolution_article_id) == ("new", None)


@pytest.mark.parametrize("typed, picked", [
    ("Как сбросить пароль от личного кабинета", ""),          # the title, as typed
    ("  как сбросить   пароль от личного кабинета ", ""),      # in other case and spacing
    ("http://localhost/kb/account/sbros-parolya?t=abc", ""),   # the article's address
    ("account/sbros-parolya", ""),                             # its id
    ("Как сбросить пароль от личного кабинета", "account/sbros-parolya"),  # picked from the list
    ("something typed after the pick", "account/sbros-parolya"),
])
def test_the_article_that_solved_it_is_named_by_its_title_or_picked(site, typed, picked):
    number, _link = file_ticket(site)
    anna = agent(site)
    response = act(anna, number, "resolve", outcome="article", article=typed,
                   article_id=picked)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert stored(site, number).resolution_article_id == "account/sbros-parolya"


def test_the_article_field_offers_articles_as_they_are_typed(site):
    anna = agent(site)
    found = anna.get("/agent/articles", query_string={"q": "сбросить пар"}).get_json()
    titles = [a["title"] for a in found["articles"]]
    assert "Как сбросить пароль от личного кабинета" in titles
    assert "Черновик о пароле по ключу доступа" not in titles   # drafts cannot be chosen
    internal = anna.get("/agent/articles", query_string={"q": "секретная"}).get_json()
    assert [a["id"] for a in internal["articles"]] == [INTERNAL]
    assert internal["articles"][0]["internal"] is True
    assert anna.get("/agent/articles", query_string={"q": "x" * 5000}).status_code == 400
    assert site.test_client().get("/agent/articles?q=пароль").status_code in (302, 303, 401)


def test_resolving_without_an_article_asks_the_experts_for_one(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    response = act(anna, number, "resolve", outcome="no_article", topic="",
                   note="Часто спрашивают")
    assert response.status_code == 400
    form = section_form(response.get_data(as_text=True), "resolve")
    assert "Say what the new article should answer." in form
    assert "Часто спрашивают" in form  # what was typed is still there
    assert stored(site, number).status == "new"

    assert act(anna, number, "resolve", outcome="no_article",
               topic="Что значит красный индикатор WAN", note="Часто спрашивают"
               ).status_code == 303
    ticket = stored(site, number)
    assert (ticket.status, ticket.resolution_article_id) == ("resolved", None)
    with site.app_context():
        [request] = db.session.scalars(select(ArticleRequest)).all()
        assert (request.ticket_id, request.requested_by_id, request.topic, request.note,
                request.status) == (ticket.id, staff_id(site),
                                    "Что значит красный индикатор WAN", "Часто спрашивают",
                                    "open")
    assert history(ticket_page(anna, number))[-1] == (
        f"{AGENT}: Resolved; no article exists, one was requested: "
        "Что значит красный индикатор WAN.")


def test_flagging_an_article_tells_its_owner(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    response = act(anna, number, "flag", article="internet/nastrojka-wi-fi", kind="wrong",
                   comment="Адрес роутера теперь 192.168.1.1")
    assert response.status_code == 303
    ticket = stored(site, number)
    with site.app_context():
        [flag] = db.session.scalars(select(ArticleFlag)).all()
        assert (flag.article_id, flag.ticket_id, flag.flagged_by_id, flag.kind, flag.comment,
                flag.status) == ("internet/nastrojka-wi-fi", ticket.id, staff_id(site),
                                 "wrong", "Адрес роутера теперь 192.168.1.1", "open")
    assert history(ticket_page(anna, number))[-1] == (
        f"{AGENT}: Article internet/nastrojka-wi-fi flagged as wrong.")
    for data in ({"article": "internet/nastrojka-wi-fi", "kind": "wrong", "comment": ""},
                 {"article": "nope/missing", "kind": "wrong", "comment": "неверно"},
                 {"article": "internet/nastrojka-wi-fi", "kind": "ugly", "comment": "x"}):
        assert act(anna, number, "flag", **data).status_code == 400
    with site.app_context():
        assert len(db.session.scalars(select(ArticleFlag)).all()) == 1


# --- Status and history ------------------------------------------------------------------


def test_a_closed_ticket_refuses_replies_with_a_clear_message(site):
    number, status_link = file_ticket(site)
    anna = agent(site)
    assert act(anna, number, "status", status="closed").status_code == 303
    page = ticket_page(anna, number)
    assert 'id="reply"' not in page and "Take it" not in page
    response = act(anna, number, "reply", visibility="public", body="Ещё одно уточнение")
    assert response.status_code == 400
    assert "The ticket is closed." in response.get_data(as_text=True)
    for action, data in [("take", {}), ("links", {"article": "internet/net-interneta"}),
                         ("escalate", {"line": "2", "note": "поздно"}),
                         ("resolve", {"outcome": "article",
                                      "article": "internet/net-interneta"})]:
        response = act(anna, number, action, **data)
        text = (anna.get(response.headers["Location"]).get_data(as_text=True)
                if response.status_code == 303 else response.get_data(as_text=True))
        assert "The ticket is closed." in text, action
    ticket = stored(site, number)
    assert (ticket.status, ticket.line, ticket.messages, ticket.links) == ("closed", 1, [], [])
    assert "Обращение закрыто" in site.test_client().get(status_link).get_data(
        as_text=True)

    act(anna, number, "status", status="open")  # reopening lets the agent write again
    assert act(anna, number, "reply", visibility="public", body="Снова на связи"
               ).status_code == 303


@pytest.mark.parametrize("database", database_urls())
def test_every_change_is_in_the_history_with_who_made_it(make_app, articles_dir, database):
    app = make_app(articles_dir, database, SUPPORT_HOURS="24/7")
    number, _link = file_ticket(app)
    anna = agent(app)
    boris = agent(app, COLLEAGUE, "boris@example.com", role="engineer")
    steps = [
        (anna, "take", {}),
        (anna, "reply", {"visibility": "internal", "body": "Смотрю"}),
        (anna, "reply", {"visibility": "public", "body": "Какой индикатор?",
                         "then": "waiting"}),
        (anna, "links", {"article": "internet/net-interneta"}),
        (anna, "status", {"status": "open"}),
        (anna, "escalate", {"line": "2", "note": "Нужен инженер"}),
        (boris, "take", {}),
        (boris, "flag", {"article": "internet/net-interneta", "kind": "outdated",
                         "comment": "Нет шага про WAN"}),
        (boris, "resolve", {"outcome": "article", "article": "internet/net-interneta"}),
        (boris, "status", {"status": "closed"}),
    ]
    for who, action, data in steps:
        response = act(who, number, action, **data)
        assert response.status_code in (200, 303), (action, response.status_code)
    assert history(ticket_page(anna, number)) == [
        "Customer: The customer sent the request.",
        f"{AGENT}: Assigned to {AGENT}.",
        f"{AGENT}: Internal note added.",
        f"{AGENT}: Response given within the target time.",
        f"{AGENT}: Public reply sent.",
        f"{AGENT}: Status: open → waiting for customer.",
        f"{AGENT}: Article linked: internet/net-interneta.",
        f"{AGENT}: Status: waiting for customer → open.",
        f"{AGENT}: Moved from line 1 to line 2 (engineers).",
        f"{COLLEAGUE}: Assigned to {COLLEAGUE}.",
        f"{COLLEAGUE}: Article internet/net-interneta flagged as outdated.",
        f"{COLLEAGUE}: Resolved with the article internet/net-interneta.",
        f"{COLLEAGUE}: Status: resolved → closed.",
    ]
    ticket = stored(app, number)
    staff_ids = {staff_id(app), staff_id(app, "boris@example.com")}
    assert all(e.staff_id in staff_ids for e in ticket.events if e.kind != "created")


# --- Bad input ---------------------------------------------------------------------------


def test_a_huge_reply_is_refused_and_kept_in_the_form(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    body = "Очень длинный ответ. " * 250  # 5250 characters
    for visibility in ("public", "internal"):
        response = act(anna, number, "reply", visibility=visibility, body=body)
        assert response.status_code == 400
        form = section_form(response.get_data(as_text=True), "reply")
        assert "5000" in form[form.index('class="field-error"'):]
        assert body.strip() in form
    ticket = stored(site, number)
    assert ticket.messages == [] and [e.kind for e in ticket.events] == ["created"]


def test_a_wrong_csrf_token_changes_nothing(site):
    number, _link = file_ticket(site)
    anna = agent(site)
    for action, data in [
            ("take", {}), ("release", {}), ("reply", {"visibility": "public", "body": "Ответ"}),
            ("status", {"status": "closed"}), ("escalate", {"line": "2", "note": "Инженер"}),
            ("resolve", {"outcome": "article", "article": "internet/net-interneta"}),
            ("flag", {"article": "internet/net-interneta", "kind": "wrong", "comment": "x"}),
            ("links", {"article": "internet/net-interneta"})]:
        for wrong in ("wrong", ""):
            response = act(anna, number, action, csrf_token=wrong, **data)
            assert response.status_code == 400, (action, wrong)
    ticket = stored(site, number)
    assert (ticket.status, ticket.line, ticket.assignee_id) == ("new", 1, None)
    assert ticket.messages == [] and ticket.links == []
    assert [e.kind for e in ticket.events] == ["created"]
