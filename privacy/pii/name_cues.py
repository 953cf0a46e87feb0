"""The words and patterns around a name that the name rules (``privacy.pii.names``) read.

Titles and forms of address, cues before a name ("my name is", "Dear"), cues after a person
("'s", "says", a pronoun), place cues ("grew up in"), the words that make a run a firm or a body
("Financial", "Bank of ..."): lists and regular expressions only, kept apart from the rules
that use them.
"""
from __future__ import annotations

import re

from privacy.pii.addresses import STREET_WORDS

# Words that make a first name a firm's ("Ally Financial", "Fulton Mortgage"), never a surname.
BUSINESS_WORDS = frozenset({
    "financial", "finance", "mortgage", "credit", "capital", "services", "service", "bank",
    "banking", "group", "insurance", "loans", "loan", "lending", "funding", "holdings",
    "partners", "solutions", "systems", "motors", "health", "healthcare", "energy", "home",
    "homes", "realty", "properties", "investments", "securities", "trust", "federal", "savings",
    "union", "auto", "pay", "payments", "wireless", "mobile", "airlines",
    "university", "college", "school", "hospital", "clinic", "law", "media", "foods", "store",
    "stores", "shop", "software", "labs", "technologies", "tech", "consulting", "management",
    "research", "customer", "customers", "east", "west", "north", "south",
    # Words of the firms in the CFPB's company list ("FORD MOTOR CREDIT CO.", "CULLEN/FROST
    # BANKERS, INC.", "Prosper Marketplace, Inc.", "NEW YORK COMMUNITY BANCORP INC").
    "motor", "bankers", "marketplace", "community"})
TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mister", "dame",
                    "lady", "lord", "rev",
                    # German, French, Spanish, Italian, Dutch, Polish and Turkish forms of
                    # address ("Herr Özdemir hat angerufen" found no one). Left out: those that
                    # are everyday words or abbreviations too ("Fr." is Friday, "M." an
                    # initial, "Bay" a bay, "Don" a name, "HR" a department).
                    "herr", "herrn", "frau", "monsieur", "madame", "mme", "mlle", "señor",
                    "señora", "senor", "senora", "sr", "sra", "srta", "doña", "signor", "signora",
                    "sig", "dott", "meneer", "mevrouw", "dhr", "mevr", "pan", "pani", "sayın",
                    "sayin", "bayan",
                    # Polish declines them ("z panem Łukaszem Wójcikiem"), and a customer or
                    # patient is named after the word in Turkish and German as after a title.
                    "pana", "panu", "panem", "panie", "panią", "müşteri", "kunde",
                    "kundin"})
# Turkish titles come after the name: "Ayşe Yılmaz Hanım", "Gülşen Doğan Bey".
TITLES_AFTER = frozenset({"bey", "hanım", "hanim", "beyefendi", "hanımefendi"})
PLACE_CUES = frozenset({"in", "from", "to", "at", "near", "visit", "visited", "moved", "live",
                        "lives", "living", "born", "city", "towards", "via"})
# Text right before a place: "grew up in X", "moved here from X", "Where: X".
PLACE_CUE = re.compile(r"(?i)(?:grew up in|moved (?:here )?(?:from|to)|lives? in|living in|born in|"
                       r"based in|located in|trip to|i am in|i'm in|home city|town of|city of|"
                       r"where:|arrived at|visiting|street in|travel(?:l?ed|ling)? to)\s+$")
