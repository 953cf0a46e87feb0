"""Propose identifier columns: from the column's name first, then from its content.

A column is proposed when its name says what it holds ("email", "patient_id", "ssn",
"first_name", "phone") or when most of its sampled non-empty cells are a single finding of
one type covering the whole cell (a column of e-mail addresses, of card numbers, of names).
Free-text columns (long cells with findings inside) are scanned, not proposed.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from privacy.pii.registry import detect

_NAME_RULES: tuple[tuple[str, str, str], ...] = (
    # (pattern on the normalised column name, entity, proposed action). English first, then the
    # words German, French and Spanish exports use (accents folded: "Straße" is "strasse").
    (r"(^|_)(e_?mail|email_address|mail|courriel|correo)($|_)", "EMAIL", "pseudonym"),
    (r"(^|_)(ssn|social_security(_number)?|sin)($|_)", "US_SSN", "drop"),
    (r"^cf$", "NATIONAL_ID", "drop"),  # Italian exports' codice fiscale; not "cf_ratio"
    (r"(^|_)(national_id|national_insurance(_number)?|nino|steuer_?id(nr)?|"
     r"steueridentifikationsnummer|sozialversicherungs_?(nummer|nr)|"
     r"numero_de_securite_sociale|nir|dni|nie|nif|codice_fiscale|bsn|burgerservicenummer|"
     r"id_card|identity_card|personalausweis(_?nummer)?|shenfenzheng)($|_)",
     "NATIONAL_ID", "drop"),
    (r"(^|_)(phone|tel|telephone|mobile|cell|fax|telefon(nummer)?|mobil|telefono|movil)($|_)",
     "PHONE", "mask"),
    (r"(^|_)(iban|account(_number|_no)?|acct|konto(nummer)?|compte|cuenta)($|_)", "IBAN", "mask"),
    (r"(^|_)(card(_number)?|credit_card|cc_number|pan|kreditkarte|carte)($|_)", "CREDIT_CARD",
     "mask"),
    (r"(^|_)(.*_)?(id|identifier|number|no|mrn|record|nr|nummer|numero|num)$", "ID", "pseudonym"),
    (r"(^|_)(\w*nummer)$", "ID", "pseudonym"),  # Kundennummer, Versichertennummer
    (r"(^|_)((first|last|given|family|full|sur|middle)_?name|name|surname|patient|customer|"
     r"client|employee|person|contact|vorname|nachname|ansprechpartner|kunde|kundin|patientin|"
     r"mitarbeiter(in)?|prenom|apellidos?|cliente|paciente)($|_)", "PERSON", "pseudonym"),
    # French "nom" alone or "nom de famille": not "Nom du produit".
    (r"^(nom|nom_de_famille)$", "PERSON", "pseudonym"),
    (r"(^|_)(dob|birth(_?date|day)?|date_of_birth|geburtsdatum|geburtstag|date_de_naissance|"
     r"fecha_de_nacimiento)($|_)", "DATE", "generalize_date"),
    (r"(^|_)(address|street|addr|strasse|anschrift|adresse|rue|direccion|calle)($|_)",
     "STREET_ADDRESS", "redact"),
    (r"(^|_)(zip|zip_code|postcode|postal_code|plz|postleitzahl|code_postal|codigo_postal)($|_)",
     "ZIP", "redact"),
    (r"(^|_)(ip|ip_address)($|_)", "IP_ADDRESS", "pseudonym"),
    (r"(^|_)(city|town|country|location|ort|stadt|wohnort|land|ville|pays|ciudad|pais)($|_)",
     "LOCATION", "keep"),
)
_CONTENT_ACTIONS = {"EMAIL": "pseudonym", "PHONE": "mask", "CREDIT_CARD": "mask", "IBAN": "mask",
                    "US_SSN": "drop", "NATIONAL_ID": "drop", "PERSON": "pseudonym",
                    "IP_ADDRESS": "pseudonym",
                    "DATE": "generalize_date", "DATE_TIME": "generalize_date",
                    "STREET_ADDRESS": "redact", "URL": "redact", "DOMAIN": "redact"}
SAMPLE = 200
SHARE = 0.6


@dataclass(frozen=True)
class ColumnProposal:
    column: str
    entity: str
    action: str
    reason: str


def _normalise(name: str) -> str:
    split = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).casefold()  # "Straße" -> "strasse"
    folded = "".join(c for c in unicodedata.normalize("NFKD", split) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def propose_columns(columns: Mapping[str, Sequence[object]], *,
                    skip: Sequence[str] = ()) -> list[ColumnProposal]:
    """One proposal per column that looks like an identifier; ``skip`` names columns that are
    never proposed (the label column)."""
    proposals = []
    for column, values in columns.items():
        if column in skip:
            continue
        norm = _normalise(column)
        by_name = next(((e, a) for pattern, e, a in _NAME_RULES if re.search(pattern, norm)), None)
        if by_name and by_name[0] != "LOCATION":
            proposals.append(ColumnProposal(column, *by_name, reason=f"its name '{column}'"))
            continue
        cells = [str(v).strip() for v in values[:SAMPLE] if v is not None and str(v).strip()]
        if not cells or sum(len(c) for c in cells) / len(cells) > 60:
            continue  # empty, or free text: scanned span by span instead
        whole: Counter[str] = Counter()
        for cell in cells:
            found = detect(cell)
            if len(found) == 1 and found[0].length >= 0.9 * len(cell):
                whole[found[0].type] += 1
        if whole:
            entity, count = whole.most_common(1)[0]
            if count >= SHARE * len(cells) and entity in _CONTENT_ACTIONS:
                proposals.append(ColumnProposal(
                    column, entity, _CONTENT_ACTIONS[entity],
                    reason=f"{count} of {len(cells)} sampled cells are one {entity}"))
    return proposals
