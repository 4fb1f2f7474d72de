// Live order updates (docs/live-updates.md). The order pages work without this script; with it,
// they follow the order events pushed over /ws/orders/: statuses change in place, the order page
// grows its history, and the list and the board gain new orders at the top. The connection state
// is shown in #live-status; a lost connection is retried with backoff (1 s doubling to 30 s), and
// once back the page reloads its live parts in the background to catch up on missed events.
(function () {
  "use strict";

  const statusLine = document.getElementById("live-status");
  if (!statusLine || !("WebSocket" in window)) return;

  const url =
    (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + "/ws/orders/";
  const FIRST_DELAY_MS = 1000;
  const MAX_DELAY_MS = 30000;
  let delay = FIRST_DELAY_MS;
  let lost = false; // a connection failed or closed; cleared by the next one that opens
  let held = null; // events that arrive while the page catches up, applied after it

  function say(text, state) {
    statusLine.textContent = text;
    statusLine.dataset.state = state;
  }

  // "2026-11-27 14:30 UTC" (or with seconds), as the server renders times.
  function utc(iso, withSeconds) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const pad = (n) => String(n).padStart(2, "0");
    let text =
      date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) +
      " " + pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes());
    if (withSeconds) text += ":" + pad(date.getUTCSeconds());
    return text + " UTC";
  }

  function flash(element) {
    element.classList.remove("changed");
    void element.offsetWidth; // restart the animation
    element.classList.add("changed");
  }

  function setField(scope, field, value) {
    for (const element of scope.querySelectorAll('[data-field="' + field + '"]')) {
      if (element.textContent === value) continue;
      element.textContent = value;
      if (field === "status") element.dataset.status = value;
      flash(element);
    }
  }

  // The <li> the server renders for an event (templates/orders/_history_item.html).
  function historyLine(event) {
    const item = document.createElement("li");
    item.dataset.at = event.at;
    const time = document.createElement("time");
    time.dateTime = event.at;
    time.textContent = utc(event.at, true);
    const change =
      event.kind === "created"
        ? "placed (" + event.status + ")"
        : event.from_status + " \u2192 " + event.status;
    item.append(time, " " + change + ", by " + (event.actor || "system"));
    return item;
  }

  function appendHistory(list, event) {
    // The same event can be both in the page and on the socket around a (re)load: skip it.
    const at = Date.parse(event.at);
    for (const item of list.children) {
      if (Date.parse(item.dataset.at) === at) return;
    }
    const item = historyLine(event);
    list.append(item);
    flash(item);
  }

  // A row for an order created after the page loaded (templates/orders/_order_row_template.html).
  function insertRow(event) {
    const body = document.querySelector("tbody[data-live-insert]");
    const template = document.getElementById("order-row-template");
    if (!body || !template) return;
    // The list shows one person's orders; staff sockets hear about everyone's.
    const owner = body.dataset.customerId;
    if (owner && owner !== String(event.customer_id)) return;

    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.orderId = String(event.order_id);
    const link = row.querySelector('[data-fill="link"]');
    link.href = link.getAttribute("href").replace(/\/0\/$/, "/" + event.order_id + "/");
    link.textContent = "Order #" + event.order_id;
    const customer = row.querySelector('[data-fill="customer"]');
    if (customer) customer.textContent = "customer #" + event.customer_id;
    const placed = row.querySelector('[data-fill="placed"]');
    placed.dateTime = event.at;
    placed.textContent = utc(event.at, false);
    setField(row, "total", event.total);
    setField(row, "status", event.status);

    body.querySelector("[data-empty]")?.remove();
    body.prepend(row);
    flash(row);
    const limit = Number(body.dataset.liveLimit);
    while (limit && body.rows.length > limit) body.lastElementChild.remove();
  }

  function apply(event) {
    if (!Number.isInteger(event.order_id)) return;
    const selector = '[data-order-id="' + event.order_id + '"]';
    if (event.kind === "created" && !document.querySelector(selector)) insertRow(event);
    for (const holder of document.querySelectorAll(selector)) {
      setField(holder, "status", event.status);
      setField(holder, "total", event.total);
    }
    const history = document.querySelector("article" + selector + " #history");
    if (history) appendHistory(history, event);
    // The order page's buttons depend on the status and on who looks: the server redraws them.
    if (document.querySelector("article" + selector + " #order-moves")) refresh(["order-moves"]);
  }

  // Fetch this page again and swap in the elements with these ids; whether that worked.
  async function refresh(ids) {
    try {
      const response = await fetch(location.href, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (!response.ok || response.redirected) return false;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ids) {
        const region = document.getElementById(id);
        const replacement = fresh.getElementById(id);
        if (region && replacement) region.replaceWith(document.importNode(replacement, true));
      }
      return true;
    } catch (error) {
      return false; // offline again, most likely: the socket's own close handler takes it from here
    }
  }

  // After a reconnection: events sent while the socket was down are gone, so fetch this page
  // again and swap in its live parts ([data-live-region]), then apply what arrived meanwhile.
  async function catchUp() {
    held = [];
    const regions = [...document.querySelectorAll("[data-live-region][id]")].map((r) => r.id);
    const upToDate = await refresh(regions);
    const events = held;
    held = null;
    events.forEach(apply);
    const now = utc(new Date().toISOString(), true);
    say(
      upToDate
        ? "Live: reconnected at " + now + ", and the page is up to date."
        : "Live: reconnected at " + now + ". Reload the page to see changes made while offline.",
      "live",
    );
  }

  function connect() {
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      delay = FIRST_DELAY_MS;
      if (lost) {
        lost = false;
        say("Reconnected: catching up…", "live");
        catchUp();
      } else {
        say("Live", "live");
      }
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (!event || event.type !== "order.event") return;
      if (held) held.push(event);
      else apply(event);
    });
    socket.addEventListener("close", () => {
      lost = true;
      say("Connection lost: reconnecting…", "lost");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    });
  }

  say("Connecting…", "connecting");
  connect();
})();
