"""Crisis and discrimination: the pattern safety net (rasa_plugins/safety.py) and the crisis help action.

The recognition rates on the held-out sets (tests/nlu/heldout/) are measured through the whole NLU pipeline in
tests/e2e/test_safety.py; here the rules of the matcher itself and the action."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.safety_actions import ActionCrisisHelp
from core.protocol import SAFETY_NET_KEY
from rasa_plugins.safety import CRISIS, DISCRIMINATION, classify, fold
from tests.unit.test_actions import responses, run, tracker

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", [
    "Ich will nicht mehr leben",
    "mir geht es richtig schlecht, ich will nicht mehr",
    "ich will mir was antun",
    "mein Ausbilder schlägt mich",
    "Mein Ausbilder schlaegt mich",
    "MEIN CHEF SCHLÄGT MICH!!!",
    "hab mich wieder geritzt",
    "ich bring mich um",
    "meine Freundin sagt ihr Chef fasst sie an",
    "ich halte das alles nicht mehr aus",
])
def test_crisis_is_recognised(text: str) -> None:
    assert classify(text) == CRISIS


@pytest.mark.parametrize("text", [
    "Ich werde wegen meiner Herkunft im Betrieb benachteiligt",
    "die haben mich wegen meinem Kopftuch abgelehnt",
    "ein Kollege belästigt mich ständig mit Sprüchen",
    "ich bekomme nur Absagen, weil ich Muslima bin",
])
def test_discrimination_is_recognised(text: str) -> None:
    assert classify(text) == DISCRIMINATION


@pytest.mark.parametrize("text", [
    "die Prüfung lief schlecht",
    "mein Handy ist kaputt",
    "ich könnte meinen Bruder töten, der hat mein Ladekabel",
    "Schlachter: muss man da Tiere töten?",
    "ich sterbe vor Langeweile in der Berufsschule",
    "die Hitze bringt mich um",
    "das haut mich um",
    "mein Akku war tot",
    "mir geht es schlecht, kann ich mich krankmelden?",
    "Mein Chef droht mir mit Kündigung",
    "Ich trage ein Kopftuch, welche Berufe kommen für mich in Frage?",
    "Kann ich wegen meiner Behinderung die Ausbildung in Teilzeit machen?",
    "Sahne wird geschlagen, lernt man das als Konditor?",
    "es tut mir weh, dass ich die Stelle nicht bekommen habe",
    "",
    "🙂🙂🙂",
])
def test_harmless_messages_do_not_trigger(text: str) -> None:
    assert classify(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    # words the folding changes (ae/oe/ue → a/o/u) are written folded in the patterns, else they never match
    ("bin von zuhause abgehauen und weiß nicht wohin", CRISIS),
    ("mein ausbilder hat mir heute eine gescheuert", CRISIS),
    ("der hat mir eine runtergehauen", CRISIS),
    ("sexuelle Übergriffe durch den Chef, was kann ich tun?", CRISIS),
    ("hab blaue flecken vom vater, er war wieder betrunken", CRISIS),
    ("die nehmen nur frauen, ich als mann werde abgelehnt", DISCRIMINATION),
    ("ich bin queer und werde im betrieb gemobbt", DISCRIMINATION),
    # wider wording from development set 5
    ("ich werf mich vor den zug, dann muss ich nie wieder in diesen betrieb", CRISIS),
    ("ich will einfach morgen nicht mehr aufwachen", CRISIS),
    ("wenns zu viel wird schneid ich mich, heute wieder", CRISIS),
    ("chef hat mir ein messer vors gesicht gehalten", CRISIS),
    ("bro mein alter hat mir heut die nase gebrochen", CRISIS),
    ("mein chef schickt mir dick pics", CRISIS),
    ("zuhause ist es nicht sicher, ich trau mich heut nicht heim", CRISIS),
    ("ich weiß nicht wie ich die nacht überstehen soll", CRISIS),
    ("die kollegen nennen mich schwuchtel weil ich friseur werden will", DISCRIMINATION),
    ("darf mir der ausbilder verbieten freitags zum gebet zu gehen", DISCRIMINATION),
    ("sorry für alles. tschüss an alle, ich geh jetzt", CRISIS),
    # ... and what they must leave alone
    ("tschüss an alle, bis morgen in der berufsschule", None),
    ("mein lehrer hat was von büa gesagt aber ich hab nur nen hauptschulabschluss", None),
    ("ich schneide mir die haare selbst", None),
    ("wenn ich koche schneid ich mich manchmal", None),
    ("hab mich an der pfanne verbrannt, zahlt das die BG?", None),
    ("mein bruder hat mir beim fußball den arm gebrochen", None),
    ("Ist Rauchen in der Pflege verboten?", None),
    ("ich trau mich nicht nach hause zu sagen dass ich durchgefallen bin", None),
    ("ich könnte meinen kopf gegen die wand schlagen", None),
])
def test_folded_spelling_and_the_wording_of_development_set_5(text: str, expected: str | None) -> None:
    assert classify(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # wider wording from development set 7 (rephrased here), also across commas
    ("hab mir gestern einen strick besorgt", CRISIS),
    ("wie viele schlaftabletten braucht man, damit es sicher reicht", CRISIS),
    ("ich steh jeden morgen am gleis und denk an einen schritt nach vorne", CRISIS),
    ("brauch ne gute ausrede warum ich dauernd lange ärmel und pflaster trag", CRISIS),
    ("seit wochen überlege ich, wie ich alles beenden kann", CRISIS),
    ("mein vater will dass ich nächstes jahr in pakistan einen mann heirate", CRISIS),
    ("meine eltern haben mich gestern rausgeschmissen", CRISIS),
    ("sie hat gesagt ihr freund weiß, wo ich wohne", CRISIS),
    ("er will mehr bilder, sonst zeigt er es allen", CRISIS),
    ("i dont want to live anymore", CRISIS),
    ("bitte hilf mir jemand, ich dreh gleich durch", CRISIS),
    ("danke für alles, ihr wart die einzigen die mir geholfen haben", CRISIS),
    ("ich heule seit stunden und kann nicht aufhören, bei mir bricht gerade alles zusammen", CRISIS),
    ("der meister sagt immer bei euch da unten arbeitet man langsamer", DISCRIMINATION),
    ("mit meinem türkischen namen krieg ich keine einzige einladung", DISCRIMINATION),
    ("seit dem outing sagt der chef, leute wie mich will er nicht in der werkstatt", DISCRIMINATION),
    ("der ausbilder sagt, ich soll mein kopftuch abnehmen, bei den anderen ist schmuck kein problem", DISCRIMINATION),
    ("seit ich von meinem rheuma erzählt hab, macht der chef vor allen witze", DISCRIMINATION),
    # ... and what they must leave alone
    ("danke für alles, tschüss!", None),
    ("noch eine absage und ich dreh durch haha", None),
    ("gibt es sonderregeln in der prüfung für leute wie mich mit adhs?", None),
    ("der betrieb hat mich nach der probezeit rausgeworfen, was nun?", None),
    ("ich will dass ich nach der ausbildung übernommen werde", None),
    # wider wording from development set 8 (rephrased here)
    ("wenn alles zu viel wird mach ich mir schnitte am bein", CRISIS),
    ("der geselle hält mir mit absicht den heißen lötkolben an die hand", CRISIS),
    ("beim probearbeiten wollte der chef dass ich mich ausziehe", CRISIS),
    ("der vermieter will sex für die miete, sonst fliege ich raus", CRISIS),
    ("ich kann nicht mehr atmen und bin ganz allein in der wohnung", CRISIS),
    ("mit 41 heißt es überall, sie nehmen lieber junge bewerber", DISCRIMINATION),
    ("der personaler meinte, in leute kurz vor der rente investiere man nicht mehr", DISCRIMINATION),
    ("seit ich dem ausbilder von meinem diabetes erzählt hab, darf ich nur noch ablage machen", DISCRIMINATION),
    # ... and what they must leave alone
    ("mein kollege macht mir immer die schnitte für die pause mit", None),
    ("er hält mir die tür auf und zeigt mir an der maschine alles", None),
    ("mit der staubmaske kann ich kaum atmen, muss ich die tragen?", None),
    ("ich hab epilepsie, muss ich das dem betrieb sagen?", None),
    ("wie viele tage urlaub hab ich, seit ich 18 bin?", None),
])
def test_the_wording_of_development_sets_7_and_8(text: str, expected: str | None) -> None:
    assert classify(text) == expected


def test_folding_handles_umlauts_repeats_and_punctuation() -> None:
    assert fold("Ich KANN nicht mehrrrr!!! Schläääägt") == "ich kann nicht mehr | schlagt"


def test_linear_time_on_adversarial_input() -> None:
    """The patterns must not backtrack: huge and odd inputs are decided quickly (input is cut at 2,000)."""
    for text in ("a" * 100_000, "mich " * 20_000, "ich will " * 10_000 + "nicht", "wegen meiner " * 8000,
                 "ä" * 50_000, "!" * 50_000, "x|" * 30_000):
        started = time.perf_counter()
        classify(text)
        assert time.perf_counter() - started < 0.5


# --- the action ----------------------------------------------------------------------------------------------


def _numbers(text: str) -> set[str]:
    return {re.sub(r"\s", "", n) for n in re.findall(r"\b(?:0800(?:\s?\d){7}|116\s?\d{3}|112)\b", text)}


@pytest.mark.usefixtures("actions_kb")
def test_crisis_help_comes_with_sourced_numbers_and_the_offer_of_a_human() -> None:
    msgs, events = run(ActionCrisisHelp(), tracker("ich will nicht mehr leben", "crisis"))
    assert responses(msgs) == ["utter_crisis_intro", None, "utter_crisis_handoff"]
    help_text = msgs[1]["text"]
    assert {"08001110111", "08001110222", "116111", "112"} <= _numbers(help_text)
    assert "Quelle:" in help_text and "Stand:" in help_text and "telefonseelsorge.de" in help_text
    assert msgs[2]["when"]  # when an adviser can answer (also outside office hours)
    assert events == []


@pytest.mark.usefixtures("actions_kb_without_tables")
def test_without_the_knowledge_base_the_numbers_still_go_out() -> None:
    msgs, _ = run(ActionCrisisHelp(), tracker("ich will nicht mehr leben", "crisis"))
    assert responses(msgs) == ["utter_crisis_intro", "utter_crisis_fallback", "utter_crisis_handoff"]
    assert "utter_technical_problem" not in responses(msgs)


def test_the_fallback_numbers_are_the_knowledge_bases() -> None:
    """utter_crisis_fallback (domain, used only when the knowledge base fails) repeats the article's numbers."""
    domain = yaml.safe_load((ROOT / "bot" / "domain" / "safety.yml").read_text(encoding="utf-8"))
    fallback = " ".join(v["text"] for v in domain["responses"]["utter_crisis_fallback"])
    articles = yaml.safe_load((ROOT / "knowledge_base" / "content" / "articles.yml").read_text(encoding="utf-8"))
    article = next(a for a in articles["articles"] if a["key"] == "krisenhilfe")
    assert _numbers(fallback) and _numbers(fallback) <= _numbers(article["summary"] + " " + article["body"])


