// Keeps a page current from the node's block stream (GET /v1/blocks/stream, server-sent
// events): the cell's height and epoch, new rows at the top of the block table, and the
// activity chart. Pages without data-live="blocks" load nothing.
"use strict";

(function () {
  if (document.body.dataset.live !== "blocks") return;
  const ROWS = 25;
  const CHART_EVERY_MS = 5000;
  let chartDrawn = 0;

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function prependBlock(block) {
    const body = document.querySelector("#blocks tbody");
    if (!body) return;
    const row = document.createElement("tr");
    row.className = "fresh";
    const height = document.createElement("td");
    const link = document.createElement("a");
    link.href = "/explorer/blocks/" + block.height;
    link.textContent = String(block.height);
    height.appendChild(link);
    row.appendChild(height);
    const hash = document.createElement("td");
    const code = document.createElement("code");
    code.title = block.hash;
    code.textContent = block.hash.slice(0, 8) + "…" + block.hash.slice(-6);
    hash.appendChild(code);
    row.appendChild(hash);
    row.appendChild(cell(String(block.round), "number"));
    row.appendChild(cell(String(block.transactions), "number"));
    row.appendChild(cell(String(block.rejected), "number"));
    body.insertBefore(row, body.firstChild);
    const limit = body.dataset.rows ? Number(body.dataset.rows) : ROWS;
    while (body.rows.length > limit) body.deleteRow(body.rows.length - 1);
  }

  function updateFigures(block) {
    const height = document.getElementById("height");
    if (height) height.textContent = String(block.height);
    const epoch = document.getElementById("epoch");
    if (epoch && epoch.dataset.epochLength) {
      epoch.textContent = String(Math.floor(block.height / Number(epoch.dataset.epochLength)) + 1);
    }
    const chart = document.getElementById("activity");
    if (chart && Date.now() - chartDrawn > CHART_EVERY_MS) {
      chartDrawn = Date.now();
      chart.src = "/explorer/activity.svg?at=" + chartDrawn;
    }
  }

  function topHeight() {
    const link = document.querySelector("#blocks tbody tr:first-child td:first-child a");
    return link ? Number(link.textContent) : null;
  }

  function rowHeight(row) {
    return Number(row.cells[0].textContent);
  }

  // Blocks committed between the page's rendering and the stream's first event never come
  // through the stream: the table is read again from the server, and rows above `after` are
  // marked fresh. Rows the stream added while the read was under way are kept above the rows
  // read (they may be newer than the server's page); a read that fails is tried again.
  function refill(after) {
    fetch(location.pathname + location.search)
      .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
      .then(function (html) {
        const body = document.querySelector("#blocks tbody");
        const read = new DOMParser().parseFromString(html, "text/html");
        const fetched = read.querySelector("#blocks tbody");
        if (!body || !fetched) return;
        const rows = Array.from(fetched.rows);
        const top = rows.length ? rowHeight(rows[0]) : after;
        for (const row of rows) {
          if (rowHeight(row) > after) row.className = "fresh";
        }
        const newer = Array.from(body.rows).filter(function (row) { return rowHeight(row) > top; });
        const limit = body.dataset.rows ? Number(body.dataset.rows) : ROWS;
        body.replaceChildren.apply(body, newer.concat(rows).slice(0, limit));
        shown = Math.max(shown, topHeight() || 0);
      })
      .catch(function () { setTimeout(function () { refill(after); }, 1000); });
  }

  let shown = topHeight();
  const stream = new EventSource("/v1/blocks/stream");
  stream.addEventListener("block", function (event) {
    const block = JSON.parse(event.data);
    updateFigures(block);
    if (shown !== null && block.height <= shown) return;
    if (shown !== null && block.height > shown + 1) {
      const after = shown;
      shown = block.height;
      refill(after);
      return;
    }
    shown = block.height;
    prependBlock(block);
  });
})();
