// The Send page: recipients uploaded and checked, a message previewed, a dry run or a send
// started, followed and stopped. Every decision is the server's; this only shows it.
"use strict";

(() => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const form = $("send-form");
  if (!form) return;
  let upload = null;
  let run = null;
  let shown = 0;
  let stopping = false;  // the server has the request to stop the run

  async function ask(url, options) {
    const response = await fetch(url, options);
    let answer;
    try { answer = await response.json(); } catch { answer = {error: `${response.status} ${response.statusText}`}; }
    if (!response.ok) throw new Error(answer.error || response.statusText);
    return answer;
  }

  function postJson(url, data) {
    return ask(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
                     body: JSON.stringify(data)});
  }

  function say(id, text, isError) {
    $(id).textContent = text;
    $(id).classList.toggle("error", Boolean(isError));
  }

  function list(id, lines) {
    $(id).replaceChildren(...lines.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }));
  }

  function message() {
    return {upload, article: form.elements.article ? form.elements.article.value : "",
            subject: $("subject").value, body: $("body").value};
  }

  function ready(going) {
    const usable = Boolean(upload) && !going;
    $("dry-run").disabled = !usable;
    $("send").disabled = !usable || $("send").dataset.ready !== "yes";
    $("send-test").disabled = $("send").disabled;
    $("show-preview").disabled = !upload;
    $("preview-row").disabled = !upload;
    $("recipients").disabled = going;
    $("stop").hidden = !going;
  }

  $("recipients").addEventListener("change", async () => {
    const file = $("recipients").files[0];
    upload = null;
    ready(false);
    list("problems", []);
    list("notes", []);
    if (!file) return;
    if (file.size > Number($("recipients").dataset.maxBytes)) {
      say("recipients-status", `${file.name} is too large: over ${(Number($("recipients").dataset.maxBytes) / 1048576).toFixed(1)} MB.`, true);
      return;
    }
    say("recipients-status", `Reading ${file.name}…`);
    try {
      const answer = await ask("/api/send/recipients", {
        method: "POST", body: file,
        headers: {"Content-Type": "text/csv", "X-CSRF-Token": token, "X-File-Name": encodeURIComponent(file.name)},
      });
      list("notes", answer.notes);
      if (answer.problems.length) {
        const [first, ...rows] = answer.problems;
        say("recipients-status", `${first.replace(/:$/, ".")} Fix the file and choose it again.`, true);
        list("problems", rows);
        return;
      }
      upload = answer.upload;
      say("recipients-status", `${answer.rows.length} recipient${answer.rows.length === 1 ? "" : "s"} in ${answer.name}, no problems.`);
      $("preview-row").replaceChildren(...answer.rows.map((row) => {
        const option = document.createElement("option");
        option.value = row.row;
        option.textContent = `${row.name ? row.name + " " : ""}<${row.email}> (row ${row.row})`;
        return option;
      }));
      ready(false);
    } catch (error) {
      say("recipients-status", error.message, true);
    }
  });

  $("show-preview").addEventListener("click", async () => {
    try {
      const mail = await postJson("/api/send/preview", {...message(), row: $("preview-row").value});
      for (const name of ["from", "to", "cc", "subject", "attached"]) $(`preview-${name}`).textContent = mail[name] || "—";
      $("preview-body").srcdoc = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Message</title>` +
        `<body style="font: 16px/1.5 system-ui, sans-serif; margin: 1rem">${mail.html}</body></html>`;
      $("mail-preview").hidden = false;
      say("run-status", "");
    } catch (error) {
      $("mail-preview").hidden = true;
      say("recipients-status", error.message, true);
    }
  });

  async function start(mode) {
    const doing = {send: "sending", test: "sending the test", "dry-run": "writing the messages"}[mode];
    say("run-status", `Building the handout, then ${doing}…`);
    $("run").hidden = false;
    $("messages").replaceChildren();
    list("run-notes", []);
    $("progress").value = 0;
    $("progress").removeAttribute("value");  // indeterminate while the handout is built
    shown = 0;
    stopping = false;
    try {
      run = (await postJson("/api/send/runs", {...message(), mode, test_to: $("test-to").value})).run;
      ready(true);
      follow();
    } catch (error) {
      say("run-status", error.message, true);
      ready(false);
    }
  }

  $("dry-run").addEventListener("click", () => start("dry-run"));
  $("send").addEventListener("click", () => start("send"));
  $("send-test").addEventListener("click", () => start("test"));
  $("stop").addEventListener("click", async () => {
    // "Stopping" is said once the server has the request, and until the run ends.
    try {
      await postJson(`/api/send/runs/${run}/stop`, {});
      stopping = true;
      say("run-status", "Stopping after the message being sent…");
    } catch (error) {
      say("run-status", error.message, true);
    }
  });

  function entry(message) {
    const item = document.createElement("li");
    if (message.file) {
      const link = document.createElement("a");
      link.href = `/send/outbox/${encodeURIComponent(message.file)}`;
      link.download = message.file;
      link.textContent = message.file;
      item.append(link, ` to ${message.to}: “${message.subject}”`);
    } else {
      item.className = message.status;
      item.textContent = `${message.status}: ${message.to}${message.detail ? " (" + message.detail + ")" : ""}`;
    }
    return item;
  }

  async function follow() {
    let state;
    try {
      state = await ask(`/api/send/runs/${run}?since=${shown}`);
    } catch (error) {
      say("run-status", error.message, true);
      ready(false);
      return;
    }
    $("messages").append(...state.messages.map(entry));
    shown += state.messages.length;
    list("run-notes", state.notes);
    if (state.total) {
      $("progress").max = state.total;
      $("progress").value = state.done;
    }
    const what = state.sending ? "handled" : "written";
    if (state.state === "preparing") say("run-status", "Reading the recipients and building the handout…");
    else if (state.state === "running") {
      say("run-status", stopping ? "Stopping after the message being sent…" : `${state.done} of ${state.total} messages ${what}…`);
    }
    else say("run-status", state.summary, state.state === "failed");
    if (state.state === "preparing" || state.state === "running") {
      setTimeout(follow, 400);
    } else {
      if (!state.test) $("send").textContent = state.sending && state.state === "stopped" ? "Send the rest" : "Send";
      ready(false);
    }
  }
})();
