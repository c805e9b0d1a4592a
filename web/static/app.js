// Verbatim's page script: the chat (POST /ask, append the exchange) and the article page (bring the
// highlighted quote into view). No framework. Text from the user or the articles only ever reaches the
// page through textContent / text nodes, never as HTML.
"use strict";

(function () {
  const STORE = "verbatim.conversation";
  const KEEP = 30; // exchanges remembered for this tab, so coming back from an article restores them

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
    nodes.push(el("strong", { class: "answer", text: readable(text.slice(a, b), false) }));
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

  function showAnswer(reply, data, sources) {
    const parts = [];
    if (data.history_used) {
      // what was answered, so a wrong reading of a follow-up shows at once
      parts.push(el("p", { class: "resolved", text: "Answering: " + data.resolved_question }));
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
        const source = sources[quote.doc_id];
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

  function loadStored() {
    try {
      const items = JSON.parse(sessionStorage.getItem(STORE) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (err) {
      return [];
    }
  }

  function save(items) {
    try {
      sessionStorage.setItem(STORE, JSON.stringify(items.slice(-KEEP)));
    } catch (err) {
      // Storage full or disabled: the conversation simply is not restored.
    }
  }

  function store(item) {
    save(loadStored().concat([item]));
  }

  function forget() {
    try {
      sessionStorage.removeItem(STORE);
    } catch (err) {
      // Storage disabled: nothing to forget.
    }
  }

  function render(item, sources) {
    const { node, reply } = exchangeNode(item.question);
    if (item.error) showError(reply, item.error);
    else showAnswer(reply, item.response, sources);
    return node;
  }

  // ---- the chat page ----

  function initChat(form) {
    const input = form.querySelector("textarea");
    const button = form.querySelector("button[type=submit]");
    const conversation = document.getElementById("conversation");
    const intro = document.getElementById("intro");
    const sourcesNode = document.getElementById("sources-data");
    const sources = sourcesNode ? JSON.parse(sourcesNode.textContent) : {};
    let busy = false;

    document.getElementById("ask-hint").hidden = false;

    // Coming back (or reloading) on the last question: show the whole conversation of this tab again.
    // A page opened on a question starts the stored conversation with it; a page without one, afresh.
    const initialNode = document.getElementById("initial-data");
    const initial = initialNode ? JSON.parse(initialNode.textContent) : null;
    const stored = loadStored();
    if (!initial) {
      forget();
    } else if (stored.length && stored[stored.length - 1].question === initial.question) {
      const items = stored.slice(0, -1).concat([initial]); // the server's answer is the fresh one
      save(items);
      conversation.replaceChildren(...items.map((item) => render(item, sources)));
    } else {
      save([initial]);
    }

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

      const { node, reply } = exchangeNode(question);
      showWorking(reply);
      conversation.append(node);
      node.scrollIntoView({ block: "end", behavior: reducedMotion() ? "auto" : "smooth" });
      history.replaceState(null, "", "/?q=" + encodeURIComponent(question));
      document.title = question + " · Verbatim";

      let item;
      try {
        const res = await fetch("/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ question: question, history: historyOf(loadStored()) }),
        });
        let data = null;
        try {
          data = await res.json();
        } catch (err) {
          data = null;
        }
        if (res.ok && data) {
          item = { question: question, response: data };
          showAnswer(reply, data, sources);
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
      store(item);
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
