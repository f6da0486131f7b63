// handout serve: sends what the person does to the server, shows what comes back.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const DOWNLOADS = {handout: "Download PDF", booklet: "Booklet", "booklet-a5": "Booklet (A5)", "2up": "2-up", "4up": "4-up"};

async function post(url, data) {
  const response = await fetch(url, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    body: JSON.stringify(data),
  });
  let answer;
  try { answer = await response.json(); } catch { answer = {error: await response.text()}; }
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

function say(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

function element(tag, properties, ...children) {
  const made = Object.assign(document.createElement(tag), properties);
  made.append(...children);
  return made;
}

// Build all, Rebuild, Build it (on any page, also after a live update replaced the list).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-build]");
  if (!button) return;
  const article = button.dataset.build;
  say(article ? `Building ${article}…` : "Building every handout…");
  button.disabled = true;
  try {
    await post("/api/build", {article});
    await refresh();
    say(article ? `${article}: done.` : "Every handout: done.");
  } catch (error) {
    say(error.message, true);
  } finally {
    button.disabled = false;  // a button outside the refreshed list is pressed again later
  }
});

// Live updates: an article changed on disk (or built from another page) is shown without a reload.
const live = document.getElementById("live");
if (live && window.EventSource) {
  const events = new EventSource("/events");
  events.addEventListener("message", async (message) => {
    const event = JSON.parse(message.data);
    const mine = live.dataset.live === "list" || event.articles.includes(live.dataset.article);
    if (!mine) return;
    if (event.status === "building") {
      say(`${event.articles.join(", ")} changed: rebuilding…`);
    } else if (event.status === "failed") {
      say(event.error, true);
    } else {
      await refresh();
      say(`${event.articles.join(", ")}: updated.`);
    }
  });
}

// The page's live part, as the server now has it.
async function refresh() {
  if (!live) return;
  const response = await fetch(location.pathname);
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("live");
  if (!fresh) return;
  live.replaceChildren(...fresh.childNodes);
  showInitial();
}

// Preview and Handout pages: the pages, the downloads and the check, with findings linked to their page.
function showPreview(shown, removed) {
  document.getElementById("pages").replaceChildren(...shown.pages.map((url, index) =>
    element("img", {src: url, id: `page-${index + 1}`, className: "page", loading: "lazy",
                    alt: `Page ${index + 1} of ${shown.page_count}`})));
  const kinds = Object.keys(DOWNLOADS).filter((kind) => kind in shown.downloads);
  document.getElementById("downloads").replaceChildren(...kinds.map((kind) =>
    element("a", {className: kind === "handout" ? "button" : "button secondary", href: shown.downloads[kind],
                  download: kind === "handout" ? `${shown.slug}.pdf` : `${shown.slug}-${kind}.pdf`,
                  id: `download-${kind}`}, DOWNLOADS[kind])));
  const report = document.getElementById("report");
  const lines = [];
  if (shown.report) {
    const r = shown.report;
    lines.push(element("p", {className: "coverage"}, `${r.words - r.missing_words} of ${r.words} words printed (${r.coverage}%).`));
  }
  const findings = [...(removed ? removed.found : []).map((text) => ({text, page: null})), ...shown.findings];
  if (findings.length) {
    lines.push(element("ul", {className: "finding-list"}, ...findings.map((finding) => {
      const item = element("li", {}, finding.text);
      if (finding.page) item.append(" ", element("a", {href: `#page-${finding.page}`}, `See page ${finding.page}`));
      return item;
    })));
  } else if (shown.report) {
    lines.push(element("p", {}, "No findings."));
  }
  report.replaceChildren(...lines);
  document.getElementById("preview").hidden = false;
}

function showInitial() {
  const initial = document.getElementById("shown");
  if (initial) showPreview(JSON.parse(initial.textContent));
  const choices = document.getElementById("choices");
  if (choices) choices.addEventListener("submit", rerender);
}

// Handout page: another theme, paper, bleed or marks, rendered again.
async function rerender(event) {
  event.preventDefault();
  const choices = event.target;
  say("Making the pages…");
  try {
    const shown = await post("/api/render", {article: choices.dataset.article, ...Object.fromEntries(new FormData(choices))});
    if (!shown.ok) throw new Error(shown.error);
    showPreview(shown);
    say(`${shown.page_count} page${shown.page_count === 1 ? "" : "s"}.`);
  } catch (error) {
    say(error.message, true);
  }
}