# --- DIET alone saw a crisis: after the numbers, the article the question asked for (retrieval sure of it) --------

def _safety_net(t: Any) -> Any:
    t.latest_message["intent"][SAFETY_NET_KEY] = True
    return t


QUESTION = "Darf ich mit 17 in der Bäckerei schon um 4 Uhr morgens anfangen?"  # a rights question, no crisis
# strong words beside a question, not clearly closer to the article than to the crisis examples (CRISIS_MARGIN)
INJURY = "hab mich an der kreissäge geschnitten, hat voll geblutet, wer zahlt wenn ich deswegen krankgeschrieben bin?"


@pytest.mark.usefixtures("actions_kb")
def test_crisis_by_diet_alone_adds_the_sure_article_after_the_numbers() -> None:
    msgs, events = run(ActionCrisisHelp(), tracker(INJURY, "crisis"))
    assert responses(msgs) == ["utter_crisis_intro", None, "utter_faq_answer", "utter_crisis_handoff"]
    assert {"08001110111", "116111"} <= _numbers(msgs[1]["text"])  # the numbers first, always
    assert ("slot", "faq_key", "rechte_entgeltfortzahlung") in {
        (e["event"], e["name"], e["value"]) for e in events}


@pytest.mark.usefixtures("actions_kb")
def test_what_the_safety_patterns_saw_gets_only_the_help() -> None:
    msgs, events = run(ActionCrisisHelp(), _safety_net(tracker(QUESTION, "crisis")))
    assert responses(msgs) == ["utter_crisis_intro", None, "utter_crisis_handoff"] and events == []
    # a real crisis message: retrieval finds no article it is sure of, nothing is added
    msgs, _ = run(ActionCrisisHelp(), tracker("ich will nicht mehr leben", "crisis"))
    assert responses(msgs) == ["utter_crisis_intro", None, "utter_crisis_handoff"]


