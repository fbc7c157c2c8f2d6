#!/usr/bin/env python3
"""Made palier's paper-key word list once (Sources/PalierCrypto/PaperKeyWords.swift): the 2,048
most frequent French words (wordfreq, PyPI) that are in Debian's wfrench dictionary, written
with a-z only, 4 to 8 letters long, and unique by their first four letters (so that four
letters of each word are enough to recover a key), less words unkind to read on paper.
The list is part of protocol.md's paper-key format: it must never change once a key is printed.
Rerun only to check: `python3 scripts/paper-words.py --check`."""
import re
import sys

from wordfreq import top_n_list

UNKIND = {
    "mort", "morts", "morte", "mourir", "meurt", "merde", "putain", "pute", "gueule", "tuer", "tue", "tuee", "sexe",
    "sexy", "sexuel", "cancer", "foutre", "suicide", "bite", "porno", "nazi", "nazis", "crever", "nique", "niquer",
    "viol", "violer", "connard", "conne", "connasse", "salope", "salaud", "batard", "bordel", "cul", "chier", "encule",
    "couille", "couilles", "chienne", "cocu", "negre", "pede", "baise", "baiser", "crime", "meurtre", "guerre",
    "tueur", "cadavre", "drogue", "haine", "hitler", "terreur", "bombe", "arme", "armes", "sang", "deces", "enfer",
    "diable", "idiot", "debile", "stupide", "con", "cons", "moche", "gros", "grosse", "laid", "laide", "pauvre",
    "malade", "maladie", "prison", "police", "flic", "flics", "islam", "juif", "juifs", "dieu", "jesus", "allah",
    "terroris", "attentat", "massacre", "victime", "victimes", "otage", "otages", "fusil", "pistolet", "poison",
    "autisme", "sida", "virus", "mortel", "dette", "faillite", "vomir", "ivre", "alcool", "cocaine", "heroine",
}


def words():
    dictionary = {w.strip() for w in open("/usr/share/dict/french", encoding="utf-8")}
    chosen = {}
    for word in top_n_list("fr", 80000):
        if len(chosen) == 2048:
            break
        if re.fullmatch(r"[a-z]{4,8}", word) and word in dictionary and word not in UNKIND and word[:4] not in chosen:
            chosen[word[:4]] = word
    assert len(chosen) == 2048
    return sorted(chosen.values())


def swift(list_):
    lines = ["/// palier's paper-key words (docs/protocol.md §16): 2,048 French words, a-z only, 4 to 8",
             "/// letters, unique by their first four letters. Made by scripts/paper-words.py; never change",
             "/// it, or printed keys no longer recover.",
             "enum PaperKeyWords {",
             "    static let list: [String] = ["]
    for i in range(0, len(list_), 8):
        lines.append("        " + " ".join('"%s",' % w for w in list_[i:i + 8]))
    lines += ["    ]", "}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    text = swift(words())
    path = "Sources/PalierCrypto/PaperKeyWords.swift"
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if open(path).read() == text else 1)
    open(path, "w").write(text)
