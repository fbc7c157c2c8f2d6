/// The kiosk page: self-contained HTML, CSS and JavaScript — no external font, script or request
/// beyond this node's own `/feed.json` and `/events`. Made for a portrait elevator screen.
enum KioskPage {
    static let html = #"""
<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>palier</title>
<style>
  :root { --ink: #1b1f24; --paper: #f6f3ee; --accent: #2a6f97; --alert: #b3261e; --muted: #6b6f76; }
  * { box-sizing: border-box; }
  html, body { margin: 0; height: 100%; background: var(--paper); color: var(--ink);
    font-family: "DejaVu Sans", "Noto Sans", "Liberation Sans", sans-serif; }
  body { display: flex; flex-direction: column; overflow: hidden; }
  header { display: flex; justify-content: space-between; align-items: baseline; padding: 3vh 5vw 1vh;
    border-bottom: 0.4vh solid var(--accent); }
  #building { font-size: 3.2vh; font-weight: bold; }
  #clock { font-size: 3.2vh; font-variant-numeric: tabular-nums; }
  #date { font-size: 2vh; color: var(--muted); padding: 0 5vw; margin-top: 0.6vh; }
  main { flex: 1; display: flex; flex-direction: column; justify-content: center; padding: 3vh 6vw; }
  .card .kind { display: inline-block; font-size: 2vh; text-transform: uppercase; letter-spacing: 0.2em;
    color: white; background: var(--accent); padding: 0.5vh 1.2vw; border-radius: 0.6vh; }
  .card .title { font-size: 5.2vh; line-height: 1.15; margin: 2.5vh 0 2vh; overflow-wrap: anywhere; }
  .card .body { font-size: 3vh; line-height: 1.4; white-space: pre-line; overflow-wrap: anywhere; }
  .card .event { font-size: 2.8vh; margin-top: 2vh; color: var(--accent); }
  .card .author { font-size: 2.2vh; margin-top: 3vh; color: var(--muted); }
  .verified::after { content: " ✓"; color: var(--accent); font-weight: bold; }
  #alert { display: none; position: fixed; inset: 0; background: var(--alert); color: white; padding: 10vh 7vw; }
  #alert.on { display: flex; flex-direction: column; justify-content: center; }
  #alert .kind { background: white; color: var(--alert); align-self: flex-start; }
  #alert .verified::after { color: white; }
  #alert .author { color: #ffdad6; }
  #idle { text-align: center; color: var(--muted); font-size: 3vh; }
  footer { padding: 1.5vh 5vw 2.5vh; border-top: 0.2vh solid #ddd6cc; }
  footer h2 { font-size: 1.8vh; text-transform: uppercase; letter-spacing: 0.15em; color: var(--muted); margin: 0 0 1vh; }
  #upcoming { list-style: none; margin: 0; padding: 0; font-size: 2vh; max-height: 16vh; overflow: hidden; }
  #upcoming li { padding: 0.4vh 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  #upcoming li.current { font-weight: bold; }
  #status { font-size: 1.6vh; color: var(--muted); margin-top: 1vh; }
</style>
</head>
<body>
<header><div id="building">palier</div><div id="clock"></div></header>
<div id="date"></div>
<main><div id="current" class="card"></div><div id="idle">Bonne journée !</div></main>
<footer><h2>Au programme</h2><ul id="upcoming"></ul><div id="status">connexion…</div></footer>
<div id="alert" class="card"></div>
<script>
"use strict";
let items = [];          // the playlist, in the node's order
let turn = 0;            // position in the rotation
let timer = null;
const kinds = { tip: "Astuce", classified: "Petite annonce", event: "Événement", notice: "Avis",
  flash: "Flash", alert: "Alerte", promo: "Offre" };
const roles = { building: "l'immeuble", resident: "résident·e", admin: "gardien·ne / admin", council: "conseil syndical",
  syndic: "syndic", landlord: "bailleur", elevator: "ascensoriste", merchant: "commerce", city: "ville",
  association: "association" };

function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function when(ms) {
  const date = new Date(ms);   // a neighbour's event may start in the year 584,554,051: no date then
  return isNaN(date) ? "" : date.toLocaleString("fr-FR", { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

function fill(card, item) {
  card.replaceChildren();
  card.lang = item.language || "fr";
  card.dataset.id = item.id;
  card.append(el("span", "kind", kinds[item.kind] || item.kind), el("div", "title", item.title));
  if (item.body) card.append(el("div", "body", item.body));
  if (item.event) card.append(el("div", "event", when(item.event.start) + (item.event.place ? " · " + item.event.place : "")));
  const who = el("div", "author", item.author.name + " — " + (roles[item.author.role] || item.author.role) + (item.local ? "" : " · " + item.building));
  if (item.author.verified) who.classList.add("verified");
  card.append(who);
}

function live(now) { return items.filter(i => i.from <= now && now < i.until); }

function show() {
  clearTimeout(timer);
  const now = Date.now();
  const playing = live(now);
  const urgent = playing.filter(i => i.preempts);
  const rotation = urgent.length ? urgent : playing.filter(i => !i.preempts);
  const alert = document.getElementById("alert");
  alert.classList.toggle("on", urgent.length > 0);
  document.getElementById("idle").style.display = rotation.length ? "none" : "block";
  document.getElementById("current").style.display = rotation.length && !urgent.length ? "block" : "none";
  let seconds = 10;
  if (rotation.length) {
    const item = rotation[turn % rotation.length];
    fill(urgent.length ? alert : document.getElementById("current"), item);
    seconds = item.displaySeconds;
    turn = (turn + 1) % rotation.length;
  }
  const list = document.getElementById("upcoming");
  list.replaceChildren(...playing.map(i => {
    const li = el("li", "", (kinds[i.kind] || i.kind) + " · " + i.title);
    li.dataset.id = i.id;
    return li;
  }));
  timer = setTimeout(show, seconds * 1000);
}

function apply(event) {
  switch (event.type) {
  case "hello":
    document.getElementById("building").textContent = event.building.name;
    break;
  case "snapshot":
    items = event.items; turn = 0; show();
    break;
  case "upsert": {
    const at = items.findIndex(i => i.id === event.item.id);
    if (at >= 0) items.splice(at, 1);
    items.splice(Math.min(event.position, items.length), 0, event.item);
    // An alert shows at once; anything else joins the rotation.
    if (event.item.preempts) { turn = 0; show(); } else { show(); }
    break;
  }
  case "remove":
    items = items.filter(i => i.id !== event.id); show();
    break;
  }
  document.getElementById("status").textContent = "à jour · " + new Date().toLocaleTimeString("fr-FR");
}

function tick() {
  const now = new Date();
  document.getElementById("clock").textContent = now.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
  document.getElementById("date").textContent = now.toLocaleDateString("fr-FR", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

function connect() {
  const source = new EventSource("/events");   // reconnects by itself; each connection starts with a snapshot
  source.onmessage = m => apply(JSON.parse(m.data));
  source.onerror = () => { document.getElementById("status").textContent = "reconnexion…"; };
}

tick(); setInterval(tick, 1000);
fetch("/feed.json").then(r => r.json()).then(apply).catch(() => {}).finally(connect);
</script>
</body>
</html>
"""#
}
