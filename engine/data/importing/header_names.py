"""Words that headers use for the text and the label column ("Consumer complaint narrative",
"Product"): how ``columns`` proposes a mapping, and how CSV sniffing tells a header repeated by
joined exports from a first row of data that happens to repeat. Below ``columns`` so that the
readers can use it too.
"""
from __future__ import annotations

import re

from engine.data.folding import fold

# Names, strongest first. The rank breaks ties: a table with both "Product" and "Tags" columns
# (the CFPB export) is a product classification task far more often than a tag one.
TEXT_NAMES = (
    "text", "texts", "sentence", "sentences", "message", "msg", "review", "comment", "comments",
    "content", "body", "narrative", "description", "utterance", "query", "question", "document",
    "doc", "tweet", "sms", "complaint", "feedback", "abstract", "summary", "post", "email",
    "transcript", "note", "notes", "input", "prompt", "title",
)
LABEL_NAMES = (
    "label", "labels", "class", "category", "target", "intent", "sentiment", "topic", "polarity",
    "emotion", "stance", "outcome", "gold", "annotation", "output", "y", "product", "genre", "type",
    "categories", "classes", "tag", "tags",
)
# German, French, Spanish, Italian and Dutch headers (accents folded: "libellé" is "libelle").
# They count as a whole name only ("Kategorie", "Libellé"), never as one word of a longer one:
# "theme" or "tema" inside an English "theme_id" must not make it the label.
FOREIGN_TEXT_NAMES = frozenset((
    "nachricht", "beschreibung", "kommentar", "inhalt", "freitext", "bemerkung", "anmerkung",
    "rueckmeldung", "ruckmeldung", "zusammenfassung", "betreff", "texte", "commentaire",
    "contenu", "avis", "libelle", "remarque", "resume", "objet", "texto", "mensaje",
    "comentario", "descripcion", "contenido", "resena", "testo", "messaggio", "commento",
    "descrizione", "bericht", "omschrijving", "opmerking", "tekst",
    # Polish, Czech, Turkish, Portuguese and Russian (the dotless ı stays: "açıklama").
    "tresc", "wiadomosc", "opis", "komentarz", "zgloszenie", "zprava", "popis", "mesaj",
    "acıklama", "aciklama", "yorum", "icerik", "metin", "mensagem", "descricao", "conteudo",
    "текст", "сообщение", "описание", "комментарий", "обращение", "내용", "메시지", "설명",
    # Chinese, Japanese and Arabic (CJK words also count inside a longer name: 工单内容).
    "内容", "文本", "描述", "正文", "留言", "评论", "本文", "説明", "コメント", "メッセージ",
    "النص", "المحتوى", "الوصف", "الرسالة", "التعليق",
))
FOREIGN_LABEL_NAMES = frozenset((
    "kategorie", "klasse", "thema", "stimmung", "absicht", "produkt", "typ", "categorie",
    "classe", "etiquette", "sujet", "theme", "produit", "intention", "categoria", "clase",
    "etiqueta", "tema", "sentimiento", "producto", "tipo", "etichetta", "prodotto",
    "categorieen", "onderwerp",
    "kategoria", "etykieta", "klasa", "kategorie", "etiket", "kategori", "sınıf", "sinif",
    "rotulo", "classe", "категория", "метка", "класс", "тип", "тема", "분류", "카테고리", "라벨",
    "类别", "分类", "标签", "类型", "カテゴリ", "カテゴリー", "分類", "ラベル", "種別",
    "التصنيف", "الفئة", "التسمية", "النوع",
))
_FOREIGN = {id(TEXT_NAMES): FOREIGN_TEXT_NAMES, id(LABEL_NAMES): FOREIGN_LABEL_NAMES}


_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def _tokens(name: str) -> list[str]:
    # Accents folded and case folded ("Catégorie" -> categorie, "Rückmeldung" -> ruckmeldung,
    # "Straße" -> strasse): the words above are written in ASCII.
    return [t for t in re.split(r"[\W_]+", fold(name)) if t]  # letters of any script stay


def name_score(name: str, hints: tuple[str, ...]) -> tuple[int, int]:
    """(2 exact, 1 a word of the name, 0 none; minus the hint's rank) — bigger is better."""
    normal = "".join(_tokens(name))
    if normal in hints:
        return 2, -hints.index(normal)
    foreign = _FOREIGN.get(id(hints), frozenset())
    if normal in foreign:
        return 2, -len(hints)  # after every English name of the same strength
    if _CJK.search(normal) and any(_CJK.search(h) and h in normal for h in foreign):
        return 1, -len(hints)  # no spaces between words: 工单内容 holds 内容
    words = _tokens(name)
    ranks = [hints.index(w) for w in words if w in hints]
    if ranks:
        return 1, -min(ranks)
    return 0, 0