showInitial();

// New handout page.
const box = document.getElementById("paste");
const form = document.getElementById("draft");
const read = {removed: [], found: []};

function draft() {
  const data = Object.fromEntries(new FormData(form));
  data.overwrite = form.elements.overwrite.checked;
  data.removed = read.removed;
  return data;
}

async function readArticle(data) {
  say("Reading the article…");
  try {
    const answer = await post("/api/read", data);
    for (const name of ["title", "author", "lang", "body", "theme", "paper"]) {
      form.elements[name].value = answer[name] || "";
    }
    read.removed = answer.removed;
    read.found = answer.found;
    form.hidden = false;
    await preview();
  } catch (error) {
    say(error.message, true);
  }
}

async function readFile(file) {
  box.textContent = file.name;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  await readArticle({kind: "file", name: file.name, content: btoa(binary)});
}

if (box) {
  box.addEventListener("paste", (event) => {
    event.preventDefault();
    const html = event.clipboardData.getData("text/html");
    const text = event.clipboardData.getData("text/plain");
    box.textContent = text.slice(0, 2000);
    readArticle(html ? {kind: "html", content: html} : {kind: "text", content: text});
  });
  box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("dropping"); });
  box.addEventListener("dragleave", () => box.classList.remove("dropping"));
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    box.classList.remove("dropping");
    if (event.dataTransfer.files.length) readFile(event.dataTransfer.files[0]);
  });
  document.getElementById("file").addEventListener("change", (event) => {
    if (event.target.files.length) readFile(event.target.files[0]);
  });
  document.getElementById("show-preview").addEventListener("click", preview);
  document.getElementById("save").addEventListener("click", async () => {
    say("Saving and building…");
    try {
      const saved = await post("/api/save", draft());
      say(saved.ok ? `Saved as ${saved.saved} and built.` : `Saved as ${saved.saved}, but: ${saved.error}`, !saved.ok);
    } catch (error) {
      say(error.message, true);
    }
  });
  // Put back: a block the reader left out goes back where it was (after as many of the text's
  // blocks as came before it; at the end when that is not known), and the preview is made again.
  document.getElementById("removed").addEventListener("click", (event) => {
    const button = event.target.closest("[data-restore]");
    if (!button) return;
    const index = Number(button.dataset.restore);
    const [block] = read.removed.splice(index, 1);
    form.elements.body.value = withBlock(form.elements.body.value, block.text, block.after);
    // The others' places count the block put back when they came after it.
    read.removed.forEach((other, at) => {
      const later = other.after > block.after || (other.after === block.after && at >= index);
      if (block.after !== null && other.after !== null && later) other.after += 1;
    });
    preview();
  });
}

// `text` with `block` as a block of its own after its first `after` blocks (parts between blank
// lines); at the end when `after` is null or past the last.
function withBlock(text, block, after) {
  const gaps = [...text.trim().matchAll(/\n[ \t]*\n\s*/g)];
  const start = text.length - text.trimStart().length;
  if (after === null || after >= gaps.length + 1) return `${text.trimEnd()}\n\n${block}\n`;
  const at = after === 0 ? start : start + gaps[after - 1].index;
  return after === 0 ? `${text.slice(0, at)}${block}\n\n${text.slice(at)}`
                     : `${text.slice(0, at)}\n\n${block}${text.slice(at)}`;
}

async function preview() {
  say("Making the preview…");
  try {
    const shown = await post("/api/preview", draft());
    showPreview(shown, read);
    document.getElementById("removed").replaceChildren(...read.removed.map((block, index) =>
      element("li", {}, element("strong", {}, `${block.kind}: `), block.text.slice(0, 300), " ",
              element("button", {type: "button", className: "small", title: "Put this block back where it was in the article"},
                      "Put back", element("span", {className: "hidden"}, ` the ${block.kind} block at line ${block.line}`)))));
    document.querySelectorAll("#removed button").forEach((button, index) => { button.dataset.restore = index; });
    say(shown.ok ? `${shown.page_count} page${shown.page_count === 1 ? "" : "s"}.` : shown.error, !shown.ok);
  } catch (error) {
    say(error.message, true);
  }
}
