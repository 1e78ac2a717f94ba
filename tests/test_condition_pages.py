"""The public condition pages: the list, a condition's page, 404s, and sanitised content."""

import copy
import re

import pytest

from conditions.content import save_condition

pytestmark = pytest.mark.django_db

PAGE = "/conditions/muscle-twitches/"


def compact(html):
    return re.sub(r">\s+<", "><", html)


def headings(html):
    return re.findall(r"<h2[^>]*>(.*?)</h2>", html)


@pytest.fixture
def leg_cramps_draft(db, demo_document):
    document = copy.deepcopy(demo_document)
    document.update(title="Leg cramps", slug="leg-cramps", definition="<p>Sudden tight calf.</p>")
    return save_condition(document)


def test_list_shows_only_published_conditions(client, condition, leg_cramps_draft):
    response = client.get("/conditions/")
    assert response.status_code == 200
    assert '<a href="/conditions/muscle-twitches/">Muscle twitches</a>' in response.text
    assert "Leg cramps" not in response.text
    assert "leg-cramps" not in response.text


def test_list_says_so_when_nothing_is_published(client, leg_cramps_draft):
    response = client.get("/conditions/")
    assert "No conditions have been published yet." in response.text
    assert "Leg cramps" not in response.text


def test_page_shows_every_section_in_order(client, condition, demo_document):
    response = client.get(PAGE)
    assert response.status_code == 200
    assert headings(response.text) == [section["heading"] for section in demo_document["sections"]]
    assert "<h1>Muscle twitches</h1>" in response.text
    assert "Also called: Muscle fasciculation; Fasciculations of muscle" in response.text


def test_page_nests_sub_points_inside_their_item(client, condition):
    html = compact(client.get(PAGE).text)
    assert (
        "<li>Harmless (benign) twitches that are not caused by any disease"
        "<ul><li>Often felt in the eyelids, the calf or the thumb</li>"
        "<li>Common and normal, and often brought on by stress or worry</li>"
        "<li>Come and go, and stop within a few days</li></ul></li>"
    ) in html
    assert "<li>Stress</li>" in html


def test_page_gives_the_when_to_call_guidance_prominently(client, condition):
    html = compact(client.get(PAGE).text)
    call = re.search(r'<section class="call-provider[^"]*"[^>]*>(.*?)</section>', html)
    assert call is not None
    assert '<h2 id="section-6" class="h3">When to call your provider</h2>' in call.group(1)
    assert "<strong>Call your health care provider if your twitching goes on" in call.group(1)


def test_page_lists_the_questions_and_tests_under_the_visit_section(client, condition):
    html = compact(client.get(PAGE).text)
    visit = html[html.index("What happens at your visit") :]
    assert "<li>Are you pregnant?</li>" in visit
    assert "<li>Electromyogram (EMG)</li>" in visit


@pytest.mark.parametrize("slug", ["no-such-condition", "leg-cramps"], ids=["unknown", "draft"])
def test_unknown_or_draft_condition_gives_the_404_page(client, condition, leg_cramps_draft, slug):
    response = client.get(f"/conditions/{slug}/")
    assert response.status_code == 404
    assert "We could not find the page you asked for." in response.text
    assert "Sudden tight calf" not in response.text


def _bigger(document, times):
    """The document with `times` as many sections, questions and tests."""
    bigger = copy.deepcopy(document)
    bigger["sections"] = [
        {**section, "heading": f"{section['heading']} {n}"}
        for n in range(times)
        for section in document["sections"]
    ]
    bigger["questions"] += [
        {"key": f"extra-{n}", "wording": f"Extra question {n}?", "answer_type": "yes_no"}
        for n in range(times * 5)
    ]
    bigger["tests"] += [
        {"slug": f"extra-test-{n}", "name": f"Extra test {n}", "kind": "other"}
        for n in range(times * 5)
    ]
    return bigger


@pytest.mark.parametrize("times", [1, 6])
def test_page_queries_do_not_grow_with_the_content(
    client, demo_document, django_assert_max_num_queries, times
):
    save_condition(_bigger(demo_document, times), publish=True)
    with django_assert_max_num_queries(5):
        response = client.get(PAGE)
    assert len(headings(response.text)) == 7 * times


def test_list_queries_do_not_grow_with_the_number_of_conditions(
    client, demo_document, django_assert_max_num_queries
):
    for n in range(8):
        save_condition({**demo_document, "slug": f"condition-{n}"}, publish=True)
    with django_assert_max_num_queries(1):
        response = client.get("/conditions/")
    assert response.text.count('<h2 class="h4 mb-1">') == 8


# Editors' content is sanitised on the page


ATTACKS = (
    "<script>window.__xss=1</script>"
    '<img src=x onerror="window.__xss=2">'
    '<a href="javascript:window.__xss=3">open</a>'
)


def _has_live_attack(html):
    return (
        "<script>window" in html
        or "<img" in html
        or 'href="javascript:' in html
        or re.search(r"<[^>]+\sonerror=", html) is not None
    )


def _put(document, field, text):
    if field == "definition":
        document["definition"] = text
    elif field == "alternative name":
        document["alternative_names"].append(text)
    elif field == "heading":
        document["sections"][1]["heading"] = text
    elif field == "section body":
        document["sections"][1]["body"] = text
    elif field == "item text":
        document["sections"][1]["items"][0]["text"] = text
    elif field == "sub-point text":
        document["sections"][1]["items"][-1]["items"][0]["text"] = text
    elif field == "question wording":
        document["questions"][0]["wording"] = text
    elif field == "test name":
        document["tests"][0]["name"] = text


FIELDS = [
    "definition",
    "alternative name",
    "heading",
    "section body",
    "item text",
    "sub-point text",
    "question wording",
    "test name",
]


def test_the_attack_check_would_spot_live_markup():
    assert _has_live_attack(ATTACKS)
    assert not _has_live_attack("&lt;script&gt;window.__xss=1&lt;/script&gt;")


@pytest.mark.parametrize("field", FIELDS)
def test_script_image_and_javascript_links_in_content_are_not_live(client, demo_document, field):
    _put(demo_document, field, f"Safe words {ATTACKS}")
    save_condition(demo_document, publish=True)

    for url in (PAGE, "/conditions/"):
        response = client.get(url)
        assert response.status_code == 200
        assert not _has_live_attack(response.text), url
    assert "Safe words" in client.get(PAGE).text


@pytest.mark.parametrize("field", ["definition", "section body", "item text"])
def test_simple_formatting_survives_sanitising(client, demo_document, field):
    _put(
        demo_document,
        field,
        '<strong>Rest</strong> and read <a href="https://example.org/twitch">this guide</a>'
        "<ul><li>first</li></ul>",
    )
    save_condition(demo_document, publish=True)

    html = client.get(PAGE).text
    assert "<strong>Rest</strong>" in html
    assert (
        '<a href="https://example.org/twitch" rel="noopener noreferrer nofollow">this guide</a>'
        in html
    )
    assert "<ul><li>first</li></ul>" in compact(html)


def test_plain_text_fields_show_markup_as_text(client, demo_document):
    _put(demo_document, "heading", "Causes <em>and</em> triggers")
    save_condition(demo_document, publish=True)
    assert "Causes &lt;em&gt;and&lt;/em&gt; triggers" in client.get(PAGE).text
