"""What the Telegram bridge itself says (everything else comes from Rasa's domain, in du or Sie).

These texts are about the channel (commands, privacy of this chat, technical states), so they stay here.
Telegram users are mostly students: "du". HTML parse mode: no ``<``/``&`` in these texts except tags.
"""

START_NOTE = (
    "Willkommen! 👋\n"
    "Kurz zum Datenschutz: Damit ich antworten kann, speichere ich den Verlauf dieses Chats. "
    "Ich brauche keinen Namen. Wer ihn sieht und wie lange er bleibt: /datenschutz. "
    "Deine Daten als Datei: /meinedaten. Alles löschen: /loeschen."
)

COMMANDS = (
    "<b>Befehle</b>\n"
    "/start – Begrüßung und was ich kann\n"
    "/hilfe – diese Übersicht\n"
    "/neustart – Gespräch neu beginnen\n"
    "/datenschutz – was gespeichert wird\n"
    "/meinedaten – alles Gespeicherte als Datei\n"
    "/loeschen – deinen Chat-Verlauf löschen\n\n"
    "Oder schreib einfach deine Frage, z. B. „Was verdient man als Elektroniker?“"
)

# BotFather / setMyCommands: shown in Telegram's command menu
COMMAND_MENU = (
    ("start", "Begrüßung und was ich kann"),
    ("hilfe", "Hilfe und Befehle"),
    ("neustart", "Gespräch neu beginnen"),
    ("datenschutz", "Was gespeichert wird"),
    ("meinedaten", "Meine gespeicherten Daten als Datei"),
    ("loeschen", "Meinen Chat-Verlauf löschen"),
)

PLEASE_TEXT = (
    "Bilder, Sticker, Sprachnachrichten und Dateien kann ich leider nicht lesen. "
    "Bitte schreib mir deine Frage als Text. 🙂"
)

BE_RIGHT_BACK = (
    "Ich bin gleich wieder da! Gerade hakt es bei mir technisch. "
    "Deine Nachricht ist gespeichert – ich antworte automatisch, sobald es wieder geht."
)

REFUSED = "Diese Nachricht konnte ich leider nicht verarbeiten. Bitte formulier sie noch einmal anders."

DELETE_CONFIRM = (
    "Soll ich deinen ganzen Chat-Verlauf löschen? Dazu gehören auch Gespräche mit der Beratung. "
    "Das kann man nicht rückgängig machen."
)
DELETE_YES = "Ja, alles löschen"
DELETE_NO = "Nein, behalten"
DELETED = "Erledigt: Dein Chat-Verlauf ist gelöscht. Wenn du wieder schreibst, fangen wir neu an."
DELETE_PENDING = ("Bei der Beratung ist dein Gespräch noch gespeichert, weil sie gerade nicht erreichbar ist. Es wird "
                  "dort automatisch gelöscht, sobald sie wieder erreichbar ist.")
DELETE_CANCELLED = "Alles klar, ich lösche nichts."
DELETE_FAILED = (
    "Das Löschen hat gerade nicht geklappt, weil bei mir etwas technisch hakt. "
    "Bitte versuch /loeschen in ein paar Minuten noch einmal."
)

BUTTON_EXPIRED = "Dieser Knopf ist nicht mehr aktuell. Schreib mir deine Frage einfach als Text."

EXPORT_FILENAME = "meine-daten.json"
EXPORT_CAPTION = "Deine Daten aus diesem Chat (JSON-Datei)."
