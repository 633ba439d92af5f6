"""Recognising messages that need a human first: crisis (suicidal thoughts, self-harm, violence or abuse at home or
at work, acute distress) and discrimination.

This is a safety net that does not depend on the statistical NLU: the Rasa component
``rasa_plugins.safety_component.SafetyOverride`` (last in bot/config.yml) sets the intent ``crisis`` or
``ask_discrimination`` with confidence 1.0 when a pattern below matches, so that the crisis reply wins over every
other intent and over an active form. DIET also learns both intents from examples (nlu_data/safety.yml); the
patterns catch what it misses.

How the patterns are written: on a folded text (lower case, ä/ae → a, ö/oe → o, ü/ue → u, ß → ss, letters repeated
three or more times once, punctuation → `` | `` so that a pattern can require the end of a clause). They are
linear (no nested quantifiers; input cut at ``MAX_CHARS``). They aim at first-person or reported harm
("er schlägt mich", "meine Freundin wird angefasst") and avoid idioms ("das bringt mich um", "ich könnte ihn
töten", "die Prüfung lief schlecht"). They were written from the development sets (``tests/nlu/dev*/``) and the
authors' own examples; the held-out sets in ``tests/nlu/heldout*/`` only measure them. Words are written as the
folding leaves them ("abgehaun", "gescheurt", "sexul", "fraun", "quer"): a pattern with "abgehauen" never matches.

Standard library only: runs inside the Rasa server (Python 3.10) and is tested from the application side.
"""

from __future__ import annotations

import re

CRISIS = "crisis"
DISCRIMINATION = "ask_discrimination"
MAX_CHARS = 2000  # the decisive words of a crisis message are not hidden behind 2,000 characters of text

_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "é": "e", "è": "e", "á": "a", "à": "a"})
_REPEATS = re.compile(r"(\w)\1{2,}")
_PUNCT = re.compile(r"[.!?;:…]+|,")
_NOT_WORD = re.compile(r"[^\w|]+")
_SPACES = re.compile(r"\s+")

ME = r"(?:mich|mi|mir)"
I = r"(?:ich|i|ick|ik)"  # noqa: E741 - the pronoun
NOT = r"(?:nicht|nich|net|nit|nimmer|nimma|ned)"
DEGREE = r"(?:(?:einfach|echt|wirklich|so|voll|total|gar|ganz|halt|eh|auch|langsam)\s)*"
CLAUSE_END = r"(?:\s\||$|\s(?:und|ich|i|alles|echt|mehr|so)\b)"

