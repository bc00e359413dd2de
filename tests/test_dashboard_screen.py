"""Pilot tests of the tableau de bord on the demo database."""

from textual.widgets import Input

from messagerie.screens.dashboard import DashboardScreen, ResultsList, StatusChart
from messagerie.screens.keys_help import KeysHelp
from tests.helpers.pilot import run_command, settle, text_of, wait_until

NBSP = "\u202f"


def caption(pilot):
    """The results panel's title and subtitle: count of results, and page."""
    results = pilot.app.screen.query_one("#results")
    return f"{results.border_title} {results.border_subtitle}"


def items(pilot):
    return list(pilot.app.screen.query_one(ResultsList).items)


async def test_first_page_of_the_demo(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, DashboardScreen)
        assert f"1{NBSP}395 Résultats de recherche" in caption(pilot)
        assert "Page 1 sur 140" in caption(pilot)
        assert "Résultats par page : 10 20" in text_of(pilot, "#summary")
        first = items(pilot)
        assert len(first) == 10
        assert first[0].identity.reference_and_title == "C2025ADM | TEST SUPPORT"


async def test_search_is_blind_to_case_and_accents(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"VINS D'ALSACE")
        await settle(pilot)
        assert "2025VINS" in [item.identity.reference for item in items(pilot)]
        total = pilot.app.screen.page.total
        assert 1 <= total < 1395
        assert f"{total} Résultats de recherche" in caption(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen.query_one("#search", Input).value == ""
        assert pilot.app.screen.page.total == 1395


async def test_status_chart_filters_the_results(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        counts = pilot.app.screen.page.status_counts
        # Tous les statuts, Elaboration, En attente de validation, then Consultation:
        await pilot.press("s", "down", "down", "down", "enter")
        await settle(pilot)
        page = pilot.app.screen.page
        assert page.query.status.label == "Consultation"
        assert page.total == counts[page.query.status]
        assert {item.status.label for item in items(pilot)} == {"Consultation"}
        chart = pilot.app.screen.query_one(StatusChart)
        assert "▶ Consultation" in str(chart.get_option_at_index(3).prompt)
        await pilot.press("1")  # Elaboration, by its digit
        await settle(pilot)
        assert {item.status.label for item in items(pilot)} == {"Elaboration"}
        await pilot.press("0")
        await settle(pilot)
        assert pilot.app.screen.page.total == 1395


async def test_paging_next_previous_last_first(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first_page = [item.identity.reference for item in items(pilot)]
        await pilot.press("pagedown")
        await settle(pilot)
        assert "Page 2 sur 140" in caption(pilot)
        second_page = [item.identity.reference for item in items(pilot)]
        assert not set(first_page) & set(second_page)
        await pilot.press("pageup")
        await settle(pilot)
        assert [item.identity.reference for item in items(pilot)] == first_page
        pilot.app.screen.query_one("#results").focus()
        await pilot.press("end")
        await settle(pilot)
        assert "Page 140 sur 140" in caption(pilot)
        assert len(items(pilot)) == 5  # 1,395 = 139 × 10 + 5
        await pilot.press("pagedown")  # nothing after the last page
        await settle(pilot)
        assert "Page 140 sur 140" in caption(pilot)
        await pilot.press("home")
        await settle(pilot)
        assert "Page 1 sur 140" in caption(pilot)


async def test_results_per_page_switch_10_20(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("pagedown")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert "Page 1 sur 70" in caption(pilot)
        assert len(items(pilot)) == 20
        await pilot.press("r")
        await settle(pilot)
        assert "Page 1 sur 140" in caption(pilot)
        assert len(items(pilot)) == 10


async def test_more_information_and_detailed_view(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        results = pilot.app.screen.query_one(ResultsList)
        results.focus()

        def first() -> str:
            return str(results.get_option_at_index(0).prompt)

        assert "Date et heure limite" not in first()
        await pilot.press("plus")
        rendered = first()
        assert "Date et heure limite de remise des plis : 22/02/2027 09:55" in rendered
        assert "Moins d'informations" in rendered
        await pilot.press("v")
        await settle(pilot)
        prompts = [str(option.prompt) for option in results.options if option is not None]
        assert len(prompts) == 10 and all("Objet :" in prompt for prompt in prompts)


async def test_every_key_has_a_palette_entry_and_help(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = {command.title for command in pilot.app.get_system_commands(pilot.app.screen)}
        expected = {
            "Rechercher",
            "Page suivante",
            "Page précédente",
            "Première page",
            "Dernière page",
            "Résultats par page : 10 / 20",
            "Vue liste / Vue détaillée",
            "Plus d'informations",
            "Statuts : filtrer par statut",
            "Effacer les filtres",
            "Aide",
            "Quitter",
            "Vue liste",
            "Vue détaillée",
            "Elaboration",
            "Résultats par page : 10",
            "Résultats par page : 20",
            "Statut : Décision",
        }
        assert expected <= titles
        await run_command(pilot, "Page suivante")
        await settle(pilot)
        assert "Page 2 sur 140" in caption(pilot)
        pilot.app.screen.query_one("#results").focus()
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, KeysHelp), "the keys")


async def test_a_bad_store_ends_the_app_with_one_clear_line(tmp_path):
    from messagerie.models.store.database import open_store
    from messagerie.tui.app import MessagerieApp

    url = f"sqlite:///{tmp_path / 'vide.sqlite3'}"
    app = MessagerieApp(open_store=lambda: open_store(url))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            if app.return_code is not None:
                break
            await pilot.pause(0.05)
    assert app.return_code == 2
    assert "est vide : lancez « messagerie db upgrade »" in app.failure
