#!/usr/bin/env python3
"""Writes palier(1) in roff from `palier --experimental-dump-help` (JSON on stdin): every
command and subcommand with its summary, its discussion (examples included) and its options,
so that the manual says what --help says. `man-page.py VERSION [fr]`: the French manual from
`PALIER_LANG=fr palier --experimental-dump-help`. Used by scripts/build-deb.sh."""
import json
import sys
import time


def roff(text):
    """Text as roff: backslashes, leading dots and quotes escaped."""
    out = []
    for line in text.replace("\\", "\\e").split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def option_label(argument):
    names = argument.get("names") or []
    parts = []
    for name in names:
        parts.append(("-" if name["kind"] == "short" else "--") + name["name"])
    label = ", ".join(parts) if parts else "<%s>" % argument.get("valueName", "value")
    if argument["kind"] == "option":
        label += " <%s>" % argument.get("valueName", "value")
    if argument.get("isRepeating"):
        label += " ..."
    return label


def arguments(command):
    shown = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)
             and not any(n["name"] in ("help", "version") for n in a.get("names") or [])]
    lines = []
    for argument in shown:
        lines.append(".TP")
        lines.append("\\fB%s\\fR" % roff(option_label(argument)))
        about = argument.get("abstract", "")
        if argument.get("allValues"):
            about += " (%s: %s)" % (W["values"], ", ".join(argument["allValues"]))
        if argument.get("defaultValue") not in (None, ""):
            about += " (%s: %s)" % (W["default"], argument["defaultValue"])
        lines.append(roff(about))
    return lines


def paragraphs(text):
    """A discussion: its lines kept, each filled to the page's width; blank lines part paragraphs."""
    lines = [".PP"]
    for line in text.split("\n"):
        lines.append(".PP" if not line.strip() else roff(line) + "\n.br")
    return lines


def section(command, path):
    name = " ".join(path)
    lines = [".SS \"%s\"" % roff(name), roff(command.get("abstract", ""))]
    if command.get("discussion"):
        lines += paragraphs(command["discussion"])
    lines += arguments(command)
    for sub in command.get("subcommands", []) or []:
        if sub["commandName"] != "help" and sub.get("shouldDisplay", True):
            lines += section(sub, path + [sub["commandName"]])
    return lines


WORDS = {
    "en": {"manual": "palier manual", "NAME": "NAME", "SYNOPSIS": "SYNOPSIS", "command": "command", "options": "options",
           "DESCRIPTION": "DESCRIPTION", "COMMANDS": "COMMANDS", "FILES": "FILES", "EXIT STATUS": "EXIT STATUS",
           "SEE ALSO": "SEE ALSO", "values": "values", "default": "default",
           "config": "The node's settings (see /usr/share/doc/palier/configuration.md).",
           "data": "Its keys, store and sockets, the palier user's.", "resident": "A resident's own key and outbox.",
           "exit": ["0 on success; otherwise a code of sysexits(3): 64 usage, 65 bad data, 66 missing input,",
                    "69 unavailable, 73 cannot create, 74 I/O or store, 75 try again later, 77 not allowed, 78 configuration."]},
    "fr": {"manual": "manuel de palier", "NAME": "NOM", "SYNOPSIS": "SYNOPSIS", "command": "commande", "options": "options",
           "DESCRIPTION": "DESCRIPTION", "COMMANDS": "COMMANDES", "FILES": "FICHIERS", "EXIT STATUS": "CODE DE SORTIE",
           "SEE ALSO": "VOIR AUSSI", "values": "valeurs", "default": "par défaut",
           "config": "Les réglages du nœud (voir /usr/share/doc/palier/configuration.md).",
           "data": "Ses clés, sa base de données et ses prises, à l'utilisateur palier.", "resident": "La clé et la boîte d'envoi d'un résident.",
           "exit": ["0 en cas de succès ; sinon un code de sysexits(3) : 64 usage, 65 données invalides, 66 entrée absente,",
                    "69 indisponible, 73 création impossible, 74 entrée-sortie ou base, 75 réessayer plus tard, 77 non permis, 78 réglages."]},
}
W = WORDS["en"]


def main():
    global W
    root = json.load(sys.stdin)["command"]
    version = sys.argv[1] if len(sys.argv) > 1 else ""
    W = WORDS[sys.argv[2] if len(sys.argv) > 2 else "en"]
    date = time.strftime("%Y-%m-%d", time.gmtime(int(__import__("os").environ.get("SOURCE_DATE_EPOCH", time.time()))))
    lines = [
        '.TH PALIER 1 "%s" "palier %s" "%s"' % (date, version, W["manual"]),
        ".SH " + W["NAME"],
        "palier \\- %s" % roff(root.get("abstract", "")),
        ".SH " + W["SYNOPSIS"],
        "\\fBpalier\\fR \\fI%s\\fR [\\fI%s\\fR]" % (W["command"], W["options"]),
        ".SH " + W["DESCRIPTION"],
        *paragraphs(root.get("discussion", "")),
        ".SH " + W["COMMANDS"],
    ]
    for sub in root.get("subcommands", []):
        if sub["commandName"] != "help" and sub.get("shouldDisplay", True):
            lines += section(sub, ["palier", sub["commandName"]])
    lines += [
        ".SH " + W["FILES"],
        ".TP", "/etc/palier/config.json", W["config"],
        ".TP", "/var/lib/palier", W["data"],
        ".TP", "~/.config/palier", W["resident"],
        ".SH " + W["EXIT STATUS"],
        *W["exit"],
        ".SH " + W["SEE ALSO"],
        "systemctl(1), /usr/share/doc/palier/",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


main()