_CRISIS_PATTERNS = [
    # suicidal thoughts
    r"\b(?:suizid(?!pravention)|selbstmord|freitod|lebensmud|suicid|suicide|kill myself|want to die)",
    rf"\bbringe?\s{ME}\s(?:\w+\s){{0,2}}um\b",
    rf"\b{ME}\s(?:selbst\s|einfach\s|jetzt\s)?(?:umbringen|umzubringen|toten|erhangen|aufhangen|vergiften|erschiessen)",
    r"\b(?:mein|mir\sdas|das)\sleben\s(?:zu\s)?(?:beenden|nehmen)",
    rf"\b{NOT}\s(?:mehr\s)?(?:leben|lebn|existieren|aufwachen)\s(?:will|mochte|mag|wollen)\b",
    rf"\b(?:will|mochte|mag|mocht|wurd|wurde|werde)\s(?:\w+\s)?{NOT}\smehr\s(?:leben|lebn|da\ssein|existieren|aufwachen|hier\ssein)",
    r"\b(?:will|mochte|mocht|wunsch\w*)\s(?:\w+\s){0,2}(?:sterben|tot\ssein|tot)\b",
    r"\blieber\stot\b|\bnie\s(?:mehr|wieder)\saufwachen\b|\babschiedsbrief",
    r"\bbesser\s(?:wenn|wen|wan)\s(?:ich|i)\s(?:\w+\s)?(?:nicht|nich|net)\smehr\s(?:da|hier|leben|lebe|lebte)\b",
    r"\bleben\s(?:hat|macht|ergibt)\s(?:\w+\s)?keinen\ssinn",
    r"\bkeinen?\s(?:sinn|bock|lust|kraft|grund)\smehr\s(?:zu\sleben|am\sleben|auf\s(?:das\s|mein\s|dieses\s)?leben|zum\sleben)",
    r"\b(?:seh|sehe|hab|habe|gibt|gibts)\s(?:\w+\s)?keinen?\s(?:sinn|ausweg)\smehr\b",
    r"\bkeinen?\sausweg\smehr\b|\balles\s(?:ist\s)?(?:so\s)?sinnlos\b",
    r"\b(?:will|mochte|werde)\s(?:einfach\s)?(?:alles|allem)\s(?:ein\s)?(?:ende|beenden)\b|\bein\sende\s(?:machen|setzen)\b",
    r"\b(?:von\s(?:der|einer)\sbrucke|vor\s(?:den|einen)\szug|vom\sdach|aus\sdem\sfenster)\s(?:\w+\s)?(?:spring|werf|leg)",
    r"\b(?:alle|ganze\spackung|ne\spackung|eine\spackung|die\sganzen)\s(?:meine\s)?(?:tabletten|pillen)\b",
    r"\b(?:niemand|keiner)\s(?:wurde|wird|wurd|tat)\smich\svermissen\b|\bohne\smich\sbesser\sdran\b",
    r"\b(?:nicht|nie)\s(?:mehr|wieder)\saufzuwachen\b|\bmorgen\snoch\saufwachen\b",
    r"\btabletten\s(?:gesammelt|gehortet|gebunkert)|\bwie\sviele\s(?:tabletten|pillen)\s(?:\w+\s){0,3}(?:braucht|muss|sterben|tot)",
    r"\bsich\s(?:\w+\s){0,2}(?:etwas|was|wat)\san(?:zu)?tu[nt]\b|\bsich\s(?:selbst\s)?(?:umbringen|umzubringen|das\sleben\s(?:zu\s)?nehmen)",
    r"\b(?:steh|stehe|sitz|sitze)\s(?:\w+\s){0,2}(?:auf|an)\s(?:der|einer|dem|den)\s(?:brucke|dach|gleis\w*|klippe|bahnsteigkante)\b",
    r"\bweg\s(?:\|\s)?(?:\w+\s){0,3}fur\simmer\b|\bfur\simmer\s(?:weg|einschlafen|verschwinden)\b",
    r"\babschieds(?:brief|nachricht|video|text)\w*",
    r"\b(?:uberlegt|geplant|plane|plan)\s(?:\w+\s){0,3}wie\sich\ses\s(?:mache|beende|tu)\b",
    # broader wording (second development set)
    r"\b(?:unalive|kms|kill\smyself|hurt\smyself|end\sit\sall)\b|\bbringt\ssich\sum\b",
    r"\bsich\s(?:\w+\s){0,2}(?:erschiessen|erhangen|aufhangen|vergiften)\b|\bsich\s(?:heute\s)?das\sleben\snimmt\b",
    r"\bnicht\smehr\s(?:lang\s|lange\s)?(?:da|hier)\s(?:bin|sein|ist|bin\swenn)\b|\bbald\snicht\smehr\s(?:da|hier)\b",
    r"\b(?:einfacher|besser)\s(?:dran\s)?ohne\smich\b|\bsterben\s(?:mochte|will|mocht|wollen)\b",
    r"\bder\sletzte\stag\b|\b(?:bald|ab\smorgen|dann|morgen)\s(?:ist\s)?(?:eh\s)?(?:alles|es)\svorbei\b",
    r"\baufhoren\szu\sexistieren\b|\bseil\s(?:\w+\s){0,3}(?:schrank|liegen|bereit)\b|\bmethode\szu\ssterben\b",
    r"\balle\sauf\seinmal\b|\b(?:paracetamol|ibus?|schlaftabletten)\b(?:\s\w+){0,8}\s(?:zu\sviel|aufwacht|aufwach|sterben)\b",
    r"\b(?:ibus|tabletten|pillen)\sgenommen\b(?:\s\w+){0,5}\saufwach",
    r"\bsammel\w*\s(?:\w+\s){0,3}tabletten\b|\bverschenkt\s(?:\w+\s){0,3}sachen\b",
    r"\bschneide\smich\b|\bschneide\smir\s(?:\w+\s)?(?:in\s)?(?:die\s|den\s|meine?n?\s)?(?:arme?|haut|beine?|handgelenke?|pulsadern?)\b|\b(?:wieder|absichtlich|selber|selbst)\s(?:\w+\s)?geschnitten\b|\bhab\s(?:wieder\s)?geschnitten\b|"
    r"\bklinge\b|\bschnittwunden|\bfrischen\sschnitten|"
    r"\brasierkling\w*|\bnarben\b",
    r"\bmir\s(?:\w+\s){0,3}(?:wehgetan|weh\sgetan)\b|\bsv\sdruck\b|\bruckfall\b",
    r"\b(?:mich|mir|sich)\s(?:(?!an\b|am\b|beim\b|bei\b)\w+\s){0,3}(?:verbrenne|verbrannt|aufkratzen|aufgekratzt|blutig)\b|\bverbrenn\w*\s(?:ich\s)?(?:mich|mir)\s(?:\w+\s){0,3}(?:zigarett\w*|feuerzeug|kerze\w*|bugeleisen)\b|\bbis\ses\sblutet\b",
    r"\bbis\s(?:die\s)?(?:knochel|haut)\s(?:aufplatz|blut)\w*|\bbis\ses\s(?:in\smeinem\skopf\s)?ruhig\swird\b",
    r"\b(?:gibt|gibts)\s(?:es\s)?(?:schlage|prugel|hau)\b|\b(?:schlage|prugel)\b",
    r"\b(?:schliess\w*|sperr\w*)\s(?:mich|uns|sie)\s(?:\w+\s){0,5}ein\b|\beingeschlossen\b|\beingesperrt\b|\bgefesselt\b",
    r"\b(?:hits|hit|kicked|kicks|beats|touches|touched|abuses)\sme\b|\bblackmail\w*",
    r"\b(?:messer|hammer|waffe|pistole)\s(?:\w+\s){0,2}bedroht\b|\babstechen\b|\bsticht\s\w+\sab\b|\bgedroht\s(?:mich|mir)\b",
    r"(?<!mich\s)\bohrfeige\w*|\bzusammen(?:geschlagen|getreten)\b|\bam\shals\sgepackt\b|\ban\sden\shaaren\s(?:gezogen|fest)",
    r"\bheiraten\smuss\b|\bmuss\s(?:\w+\s){0,2}heiraten\b|\bzwangs(?:heirat|ehe)\w*|\bpass\s(?:versteckt|weggenommen|abgenommen)\b",
    r"\bwirft\s(?:\w+\s){0,3}(?:nach\smir|an\sden\skopf)\b|\bam\skopf\sgetroffen\b|\bwo\smeine\sfamilie\swohnt\b",
    r"\bmit\s(?:ihm|ihr|dem\schef)\s(?:schlafe|schlafen)\b|\bnudes?\b|\bpenis\b|\bvideos?\svon\smir\b|\bohne\st\s?shirt\b",
    r"\bheimlich\sgefilmt\b|\bversteckte\skamera\b|\bans\sbein\sgefasst\b|\bgekusst\sobwohl\b|\bgezwungen\b|\bins\sgetrank\b",
    r"\bsachen\smit\smir\b|\bkommt\snachts\sin\smein\szimmer\b|\bniemandem\ssagen\sdarf\b|\bunter\sden\srock\b",
    r"\bwo\s(?:ich|i)\s(?:heute?\s)?(?:nacht\s)?(?:schlafen|pennen|hin)\s(?:soll|kann)\b|\b(?:bin|sind)\s(?:von\szuhause\s)?abgehaun\b",
    r"\bhau\sheute\snacht\sab\b|\bbreakdown\b|\bcant\sbreathe\b|\bhore?\s(?:\w+\s){0,3}stimmen\b|\bbreche\s(?:\w+\s){0,2}zusammen\b",
    r"\bnach\sjedem\sessen\b|\bnicht\smehr\skonnen\b|\bkeine\swohnung\smehr\b",
    # self-harm
    # "ritzen" only with the person in the clause: glass, gravestones and school desks are ritzed too
    r"\b(?:mich|mir|sich|ich|i|wieder|arme?|haut|beine?)\s(?:\w+\s){0,3}(?:ritz|ritze|ritzen|ritzt|geritzt|ritzte)\b|"
    r"\b(?:ritz|ritze|ritzen|ritzt|ritzte)\s(?:\w+\s){0,4}(?:mich|mir|sich|wieder|arme?|haut|beine?)\b|\bselbstverletz|\bsvv\b",
    rf"\b{ME}\s(?:selbst\s)?(?:etwas|was|wat|wieder\swas)\san(?:zu)?tun\b",
    rf"\b{ME}\s(?:selbst\s)?(?:weh\s?(?:zu\s)?tun|wehtun|verletzen|schneiden|verbrennen)\b",
    r"\btu\s(?:ich\s)?mir\s(?:selbst\s|selber\s|wieder\s)?weh\b",
    r"\b(?:arme?|pulsadern?|handgelenke?)\s(?:\w+\s)?(?:aufschneiden|aufgeschnitten|ritzen|geschnitten)",
    # acute distress
    rf"\b{I}\s(?:will|kann|mag|schaff|schaffs|pack|packs)\s(?:das\s|es\s|alles\s)?{DEGREE}{NOT}\s(?:mehr|mer){CLAUSE_END}",
    r"\b(?:schlaf|schlafe|penn|penne)\s(?:\w+\s){0,4}(?:draussen|auf\sder\sstrasse|im\spark|unter\sder\sbrucke)\b|\bobdachlos",
    r"\b(?:ess|esse)\s(?:\w+\s){0,3}kaum\snoch\b|\b(?:kotz|kotze)\s(?:alles|immer|danach)",
    rf"\b(?:halt|halte|ertrag|ertrage)\s(?:es|das|dat|alles)\s(?:alles\s|hier\s|so\s)?{DEGREE}{NOT}\smehr\saus\b",
    r"\bpanikattack",
    # violence at home or at work
    rf"\b(?:schlagt|schlug|schlagen|verprugelt|prugelt|tritt|trat|wurgt|wurgte|ohrfeigt|schubst|boxt|haut)\s{ME}\b(?!\s(?:\w+\s)?um\b)",
    rf"\b{ME}\s(?:\w+\s){{0,7}}(?:geschlag(?:e)?n|verprugelt|misshandelt|getreten|gewurgt|eingesperrt|angegriffen|geohrfeigt|geschubst|gestossen|geschuttelt|festgehalten|gesperrt)\b",
    r"\b(?:mir|ihr|ihm)\s(?:\w+\s)?eine\s(?:geknallt|gescheurt|gehaun|runtergehaun|verpasst|reingehaun)\b",
    r"\bbringt\s(?:mich|dich|sie)\sum\s(?:\|\s)?wenn\b",
    rf"\b{I}\s(?:werde|wurde|werd|wurd|bin)\s(?:\w+\s){{0,3}}(?:geschlagen|verprugelt|misshandelt|getreten|eingesperrt|bedroht|angegriffen)\b",
    r"\b(?:schlagt|schlagen|verprugelt|misshandelt)\s(?:\w+\s){0,2}(?:meine?|meinen|uns)\s(?:freundin|schwester|bruder|mutter|mama|kinder|sohn|tochter)\b",
    r"\b(?:er|sie|bruder|schwester|freundin|freund|mutter|mama|kind|kinder|tochter|sohn|kollegin|kollege)\s(?:wird|wurde|werden|wurden)\s"
    r"(?:\w+\s){0,3}(?:geschlagen|verprugelt|misshandelt|missbraucht|eingesperrt|bedroht|angefasst|begrapscht)\b",
    r"\bgewalt\b(?:\s\w+){0,6}\s(?:zuhause|zu\shause|daheim|familie|vater|papa|mutter|mama|eltern|stiefvater|freund|chef|ausbilder|meister|betrieb|arbeit|kollegen?)\b",
    r"\b(?:zuhause|zu\shause|daheim|vater|papa|mutter|mama|eltern|stiefvater|chef|ausbilder|meister)\s(?:\w+\s){0,6}gewalt\b",
    rf"\b(?:bedroht|droht)\s{ME}\b(?!\s(?:\w+\s)?mit\s(?:der\s|einer\s)?(?:kundigung|abmahnung|rauswurf|entlassung|kundigen))",
    r"\bangst\s(?:vor|das)\s(?:meinem|meiner|mein|meinen)\s(?:vater|papa|mutter|mama|stiefvater|stiefmutter|eltern|freund)\b",
    # sexual harassment and abuse
    r"\b(?:fasst|fasste|fassen|grapscht|grabscht|betatscht|begrapscht|begrabscht|befummelt|fummelt)\s(?:\w+\s)?(?:mich|mir|sie|ihr)\b",
    r"\b(?:mich|mir|sie|ihr)\s(?:\w+\s){0,8}(?:angefasst|begrapscht|begrabscht|betatscht|befummelt)\b",
    r"\bgegen\s(?:meinen|ihren|seinen)\swillen\b|\bzwingt\s(?:mich|sie|ihn)\s(?:zu|zum)\s(?:sachen|dingen|sex)",
    r"\bnachts\s(?:\w+\s){0,3}(?:nicht|nie)\sin\sruhe\b|\b(?:nicht|nie)\sin\sruhe\s(?:\w+\s){0,2}nachts\b",
    r"\bwenn\s(?:ich|sie)\snicht\smit\s(?:ihm|ihr)\s(?:ausgehe|ausgeht|schlafe|schlaft|ins\sbett)",
    r"\bsexul\w*\s(?:ubergriff|missbrauch|gewalt|bedrang|notig)",
    r"\b(?:ubergriffig|missbraucht|missbrauch|vergewaltig\w*|nacktbild\w*|nacktfoto\w*)\b",
    r"\banzugliche?\w*\s(?:spruche|kommentare|bemerkungen|nachrichten|fotos|bilder)",
    # wider wording, from the third development set (tests/nlu/dev3/safety_dev3.yml)
    rf"\bbringe?\s{I}\s{ME}\s(?:\w+\s){{0,2}}um\b|\bwenn\ses\smich\s(?:\w+\s)?(?:nicht|nie)\s(?:mehr\s)?gabe\b",
    r"\b(?:bin|sei)\s(?:\w+\s){0,3}(?:nur\s)?(?:eine|ne)\slast\b|\bohne\smich\s(?:\w+\s)?(?:wars|ware|wurde)\s(?:\w+\s)?(?:leichter|besser|einfacher)\b",
    r"\b(?:nicht|nie)\s(?:mehr|wieder)\saufwache\b|\bschluss\smit\sallem\b|\bschluss\smachen\smit\s(?:dem|meinem)\sleben\b",
    r"\bsterben\s(?:war|ware|ist)\s(?:\w+\s)?(?:einfacher|besser|leichter)\b|\b(?:denk|denke|dachte)\s(?:\w+\s){0,2}ans\ssterben\b",
    r"\b(?:messer|klinge|seil|strick|tabletten)\s(?:\w+\s){0,3}neben\smir\b|\bangst\sum\s(?:mein|unser|ihr|sein)\sleben\b",
    rf"\b(?:war|ware)\s{I}\s(?:\w+\s){{0,2}}(?:nicht|nich)\smehr\s(?:da|hier)\b|\bbrauch\s(?:ich\s)?(?:eh\s)?bald\s(?:nicht|nichts)\smehr\b",
    r"\b(?:alles|meine\ssachen)\s(?:\w+\s){0,3}verschenkt\b|\bverschwinden\s(?:\w+\s){0,3}(?:nie\s(?:mehr|wieder)\sauftauchen|fur\simmer)\b",
    r"\bgrund\smehr\s(?:\w+\s)?aufzustehen\b",
    r"\bzigarett\w*\s(?:\w+\s){0,4}(?:arm|armen|haut|hand|bein|beinen|handgelenk\w*)\b|\bschnitte\s(?:am|an\sden|an\smeinen)\s(?:arm|armen|bein|beinen|handgelenk)",
    r"\bschlag\w*\s(?:mich|mir)\s(?:selber|selbst)\b|\b(?:tabletten|pillen)\sgeschluckt\b|\bzu\sviele?\s(?:tabletten|pillen)\b",
    r"\b(?:magersucht|magersuchtig|bulimie|anorexie|essstorung|fressattacke)\w*|\bfinger\sin\sden\shals\b|\bdarf\snicht\szunehmen\b",
    r"\babfuhrmittel\b|\bkalorie\w*\s(?:\w+\s){0,4}hasse\smich\b|\bperiode\s(?:ist\s)?(?:schon\s)?weg\b",
    r"\b(?:ess|esse|iss|isst)\s(?:\w+\s){0,4}nichts\smehr\b|\bgibt\smir\s(?:\w+\s){0,3}nichts\szu\sessen\b",
    r"\b(?:mich|sie)\s(?:\w+\s){0,5}verheiraten\b|\bsoll\s(?:einen|eine|den|die)\s(?:\w+\s){0,2}heiraten\b",
    r"\b(?:zuhause|zu\shause|daheim)\s(?:\w+\s){0,4}geschlagen\b|\bblau[nr]?\sflecken?\b(?:\s\w+){0,4}\s(?:vater|papa|mutter|mama|stiefvater|freund|mann|chef|ausbilder|meister|bruder|eltern)\b",
    r"\bvon\s(?:ihrem|seinem|ihrer|seiner|meinem|meiner|dem|der|den)\s\w+\s(?:\w+\s)?(?:geschlagen|verprugelt|misshandelt|missbraucht|angefasst|begrapscht|getreten|gewurgt)\b",
    r"\bvom\s\w+\s(?:\w+\s){0,2}(?:geschlagen|verprugelt|misshandelt|missbraucht|angefasst|begrapscht|getreten|gewurgt)\b",
    r"\b(?:sie|er|ich|wir|mama|mutter)\s(?:\w+\s)?geschlagen\s(?:wird|werde|wurde)\b|\bgeschlagen\shat\s(?:er|sie)\smich\b",
    rf"\b(?:werde|werd|wurde|wurd)\s{I}\s(?:\w+\s){{0,4}}(?:geschlagen|verprugelt|misshandelt|getreten|eingesperrt|bedroht|angegriffen)\b",
    r"\bmit\sabsicht\s(?:\w+\s){0,6}(?:gehaun|geschlagen|getreten|geschubst|verletzt)\b|\bnach\smir\s(?:geworfen|geschlagen|getreten)\b",
    r"\b(?:am|beim)\s(?:kragen|hals|arm|nacken)\s(?:\w+\s)?gepackt\b|\bgegen\s(?:den|die|das)\s\w+\s(?:gedruckt|geschubst|gestossen|geknallt)\b",
    rf"\bschlagt\s(?:er|sie|der\s\w+|die\s\w+)\s{ME}\b|\bhandgreiflich\w*|\w*geschubst\b|\bin\sdie\secke\sgedrangt\b",
    r"\bmit\s(?:dem|einem|der|einer)\s(?:messer|hammer|schraubenschlussel|werkzeug|schere|cutter|stock|gurtel|waffe|pistole|flasche)\s(?:\w+\s)?(?:bedroht|geschlagen|gedroht|verletzt|angegriffen)\b",
    r"\b(?:meinen|meine|mein)\s(?:arm|hand|kopf|gesicht)\s(?:\w+\s){0,4}(?:gedruckt|geschlagen|gestossen)\b",
    r"\bmich\s(?:(?!kundig|abmahn|rauswurf|entlass)\w+\s){0,6}bedroht\b|\bgedroht\s(?:\w+\s){0,4}(?:was|etwas)\san(?:zu)?tun\b",
    r"\bhalt\w*\s(?:mich|sie)\sfest\b|\blasst\s(?:mich|uns)\snicht\s(?:gehen|raus|nach\shause)\b",
    r"\b(?:chef|chefin|ausbilder|ausbilderin|meister|geselle|kollege|vater|papa|stiefvater|mutter|mama|freund|mann|bruder|lehrer|trainer)\s(?:\w+\s){0,6}(?:schlagt|prugelt|verprugeln)\b(?!\s(?:\w+\s)?vor\b)",
    r"\bverprugeln\s(?:mich|uns)\b",
    r"\b(?:an\s)?(?:den|meinen|meine|die|meinem|am)\s(?:po|hintern|arsch|brust|brusten|busen|oberschenkel|schritt)\s(?:\w+\s)?(?:gefasst|gegrapscht|gegrabscht|angefasst|betatscht|begrapscht|gelangt)\b",
    r"\bheimlich\s(?:\w+\s){0,4}(?:gefilmt|fotografiert)\b|\bumkleide\s(?:\w+\s)?gefilmt\b|\beklige\s(?:sachen|nachrichten|bilder|fotos|dinge|spruche)\b",
    r"\b(?:will|wollte|mochte)\ssich\s(?:\w+\s)?privat\s(?:mit\smir\s)?treffen\b|\bwas\s(?:er|sie)\smit\smir\s(?:\w+\s)?machen\s(?:will|wurde|mochte)\b",
    r"\brum(?:gemacht|gefummelt|gefasst)\b|\blauft\smir\s(?:\w+\s){0,3}nach\b|\berpress\w*\s(?:mich|sie|uns)\b|\b(?:mich|sie)\s(?:\w+\s){0,3}erpresst\b",
    r"\bko\stropfen|\bkotropfen|\bzum\ssex\b|\bsex\s(?:\w+\s){0,2}(?:gezwungen|zwingt)\b",
    # wider wording, from development set 5 (tests/nlu/dev5/safety_dev5.yml)
    r"\bsich\s(?:\w+\s){0,3}(?:umbringt|umgebracht)\b|\bweiter\s?zu\s?leben\b|\bweiterleben\b",
    r"\b(?:werf|werfe|schmeiss|schmeisse|leg|lege)\s(?:mich|mi)\s(?:\w+\s){0,2}vor\s(?:den|die|einen|nen|ne|das)\s(?:zug|(?:u\s|s\s)?bahn|auto|lkw|laster|bus)\b",
    rf"\b(?:will|mochte|mag|mocht|wurd|wurde|werde)\s(?:\w+\s){{2,3}}{NOT}\smehr\s(?:leben|aufwachen|da\ssein|existieren)\b",
    rf"\b(?:hoffe|hoff|wunsch\w*|will)\s(?:\w+\s){{0,3}}wach\w*\s(?:\w+\s){{0,2}}{NOT}\s(?:mehr|wieder)\sauf\b",
    r"\bwenn\w*\s(?:\w+\s){0,3}(?:zu\sviel|zu\sschlimm|nicht\smehr|schlimm)\s(?:\w+\s){0,3}schneid\w*\s(?:ich\s)?mich\b|\b(?:i\scut|cut\smyself|cutting\smyself)\b",
    r"\b(?:damit|um)\s(?:ich\s)?(?:\w+\s){0,3}(?:was|etwas)\s(?:anderes\s)?(?:fuhl|fuhle|spur|spure|zu\sfuhlen|zu\sspuren)\b",
    r"\bgegen\sdie\swand\s(?:\w+\s){0,3}bis\b|\bbestraf\w*\s(?:ich\s)?(?:mich|mir)\b",
    r"\babsichtlich\s(?:\w+\s){0,6}(?:eingeklemmt|verbrannt|verbruht|verletzt|gebrochen|geschlagen|gestossen|kotz\w*|erbrech\w*)\b"
    r"|\b(?:verbrannt|verletzt|geschnitten|eingeklemmt|verbruht)\s(?:\|\s)?(?:\w+\s){0,2}nicht\saus\sversehen\b",
    r"\bverletz\w*\s(?:ich\s)?(?:mich|sich)\s(?:\w+\s){0,4}selbst\b|\b(?:kotz|kotze)\s(?:\w+\s){0,4}absichtlich\b",
    r"\b(?:vom|mit\sdem)\sgurtel\b|\b(?:messer|klinge|waffe|pistole)\s(?:\w+\s){0,3}(?:an\sden\shals|vors\sgesicht|vor\sdas\sgesicht|an\sden\skopf|an\sdie\skehle)\b",
    r"\b(?:wirft|werfen|schmeisst|schmeissen)\s(?:\w+\s){0,5}nach\smir\b|\bhaut\s(?:er|sie)\s(?:uns|mich)\b(?!\s(?:\w+\s)?um\b)",
    r"\b(?:hat|haben)\s(?:mir|ihr|ihm)\s(?:(?!beim\b|aus\b|versehentlich\b)\w+\s){0,3}(?:die\snase|den\sarm|den\skiefer|die\srippen?|den\sfinger|die\shand|einen\szahn|zahne)\s(?:gebrochen|ausgeschlagen|angebrochen)\b",
    r"\bgeohrfeigt\b|\bvom\s(?:gerust|dach)\s(?:zu\s)?(?:schubsen|stossen|werfen)\b|\bpackt\s(?:mich|sie|ihn)\s(?:am|an\sden|beim)\s(?:nacken|hals|kragen|haaren)\b",
    r"\bbricht\s(?:mir|dir|ihr|ihm)\s(?:\w+\s){0,2}(?:finger|knochen|beine?|arme?|nase|genick)\b",
    r"\b(?:zur|als)\sstrafe\b(?:\s\w+){0,8}\sohne\s(?:sicherung|schutz\w*|handschuhe|helm)\b|\bohne\s(?:sicherung|schutz\w*|handschuhe|helm)\b(?:\s\w+){0,8}\s(?:zur|als)\sstrafe\b",
    r"\b(?:fotos|bilder|videos)\svon\smir\s(?:\w+\s){0,4}(?:umkleide|dusche|toilette|klo)\b|\bwill\s(?:\w+\s){0,2}(?:bilder|fotos)\svon\s(?:ihr|mir|ihm)\b|\bdick\s?pics?\b",
    r"\b(?:greift|grapscht|fasst|langt)\s(?:mir|ihr)\s(?:\w+\s){0,3}an\s(?:die|den|meine?n?|ihre?n?)\s(?:brust|busen|po|hintern|arsch|oberschenkel|schritt)\b",
    r"\bdruckt\ssich\s(?:\w+\s){0,4}an\s(?:mich|sie)\b|\b(?:keeps\s)?touching\sme\b",
    r"\b(?:zuhause|zu\shause|daheim)\s(?:ist\s)?(?:es\s)?(?:\w+\s)?nicht\s(?:mehr\s)?sicher\b|\btrau\w*\s(?:mich\s)?(?:\w+\s)?nicht\s(?:nach\shause|heim)\b(?!\s(?:\w+\s)?zu\s)",
    r"\bvor\sdie\stur\sgesetzt\b|\b(?:pack|packe)\s(?:\w+\s){0,3}(?:tasche|sachen|rucksack)\s(?:\w+\s){0,2}(?:hau|haue)\sab\b",
    r"\blauft\smir\s(?:\w+\s){0,5}hinterher\b|\bdie\snacht\s(?:\w+\s)?(?:uberstehen|uberleben|uberstehe|uberlebe)\b",
    # wider wording, from development set 7 (tests/nlu/dev7/safety_dev7.yml)
    r"\bstrick\s(?:\w+\s){0,2}(?:gekauft|besorgt|geholt|bereit|dabei|geknupft)\b|\b(?:baum|ast|balken|haken)\s(?:\S+\s){0,5}(?:stabil|fest)\sgenug\b",
    r"\b(?:damit|dass)\s(?:man|ich|i)\s(?:\w+\s){0,2}(?:nicht|nich)\s(?:mehr\s)?uberleb\w*|\b(?:damit|dass)\ses\s(?:sicher\s)?reicht\b(?:\s\S+){0,6}\s\w*(?:tabletten|pillen)\b|\w*(?:tabletten|pillen)\b(?:\s\S+){0,6}\s(?:damit|dass)\ses\s(?:sicher\s)?reicht\b",
    r"\buberleg\w*\s(?:\w+\s){0,2}(?:zu\s)?(?:springen|runterzuspringen)\b|\b(?:dach|brucke|balkon|hochhaus|fenster)\s(?:\w+\s){0,6}(?:zu\s)?springen\b",
    r"\bnachste\sjahr\s(?:\w+\s)?(?:nicht|nie)\s(?:mehr\s)?erleb\w*|\b(?:heute\snacht|heut\snacht|morgen|bald)\s(?:ist\s)?(?:es|alles)\s(?:\w+\s)?vorbei\b",
    r"\b(?:erleichtert|froh|besser\sdran)\s(?:\w+\s){0,2}wenn\s(?:ich|i)\s(?:\w+\s)?(?:weg|tot|nicht\smehr\sda)\b|\bnie\s(?:mehr|wieder)\saufstehen\b|\bschritt\snach\svorne?\b(?:\s\S+){0,6}\s(?:zug|gleis|bahn)|\b(?:zug|gleis|bahn)\b(?:\s\S+){0,14}\sschritt\snach\svorne?\b|\bvor\s(?:den|einen|nen|die)\s(?:zug|bahn|u\sbahn|s\sbahn)\s(?:zu\s)?(?:gehen|springen|laufen)\b",
    r"\bmich\s(?:\w+\s){0,2}(?:ein|das|der|nen|n)\s(?:auto|zug|lkw|bus|laster)\s(?:\w+\s)?(?:erwischt|uberfahrt|uberrollt)\b",
    r"\bangst\s(?:\w+\s){0,2}(?:dass|das)\s(?:ich|i)\s(?:\w+\s)?sterb\w*|\bsleep\swith\s(?:him|her)\b|\bthrows?\s(?:\w+\s){0,2}at\sme\b|\bon\sthe\sstreet\b|\b(?:dont|do\snot)\swant\sto\slive\b|\bwant\sto\slive\sanymore\b",
    r"\b(?:paracetamol|ibus?|\w*tabletten)\b(?:\s\S+){0,8}\s(?:ganze|ne|eine|volle)\spackung\b|\bsterben\s(?:\S+\s){0,4}(?:zu\sviele?\s)?(?:paracetamol|\w*tabletten|pillen)\b",
    r"\bwie\s(?:ich|i)\s(?:\S+\s){0,2}(?:alles|es|mein\sleben)\s(?:beenden|beende)\b|\b\w*tabletten\s(?:\S+\s){0,3}(?:zur\sseite\sgelegt|bereitgelegt|bereit\sgelegt|versteckt)\b",
    r"\bnicht\sverdient\szu\s(?:essen|leben)\b|\bhungere\b|\b(?:ess|esse)\s(?:\w+\s){0,3}(?:nix|nichts)\smehr\b|\bfrische\w*\sschnitt\w*|\bbis\s(?:sie|er|es)\sblutet\b",
    r"\b(?:ausrede|verstecken|verheimlich\w*)\b(?:\s\w+){0,10}\s(?:pflaster|verbande?|wunden|narben|lange\sarmel)\b|\b(?:pflaster|verbande?|narben|lange\sarmel)\b(?:\s\w+){0,10}\sausrede\b",
    r"\b(?:eltern|vater|papa|mutter|mama|familie|stiefvater|stiefmutter|wohngruppe)\s(?:\w+\s){0,4}(?:rausgeschmissen|rausgeworfen|rausgeschmissn|vor\sdie\stur)\b|\b(?:von\s(?:zu\s?hause|daheim)|aus\sder\s(?:wg|wohngruppe|einrichtung))\s(?:\w+\s)?abgehaun\b",
    r"\bdass\s(?:ich|i)\s(?:\w+\s){0,8}heirate\b|\b(?:zuhause|zu\shause|daheim)\s(?:\w+\s){0,3}nichts\szu\sessen\b|\bnehm\w*\smir\s(?:\w+\s){0,3}(?:pass|ausweis)\b|\blass\w*\smich\s(?:\w+\s)?nicht\s(?:mehr\s)?(?:aus\sdem\shaus|raus)\b",
    r"\bweiss\s(?:\|\s)?wo\s(?:ich|du)\swohn\w*|\bhose\s(?:\w+\s)?runtergezogen\b|\bin\sden\s(?:bauch|magen|rucken)\s(?:geschlagen|getreten|geboxt)\b|\bmit\sder\sfaust\b",
    r"\b(?:treten|tritt|schlagen|schlagt)\s(?:sie|er|die|der)\smich\b|\bzwischen\sdie\sbeine\b|\bspruche\s(?:uber|zu)\s(?:meinen|ihren|meine|ihre)\s(?:korper|brust|brusten|hintern|figur|beine)\b",
    r"\bsonst\s(?:zeigt|schickt|postet|verbreitet|stellt)\s(?:er|sie)\s(?:es|das|die|den)\b|\b(?:alles\sin\smir|innerlich)\s(?:ist\s)?(?:\w+\s)?(?:taub|leer|tot)\b",
    # wider wording, from development set 8 (tests/nlu/dev8/safety_dev8.yml)
    r"\b(?:mache|mach|macht)\smir\s(?:\w+\s){0,2}(?:wunden|brandwunden|schnitte\s(?:am|an|in)\s(?:den\s|die\s|meinen\s|meine\s)?"
    r"(?:arm|arme|armen|bein|beine|beinen|haut|handgelenk\w*))\b",
    r"\b(?:halt|hielt|halten|druckt|druckte)\s(?:mir|ihr|ihm)\s(?:\S+\s){0,5}an\s(?:den|die|das|meinen|meine|mein)\s"
    r"(?:arm|hand|hals|gesicht|kopf|bein|haut)\b",
    r"\b(?:dass|das)\s(?:ich|i|sie)\s(?:mich|sich)\s(?:\w+\s){0,2}(?:auszieh\w*|nackt\s(?:zeig\w*|fotografier\w*))\b",
    r"\bsex\s(?:for|fur|gegen)\s(?:the\s|die\s|das\s|den\s)?(?:rent|miete|zimmer|wohnung|job|platz|ausbildung\w*)\b|\bwants?\ssex\b",
]

