"""Name, place and common-word lists, built once from Faker's locale providers.

Faker (MIT) ships hand-kept lists per locale: ~31,000 first names and ~28,000 last names over
86 locales, ~30,000 city names and every locale's country list. They are read from the
installed package (it is a dependency, and goes into the frozen build like any other), never
downloaded. Lookups are case-folded. "Common words" (Faker's 971 frequent English words plus
function words, titles, chat words and spellings ("lol", "ima", "dude", "noe", "thk"), words of
address ("daddy", "princess"), contractions ("I'll"), Lorem's parts of speech, and
resources/pii/common_words.txt) mark a name-list token as weak: "Will", "May" or "Grant" is a
name only beside another name or after a title. ``shared_first_names`` keeps the first names
that two or more locale classes list: a word that only one long list holds ("journey",
"merry", "sunshine" in ``en``) is more often a word than a name when written in lower case.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass

PARTICLES = frozenset({"van", "der", "den", "de", "von", "da", "di", "del", "della", "la", "le",
                       "du", "dos", "das", "bin", "ibn", "al", "el", "ter", "ten", "zu", "y", "mac"})
# A firm's legal form: a comma may stand before it ("Credit Karma, LLC", "Williams & Fudge, Inc").
LEGAL_FORMS = frozenset({"inc", "llc", "ltd", "corp", "co", "llp", "pllc", "lp", "plc", "gmbh",
                         "nv", "bv", "corporation", "incorporated", "company",
                         "limited", "bancorp"})
_EXTRA_COMMON = """
i me my we our you your he him his she her it its they them their this that these those what
which who whom whose when where why how all any both each few more most other some such no nor
not only own same so than too very can will just don should now is are was were be been being
have has had do does did an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over
under again further then once here there yes hello hi dear thanks thank please sorry ok okay
mr mrs ms miss dr prof sir madam mister doctor january february march april may june july august
september october november december monday tuesday wednesday thursday friday saturday sunday
today tomorrow yesterday god lord christmas easter street road avenue lane city state country
north south east west new old great big little good best love hope happy
anybody anyone everybody everyone somebody someone nobody whoever whatever whomever
lol lmao lmfao rofl omg omfg wtf wth idk idc tbh smh imho btw brb ttyl thx plz ur ya yall yea
yep yup nah nope haha hahaha hehe xd xoxo wow woah whoa oops ugh hmm umm uh um gonna wanna gotta
kinda sorta dunno lemme gimme aint cuz coz tho dude bro bruh sis fam babe bae hun folks ima yay
aww lil bday omw ftw fyi bye goodbye ive hes shes theres lets weve youve
hey heya hiya gee geez jeez yeah yah yar ah oh eh ooh wat wot dat dis dem dey noe neva
tho thru nite tmr tmrw tomo hella lor lah leh liao oso juz dun wif gd luv oic thk haf
daddy mommy mummy princess darling honey sweetie sweetheart baby buddy mate pal hun
merry bless cheers fancy sunshine
tel fax nr
""".split()
# The commonest words of the other languages whose exports Cloister reads (German, French,
# Spanish, Italian, Dutch): the name lists are drawn from Faker's locales worldwide, where
# "Das", "Mal", "Bien", "Sie" or "Von" are names, and text in those languages was riddled with
# false people ("und", "aus", "mir" and "Sie" were the commonest PERSON findings of a German file).
# Words that are also common given names or surnames in English text (Ravi, Mai, Elle, Van,
# Le, Avril) are left out: the English benchmark's person recall is what they would cost; so
# are the articles that begin place names (Las Vegas, Los Angeles, El Paso, La Paz).
_EUROPEAN_COMMON = """
der die das den dem des ein eine einen einem einer eines und oder aber nicht kein keine ich du
er sie es wir ihr mich mir dich dir sich uns euch ihnen ihm ihn mein meine meinen meinem meiner
dein deine sein seine unser unsere euer eure bin bist ist sind seid war waren wird werden wurde
wurden habe hast hat haben hatte hatten kann kannst konnte muss musste soll sollte will wollte
mit von vom zu zum zur aus auf bei nach seit vor für fur über uber unter ohne gegen durch um an
am im in ins bis noch schon auch nur sehr mehr immer wieder hier dort da dann wenn weil dass als
wie was wer wo warum heute morgen gestern mal bitte danke hallo guten tag herr frau sehr geehrte
geehrter freundlichen grüßen gruß ja nein doch lassen machen gibt gut leider bereits ware
kunde kundin kunden kollege kollegin mitarbeiter mitarbeiterin sachbearbeiter patientin
damen herren
les un une des du de au aux et ou mais ne pas plus je tu il nous vous ils elles me
se moi toi lui leur leurs mon ma mes ton tes sa ses notre nos votre vos ce cet cette ces
qui que quoi dont où ou est sont suis es sommes êtes etes était etait ai as avons avez ont avait
fait faire peut pouvez dois doit sans avec pour par sur sous dans chez entre vers depuis pendant
avant après apres très tres bien bon bonne merci bonjour bonsoir madame monsieur cordialement
aussi encore déjà deja toujours jamais rien tout tous toute toutes oui non payer
juin juillet août aout janvier février fevrier septembre octobre novembre décembre decembre
un una uno unos unas y pero no yo tú tu él nosotros vosotros ellos ellas mi mis su sus
es soy está esta están estan fue muy más sin con por para sobre entre hasta desde gracias
hola señor senor señora senora usted ustedes
il gli e ma non io lui lei noi voi loro è sono molto più senza con su tra fra
grazie ciao buongiorno signore signora
het een en of maar niet ik jij je hij zij wij jullie mijn zijn haar ons onze is was zijn met
voor op aan bij uit naar over zonder dank bedankt hallo meneer mevrouw
""".split()
# Contractions are words: "I'll" before "he" once read as a name no list knows.
_CONTRACTED = """i you we they he she it that there who what where here let""".split()
_CONTRACTIONS = {f"{w}{a}{end}" for w in _CONTRACTED for a in "'’"
                 for end in ("ll", "re", "ve", "d", "m", "s")}


def _names(value: object) -> list[str]:
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(v) for v in value]
    return []


def _provider_lists(package: str, attributes: tuple[str, ...],
                    sources: dict[str, set[str]] | None = None) -> set[str]:
    """Every name the locales of ``package`` list under ``attributes``; ``sources``, when given,
    collects for each (case-folded) name the classes that list it."""
    module = importlib.import_module(package)
    found: set[str] = set()
    for info in pkgutil.iter_modules(module.__path__):
        try:
            provider = importlib.import_module(f"{package}.{info.name}").Provider
        except (ImportError, AttributeError):  # a locale without a provider class
            continue
        for attribute in attributes:
            # Class attributes only: some providers compute names in properties.
            for cls in provider.__mro__:
                if attribute in cls.__dict__:
                    names = _names(cls.__dict__[attribute])
                    found.update(names)
                    if sources is not None:
                        where = f"{cls.__module__}.{cls.__qualname__}"
                        for name in names:
                            sources.setdefault(fold_word(name), set()).add(where)
                    break
    return found


# Parts of hyphenated place names that the first-name lists also hold ("Saint-Nicolas").
_NOT_FIRST_PARTS = frozenset({"saint", "sainte", "san", "santa", "st", "ste"})


def fold_word(word: str) -> str:
    """Case-folded as the lists are: Turkish "İsmail" folds to "i" + a combining dot above,
    which no list holds, and stayed in the text beside a removed surname; the dot goes."""
    return word.casefold().replace("\u0307", "")


def _fold(words: set[str]) -> frozenset[str]:
    return frozenset(fold_word(w) for w in words if w and not w.isdigit())


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]
    last_names: frozenset[str]
    # First names that two or more locales list: "emily", "carlos", not "journey" or "merry",
    # which one long list alone holds and which are more often words than names.
    shared_first_names: frozenset[str]
    cities: frozenset[str]
    countries: frozenset[str]
    common: frozenset[str]
    company_suffixes: frozenset[str]
    # The English part of ``common``: its regular inflections are words too ("roads"), while the
    # other languages' words count only as written ("vos" must not make "Voss" a plural), and
    # never keep a place from being one ("Las Vegas", "El Paso").
    english_common: frozenset[str] = frozenset()

    def is_name_token(self, folded: str) -> bool:
        if folded in self.first_names or folded in self.last_names:
            return True
        # "Mary-Jane", "Jean-Luc", "Hans-Jürgen": every part a first name that two or more
        # locales list. Without this the first name of "Mary-Jane Watson" stayed in the text
        # and only "Watson" went. Surnames joined so ("Taylor-Jones", "Brown-Weaver") are as
        # often a firm's name; after a first name or a title they are taken anyway.
        if "-" not in folded:  # most tokens: no split, no list built
            return False
        parts = folded.split("-")
        return all(p in self.shared_first_names and p not in _NOT_FIRST_PARTS
                                      for p in parts)

    def is_place(self, folded: str) -> bool:
        return folded in self.cities or folded in self.countries


def _common_words_file() -> list[str]:
    # Built by resources/pii/make_common_words.py from public-domain / CC BY text (data card
    # there); a missing file only makes lower-case name detection less precise.
    try:
        from resources.paths import resource

        return resource("pii", "common_words.txt").read_text(encoding="utf-8").split()
    except (ImportError, FileNotFoundError):
        return []


def _faker_words() -> set[str]:
    """More everyday English from Faker's en_US lists: company slogans, job titles, colours."""
    words: set[str] = set()
    try:
        from faker.providers.color.en_US import Provider as Color
        from faker.providers.company.en_US import Provider as Company
        from faker.providers.job.en_US import Provider as Job
    except ImportError:  # pragma: no cover - an older Faker
        return words
    groups = (*getattr(Company, "catch_phrase_words", ()),
              *getattr(Company, "bs_words", getattr(Company, "bsWords", ())))
    phrases = [w for group in groups for w in group]
    phrases += list(Job.jobs) + list(Color.all_colors)
    from faker.providers.lorem.en_US import Provider as Lorem

    # Lorem's everyday nouns, verbs, adjectives and adverbs ("joke", "storm", "lucky", "kick").
    phrases += [w for group in getattr(Lorem, "parts_of_speech", {}).values() for w in group]
    for phrase in phrases:
        words.update(w.strip(",()").lower() for w in phrase.replace("-", " ").split())
    return {w for w in words if w.isalpha()}


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    first_sources: dict[str, set[str]] = {}
    first = _provider_lists("faker.providers.person", (
        "first_names", "first_names_male", "first_names_female", "first_names_nonbinary"),
        first_sources)
    last = _provider_lists("faker.providers.person", (
        "last_names", "last_names_male", "last_names_female"))
    # And every locale's other surname lists: Polish keeps its Kowalski, Wiśniewski and Wójcik
    # in "male_last_names" and "unisex_last_names", which the three usual names missed. Short
    # plain names of those stay out (Polish "Bak", "Dub", "Grab" and "Sip" are chat words too,
    # and took 25 more words of the SMS sample for people), as do Iceland's suffix-less forms
    # ("Asks", "Victors") and romanized Chinese and Japanese syllables ("He", "Sun").
    last |= {n for n in _provider_lists("faker.providers.person", (
        "unisex_last_names", "male_last_names", "female_last_names", "last_names_unisex",
        "last_names_est", "last_names_rus", "last_names_common", "last_names_male_only",
        "last_names_female_only", "last_names_nonbinary", "last_names_islamic",
        "last_names_female_islamic", "last_names_hinduism")) if len(n) >= 5 or not n.isascii()}
    # Multi-word names ("van der Voet") also count token by token, particles aside.
    for group in (first, last):
        for name in list(group):
            if " " in name or "-" in name:
                group.update(p for p in name.replace("-", " ").split() if p.casefold() not in PARTICLES)
    cities = _provider_lists("faker.providers.address", ("cities", "city_names", "states"))
    countries = _provider_lists("faker.providers.address", ("countries",))
    from faker.providers.lorem.en_US import Provider as Lorem

    english = (set(Lorem.word_list) | set(_EXTRA_COMMON) | _CONTRACTIONS | set(_common_words_file())
              | _faker_words())
    common = english | set(_EUROPEAN_COMMON)
    suffixes = LEGAL_FORMS | {
        "inc.", "ltd.", "group", "corp.", "s.a.", "co.", "bank", "university", "holdings",
        "partners", "associates", "foundation", "institute", "hospital", "clinic", "agency",
        "sons", "srl", "spa", "oy", "ab", "as", "ag", "sa"}
    shared = frozenset(n for n, where in first_sources.items() if len(where) >= 2)
    return Lexicon(first_names=_fold(first), last_names=_fold(last), cities=_fold(cities),
                   shared_first_names=shared,
                   countries=_fold(countries), common=_fold(common),
                   company_suffixes=frozenset(suffixes), english_common=_fold(english))


def us_states() -> frozenset[str]:
    """The US states' names, case-folded (Faker's en_US list; empty with an older Faker)."""
    try:
        from faker.providers.address.en_US import Provider
    except ImportError:  # pragma: no cover
        return frozenset()
    return frozenset(s.casefold() for s in getattr(Provider, "states", ()))
