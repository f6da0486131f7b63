// handout serve: sends what the person does to the server, shows what comes back.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;

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

// Handouts page: Build all, Rebuild.
document.querySelectorAll("[data-build]").forEach((button) => {
  button.addEventListener("click", async () => {
    const article = button.dataset.build;
    say(article ? `Building ${article}…` : "Building every handout…");
    button.disabled = true;
    try {
      await post("/api/build", {article});
      location.reload();
    } catch (error) {
      say(error.message, true);
      button.disabled = false;
    }
  });
});

// New handout page.
const box = document.getElementById("paste");
const form = document.getElementById("draft");
let removed = [];
// What reading the paste found (text cut short, furniture removed), shown with the check.
let found = [];

function draft() {
  const data = Object.fromEntries(new FormData(form));
  data.overwrite = form.elements.overwrite.checked;
  data.removed = removed;
  return data;
}

if (box) {
  box.addEventListener("paste", async (event) => {
    event.preventDefault();
    const html = event.clipboardData.getData("text/html");
    const text = event.clipboardData.getData("text/plain");
    box.textContent = text.slice(0, 2000);
    say("Reading the article…");
    try {
      const answer = await post("/api/read", html ? {kind: "html", content: html} : {kind: "text", content: text});
      for (const name of ["title", "author", "lang", "body", "theme", "paper"]) {
        form.elements[name].value = answer[name] || "";
      }
      removed = answer.removed;
      found = answer.found;
      form.hidden = false;
      await preview();
    } catch (error) {
      say(error.message, true);
    }
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
}

async function preview() {
  say("Making the preview…");
  const pages = document.getElementById("pages");
  const download = document.getElementById("download");
  try {
    const shown = await post("/api/preview", draft());
    pages.replaceChildren(...shown.pages.map((url, index) => {
      const img = document.createElement("img");
      img.src = url;
      img.alt = `Page ${index + 1}`;
      img.className = "page";
      return img;
    }));
    download.hidden = !shown.pdf;
    if (shown.pdf) {
      download.href = shown.pdf;
      download.download = `${shown.slug}.pdf`;
    }
    showReport(shown);
    document.getElementById("preview").hidden = false;
    say(shown.ok ? `${shown.page_count} page${shown.page_count === 1 ? "" : "s"}.` : shown.error, !shown.ok);
  } catch (error) {
    say(error.message, true);
  }
}

function showReport(shown) {
  const report = document.getElementById("report");
  const lines = [];
  if (shown.report) {
    const r = shown.report;
    lines.push(`${r.words - r.missing_words} of ${r.words} words printed (${r.coverage}%).`);
    for (const finding of r.findings) lines.push(`${finding.code}: ${finding.message}`);
  }
  for (const diagnostic of [...found, ...shown.diagnostics]) lines.push(diagnostic);
  report.replaceChildren(...lines.map((line) => {
    const p = document.createElement("p");
    p.textContent = line;
    return p;
  }));
  document.getElementById("removed").replaceChildren(...removed.map((block) => {
    const li = document.createElement("li");
    const kind = document.createElement("strong");
    kind.textContent = `${block.kind}: `;
    li.append(kind, block.text);
    return li;
  }));
}