STATE_AFTER = re.compile(r",?\s?[A-Z]{2}\b")
# Articles of the languages Cloister reads that Faker also lists as a city ("La", "Lo"): alone
# they are the article ("La facture de février ..."), a place only with the rest of its name
# (La Paz, Las Vegas), which keeps them as a run of two.
# A postal code right before a name: the name is the town ("75011 Paris", "10115 Berlin"). Five
# digits are a postal code; four ("1010 Wien") only before a listed town, since "paid 1500 Sophie"
# or "in 2024 Maria" are amounts and years before a person.
POSTCODE_BEFORE = re.compile(r"(?<![\d.,])(\d{4,5}) ?$")
# A town in an address: right after its house number and street ("12 Baker Street, London") or
# right before a UK or Canadian postcode ("London NW1 6XE"). London, Paris and Sydney are given
# names too, and Faker's city lists (invented towns) hold none of them.
STREET_BEFORE = re.compile(rf"(?i)(?<![\w.,-])\d{{1,5}}[A-Za-z]?\s(?:[^\W\d_][\w'’.-]*\s){{0,4}}?"
                           rf"(?:{STREET_WORDS})\.?[ \t]*(?:,[ \t]*\n?|\n)[ \t]*$")
POSTCODE_AT = re.compile(r"(?:[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|[A-Z]\d[A-Z]\s\d[A-Z]\d)(?!\w)")
TOWN_END = re.compile(r"[ \t]*(?:[,.;)\n]|$)")
ARTICLES = frozenset({"la", "le", "les", "l", "el", "los", "las", "lo", "gli", "het", "de"})
# Text right before a name: "my name is X", "starring X", "said X", "Dear X", "by X", someone
# greeted or thanked ("hey X", "thank you X", "RIP X"), a relative ("my brother X").
NAME_CUE = re.compile(r"(?i)\b(?:name is|name:|name's|i am|i'm|this is|"
                      # "a man called X", but not "I called Citibank" (a phone call)
                      r"(?<!\bi )(?<!\bwe )(?<!they )(?<!\bhe )(?<!she )(?<!you )(?<!have )"
                      r"(?<!\bhas )(?<!\bhad )(?<!then )(?<!\band )(?<!also )(?<!i've )(?<!we've )"
                      r"(?<!just )(?<!already )(?<!again )(?<!finally )(?<!never )(?<!even )"
                      r"(?<!immediately )called|named|dear|hi|"
                      r"hello|hey|bye|thanks|thank you|love you|miss you|congrats|"
                      r"congratulations|happy birthday|r\.?i\.?p\.?|shout ?out to|signed|"
                      r"regards,?|starring|directed by|written by|song by|said|asked|told|"
                      r"ask for|speak to|talk to|contact|husband|wife|son|daughter|partner|"
                      r"friend|patient|brother|sister|mom|mum|dad|uncle|aunt|cousin|boyfriend|"
                      r"girlfriend|grandma|grandpa|nephew|niece|my boy|my girl|mrs?\.?|ms\.?|"
                      r"dr\.?|"
                      # The same in German, French, Spanish, Italian, Dutch, Polish and Turkish:
                      # phrases that say a name follows, and the sign-offs above a signature.
                      r"mein name ist|ich hei(?:ß|ss)e|je m'appelle|je m’appelle|me llamo|"
                      r"mi chiamo|mijn naam is|nazywam się|benim adım|sehr geehrter?|"
                      r"patient(?:in)?:|grü(?:ß|ss)en,?|grü(?:ß|ss)e,?|cordialement,?|saludos,?|"
                      r"pozdrawiam,?|saygılarımla,?)\s+$")
AFTER_CUE = re.compile(r"^(?:'s\b|’s\b|\s+(?:is|was|and|has|had|said|says|wrote|told|who)\b)")
# Context that says a capitalised word no list knows is a person (``_person_context``): a
# possessive after it ("Trump's", a tokenised tweet's "Trump ' s") or a verb of being, saying or
# doing; a he/she pronoun soon after it; "looks like X"; "where's X".
PERSON_AFTER = re.compile(r"^(?:\s?['’´]\s?s\b|\s+(?:is|was|has|had|says|said|will|does|did|"
                          r"gets|got|looks|wants|knows|thinks|loves|hates|makes|made|needs|"
                          r"went|goes|tweeted|posted|won|lost|sings|plays|played)\b)")
