"""Focus and typing in the message form, its document picker and the Q/A editor, driven with
the Pilot on a private copy of today's demo: where the focus is can always be seen, Tab never
stops on nothing, and no key pressed in passing changes the type, a ticked box or a preset
text the buyer meant to keep."""

from __future__ import annotations

import sqlalchemy as sa
from textual.widget import Widget
from textual.widgets import Checkbox, Input, OptionList, Select, TextArea

from messagerie.models.consultations.registers import list_register
from messagerie.models.rules.presets import PRESETS
from messagerie.models.store.enums import DocumentOrigin, MessageType, RegisterKind
from messagerie.models.store.tables import RegisterEntry, document, table_of
from messagerie.screens.dialogs import TextDialog
from messagerie.screens.message_form import MessageFormScreen
from messagerie.screens.qa import QaEditorScreen
from messagerie.screens.recipients import DocumentSpacePicker
from messagerie.tui.app import MessagerieApp
from tests.helpers.hostile import toasts
from tests.helpers.message_form import deposits_consultation, open_form, type_into
from tests.helpers.pilot import checks_done, settle, wait_until
from tests.helpers.screens import pressed, screen_lines

WIDE = (120, 40)
entry = table_of(RegisterEntry)


def painted(pilot, widget: Widget) -> list[list[tuple[str, object]]]:
    """What the buyer sees where `widget` is: each row's cells, as (character, style); what
    a mouse would find there (the styles' meta) is left out."""
    region = widget.region
    strips = pilot.app.screen._compositor.render_strips()
    assert region.y >= 0 and region.bottom <= len(strips), f"{widget} is out of sight"
    return [
        [(char, segment.style and segment.style.clear_meta_and_links())
         for segment in strips[y].crop(region.x, region.right) for char in segment.text]
        for y in range(region.y, region.bottom)
    ]  # fmt: skip


async def focus_shows(pilot, widget: Widget) -> bool:
    """Whether focusing `widget` changes how it looks (nothing else focused to compare)."""
    screen = pilot.app.screen
    widget.focus()
    await pilot.pause()
    focused = painted(pilot, widget)
    screen.set_focus(None)
    await pilot.pause()
    blurred = painted(pilot, widget)
    widget.focus()
    await pilot.pause()
    return focused != blurred


def framed(pilot, widget: Widget) -> bool:
    """`widget` is drawn in a frame: its first row is the frame's top edge."""
    top = "".join(char for char, _ in painted(pilot, widget)[0]).strip()
    return len(top) > 2 and set(top[1:-1]) == {"▔"}


def on_screen(pilot, widget: Widget) -> bool:
    """`widget` takes room and all of it is inside the form's visible area."""
    form = pilot.app.screen.query_one("#message-form")
    return widget.region.height > 0 and form.region.contains_region(widget.region)


def consultation_with_documents(store) -> int:
    """A consultation whose espace documentaire holds at least two files."""
    with store.engine.connect() as connection:
        found = connection.execute(
            sa.select(document.c.consultation_id)
            .where(
                document.c.consultation_id.is_not(None),
                document.c.origin != DocumentOrigin.REPLY,
            )
            .group_by(document.c.consultation_id)
            .having(sa.func.count() >= 2)
            .order_by(document.c.consultation_id)
            .limit(1)
        ).scalar_one_or_none()
    assert found is not None, "the demo should have such a consultation"
    return found


async def attach_from_space(pilot, form: MessageFormScreen, index: int = 0) -> None:
    """F5, then the `index`-th document of the list, chosen with Entrée."""
    await pressed(pilot, "f5")
    picker = pilot.app.screen
    assert isinstance(picker, DocumentSpacePicker)
    listing = picker.query_one("#documents", OptionList)
    listing.focus()
    listing.highlighted = index
    await pilot.press("enter")
    await wait_until(pilot, lambda: pilot.app.screen is form, "the picker closed")
    await settle(pilot)


# --- The type list -----------------------------------------------------------------------------


async def test_after_f3_the_type_list_shows_its_focus_and_arrows_never_change_the_type(
    workspace, workspace_app
):
    cid, _ = deposits_consultation(workspace)
    negotiation = "Négociation sur le prix du lot unique"
    async with workspace_app.run_test(size=WIDE) as pilot:
        form = await open_form(
            pilot, cid, message_type=MessageType.FREE, subject=negotiation, reply_allowed=True
        )
        await pilot.press("f3", "p")  # the dépôts; the picker closes, the focus comes back
        await settle(pilot)
        select = form.query_one("#type", Select)
        assert pilot.app.focused is select
        assert framed(pilot, select), "the type list is drawn as a field"
        assert await focus_shows(pilot, select)

        await pilot.press("down", "down", "enter")  # as if moving down the form
        await checks_done(pilot)
        assert select.value is MessageType.FREE
        assert form.query_one("#subject", Input).value == negotiation
        assert select.expanded, "Entrée opens the list, where the choice can be seen"
        await pilot.press("escape")
        assert not select.expanded and select.value is MessageType.FREE
        assert isinstance(pilot.app.screen, MessageFormScreen)