STRONG_WORDS = "der stress in der werkstatt bringt mich um, wie viele überstunden darf mein chef eigentlich verlangen?"


@pytest.mark.usefixtures("actions_kb")
def test_an_ordinary_question_diet_alone_took_for_a_crisis_gets_its_article_and_a_quiet_line() -> None:
    msgs, events = run(ActionCrisisHelp(), tracker(STRONG_WORDS, "crisis"))
    assert responses(msgs) == ["utter_faq_answer", "utter_crisis_gentle"]
    assert msgs[0]["title"].startswith("Überstunden")
    assert msgs[0]["buttons"][-1]["payload"] == "/request_human"  # a human is one tap away
    assert ("slot", "faq_key", "rechte_ueberstunden") in {(e["event"], e["name"], e["value"]) for e in events}


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize("text", [
    "ich will nicht mehr leben",
    # a question beside the crisis, closer to an article than to the crisis examples, but not by the margin
    "Ich halte es nicht mehr aus, mein Ausbilder schreit mich jeden Tag an und ich will mir was antun",
    INJURY,
])
def test_crisis_wording_by_diet_alone_keeps_the_help_first(text: str) -> None:
    msgs, _ = run(ActionCrisisHelp(), tracker(text, "crisis"))
    assert responses(msgs)[:2] == ["utter_crisis_intro", None] and responses(msgs)[-1] == "utter_crisis_handoff"


