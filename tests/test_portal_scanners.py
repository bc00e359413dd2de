"""Telling a link scanner from the recipient: `automatic_fetch`, a pure function over one
request (method, user agent, the page's cookie, the burst it belongs to), and the count of
recent fetches behind the burst. Examples first, then properties over any user agent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messagerie.letters.portal.app import RecentFetches
from messagerie.models.messages.portal import BURST, SCANNER_AGENTS, LinkFetch, automatic_fetch

BROWSERS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36 Edg/138.0.3351.83",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 11; CUBOT P50) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Mobile Safari/537.36",
)

SCANNERS = (
    ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.12026; Pro)", "Office"),
    ("Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "Office"),
    ("Microsoft Office Existence Discovery", "Office"),
    ("Mozilla/5.0 (compatible; SafeLinks/1.0)", "Safe Links"),
    ("Mozilla/5.0 (compatible; Microsoft Safe Links)", "Safe Links"),
    # Chromium driven by a program: it pressed the button, and the AR named it the browser.
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/139.0.7258.5 Safari/537.36",
        "Chrome sans interface",
    ),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b", "Bing"),
    ("Proofpoint URL Defense", "Proofpoint"),
    ("Mozilla/5.0 (compatible; Mimecast URL Protect)", "Mimecast"),
    ("Barracuda Email Security Gateway", "Barracuda"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "robot"),
    ("facebookexternalhit/1.1", "réseau social"),
    ("curl/7.88.1", "curl"),
    ("Wget/1.21.3", "Wget"),
    ("python-requests/2.32.3", "requests"),
    ("Python-urllib/3.11", "urllib"),
    ("Go-http-client/1.1", "Go"),
)


@pytest.mark.parametrize(("agent", "named"), SCANNERS)
def test_a_known_scanner_is_named_by_its_user_agent(agent, named):
    verdict = automatic_fetch(LinkFetch("GET", agent, has_cookie=True))
    assert verdict is not None and named in verdict


@pytest.mark.parametrize("agent", BROWSERS)
def test_a_browser_is_a_person_even_without_the_cookie(agent):
    for burst in range(1, BURST):
        assert automatic_fetch(LinkFetch("GET", agent, has_cookie=False, burst=burst)) is None
    assert automatic_fetch(LinkFetch("POST", agent)) is None


def test_head_no_user_agent_and_cookieless_bursts_are_automatic():
    firefox = BROWSERS[0]
    assert "HEAD" in automatic_fetch(LinkFetch("HEAD", firefox, has_cookie=True))
    assert automatic_fetch(LinkFetch("GET", None)) == "Aucun agent utilisateur : outil automatique"
    assert automatic_fetch(LinkFetch("GET", "   ")) is not None
    burst = automatic_fetch(LinkFetch("GET", firefox, has_cookie=False, burst=BURST))
    assert burst == (
        f"{BURST} accès aux liens de ce message en moins d'une seconde depuis la même adresse, "
        "sans cookie de la page"
    )
    # A browser that has been on the page before is no burst.
    assert automatic_fetch(LinkFetch("GET", firefox, has_cookie=True, burst=10)) is None
    # A press right after a burst of fetches is the gateway's, cookie or not.
    for cookie in (False, True):
        pressed = automatic_fetch(LinkFetch("POST", firefox, has_cookie=cookie, burst=BURST))
        assert pressed == (
            f"Bouton pressé dans la seconde qui suit {BURST} accès aux liens de ce message "
            "depuis la même adresse"
        )
        assert automatic_fetch(LinkFetch("POST", firefox, cookie, burst=BURST - 1)) is None


@pytest.mark.parametrize("purpose", ["prefetch", "prefetch;anonymous-client-ip", "Prerender"])
def test_a_fetch_announced_ahead_of_any_click_is_automatic(purpose):
    ahead = "Préchargement du lien par le navigateur ou la messagerie, avant tout clic"
    for agent in BROWSERS:
        assert automatic_fetch(LinkFetch("GET", agent, True, purpose=purpose)) == ahead
    # A header that is there but asks nothing ahead of a click leaves the browser a person.
    assert automatic_fetch(LinkFetch("GET", BROWSERS[0], purpose="navigate")) is None


def test_recent_fetches_count_one_message_and_address_over_one_second():
    recent = RecentFetches()
    key = ("message", 7, "203.0.113.9")
    assert [recent.add(key, moment) for moment in (10.0, 10.3, 10.6)] == [1, 2, 3]
    assert recent.add(("message", 8, "203.0.113.9"), 10.7) == 1  # another message
    assert recent.add(("message", 7, "198.51.100.1"), 10.7) == 1  # another address
    assert recent.add(("link", 7, "203.0.113.9"), 10.7) == 1  # one link, counted apart
    assert recent.recent(key, 10.8) == 3  # what a press right after sees, not counted
    assert recent.add(key, 11.5) == 2  # 10.0 and 10.3 are more than a second old
    assert recent.add(key, 20.0) == 1
    assert recent.recent(("link", 9, "203.0.113.9"), 20.0) == 0


# --- Properties: any user agent gets a verdict, and the table is always honoured ------------

METHODS = st.sampled_from(["GET", "HEAD", "POST", "get", "head", "OPTIONS", ""])


@given(
    method=METHODS,
    agent=st.none() | st.text(),
    cookie=st.booleans(),
    burst=st.integers(min_value=0, max_value=10_000),
    purpose=st.text(),
)
def test_any_request_gets_a_verdict_never_an_exception(method, agent, cookie, burst, purpose):
    verdict = automatic_fetch(LinkFetch(method, agent, cookie, burst, purpose))
    assert verdict is None or (isinstance(verdict, str) and verdict.strip())
    if method.upper() == "HEAD" or not (agent or "").strip() or "prefetch" in purpose.lower():
        assert verdict is not None


@given(
    before=st.text(),
    after=st.text(),
    piece=st.sampled_from([piece for piece, _ in SCANNER_AGENTS]),
    upper=st.booleans(),
    cookie=st.booleans(),
)
def test_a_scanners_name_anywhere_in_the_agent_makes_it_automatic(
    before, after, piece, upper, cookie
):
    agent = before + (piece.upper() if upper else piece) + after
    verdict = automatic_fetch(LinkFetch("GET", agent, cookie))
    assert verdict is not None
