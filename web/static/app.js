// Verbatim's page script: the chat (POST /ask, append the exchange) and the article page (bring the
// highlighted quote into view). No framework. Text from the user or the articles only ever reaches the
// page through textContent / text nodes, never as HTML.
"use strict";

(function () {
  const STORE = "verbatim.conversation";
  const ARCHIVE = "verbatim.earlier-conversations";
  const KEEP = 30; // exchanges remembered, so coming back from an article (or a closed tab) restores them
  const KEEP_ARCHIVED = 20; // earlier conversations kept after "New conversation"

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function articleHref(docId, start, end) {
    return "/articles/" + encodeURIComponent(docId) + "?start=" + start + "&end=" + end + "#quote";
  }

  // Display only, the rules of server/readable.py: the API's text and offsets stay the article's.
  const ESCAPED = /\\([\\`*_{}\[\]()#+\-.!$%&~|<>])/g;
  const ENTITY = /&(nbsp|amp|quot|apos|lt|gt|#39);?/g;
  const ENTITIES = { nbsp: " ", amp: "&", quot: '"', apos: "'", lt: "<", gt: ">", "#39": "'" };

  function readable(text, strip) {
    let plain = text.replace(ESCAPED, "$1").replace(ENTITY, (m, name) => ENTITIES[name]);
    if (strip !== false) plain = plain.trim();
    plain = plain
      .replace(/\s*\n\s*(?=\p{Ll})/gu, " ");
    return plain.replace(/\s*\n\s*\n\s*/g, "\n\n").split("\n\n")
      .map((p) => p.replace(/[^\S\n]*\n[^\S\n]*/g, " ")).join("\n\n");
  }

  // The quote as readable pieces, the answering phrase emphasised (quote_parts in server/readable.py).
  function quoteNodes(quote) {
    const text = quote.text;
    const a = quote.answer_start - quote.start, b = quote.answer_end - quote.start;
    if (!(a >= 0 && a < b && b <= text.length) || (a === 0 && b === text.length)) return [readable(text)];
    const nodes = [];
    const head = text.slice(0, a).trimStart(), tail = text.slice(b).trimEnd();
    if (head) nodes.push(readable(head, false));
    const phrase = readable(text.slice(a, b), false);
    // A whole answering sentence (no shorter phrase answers) is emphasised more quietly than a phrase.
    const long = phrase.trim().split(/\s+/).length > 12;
    nodes.push(el("strong", { class: long ? "answer answer-sentence" : "answer", text: phrase }));
    if (tail) nodes.push(readable(tail, false));
    return nodes;
  }

  function contextNode(quote) {
    if (!quote.before && !quote.after) return null;
    const line = (cls, label, c) => c && el("p", { class: cls },
      el("span", { class: "ctx-label", text: label }), " " + readable(c.text));
    return el("details", { class: "context" }, el("summary", { text: "Show context" }),
      line("before", "Before:", quote.before), line("after", "After:", quote.after));
  }

  function excerpt(text, limit) {
    const flat = readable(text).split(/\s+/).join(" ").trim();
    if (flat.length <= limit) return flat;
    const cut = flat.slice(0, limit);
    const space = cut.lastIndexOf(" ");
    return (space > limit * 0.6 ? cut.slice(0, space) : cut) + "…";
  }

  function reducedMotion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // ---- rendering: the same markup as the exchange macro of chat.html ----

  function exchangeNode(question) {
    const reply = el("div", { class: "reply" });
    const node = el("article", { class: "exchange", "data-question": question },
      el("h2", { class: "visually-hidden", text: "Question" }),
      el("p", { class: "question", text: question }),
      el("h2", { class: "visually-hidden", text: "Answer" }),
      reply);
    return { node, reply };
  }

  function showWorking(reply) {
    reply.replaceChildren(el("p", { class: "working", role: "status", text: "Searching the articles…" }));
  }

  function showError(reply, message) {
    reply.replaceChildren(el("p", { class: "error", role: "alert", text: message }));
  }

  function showAnswer(reply, data) {
    const parts = [];
    if (data.history_used) {
      // what was answered, so a wrong reading of a follow-up shows at once; words carried over in
      // brackets read stiffly, so the earlier question they came from is named instead
      const text = data.follows
        ? "Answering “" + data.question + "” as a follow-up to “" + data.follows + "”"
        : "Answering: " + data.resolved_question;
      parts.push(el("p", { class: "resolved", text: text }));
    }
    if (data.unresolved) {
      parts.push(el("p", { class: "abstain unresolved",
        text: "I could not tell what '" + data.unresolved + "' refers to; ask it in full." }));
    } else if (data.abstained) {
      parts.push(el("p", { class: "abstain", text: "The articles don't answer this." }));
      if (data.passages.length && !data.unresolved) {
        const items = data.passages.map((p) => el("li", null,
          el("a", { class: "passage-title", href: articleHref(p.doc_id, p.start, p.end), text: p.title }),
          el("p", { class: "excerpt", text: excerpt(p.text, 240) })));
        parts.push(el("details", { class: "passages" },
          el("summary", { text: "Closest passages (" + data.passages.length + ")" }),
          el("ol", null, ...items)));
      }
    } else {
      data.quotes.forEach((quote, i) => {
        const href = articleHref(quote.doc_id, quote.start, quote.end);
        const caption = el("figcaption", { class: "citation" },
          el("a", { class: "cite", href: href },
            el("span", { class: "num", text: "[" + (i + 1) + "]" }), " " + quote.title));
        const source = [quote.source, quote.published].filter(Boolean).join(" · ");
        if (source) caption.append(el("span", { class: "source", text: " · " + source }));
        if (quote.also_in.length) {
          const also = el("span", { class: "also" }, "also in: ");
          quote.also_in.forEach((c, j) => {
            if (j) also.append(", ");
            also.append(el("a", { href: articleHref(c.doc_id, c.start, c.end), text: c.title }));
          });
          caption.append(" ", also);
        }
        (quote.differs_in || []).forEach((c) => {
          caption.append(" ", el("span", { class: "differs" }, "differs in ",
            el("a", { href: articleHref(c.doc_id, c.start, c.end), text: c.title }), ": ",
            el("q", { text: readable(c.text) })));
        });
        const context = contextNode(quote);
        if (context) caption.append(context);
        parts.push(el("figure", { class: "quote" }, el("blockquote", { cite: href }, ...quoteNodes(quote)), caption));
      });
      const ms = Math.round(data.timings_ms.total || 0);
      parts.push(el("p", { class: "meta",
        text: "Confidence " + Math.round(data.confidence * 100) + "% · " + ms + " ms" }));
    }
    reply.replaceChildren(...parts);
  }

  // ---- the conversation kept for this tab ----

  // The earlier turns as the server wants them back (it keeps no state): each question with the spans
  // of the quotes it got, oldest first, the last MAX_HISTORY answered ones.
  const MAX_HISTORY = 10;

  function historyOf(items) {
    return items.filter((item) => item.response)
      .slice(-MAX_HISTORY)
      .map((item) => ({ question: item.question,
        quotes: item.response.quotes.map((q) => ({ doc_id: q.doc_id, start: q.start, end: q.end })) }));
  }

  // The conversation is kept in localStorage, so it survives a closed tab and coming back from an
  // article; "New conversation" puts it among the earlier ones (ARCHIVE) instead of wiping it.
  function readJSON(key, fallback) {
    try {
      const value = JSON.parse(localStorage.getItem(key) || "null");
      return value === null ? fallback : value;
    } catch (err) {
      return fallback;
    }
  }

  function writeJSON(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (err) {
      // Storage full or disabled: the conversation simply is not restored.
    }
  }

  function loadStored() {
    const items = readJSON(STORE, []);
    return Array.isArray(items) ? items : [];
  }

  function save(items) {
    writeJSON(STORE, items.slice(-KEEP));
  }

  function archive() {
    const items = loadStored();
    if (!items.length) return;
    const earlier = readJSON(ARCHIVE, []);
    const list = Array.isArray(earlier) ? earlier : [];
    writeJSON(ARCHIVE, list.concat([{ ended: new Date().toISOString(), items: items }]).slice(-KEEP_ARCHIVED));
    save([]);
  }

  // ---- feedback on an answer: "Helpful" or "Wrong quote" (with an optional comment), sent once ----

  const VERDICT_THANKS = { helpful: "Thanks: marked as helpful.", wrong_quote: "Thanks: flagged for review." };
  let feedbackForms = 0; // ids for the comment boxes' labels

  function thanksNode(verdict) {
    return el("p", { class: "feedback-done", role: "status", tabindex: "-1", text: VERDICT_THANKS[verdict] });
  }

  // `stored(verdict)` is called once the server has kept the verdict, so the exchange remembers it and
  // shows the thanks, never the buttons again (no second submission after a reload or Back).
  function feedbackNode(item, stored) {
    const box = el("div", { class: "feedback", role: "group", "aria-label": "Feedback on this answer" });
    if (item.feedback) {
      box.append(thanksNode(item.feedback));
      return box;
    }
    const id = "feedback-comment-" + ++feedbackForms;
    const helpful = el("button", { type: "button", class: "fb-helpful", text: "Helpful" });
    const wrong = el("button", { type: "button", class: "fb-wrong", "aria-expanded": "false",
      "aria-controls": id + "-form", text: "Wrong quote" });
    const area = el("textarea", { id: id, rows: 2, maxlength: 500, placeholder: "Optional" });
    const send = el("button", { type: "submit", class: "fb-send", text: "Send report" });
    const cancel = el("button", { type: "button", class: "fb-cancel", text: "Cancel" });
    const form = el("form", { class: "fb-comment", id: id + "-form", hidden: true },
      el("label", { for: id, text: "What is wrong with the quote?" }), area,
      el("div", { class: "fb-actions" }, send, cancel));
    const problem = el("p", { class: "fb-error", role: "alert", hidden: true });
    const buttons = [helpful, wrong, send, cancel];
    let sending = false;

    async function submit(verdict, comment) {
      if (sending) return; // a double click sends one verdict
      sending = true;
      buttons.forEach((b) => { b.disabled = true; });
      problem.hidden = true;
      const data = item.response;
      try {
        const res = await fetch("/api/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ verdict: verdict, question: item.question,
            resolved_question: data.resolved_question || item.question, comment: comment || null,
            quotes: data.quotes.map((q) => ({ doc_id: q.doc_id, start: q.start, end: q.end })) }),
        });
        let body = null;
        try {
          body = await res.json();
        } catch (err) {
          body = null;
        }
        if (!res.ok) throw new Error((body && body.error) || "The server answered " + res.status + ".");
        const done = thanksNode(verdict);
        box.replaceChildren(done);
        done.focus({ preventScroll: true }); // the buttons are gone: focus stays where the reader is
        stored(verdict);
      } catch (err) {
        const why = err instanceof TypeError ? "Could not reach Verbatim." : err.message;
        problem.textContent = "Your feedback was not sent. " + why + " Please try again.";
        problem.hidden = false;
        buttons.forEach((b) => { b.disabled = false; });
        sending = false;
      }
    }

    helpful.addEventListener("click", () => submit("helpful", null));
    wrong.addEventListener("click", () => {
      form.hidden = false;
      wrong.setAttribute("aria-expanded", "true");
      form.scrollIntoView({ block: "nearest" }); // clear of the question box (its scroll margin)
      area.focus({ preventScroll: true });
    });
    cancel.addEventListener("click", () => {
      form.hidden = true;
      wrong.setAttribute("aria-expanded", "false");
      wrong.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit("wrong_quote", area.value.trim());
    });
    box.append(el("div", { class: "fb-row" }, el("span", { class: "fb-prompt", text: "Was this answer right?" }),
      helpful, wrong), form, problem);
    return box;
  }

  // An exchange's reply; an answer with quotes gets the feedback buttons.
  function showExchange(reply, item, stored) {
    if (item.error) {
      showError(reply, item.error);
      return;
    }
    showAnswer(reply, item.response);
    const data = item.response;
    if (stored && !data.abstained && !data.unresolved && data.quotes.length) {
      reply.append(feedbackNode(item, stored));
    }
  }

  function sameQuotes(a, b) {
    const spans = (r) => JSON.stringify(r ? r.quotes.map((q) => [q.doc_id, q.start, q.end]) : null);
    return spans(a) === spans(b);
  }

  function render(item, stored) {
    const { node, reply } = exchangeNode(item.question);
    showExchange(reply, item, stored);
    return node;
  }

  // ---- the chat page ----

  function initChat(form) {
    const input = form.querySelector("textarea");
    const button = form.querySelector("button[type=submit]");
    const conversation = document.getElementById("conversation");
    const intro = document.getElementById("intro");
    let busy = false;

    document.getElementById("ask-hint").hidden = false;

    const newButton = document.getElementById("new-conversation");
    const title = document.getElementById("conversation-title");
    const onlyInput = document.getElementById("only-doc"); // "ask this article": every question to it
    const onlyDoc = onlyInput ? onlyInput.value : null;
    history.scrollRestoration = "manual"; // the conversation is drawn by this script: it restores the scroll

    // Show the stored conversation up to exchange `upto` (each question is a history entry: Back and
    // Forward step through the conversation; asking after going back drops what came after).
    function show(items, upto) {
      const shown = items.slice(0, upto + 1);
      conversation.replaceChildren(...shown.map((item, i) => render(item, keep(i, item))));
      intro.hidden = shown.length > 0;
      title.hidden = shown.length === 0; // the page's h1 while the intro (and its h1) is hidden
      newButton.hidden = items.length === 0;
      const last = shown[shown.length - 1];
      document.title = last ? last.question + " · Verbatim" : "Verbatim";
    }

    // What a verdict on exchange `i` does once stored: the stored conversation records it.
    function keep(i, item) {
      return (verdict) => {
        item.feedback = verdict;
        const stored = loadStored();
        if (stored[i] && stored[i].question === item.question) {
          stored[i].feedback = verdict;
          save(stored);
        }
        if (items[i] && items[i].question === item.question) items[i].feedback = verdict;
      };
    }

    function remember(extra) {
      history.replaceState(Object.assign({}, history.state || {}, extra), "");
    }

    // Coming back (Back from an article, a reload) finds its place in history.state; a page opened on
    // a question (a shared link, the no-JS form) continues the stored conversation when it ends on
    // that question, else starts a new one and keeps the old among the earlier conversations.
    const initialNode = document.getElementById("initial-data");
    const initial = initialNode ? JSON.parse(initialNode.textContent) : null;
    let items = loadStored();
    let at = history.state && Number.isInteger(history.state.at) ? history.state.at : null;
    if (initial) {
      if (at === null || !items[at] || items[at].question !== initial.question) {
        at = items.length && items[items.length - 1].question === initial.question ? items.length - 1 : null;
      }
      if (at === null) {
        archive();
        items = [];
        at = 0;
      }
      // the server's answer is the fresh one; a verdict already given on the same quotes stays given
      if (items[at] && items[at].feedback && sameQuotes(items[at].response, initial.response)) {
        initial.feedback = items[at].feedback;
      }
      items[at] = initial;
      save(items);
    } else if (at === null) {
      at = items.length - 1; // "/": the stored conversation, whole
    }
    remember({ at: at });
    show(items, at);
    if (history.state && typeof history.state.scroll === "number") {
      window.scrollTo(0, history.state.scroll);
    }

    // Leaving for an article (or anywhere): note where the reader was, so Back returns there.
    window.addEventListener("pagehide", () => remember({ scroll: window.scrollY }));
    conversation.addEventListener("click", (event) => {
      if (event.target.closest && event.target.closest("a[href]")) remember({ scroll: window.scrollY });
    });

    window.addEventListener("popstate", (event) => {
      const state = event.state || {};
      items = loadStored();
      at = Number.isInteger(state.at) ? Math.min(state.at, items.length - 1) : -1;
      show(items, at);
      if (typeof state.scroll === "number") window.scrollTo(0, state.scroll);
      else if (conversation.lastElementChild) conversation.lastElementChild.scrollIntoView({ block: "start" });
    });

    newButton.addEventListener("click", (event) => {
      event.preventDefault();
      if (busy) return;
      archive();
      items = [];
      at = -1;
      history.pushState({ at: -1 }, "", "/");
      show(items, at);
      input.value = "";
      input.focus();
    });

    function grow() {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight + 2, 220) + "px";
    }

    async function ask(question) {
      question = question.trim();
      if (!question || busy) return;
      busy = true;
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      intro.hidden = true;
      input.value = "";
      grow();

      // Asked after going Back: what came after is dropped, as a browser drops forward history.
      items = loadStored().slice(0, at + 1);
      // Asking again after a failure replaces the failed exchange instead of adding another.
      const retry = items.length > 0 && items[items.length - 1].error && items[items.length - 1].question === question;
      if (retry) {
        items = items.slice(0, -1);
        if (conversation.lastElementChild) conversation.lastElementChild.remove();
      }
      save(items);
      const { node, reply } = exchangeNode(question);
      showWorking(reply);
      conversation.append(node);
      newButton.hidden = false;
      title.hidden = false;
      node.scrollIntoView({ block: "end", behavior: reducedMotion() ? "auto" : "smooth" });
      at = items.length;
      const url = "/?q=" + encodeURIComponent(question) + (onlyDoc ? "&doc=" + encodeURIComponent(onlyDoc) : "");
      if (retry) history.replaceState({ at: at }, "", url);
      else history.pushState({ at: at }, "", url);
      document.title = question + " · Verbatim";

      let item;
      try {
        const res = await fetch("/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ question: question, history: historyOf(items), doc_ids: onlyDoc ? [onlyDoc] : [] }),
        });
        let data = null;
        try {
          data = await res.json();
        } catch (err) {
          data = null;
        }
        if (res.ok && data) {
          item = { question: question, response: data };
          showExchange(reply, item, keep(at, item));
        } else {
          const message = (data && data.error) || "The server answered " + res.status + ". Please try again.";
          item = { question: question, error: message };
          showError(reply, message);
          if (!input.value) input.value = question;
        }
      } catch (err) {
        item = { question: question, error: "Could not reach Verbatim. Check that the server is running, then ask again." };
        showError(reply, item.error);
        if (!input.value) input.value = question;
      }
      items = items.concat([item]);
      save(items);
      busy = false;
      button.disabled = false;
      form.removeAttribute("aria-busy");
      node.scrollIntoView({ block: "start", behavior: reducedMotion() ? "auto" : "smooth" });
      input.focus({ preventScroll: true });
      grow();
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ask(input.value);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        ask(input.value);
      }
    });
    input.addEventListener("input", grow);
    document.querySelectorAll("a.example").forEach((link) => {
      link.addEventListener("click", (event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        ask(link.textContent);
      });
    });
  }

  // ---- the article page ----

  function initArticle() {
    const mark = document.getElementById("quote");
    if (mark) {
      mark.scrollIntoView({ block: "center" });
      mark.focus({ preventScroll: true });
    }
    const back = document.getElementById("back-link");
    if (back && document.referrer) {
      const from = new URL(document.referrer);
      if (from.origin === location.origin && from.pathname === "/" && history.length > 1) {
        back.addEventListener("click", (event) => {
          event.preventDefault();
          history.back();
        });
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("ask-form");
    if (form) initChat(form);
    if (document.querySelector(".article-page")) initArticle();
  });
})();