# --- Tab into a field, and where the focus shows -------------------------------------------------


async def test_tab_into_the_preset_subject_adds_to_it(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    preset = PRESETS[MessageType.COMPLEMENT_REQUEST].subject
    async with workspace_app.run_test(size=WIDE) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.COMPLEMENT_REQUEST)
        subject = form.query_one("#subject", Input)
        assert subject.value == preset
        form.query_one("#body").focus()
        await pilot.press("shift+tab")
        assert pilot.app.focused is subject
        assert subject.selection.is_empty and subject.cursor_position == len(preset)
        await pilot.press(*" - lot 2")
        assert subject.value == f"{preset} - lot 2"


async def test_every_tab_stop_of_the_form_shows_where_it_is(workspace, workspace_app):
    """A free letter: no recipient, no attachment yet (their lists are empty)."""
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=WIDE) as pilot:
        form = await open_form(pilot, cid)
        assert form.recipients == () and form.attachments == ()
        start = form.query_one("#type")
        assert pilot.app.focused is start
        stops: list[Widget] = []
        while True:
            await pilot.press("tab")
            await pilot.pause()
            focused = pilot.app.focused
            assert focused is not None
            if focused is start:
                break
            assert focused not in stops and len(stops) < 30, "Tab goes round the form"
            stops.append(focused)
            assert on_screen(pilot, focused), f"the focused {focused} is out of sight"
            assert await focus_shows(pilot, focused), f"focus on {focused} shows nothing"
        for field in form.query(Input).results(Input):
            if all(node.display for node in field.ancestors_with_self if isinstance(node, Widget)):
                form.query_one("#message-form").scroll_to_widget(field, animate=False)
                await pilot.pause()
                assert framed(pilot, field), f"{field} is drawn as a field"


async def test_the_form_scrolls_to_the_focused_attachments_list(workspace, workspace_app):
    cid = consultation_with_documents(workspace)
    async with workspace_app.run_test(size=WIDE) as pilot:
        form = await open_form(pilot, cid)
        await attach_from_space(pilot, form)
        assert len(form.attachments) == 1
        form.query_one("#type").focus()
        await pilot.pause()
        await pilot.press("shift+tab")  # round the form, backwards: the last field
        await pilot.pause()
        listing = form.query_one("#attachment-list")
        assert pilot.app.focused is listing
        await wait_until(pilot, lambda: on_screen(pilot, listing), "the attachments in sight")


async def test_the_form_jumps_to_the_focus_unless_the_user_asks_for_animations(
    workspace, monkeypatch
):
    """Tab (Screen.set_focus) to the body below the fold at 80×24 brings it in sight with
    no smooth scroll: its dozen frames were each a screen sent over SSH (tui/app.py). The
    Pilot waits for animations, so the level is what is checked; TEXTUAL_ANIMATIONS set by
    the user is kept."""
    monkeypatch.delenv("TEXTUAL_ANIMATIONS", raising=False)
    cid, _ = deposits_consultation(workspace)
    app = MessagerieApp(open_store=lambda: workspace, actor="marie.dupont")
    assert app.animation_level == "none"
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(pilot, cid)
        body = form.query_one("#body")
        assert not on_screen(pilot, body)
        form.set_focus(body)
        await pilot.pause()
        assert on_screen(pilot, body)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "full")
    assert MessagerieApp(open_store=lambda: workspace).animation_level == "full"


async def test_suppr_only_looks_aimed_at_an_attachment_when_it_removes_one(
    workspace, workspace_app
):
    cid = consultation_with_documents(workspace)
    async with workspace_app.run_test(size=WIDE) as pilot:
        form = await open_form(pilot, cid)
        await attach_from_space(pilot, form, 0)
        await attach_from_space(pilot, form, 1)
        listing = form.query_one("#attachment-list", OptionList)
        assert listing.option_count == 2 and listing.highlighted is not None

        body = form.query_one("#body", TextArea)
        body.focus()
        form.query_one("#message-form").scroll_to_widget(listing, animate=False)
        await wait_until(pilot, lambda: on_screen(pilot, listing), "the attachments in sight")

        def rows_alike() -> bool:
            first, second = (row[2][1] for row in painted(pilot, listing))
            return first == second

        # Waited for, not paused once: on a busy machine the repaint after the focus moved
        # came later, and the first row still looked chosen.
        await wait_until(pilot, rows_alike, "no attachment looking chosen while typing")
        before = body.text
        await pilot.press("delete")
        assert len(form.attachments) == 2 and body.text != before  # Suppr edits the body

        listing.focus()
        await wait_until(pilot, lambda: not rows_alike(), "the row Suppr would remove shown")
        await pilot.press("delete")
        assert len(form.attachments) == 1