_DISCRIMINATION_PATTERNS = [
    r"\bdiskrimin|\brassis|\bfremdenfeind|\bbenachteiligt\s(?:wegen|weil)\b|\bbelastig\w*|\bsexistisch",
    r"\bkopftuch\w*\s(?:\w+\s){0,4}(?:abgelehnt|absage|nicht\sgenommen|ablegen|abnehmen|ausziehen|verboten|nicht\serlaubt)",
    r"\b(?:kanake|kanaken|scheiss\sauslander|auslander\sraus|nigger|n\swort)\b|\bhitler|\bnazi\w*",
    r"\btypisch\s(?:muslim|turk|auslander|frau|madchen|jude|araber|pole|polin|rumane|rumanin|schwarz)\w*",
    r"\b(?:als|wie\sein)\s(?:frau|madchen)\s(?:\w+\s){0,3}(?:nicht|nich|kein\w*)\s(?:genommen|eingestellt|gewollt|ernst\sgenommen)",
    r"\b(?:nur|keine)\s(?:deutsche|manner|jungs|fraun)\s(?:\w+\s){0,2}(?:genommen|eingestellt|gesucht|gewollt|einstell\w*|nimmt|nehmen)\b",
    r"\bdeadname|\bmisgender\w*",
    r"\b(?:schwuchtel\w*|mannsweib\w*|affengerausch\w*|schlitzaug\w*|zigeuner\w*|kopftuchmadchen|kampflesbe\w*|transe|tunte)\b",
    r"\bbei\seuch\s(?:da\s|dort\s)?(?:unten|druben)\b|\bleute\swie\s(?:mich|dich|euch|uns)\s(?:\S+\s){0,4}(?:nicht|kein\w*)\b",
]