PRONOUN = re.compile(r"(?i)\b(?:he|she|his|her|him|himself|herself)\b")
LIKE_BEFORE = re.compile(r"(?i)\b(?:looks?|looked|looking|sounds?|sounded|acts?|acted) like\s+$")
WHERE_BEFORE = re.compile(r"(?i)\bwhere(?:\s?['’´]\s?s| is| was)\s+$")
# "the raven", "my glasses": after a determiner a lower-case word is a thing, not a name.
DETERMINER_BEFORE = re.compile(r"(?i)\b(?:the|a|an|my|your|his|her|our|their|this|every|some|"
                               r"any|no|its)\s+$")
SPEAKER = re.compile(r":\s?[\\\"“'«]")
THE_BEFORE = re.compile(r"(?i)\bthe\s+$")  # "the Kremlin's", "the Algarve is": a thing or place
# A determiner opening a capitalised run is not part of a name: "The List of accounts", "The
# Fair Credit Reporting Act" (Faker's lists hold "The" as a name; "An" is left: a given name).
DETERMINERS = frozenset({"the", "a", "this", "that", "these", "those", "my", "our", "your",
                         "their", "its", "any", "some", "no", "every", "each", "all"})
# "Bank of America", "University of Georgia": the place or name after "of" names the body.
ORG_HEADS = frozenset({"bank", "university", "college", "institute", "department", "bureau",
                       "office", "ministry", "board", "council", "church", "museum", "school",
                       "hospital", "court", "government"})
SENTENCE_BREAK = re.compile(r"[.!?\n](?=\s)")
LIST_SEP = re.compile(r"^(?:,\s|\s(?:and|&|or)\s|,\s(?:and|or)\s)$")
# Firms that consumers name in complaints, as a run of words ("Wells Fargo", "USAA"): an
# ORGANIZATION. Those whose words a name list holds ("Chase", "Ally", "Sallie Mae") count only
# when written in capitals ("THANK YOU CHASE"), where case cannot tell the firm from a person;
# written as prose writes names, "Chase" may be one.
KNOWN_ORGS = frozenset("""
chase|jpmorgan chase|jp morgan chase|jpmorgan|usaa|wells fargo|citi|citibank|citigroup|
bank of america|capital one|discover|american express|amex|ally|synchrony|navient|sallie mae|
nelnet|mohela|experian|equifax|transunion|trans union|paypal|venmo|zelle|cash app|
comenity|barclays|barclaycard|hsbc|santander|td bank|pnc|truist|suntrust|bb&t|regions bank|
fifth third|huntington|keybank|us bank|u.s. bank|citizens bank|navy federal|pentagon federal|
penfed|midland|midland credit|portfolio recovery|lvnv|ocwen|nationstar|mr. cooper|
rocket mortgage|quicken loans|loancare|freedom mortgage|caliber|shellpoint|carrington|
newrez|credit karma|coinbase|klarna|afterpay|sofi|goldman sachs|morgan stanley|
charles schwab|credit one|merrick bank|onemain|lloyds|natwest|halifax|monzo|revolut|
deutsche bank|commerzbank|sparkasse|bnp paribas|societe generale|credit agricole|rabobank|
abn amro|unicredit|intesa sanpaolo|mercedes benz
""".replace("\n", "").split("|"))


def town_in_address(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` stands where an address puts its town: before a UK or
    Canadian postcode, or after a house number and street, at the end of that line."""
    if text[end:end + 1] == " " and POSTCODE_AT.match(text, end + 1):
        return True
    return text[start - 1:start] in (" ", "\n") and bool(TOWN_END.match(text, end)) \
        and bool(STREET_BEFORE.search(text, max(0, start - 70), start))


def next_break(text: str, end: int) -> int:
    """Where the sentence after the one holding ``end`` ends (at most 100 characters on)."""
    limit = min(len(text), end + 100)
    first = SENTENCE_BREAK.search(text, end, limit)
    if first is None:
        return limit
    second = SENTENCE_BREAK.search(text, first.end(), limit)
    return second.start() if second else limit
