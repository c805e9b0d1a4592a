"""Cleaning keeps article body (bylines and bios included) and drops web debris, on the seeds and on
pages of other shapes."""

from __future__ import annotations

import pytest

from index.clean import clean
from index.sentences import split_sentences
from tests.conftest import SEED_ARTICLES


def kept_text(text: str) -> str:
    return "\n".join(text[s.start:s.end] for s in clean(text))


def seed(name: str) -> str:
    return next(SEED_ARTICLES.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


SEEDS = {
    "000": (
        ["After this month, Iran and Russia are expected to signal a strategic partnership agreement",
         "Sergei Lavrov confirmed that the agreement would involve more defence",
         "is a professor of global relations at European University in Tbilisi"],
        ["treaty-with-iran-includes-closer-defense-cooperation”>"],  # a link's attribute, flattened
    ),
    "001": (
        ["Russia and The Islamic Republic of Iran have announced the upcoming signing",
         "Emil Avdaliani is a professor of international relations at the European University in Tbilisi",
         "maintained close political and economic ties with Armenia"],
        ["Tel:", "Fax:", "info@grc.net", "P.O. Box", "Jeddah 21451", "King Faisal Foundation", "مركز الخليج",
         "Photo Source", "Knowledge for All", "Sidgwick Avenue", "@Gulf_Research", "www.grc.net"],
    ),
    "002": (
        ["For Moscow, Iranian President Masoud Pezeshkian’s visit to Russia on January 17 is a diplomatic victory.",
         "“The fate of this agreement and its survival are at the mercy of the White House"],
        ["Manchester United", "Wolf Man", "Daenerys", "Kris Boyd", "Saturday Night Live", "new coin launched"],
    ),
    "003": (
        ["In mid-October, Russian President Putin met with Iranian President Masoud Pezeshkian",
         "This counters Irans and Russias interests."],
        ["Related posts", "The US after NATO", "Silk Road between China and Europe", "Europa after NATO",
         "claimed by UAE", "objected by Iran"],
    ),
    "004": (
        ["The expanding ties between Moscow and Tehran reflect shifting geopolitical perspectives",
         "Emil Avdaliani is a professor of international relations at European University in Tbilisi, Georgia."],
        ["Connect with us", "繼續閱讀", "贊助商", "觀點", "發佈於", "【明報文章】", "[Emil Avdaliani]"],
    ),
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_body_kept_and_debris_dropped(name: str) -> None:
    text = seed(name)
    kept = kept_text(text)
    body, debris = SEEDS[name]
    for phrase in body:
        assert phrase in kept, f"body text lost: {phrase!r}"
    for phrase in debris:
        assert phrase not in kept, f"debris kept: {phrase!r}"


def test_duplicated_headline_and_pull_quote_kept_once() -> None:
    kept = kept_text(seed("001"))
    assert kept.count("Partners in Defiance: Russia and Iran Move Closer to Alliance") == 1
    kept = kept_text(seed("002"))
    assert kept.count("Russia wants to send a signal to the White House") == 1


def test_spans_are_slices_of_the_original() -> None:
    for path in SEED_ARTICLES.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        for span in clean(text):
            assert 0 <= span.start < span.end <= len(text)
            assert text[span.start:span.end].strip() == text[span.start:span.end]


BLOG = """Skip to content
Menu
Search

# The river that moved a city

By Jane Doe
March 3, 2024

Share on Facebook
Share on Twitter

The Meander River shifted its course by almost two kilometres during the spring floods, engineers said on Tuesday.
City officials estimate that the new channel cut off 40 homes from the main road, and repairs could take a year.
"We have never seen the water move this fast," said Dr. Ana Ruiz, who has studied the river since 1998.

Jane Doe covers climate and infrastructure for the Daily Ledger.

Read more

Ten best hiking trails for autumn…
Why your sourdough keeps failing…
Subscribe to our newsletter
© 2024 Daily Ledger. All rights reserved.
"""


def test_other_site_shapes() -> None:
    kept = kept_text(BLOG)
    assert "The Meander River shifted its course" in kept
    assert "said Dr. Ana Ruiz, who has studied the river since 1998." in kept
    assert "Jane Doe covers climate and infrastructure" in kept
    for debris in ("Skip to content", "Menu", "Share on Facebook", "Read more", "hiking trails", "sourdough",
                   "Subscribe", "All rights reserved"):
        assert debris not in kept, debris


def test_headings_are_marked_not_prose() -> None:
    spans = clean(BLOG)
    headings = [BLOG[s.start:s.end] for s in spans if s.heading]
    assert "# The river that moved a city" in headings
    assert all("shifted its course" not in h for h in headings)


def test_no_prose_means_nothing_kept() -> None:
    assert clean("Home\nAbout\nContact\n") == []
    assert clean("") == []


def test_sentences_from_cleaned_blog() -> None:
    sentences = split_sentences("blog", BLOG, clean(BLOG))
    texts = [s.text for s in sentences if not s.heading]
    assert texts[0].startswith("The Meander River")
    assert any(t.startswith('"We have never seen') and t.endswith("since 1998.") for t in texts)


def test_markup_debris_is_left_out_of_the_spans_not_rewritten() -> None:
    from index.clean import without_markup

    text = ("Lavrov confirmed that the agreement would involve more defence treaty-with-iran-includes-closer-"
            "defense-cooperation”>cooperation. Next, a <a href=\"/x\">link</a> and href=\"/news/a-b\">here. "
            "He said: “No.” Then x > y and \"quoted\" words.")
    pieces = [text[s:e] for s, e in without_markup(text, 0, len(text))]
    assert pieces == ["Lavrov confirmed that the agreement would involve more defence", "cooperation. Next, a",
                      "link", " and", "here. He said: “No.” Then x > y and \"quoted\" words."]
    sentences = split_sentences("000", seed("000"), clean(seed("000")))
    lavrov = next(s for s in sentences if "Lavrov confirmed" in s.text)
    assert lavrov.text.endswith("would involve more defence")  # stops before the debris
    assert not any("”>" in s.text for s in sentences)
