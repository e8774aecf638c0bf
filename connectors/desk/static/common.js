/* Helpers shared by the desk pages (desk.js, assist.js): DOM building with text
 * only, source links, times, and fetch() with the session and CSRF token.
 * Loaded first by base.html; everything is on window.HelpDesk. */
(() => {
  'use strict';

  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  // The page's language ("it" or "en") and its texts for the scripts, written by
  // base.html from the same catalogue as the templates (connectors/desk/i18n.py).
  const LANG = document.documentElement.lang || 'it';
  const textBlock = document.getElementById('page-text');
  let TEXT = {};
  try { TEXT = textBlock ? JSON.parse(textBlock.textContent) : {}; } catch (err) { TEXT = {}; }

  /** `message` (the English text) in the page's language, %(name)s filled from `values`. */
  function t(message, values) {
    const text = Object.prototype.hasOwnProperty.call(TEXT, message) ? TEXT[message] : message;
    return text.replace(/%\((\w+)\)s/g, (all, name) => (values && name in values ? String(values[name]) : all));
  }

  /** The singular or the plural message for `count`, with %(num)s the count. */
  function tn(singular, plural, count, values) {
    return t(count === 1 ? singular : plural, Object.assign({ num: formatNumber(count) }, values || {}));
  }

  function formatNumber(value, digits) {
    return new Intl.NumberFormat(LANG, { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 }).format(value);
  }

  /** A day as the page's language writes it: 02/12/2026 or 2 Dec 2026. */
  function formatDay(iso) {
    const time = parseTime(iso);
    if (time === null) return '';
    return new Date(time).toLocaleDateString(LANG === 'it' ? 'it-IT' : 'en-GB', { day: '2-digit', month: '2-digit', year: 'numeric' });
  }
  const CSRF = csrfMeta ? csrfMeta.getAttribute('content') : '';

  /** An element with optional class, text (as text) and attributes. */
  function el(tag, options, children) {
    const node = document.createElement(tag);
    const o = options || {};
    if (o.className) node.className = o.className;
    if (o.text !== undefined && o.text !== null) node.textContent = String(o.text);
    if (o.attrs) {
      for (const name of Object.keys(o.attrs)) {
        const value = o.attrs[name];
        if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
      }
    }
    for (const child of children || []) {
      if (child) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /** A link only for http(s) addresses; anything else is shown as plain text. */
  function sourceLink(source) {
    const url = String((source && source.url) || '');
    const title = String((source && source.title) || url || t('source'));
    if (/^https?:\/\//i.test(url)) {
      const a = document.createElement('a');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = title;
      return a;
    }
    return el('span', { text: url && url !== title ? title + ' (' + url + ')' : title });
  }

  function parseTime(iso) {
    if (!iso) return null;
    // Python writes microseconds; keep milliseconds for every browser's parser.
    const time = Date.parse(String(iso).replace(/(\.\d{3})\d+/, '$1'));
    return Number.isNaN(time) ? null : time;
  }

  function clock(iso) {
    const time = parseTime(iso);
    if (time === null) return '';
    const d = new Date(time);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  /** fetch() with the session cookie and, for POSTs, JSON and the CSRF header. */
  async function api(method, url, payload) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      init.headers['Content-Type'] = 'application/json';
      init.headers['X-CSRF-Token'] = CSRF;
      init.body = JSON.stringify(payload || {});
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      return { ok: false, status: 0, data: null, error: t('The desk cannot be reached. Check the connection.') };
    }
    if (response.status === 401) {
      window.location.href = '/login?next=' + encodeURIComponent(window.location.pathname);
      return { ok: false, status: 401, data: null, error: t('Log in again.') };
    }
    const raw = await response.text();
    let data = null;
    try { data = raw ? JSON.parse(raw) : null; } catch (err) { data = null; }
    let error = null;
    if (!response.ok) {
      error = (data && typeof data.error === 'string' && data.error) || raw.trim() ||
        t('Something went wrong (%(status)s).', { status: response.status });
    }
    return { ok: response.ok, status: response.status, data, error };
  }

  // Left-to-right runs inside right-to-left text (numbers, phone numbers, URLs,
  // Italian names in «», dates, times) each in a <bdi dir="ltr">, so that
  // "+39 0121 000007" keeps its order in Arabic; phone numbers become tel:
  // links. The same rules as the widget's (widget.js, which has no dependencies).
  // Text shown right to left: its first letter is (what dir="auto" follows).
  const RTL_FIRST = /^[^\p{L}]*[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/u;
  const LTR_RUN = /[«(+]?[0-9A-Za-z\u00C0-\u024F](?:[^\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\n]*[0-9A-Za-z\u00C0-\u024F»)/])?/g;
  const LINK = /(https?:\/\/[^\s<>"«»]+|\+\d[\d ]{6,16}\d|\b0\d(?: ?\d){4,11}|\b3\d\d ?\d{6,7}\b|\b80[03] ?\d{3,6}\b)/;

  function links(into, text) {
    text.split(LINK).forEach((part, k) => {
      if (!part) return;
      if (!(k % 2)) return into.appendChild(document.createTextNode(part));
      if (!/^https?:/.test(part)) {
        return into.appendChild(el('a', { className: 'tel', text: part, attrs: { href: 'tel:' + part.replace(/[^\d+]/g, '') } }));
      }
      const tail = (part.match(/[.,;:!?)\]}']+$/) || [''])[0];
      const url = part.slice(0, part.length - tail.length);
      into.appendChild(el('a', { text: url, attrs: { href: url, target: '_blank', rel: 'noopener noreferrer' } }));
      if (tail) into.appendChild(document.createTextNode(tail));
    });
  }

  /** True when `text` is shown right to left (its first letter is RTL). */
  function isRtl(text) {
    return RTL_FIRST.test(String(text == null ? '' : text));
  }

  /** `node` filled with `text` as text: LTR runs isolated in RTL text, links made.
   * `rtl` is the direction of the text this is a piece of (default: its own). */
  function mixedText(node, text, rtl) {
    const value = String(text == null ? '' : text);
    if (!(rtl === undefined ? RTL_FIRST.test(value) : rtl)) {
      links(node, value);
      return node;
    }
    let at = 0;
    for (const run of value.matchAll(LTR_RUN)) {
      if (run.index > at) node.appendChild(document.createTextNode(value.slice(at, run.index)));
      links(node.appendChild(el('bdi', { attrs: { dir: 'ltr' } })), run[0]);
      at = run.index + run[0].length;
    }
    if (at < value.length) node.appendChild(document.createTextNode(value.slice(at)));
    return node;
  }

  // An answer as the widget shows it: **bold** and line breaks; everything else stays text.
  function rich(parent, text) {
    clear(parent);
    String(text).split('\n').forEach((line, i) => {
      if (i) parent.appendChild(el('br'));
      line.split(/\*\*(.+?)\*\*/).forEach((part, j) => {
        if (part) parent.appendChild(j % 2 ? el('strong', { text: part }) : document.createTextNode(part));
      });
    });
  }

  // The content checks of an editor form, in plain words ("No problem found." when none).
  function showFindings(list, into) {
    const severity = { error: t('error'), warning: t('warning') };
    clear(into);
    if (!list.length) into.appendChild(el('li', { className: 'finding-ok', text: t('No problem found.') }));
    for (const f of list) {
      into.appendChild(el('li', { className: 'finding-' + f.severity, text: (severity[f.severity] || f.severity) + ': ' + f.message }));
    }
  }

  window.HelpDesk = { el, clear, sourceLink, parseTime, clock, api, mixedText, isRtl, rich, showFindings, t, tn, LANG, formatNumber, formatDay };
})();
