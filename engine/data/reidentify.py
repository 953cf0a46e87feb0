"""Re-identification through a dataset's reversible-pseudonym mapping (``cloister reidentify``).

An anonymization whose policy has ``reversible = true`` on a pseudonym action stores the
surrogate -> original pairs it produced (``privacy.pii.reversible``) as one workspace entry
under the dataset's prefix (``store.pseudonym_map_key``). Like every entry it is an AES-GCM
container bound to its key: the mapping exists in plaintext only in memory, is deleted by
``cloister rm`` and moved by ``cloister rename`` with the dataset, and is dropped when the
dataset is replaced. The audit log records counts, never a value.
"""
from __future__ import annotations

from privacy.errors import ContainerError, NotInVault
from privacy.pii.reversible import PseudonymMap, Reidentified

from engine.data.store import DatasetDamaged, check_name, dataset_info, pseudonym_map_key
from engine.errors import InputError
from engine.vault import Vault


class NoPseudonymMap(InputError):
    """The dataset was not anonymized with reversible pseudonyms: there is nothing to reverse."""


class MappingLost(DatasetDamaged):
    """The dataset was stored to have a reversible mapping, which was never written (a process
    killed between the two writes): its rows are intact, its pseudonyms cannot be reversed."""


def save_pseudonym_map(ws: Vault, name: str, pseudonyms: PseudonymMap) -> None:
    ws.write_json(pseudonym_map_key(name), pseudonyms.to_json())


def load_pseudonym_map(ws: Vault, name: str) -> PseudonymMap:
    """The dataset's mapping; DatasetNotFound for no such dataset, NoPseudonymMap when it was not
    anonymized reversibly, DatasetDamaged when the entry does not decrypt or parse."""
    name = dataset_info(ws, name).name
    key = pseudonym_map_key(name)
    try:
        data = ws.read_json(key)
    except NotInVault:
        if mapping_expected(ws, name):
            raise MappingLost(
                f"the reversible pseudonym mapping of dataset {name!r} was never written (the "
                "command or window that stored it was stopped as it ended), so its pseudonyms "
                "cannot be reversed: delete it and make it again from the original") from None
        raise NoPseudonymMap(
            f"dataset {name!r} has no reversible pseudonym mapping, so its pseudonyms cannot be "
            "reversed: only an anonymization whose policy sets reversible = true on a pseudonym "
            "action keeps one (see `cloister example-policy`)") from None
    except ContainerError as exc:
        raise DatasetDamaged(f"the pseudonym mapping of dataset {name!r} cannot be read: {exc}") \
            from None
    try:
        return PseudonymMap.from_json(data)
    except ValueError as exc:
        raise DatasetDamaged(f"the pseudonym mapping of dataset {name!r} is unreadable ({exc})") \
            from None


def mapping_expected(ws: Vault, name: str) -> bool:
    """Whether the stored description says a reversible mapping was to be written with it."""
    from engine.data.store import meta_key

    try:
        return bool(ws.read_json(meta_key(name)).get("pseudonym_map"))
    except Exception:  # noqa: BLE001 - unreadable: said as no mapping, as before
        return False


def reidentify(ws: Vault, name: str, text: str) -> Reidentified:
    """``text`` with the surrogates of dataset ``name`` replaced by their originals."""
    name = check_name(name)
    result = load_pseudonym_map(ws, name).reidentify(text)
    ws.audit("dataset.reidentified", dataset=name, replaced=result.total,
             by_entity=dict(result.replaced), ambiguous=result.ambiguous)
    return result