@pytest.mark.usefixtures("actions_kb")
def test_what_the_safety_patterns_saw_never_loses_the_help_to_an_article() -> None:
    msgs, _ = run(ActionCrisisHelp(), _safety_net(tracker(STRONG_WORDS, "crisis")))
    assert responses(msgs) == ["utter_crisis_intro", None, "utter_crisis_handoff"]


@pytest.mark.usefixtures("actions_kb_without_tables")
def test_when_the_check_for_an_ordinary_question_fails_the_help_goes_out() -> None:
    msgs, _ = run(ActionCrisisHelp(), tracker(STRONG_WORDS, "crisis"))
    assert responses(msgs) == ["utter_crisis_intro", "utter_crisis_fallback", "utter_crisis_handoff"]


@pytest.mark.usefixtures("actions_kb")
def test_discrimination_by_diet_alone_adds_the_sure_article_after_the_rights_article() -> None:
    from actions.topic_actions import ActionAnswerDiscrimination

    # close to the article on dismissal, but not by the wider margin: empathy, rights article, then that article
    text = "darf mein chef mich kündigen weil ich ein kopftuch trage"
    msgs, _ = run(ActionAnswerDiscrimination(), tracker(text, "ask_discrimination"))
    assert responses(msgs) == ["utter_discrimination", "utter_article", "utter_faq_answer"]
    assert "Diskrim" in msgs[1]["title"] and msgs[2]["title"].startswith("Kündigung durch den Betrieb")
    # what the safety patterns recognised: the rights answer only
    msgs, _ = run(ActionAnswerDiscrimination(), _safety_net(tracker("Mein Chef sagt, Ausländer raus",
                                                                    "ask_discrimination")))
    assert responses(msgs) == ["utter_discrimination", "utter_article"]


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize("text", [
    "Was antworte ich im Vorstellungsgespräch, wenn sie nach meinen Schwächen fragen?",
    "Welche Kleidung soll ich zum Vorstellungsgespräch anziehen?",
])
def test_an_ordinary_question_diet_took_for_discrimination_gets_its_article_and_the_rights_button(text: str) -> None:
    from actions.topic_actions import RIGHTS_BUTTON_TITLE, ActionAnswerDiscrimination

    msgs, events = run(ActionAnswerDiscrimination(), tracker(text, "ask_discrimination"))
    assert responses(msgs) == ["utter_faq_answer"] and "Vorstellungsgespräch" in msgs[0]["title"] + text
    assert msgs[0]["buttons"][0] == {"title": RIGHTS_BUTTON_TITLE, "payload": "/ask_discrimination"}
    assert msgs[0]["buttons"][-1]["payload"] == "/request_human"
    # the same message recognised by the safety patterns, or the rights button pressed: the rights answer
    msgs, _ = run(ActionAnswerDiscrimination(), _safety_net(tracker(text, "ask_discrimination")))
    assert responses(msgs)[:2] == ["utter_discrimination", "utter_article"]
    msgs, _ = run(ActionAnswerDiscrimination(), tracker("/ask_discrimination", "ask_discrimination"))
    assert responses(msgs) == ["utter_discrimination", "utter_article"]


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize("text", [
    "mein ausbilder nennt mich nur den ausländer und lässt mich die drecksarbeit machen",
    "weil ich ein kopftuch trage haben die mich beim vorstellungsgespräch gar nicht ernst genommen",
    "im vorstellungsgespräch wurde ich gefragt ob ich schwanger werden will, durfte der das fragen?",
])
def test_discrimination_that_sounds_like_an_faq_question_keeps_the_rights_answer(text: str) -> None:
    from actions.topic_actions import ActionAnswerDiscrimination

    msgs, _ = run(ActionAnswerDiscrimination(), tracker(text, "ask_discrimination"))
    assert responses(msgs)[:2] == ["utter_discrimination", "utter_article"]