# A ground (origin, religion, gender …) alone is no complaint ("wegen meiner Behinderung in Teilzeit?", "Darf ich
# mit 27 noch eine Ausbildung machen?"): it counts together with a word for unfair treatment in the same message.
_GROUND = re.compile(
    r"\b(?:herkunft|hautfarbe|religion|glauben|nachnamen?|akzent|behinderung|behindert\w*|rollstuhl|gehorlos|blind|"
    r"epilepsie|diabetes|chronisch|geschlecht|sexualitat|nationalitat|migrationshintergrund|islam|muslim\w*|"
    r"judisch\w*|jude|juden|christ\w*|schwul\w*|lesbisch\w*|trans|transgender|nicht\sbinar|quer|hijab|turban|"
    r"kopftuch\w*|kippa|schwanger\w*|kinder\swill|kinderwunsch|frau\w*|madchen|junge|mannlich\w*|weiblich\w*|"
    r"zu\salt|junger\w*|zwischen\s1\d\sund\s\d\d|auslander\w*|deutsch\w*\snamen|turkisch\w*|arabisch\w*|"
    r"muttersprachler|schwarz\w*|roma|sinti|fluchtling\w*|geflucht\w*|rumanien|polen|syrien|afghanistan|"
    r"typisch|religios\w*|beten|freund\soder\seine\sfreundin|afrikaner\w*|turken|turke|russ\w*|pole|polin|araber\w*|"
    r"richtig\sdeutsch|deutsch\skann|geboren|staatsangehorigkeit|fasten|ramadan|kreuz|gebet\w*|homo\w*|gay|"
    r"rollstuhlfahrer\w*|autis\w*|adhs|depression\w*|ubergewicht\w*|dick\w*|tattoo\w*|heimkind\w*|kinderheim|"
    r"afro|lesbe|lesben|bi\sbin|bisexul\w*|legasthen\w*|dyskalkul\w*|\w+behinderung|psychisch\w*\serkrank\w*|"
    r"auslandisch\w*|weil\sich\saus\s(?:\w+\s){1,2}komme|"
    r"alleinerziehend\w*|hartz|burgergeld|dialekt|fraunberuf|mannerberuf|kita|pflege\w*|schwarze\w*|hautfarbe|"
    r"davidstern|kind\serwart\w*|nur\sunter\s\d\d|stottern|schwerhorig\w*|bin\srom(?:a|ni)?|im\sheim|"
    r"zuckerfest|opferfest|bayram|jom\skippur|chanukka|schwerbehindert\w*|hauptschuler\w*|nigeria\w*|locs|dreadlocks|"
    r"gebardensprache|gebardendolmetsch\w*|outen|outing|geoutet|jungs|elternzeit|mutterschutz|schweinefleisch|"
    r"morbus\s\w+|rheuma|asthma|gewicht|figur|hochhaus\w*|brennpunkt\w*|siedlung|duldung|vor\sder\srente)\b")