async def test_after_filtering_the_document_picker_entree_picks_the_first_match(
    workspace, workspace_app
):
    cid = consultation_with_documents(workspace)
    async with workspace_app.run_test(size=WIDE) as pilot:
        form = await open_form(pilot, cid)
        await pressed(pilot, "f5")
        picker = pilot.app.screen
        assert isinstance(picker, DocumentSpacePicker)
        name = picker.documents[-1].filename  # the oldest, far down the list
        await pilot.press(*name)
        await wait_until(
            pilot,
            lambda: picker.documents and all(d.filename == name for d in picker.documents),
            "the list filtered",
        )
        wanted = picker.documents[0]
        await pilot.press("enter")  # from the filter to the list
        listing = picker.query_one("#documents", OptionList)
        assert pilot.app.focused is listing and listing.highlighted == 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.screen is form, "the picker closed")
        await settle(pilot)
        assert [d.id for d in form.attachments] == [wanted.id]


async def test_the_qa_editor_opens_with_the_question_focused(workspace, workspace_app):
    with workspace.engine.connect() as connection:
        cid = connection.execute(
            sa.select(entry.c.consultation_id)
            .where(entry.c.kind == RegisterKind.QUESTION)
            .order_by(entry.c.id)
            .limit(1)
        ).scalar_one()
    question = list_register(workspace, cid, RegisterKind.QUESTION, actor="marie.dupont").rows[0]
    async with workspace_app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        pilot.app.open_qa_editor(question)
        await settle(pilot)
        editor = pilot.app.screen
        assert isinstance(editor, QaEditorScreen)
        area = editor.query_one("#question", TextArea)
        assert pilot.app.focused is area
        await pilot.press(*"Question : ")
        assert area.text.startswith("Question : ")  # no key lost


# --- Reply deadline, and the box ticked after the award -----------------------------------------


async def test_the_reply_deadline_is_typed_only_when_replies_are_allowed(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=WIDE) as pilot:
        form = await open_form(pilot, cid)  # a free letter: "Non"
        deadline = form.query_one("#reply-deadline", Input)
        reply = form.query_one("#reply")
        assert not form.form().reply_allowed and deadline.disabled
        reply.focus()
        await pilot.press("tab")
        assert pilot.app.focused is form.query_one("#subject"), "no stop on the deadline"

        reply.focus()
        await pilot.press("down", "enter")  # "Oui"
        await checks_done(pilot)
        assert form.form().reply_allowed and not deadline.disabled
        await pilot.press("tab", *"31/12/2099 12:00")
        assert deadline.value == "31/12/2099 12:00"

        reply.focus()
        await pilot.press("up", "enter")  # "Non" again: the date stays, greyed, unused
        await checks_done(pilot)
        assert deadline.disabled and deadline.value == "31/12/2099 12:00"
        assert form.form().reply_deadline == ""
        assert "date limite" not in str(form.query_one("#problem-reply_deadline").render())


async def test_spaces_typed_on_the_awarded_box_never_untick_it(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace, formalised=True)
    async with workspace_app.run_test(size=WIDE, notifications=True) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.REJECTION)
        awarded = form.query_one("#awarded", Checkbox)
        awardee = form.query_one("#input-awardee", Input)
        assert not awarded.value and awardee.disabled  # printed only after the award
        awarded.focus()
        await pilot.press("enter")
        await checks_done(pilot)
        assert awarded.value and not awardee.disabled
        await type_into(pilot, form, "#input-awardee", "Chocolaterie Müller SAS")

        awarded.focus()
        await pilot.press(*"Offre moins bien classée")  # typed in the wrong place
        await checks_done(pilot)
        assert awarded.value
        assert form.form().mentions["awardee"] == "Chocolaterie Müller SAS"

        await pilot.press("enter")  # unticked on purpose: said, not silent
        await checks_done(pilot)
        assert not awarded.value and awardee.disabled
        assert any("n'imprimera pas « Attributaire »" in toast for toast in toasts(pilot))


async def test_a_read_only_text_taller_than_80x24_scrolls_with_the_keyboard(workspace_app):
    """The DCE's history and a merge letter's preview open in a TextDialog: its end was cut
    at the frame, out of reach without a mouse."""
    lines = [f"Version {n} — pièce_{n}.pdf" for n in range(1, 61)]
    async with workspace_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(TextDialog("Historique du DCE", "\n".join(lines)))
        await settle(pilot)
        assert not any(lines[-1] in line for line in screen_lines(pilot))
        await pilot.press("end")
        await settle(pilot)
        assert any(lines[-1] in line for line in screen_lines(pilot))