@pytest.mark.usefixtures("actions_kb")
def test_a_rumour_to_check_that_diet_took_for_discrimination_gets_its_article_and_the_rights_button() -> None:
    from actions.topic_actions import RIGHTS_BUTTON_TITLE, ActionAnswerDiscrimination

    text = "Mein Chef sagt, die Berufsschulnoten sind egal. Stimmt das?"
    msgs, _ = run(ActionAnswerDiscrimination(), tracker(text, "ask_discrimination"))
    assert responses(msgs) == ["utter_faq_answer"] and "Berufsschule" in msgs[0]["title"]
    assert msgs[0]["buttons"][0]["title"] == RIGHTS_BUTTON_TITLE
    # without the question whether it is true, the wider margin applies: the rights answer
    msgs, _ = run(ActionAnswerDiscrimination(), tracker(text.replace(" Stimmt das?", ""), "ask_discrimination"))
    assert responses(msgs)[:2] == ["utter_discrimination", "utter_article"]


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize("text", [
    "Meine Freundin sagt, der Betrieb darf sie wegen ihres Kopftuchs ablehnen. Stimmt das?",
    "Mein Chef sagt, Ausländer bekommen bei uns weniger Ausbildungsvergütung, das sei normal. Stimmt das?",
])
def test_a_rumour_about_discrimination_keeps_the_rights_answer(text: str) -> None:
    from actions.topic_actions import ActionAnswerDiscrimination

    assert classify(text) == DISCRIMINATION  # the patterns see it: never replaced
    msgs, _ = run(ActionAnswerDiscrimination(), _safety_net(tracker(text, "ask_discrimination")))
    assert responses(msgs)[:2] == ["utter_discrimination", "utter_article"]
    # and even by DIET alone these stay closer to the discrimination examples than to any article
    msgs, _ = run(ActionAnswerDiscrimination(), tracker(text, "ask_discrimination"))
    assert responses(msgs)[:2] == ["utter_discrimination", "utter_article"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Mein Kumpel sagt, Azubis dürfen keinen Minijob machen. Stimmt das?", True),
    ("stimmt des echt dass man in der probezeit nicht krank werden darf", True),
    ("Ist das wahr, dass man mit Duldung keine Ausbildung machen darf?", True),
    ("Mein Chef sagt, Ausländer raus", False),
    ("Darf mein Chef das?", False),
])
def test_rumour_checks_are_recognised(text: str, expected: bool) -> None:
    from actions.faq_actions import is_rumour_check

    assert is_rumour_check(text) is expected


@pytest.mark.usefixtures("actions_kb_without_tables")
def test_the_caring_sentence_goes_out_even_without_the_knowledge_base() -> None:
    from actions.topic_actions import ActionAnswerDiscrimination

    msgs, _ = run(ActionAnswerDiscrimination(), tracker("Mein Chef sagt, Ausländer raus", "ask_discrimination"))
    assert responses(msgs) == ["utter_discrimination", "utter_technical_problem"]