_TREATMENT = re.compile(
    r"\b(?:abgelehnt|ablehnen|absage\w*|benachteilig\w*|beleidig\w*|nicht\sgenommen|nicht\seingestellt|gemobbt|"
    r"mobb\w*|ausgelacht|lachen|lacht|behandel\w*|ungerecht|angemacht|beschimpf\w*|fertig\s?gemacht|ausgegrenzt|"
    r"runtergemacht|lustig\sgemacht|nicht\sernst|keine\schance|rausgeworfen|rausgeschmissen|gekundigt|kundigen|"
    r"abgewiesen|ausgeschlossen|diskrimin\w*|spruche|witze|nicht\sgewollt|nicht\sakzeptiert|nennt\smich|"
    r"nennen\smich|gehoren\snicht|konnen\skein\w*|geht\snicht|nicht\sim\s\w+\sarbeiten|darf\s(?:\w+\s){0,4}"
    r"(?:fragen|ablehnen|absagen|nicht)|weniger\s(?:\w+\s){0,3}als|nur\s(?:deutsche|manner|jungs|fraun)|"
    r"suche\w*\sjemand|wollen\s(?:\w+\s){0,3}nicht|ist\snichts\sfur|dreckigsten|klau\w*|wie\sluft|"
    r"alten\snamen|nicht\sso\szeigen|stellenanzeige|in\sder\sanzeige|im\s(?:vorstellungs)?gesprach\s(?:\w+\s){0,3}gefragt|"
    r"(?:haben|hat|wurde|wurden)\s(?:\w+\s){0,3}(?:gesagt|gefragt)|\w*witze|\w*spruche|nimmt\skeine?|nehmen\skeine?|"
    r"landet\seh|landen\seh|gefragt\sob|zwecklos|nicht\serwunscht|unerwunscht|darf\sich\snicht|durfen\snicht|"
    r"bekomm\w*\s(?:\w+\s){0,2}weniger|verdien\w*\sweniger|anders\sals|keine\sausbildung\sfur|nicht\sgeeignet|"
    r"beschwer\w*|ablehnung|gemieden|schikan\w*|verspott\w*|nachgemacht|imitier\w*|ignorier\w*|"
    r"unprofessionell|will\s(?:er|sie|der|die|man|keiner)\s(?:\w+\s){0,2}nicht|zu\s(?:kompliziert|aufwendig|riskant)|"
    r"nicht\s(?:\w+\s)?zulassen|krieg\w*\s(?:\w+\s){0,2}weniger|"
    r"nicht\subernommen|nicht\sbehalten|passen\s(?:\w+\s)?nicht\szu|nicht\sflexibel|zu\sgrosses\srisiko|"
    r"(?:mir|uns|ihr|ihm)\s(?:\w+\s){0,3}verbiet\w*|verbiet\w*\s(?:mir|uns|ihr|ihm)|lohne?\w*\s(?:sich\s)?(?:das\s)?nicht|redet\skeiner|nicht\sangehort|weigert\ssich|"
    r"macht\s(?:sich\s)?(?:\w+\s){0,2}lustig|aff\w*\s(?:mich\s)?nach|"
    r"taschen\sfest|hande\szeigen|(?:schliesst|sperrt)\s(?:\w+\s){0,4}(?:kasse|taschen|spind|wertsachen)|"
    r"nur\s(?:putzen|kaffee\skochen|fegen|aufraumen)|fur\s(?:dich|euch|solche)\sreicht|"
    r"(?:deswegen|deshalb|darum)\s(?:\w+\s){0,2}(?:kein\w*|nicht)|anderen\s(?:\w+\s){0,2}(?:durfen|aber|bekommen|kriegen)|"
    r"lasst\smich\snicht|obwohl\s(?:\w+\s){0,4}alle|(?:will|wollen)\s(?:\w+\s){0,3}kein\w*\s(?:\w+\s){0,2}(?:geben|bezahlen|zahlen)|"
    r"wird\smir\skein\w*\s(?:\w+\s){0,2}bezahlt|dann\shalt\spech|aussortier\w*|grundsatzlich\s(?:\w+\s)?(?:nicht|kein\w*)|"
    r"unhygienisch|(?:sagt|sagen|meint|meinen)\s(?:\S+\s){0,8}(?:dumm|faul|behindert)|monkey|affen\w*|"
    r"keine\s(?:einzige\s)?einladung|(?:gleichen|selben)\szeugnis\w*|abgesagt|\beh\s(?:nicht|nie|kein\w*)|"
    r"plotzlich\s(?:\S+\s){0,3}vergeben|anderen\snie|(?:seid|sind)\sdas\s(?:\w+\s)?gewohnt|namensschild|vor\sallen\b|"
    r"steinzeit|soll\s(?:\w+\s){0,3}(?:abnehmen|ablegen|ausziehen)|kein\sproblem\s(?:\w+\s)?(?:bei|fur)\s(?:den\s)?anderen|"
    r"(?:nix|nichts)\sfur\s(?:fraun|madchen|manner|jungs|dich|euch)|lieber\skaffee\skochen|immer\sdie\s(?:spannenden|guten|interessanten|besseren)|"
    r"nicht\subernehmen|erzahlt\s(?:\w+\s)?allen|im\skopf|darf\s(?:ich\s)?(?:\w+\s){0,2}kein\w*|"
    r"lieber\s(?:\w+\s)?(?:jemand|jemanden)\b|gesprach\s(?:\S+\s){0,5}vorbei|andere\s\w+\s(?:sind\s)?kein\sproblem|"
    r"(?:suchen|sucht|wollen|nehmen|nimmt)\s(?:\w+\s){0,2}(?:junge|jungere)\s(?:leute|menschen|bewerber\w*)|"
    r"investier\w*\s(?:\S+\s){0,3}(?:nicht|nich|kein\w*)|rauszuschmeiss\w*|rauszuwerfen|"
    r"seit\s(?:ich|er|sie)\s(?:\S+\s){0,6}(?:gesagt|erzahlt|erwahnt)\b)")

