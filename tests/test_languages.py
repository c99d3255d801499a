"""Language evidence of a column of text, and the orientation of a translation file's two columns."""

import pytest

from lstmkit.data.languages import column_evidence, column_language, orient_columns
from lstmkit.errors import DataError

# Short Tatoeba-like sentences: the layout of the anki files, English first.
ENGLISH = ["Hi.", "Run!", "I am tired.", "What is this?", "The dog is not here.", "You have my book.", "He was happy."]
FRENCH = ["Salut.", "Cours !", "Je suis fatigué.", "Qu'est-ce que c'est ?", "Le chien n'est pas ici.",
          "Tu as mon livre.", "Il était heureux."]  # fmt: skip
CHINESE = ["嗨。", "跑！", "我累了。", "这是什么？", "狗不在这里。", "你有我的书。", "他很高兴。"]
JAPANESE = [
    "こんにちは。",
    "走れ！",
    "私は疲れた。",
    "これは何ですか？",
    "犬はここにいない。",
    "あなたは私の本を持っている。",
]


def test_the_evidence_names_the_script_and_the_stop_words():
    english, french, chinese = column_evidence(ENGLISH), column_evidence(FRENCH), column_evidence(CHINESE)
    assert english.script == french.script == "Latin" and chinese.script == "Han"
    assert column_evidence(JAPANESE).script == "Japanese"  # Kana among the Han characters
    assert english.stop_words["en"] > 3 * english.stop_words["fr"]
    assert french.stop_words["fr"] > 3 * french.stop_words["en"]
    assert chinese.stop_words["en"] == 0 and chinese.scripts["Han"] > 0.9
    assert column_evidence([]).script is None and "no clear script" in column_evidence(["123"]).describe()


@pytest.mark.parametrize(
    ("texts", "candidates", "expected"),
    [
        (ENGLISH, ("en", "fr"), "en"),
        (FRENCH, ("en", "fr"), "fr"),
        (CHINESE, ("en", "zh"), "zh"),
        (ENGLISH, ("en", "zh"), "en"),  # by the script alone
        (ENGLISH, ("sw", "zh"), "sw"),  # the only candidate the script allows, though its words are unknown
        (["Hola.", "Adiós."], ("en", "es"), None),  # Latin, and no stop word either way
        (ENGLISH, ("sw", "yo"), None),  # no evidence for languages without a script or stop-word entry
    ],
)
def test_a_column_is_named_only_on_clear_evidence(texts, candidates, expected):
    assert column_language(column_evidence(texts), candidates) == expected


@pytest.mark.parametrize(
    ("first", "second", "src", "tgt", "columns", "how"),
    [
        (ENGLISH, FRENCH, "en", "fr", ("en", "fr"), "file order"),
        (ENGLISH, FRENCH, "fr", "en", ("en", "fr"), "swapped"),  # the anki layout trained fr->en
        (FRENCH, ENGLISH, "fr", "en", ("fr", "en"), "file order"),
        (ENGLISH, CHINESE, "zh", "en", ("en", "zh"), "swapped"),
        (CHINESE, ENGLISH, "zh", "en", ("zh", "en"), "file order"),
        (ENGLISH, CHINESE, "en", "zh", ("en", "zh"), "file order"),
        (ENGLISH, JAPANESE, "ja", "en", ("en", "ja"), "swapped"),
    ],
)
def test_orientation_follows_the_evidence(first, second, src, tgt, columns, how):
    assert orient_columns(first, second, src, tgt) == (columns, how)


@pytest.mark.parametrize(
    ("first", "second", "src", "tgt", "message"),
    [
        (["Hi."], ["Hola."], "en", "es", r"cannot tell which column .* is en and which is es .*--columns en,es"),
        (ENGLISH, ENGLISH, "en", "fr", "cannot tell which column"),  # both columns English: contradicts itself
        (ENGLISH, CHINESE, "en", "fr", "unknown direction en->fr: the second column of the data is Han text"),
        (CHINESE, ENGLISH, "en", "es", "unknown direction en->es: the first column"),
    ],
)
def test_unclear_or_impossible_columns_ask_for_columns(first, second, src, tgt, message):
    with pytest.raises(DataError, match=message):
        orient_columns(first, second, src, tgt)