# Soft signs of distress: one alone is an ordinary complaint ("alles zu viel mit der Berufsschule"), two together
# ask for the crisis help.
_SOFT = re.compile(
    r"\b(?:weiss\s(?:einfach\s)?(?:nicht|nich)\smehr\sweiter|alles\s(?:\w+\s)?zu\sviel|so\sleer|keine\skraft\smehr|"
    r"bin\s(?:\w+\s)?am\sende|hilfe\sbitte|bitte\shilfe|ganz\sallein|hab\sangst|habe\sangst|nur\snoch\sweinen|"
    r"weine\s(?:\w+\s)?nur\snoch|kann\snicht\smehr\sschlafen|alles\s(?:ist\s)?kaputt|hasse\smich|schlaf\snicht\smehr|"
    r"ess\snicht\smehr|fuhl\snix\smehr|fuhle\snichts\smehr|alles\sschwarz|verschwunden|nichts\smehr|"
    r"angst\sdass|trau\smich\snicht|herz\srast|(?:krieg|kriege|bekomme|bekomm)\s(?:\w+\s)?keine\sluft|panik|"
    r"hab\s(?:so|solche|voll|total|grosse)\sangst|ganz\salleine|alles\s(?:ist\s)?(?:so\s)?(?:schwarz|dunkel)|"
    r"seit\s(?:\w+\s)?(?:tagen|wochen|nachten)\s(?:\w+\s)?(?:nicht|kaum|nichts)\s(?:mehr\s)?(?:geschlafen|gegessen)|"
    r"(?:niemand|keiner)\shilft\smir|nicht\smehr\sklar\sdenken|wein\w*\sjeden\stag|zerbrech\w*|verlier\w*\sden\sverstand|"
    r"nur\snoch\sleer|zitter\w*|(?:sorry|tut\smir\sleid|entschuldigt?)\sfur\salles|tschuss\san\salle|lebt\swohl|"
    r"danke\sfur\salles|(?:wart|warst|seid|bist)\s(?:\w+\s)?(?:die|der)\seinzige\w*|wenn\s(?:ich|i)\ssterbe|"
    r"(?:damit|dass)\s(?:die|sie|ihr|meine\s\w+)\s(?:\w+\s)?versorgt\s(?:sind|ist)|hilf\smir\s(?:doch\s)?(?:bitte\s)?jemand|"
    r"bitte\shilf\smir|dreh\w*\s(?:\w+\s)?durch|fuhle?\s(?:gar\s)?(?:nix|nichts)\smehr|einfach\sleer|werd\w*\sverruckt|"
    r"(?:heul|wein)\w*\s(?:\w+\s){0,5}(?:nicht|nich)\saufhoren|(?:nicht|nich)\saufhoren\s(?:\w+\s)?zu\s(?:weinen|heulen)|"
    r"zusammengebrochen|herzinfarkt|bin\s(?:\w+\s)?allein|herz\s(?:\w+\s)?(?:rast|pocht|hammert)|zu\sviel\sgetrunken|"
    r"weiss\s(?:nicht|nich)\swo\s(?:ich\s)?(?:bin|hin)|keine\sahnung\swohin|(?:max|nur|kaum)\s(?:\d|zwei|drei)\sstunden\s(?:\w+\s){0,3}(?:schlaf|geschlafen)|"
    r"(?:schlaf|schlafe)\s(?:\w+\s){0,2}(?:max|nur|kaum)\s(?:\d|zwei|drei)\sstunden|bricht\s(?:\S+\s){0,2}alles\szusammen|"
    r"alles\sbricht\s(?:\S+\s)?zusammen|kann\s(?:nicht|nich|kaum)\s(?:mehr\s)?atmen)\b")

_CRISIS = [re.compile(p) for p in _CRISIS_PATTERNS]
_DISCRIMINATION = [re.compile(p) for p in _DISCRIMINATION_PATTERNS]


def fold(text: str) -> str:
    """The text as the patterns see it."""
    text = text[:MAX_CHARS].lower()
    for pair, single in (("ae", "a"), ("oe", "o"), ("ue", "u")):
        text = text.replace(pair, single)
    text = text.translate(_FOLD)
    text = _REPEATS.sub(r"\1", text)
    text = _PUNCT.sub(" | ", text)
    text = _NOT_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def classify(text: str) -> str | None:
    """``CRISIS``, ``DISCRIMINATION`` or None. Crisis wins when both match."""
    if not text:
        return None
    folded = fold(text)
    if any(p.search(folded) for p in _CRISIS) or len(_SOFT.findall(folded)) >= 2:
        return CRISIS
    if any(p.search(folded) for p in _DISCRIMINATION):
        return DISCRIMINATION
    if _TREATMENT.search(folded) and _GROUND.search(folded):
        return DISCRIMINATION
    return None

