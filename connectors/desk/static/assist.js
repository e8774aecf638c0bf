/* Operator assist: answers side by side (operator's language | person's language),
 * feedback, a mediator in one click, the operator's hand-offs; and, on the topics
 * page, one entry in both languages.
 * Every text from the knowledge base or from people is inserted with
 * textContent / text nodes only, never as HTML. */
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const { el, clear, sourceLink, clock, api, mixedText, isRtl, t, LANG, formatDay } = window.HelpDesk;
  const MY_LANGUAGE = document.body.dataset.language || 'it';

  // -- small helpers -----------------------------------------------------------

  function showMessage(node, text) {
    if (!node) return;
    node.textContent = text;
    node.hidden = !text;
  }

  // -- answers' Markdown, as DOM nodes -------------------------------------------------

  const NUMBERED = /^\s*(\d+)[.)]\s+(.*)$/;
  const BULLET = /^\s*[-*+]\s+(.*)$/;

  /** One line's text into `node`: **bold** as <strong>, the rest as text nodes.
   * `rtl`: the whole answer's direction, since a piece may begin with a number. */
  function inlineMarkdown(node, line, rtl) {
    line.split(/\*\*(.+?)\*\*/).forEach((part, k) => {
      if (!part) return;
      if (k % 2) node.appendChild(mixedText(el('strong'), part, rtl));
      else mixedText(node, part, rtl);
    });
    return node;
  }

  /** The answers' Markdown subset (paragraphs, **bold**, "1." and "-" lists) built as
   * elements and text nodes: nothing is ever parsed as HTML. */
  function markdown(node, text) {
    let list = null;
    let kind = '';
    const rtl = isRtl(text);
    for (const line of String(text == null ? '' : text).split('\n')) {
      const numbered = line.match(NUMBERED);
      const bullet = numbered ? null : line.match(BULLET);
      const tag = numbered ? 'ol' : bullet ? 'ul' : '';
      if (!line.trim()) { list = null; kind = ''; continue; }
      if (tag) {
        if (kind !== tag) {
          list = node.appendChild(el(tag));
          if (numbered && numbered[1] !== '1') list.setAttribute('start', numbered[1]);
          kind = tag;
        }
        list.appendChild(inlineMarkdown(el('li'), numbered ? numbered[2] : bullet[1], rtl));
      } else if (list && /^\s+/.test(line)) {
        inlineMarkdown(list.lastChild, ' ' + line.trim(), rtl);  // a list item's wrapped line
      } else {
        list = null; kind = '';
        node.appendChild(inlineMarkdown(el('p'), line.trim(), rtl));
      }
    }
    return node;
  }

  function languageName(code) {
    try {
      return new Intl.DisplayNames([LANG], { type: 'language' }).of(code) || code;
    } catch (_) {
      return code || '?';
    }
  }

  // -- one answer, two columns ---------------------------------------------------------

  /** One column: a version of the entry (`version` may be null). */
  function answerColumn(version, className, heading, missingText) {
    const column = el('div', { className: 'answer-column ' + className });
    if (version && version.language) column.setAttribute('lang', version.language);
    column.appendChild(el('p', { className: 'column-label', text: heading, attrs: { lang: 'en', dir: 'ltr' } }));
    if (!version) {
      column.appendChild(el('p', { className: 'empty', text: missingText, attrs: { lang: 'en' } }));
      return column;
    }
    column.appendChild(el('h3', { className: 'answer-title', text: version.title || '', attrs: { dir: 'auto' } }));
    const labels = el('p', { className: 'labels', attrs: { lang: 'en', dir: 'ltr' } });
    if (version.machine_translated) labels.appendChild(el('span', { className: 'mt-label', text: t('Machine translation') }));
    if (version.unreviewed_translation) labels.appendChild(el('span', { className: 'mt-label', text: t('Translation not reviewed') }));
    if (version.fallback) labels.appendChild(el('span', { className: 'fallback-label', text: t('No translation: shown in %(language)s', { language: version.language || '?' }) }));
    if (labels.firstChild) column.appendChild(labels);
    column.appendChild(markdown(el('div', { className: 'answer-text', attrs: { dir: 'auto' } }), version.text));
    const facts = el('p', { className: 'answer-facts', attrs: { lang: 'en', dir: 'ltr' } }, [
      el('span', { className: 'answer-topic', text: t('Topic: %(topic)s', { topic: version.topic || '—' }) }),
      el('span', { className: 'reviewed', text: t('Reviewed: %(day)s', { day: version.last_reviewed ? formatDay(version.last_reviewed) : '—' }) }),
    ]);
    column.appendChild(facts);
    const sources = (version.sources || []).filter((s) => s && (s.url || s.title));
    if (sources.length) {
      const list = el('ul', { className: 'sources', attrs: { 'aria-label': t('Sources'), dir: 'auto' } });
      for (const source of sources) list.appendChild(el('li', {}, [sourceLink(source)]));
      column.appendChild(list);
    }
    return column;
  }

  /**
   * An answer: the operator's version (`side`) next to the person's.
   * options: {possible, question, language, operatorLanguage, feedback}
   */
  function renderAnswer(answer, options) {
    const o = options || {};
    const mine = o.operatorLanguage || MY_LANGUAGE;
    // The same language on both sides (an Italian question for an Italian operator): one column.
    const single = !answer.side || answer.side.language === answer.language;
    const card = el('article', { className: 'answer' + (o.possible ? ' is-possible' : '') + (single ? ' is-single' : '') });
    if (o.possible) card.appendChild(el('p', { className: 'possible-label', text: t('Possible answer (not sure)') }));
    const wanted = o.language || answer.language;
    if (answer.fallback && wanted && wanted !== answer.language) {
      // No translation for the person: say so plainly and offer a mediator.
      const call = el('button', { className: 'button-danger', text: t('Call a mediator'), attrs: { type: 'button' } });
      call.addEventListener('click', () => callMediator(call));
      card.appendChild(el('div', { className: 'no-translation', attrs: { role: 'note' } }, [
        el('p', { text: t('There is no %(wanted)s translation of this answer. The text for the person is in %(language)s: show it only if they understand it, or call a mediator.',
          { wanted: languageName(wanted), language: languageName(answer.language) }) }),
        call,
      ]));
    }
    if (!single) {
      card.appendChild(answerColumn(answer.side, 'answer-operator', t('For you (%(language)s)', { language: mine }),
        t('Not available in your language.')));
    }
    card.appendChild(answerColumn(answer, 'answer-migrant',
      single ? t('For you and the person (%(language)s)', { language: answer.language || '?' })
        : t('For the person (%(language)s)', { language: answer.language || '?' }), ''));

    if (o.feedback) {
      const actions = el('div', { className: 'answer-actions' });
      const status = el('p', { className: 'feedback-error', attrs: { role: 'alert' } });
      status.hidden = true;
      const send = async (useful, button) => {
        for (const b of actions.querySelectorAll('button')) b.disabled = true;
        const result = await api('POST', '/assist/feedback', {
          entry_id: answer.id,
          topic: answer.topic || null,
          language: o.language || answer.language || null,
          useful,
          question: o.question || '',
        });
        if (!result.ok) {
          for (const b of actions.querySelectorAll('button')) b.disabled = false;
          showMessage(status, t('Not saved: %(error)s', { error: result.error }));
          button.focus();
          return;
        }
        clear(actions);
        actions.appendChild(el('p', { className: 'feedback-done', text: t('Thanks, noted'), attrs: { role: 'status' } }));
      };
      const yes = el('button', { className: 'useful button-secondary', text: t('Useful'), attrs: { type: 'button' } });
      const no = el('button', { className: 'not-useful button-secondary', text: t('Not useful'), attrs: { type: 'button' } });
      yes.addEventListener('click', () => send(true, yes));
      no.addEventListener('click', () => send(false, no));
      actions.appendChild(yes);
      actions.appendChild(no);
      actions.appendChild(status);
      card.appendChild(actions);
    }
    return card;
  }

  // -- the assist page ---------------------------------------------------------------------

  const askForm = $('ask-form');
  const results = $('results');
  const question = $('question');
  const questionLanguage = $('question-language');
  const askButton = $('ask');
  const printButton = $('print');
  const errorBox = $('assist-error');
  const handoffStatus = $('handoff-status');
  const callAnyway = $('call-mediator-anyway');
  let last = null;  // {question, result}

  async function callMediator(button) {
    const typed = question ? question.value.trim() : '';
    const asked = last ? last.question : typed;
    let language = null;
    if (last && last.result.language) language = last.result.language;
    else if (questionLanguage && questionLanguage.value !== 'auto') language = questionLanguage.value;
    const best = last && last.result.confident && last.result.answers.length ? last.result.answers[0] : null;
    const buttons = [button, callAnyway, $('call-mediator')].filter(Boolean);
    for (const b of buttons) b.disabled = true;
    showMessage(errorBox, '');
    const result = await api('POST', '/assist/handoff', {
      question: asked || typed,
      language,
      topic: best ? best.topic : null,
    });
    for (const b of buttons) b.disabled = false;
    if (!result.ok) {
      showMessage(errorBox, t('No mediator could be called: %(error)s', { error: result.error }));
      return;
    }
    showMessage(handoffStatus, t('A mediator has been called (request %(id)s)', { id: result.data.handoff_id }));
    loadHandoffs();
  }

  function renderResults(asked, result) {
    clear(results);
    const answers = result.answers || [];
    results.appendChild(el('p', { className: 'result-language', text: t('Language: %(language)s', { language: result.language || '?' }) }));
    if (!result.confident) {
      const call = el('button', { className: 'button-danger', text: t('Call a mediator'), attrs: { id: 'call-mediator', type: 'button' } });
      call.addEventListener('click', () => callMediator(call));
      results.appendChild(el('div', { className: 'not-sure', attrs: { id: 'not-sure', role: 'alert' } }, [
        el('p', { className: 'not-sure-text', text: t('Not sure — call a mediator') }),
        call,
      ]));
    }
    if (!answers.length) {
      results.appendChild(el('p', { className: 'empty', text: t('No answer found.') }));
    } else {
      results.appendChild(el('h2', { text: result.confident ? t('Answers') : t('Possible answers') }));
      for (const answer of answers) {
        results.appendChild(renderAnswer(answer, {
          possible: !result.confident,
          question: asked,
          language: result.language,
          operatorLanguage: result.operator_language,
          feedback: true,
        }));
      }
    }
    if (printButton) printButton.hidden = false;
  }

  if (askForm && results) {
    askForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = question.value.trim();
      if (!text) {
        showMessage(errorBox, t('Write what the person said first.'));
        question.focus();
        return;
      }
      showMessage(errorBox, '');
      askButton.disabled = true;
      const chosen = questionLanguage.value;
      const result = await api('POST', '/assist/suggest', {
        text,
        language: chosen === 'auto' ? null : chosen,
      });
      askButton.disabled = false;
      if (!result.ok) {
        showMessage(errorBox, result.error);
        return;
      }
      const data = result.data || {};
      data.answers = Array.isArray(data.answers) ? data.answers : [];
      last = { question: text, result: data };
      renderResults(text, data);
    });
    // Ctrl+Enter in the question box asks too.
    question.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        askForm.requestSubmit ? askForm.requestSubmit() : askButton.click();
      }
    });
    question.addEventListener('input', () => {
      // A new question: what we call a mediator about is what is in the box.
      if (last && question.value.trim() !== last.question) last = null;
    });
  }
  if (printButton) printButton.addEventListener('click', () => window.print());
  if (callAnyway) callAnyway.addEventListener('click', () => callMediator(callAnyway));

  // -- the operator's hand-offs ------------------------------------------------------------

  const myHandoffs = $('my-handoffs');
  const myHandoffsEmpty = $('my-handoffs-empty');
  let lastHandoffs = '';
  let loading = false;

  function statusText(item) {
    if (item.status === 'waiting') return t('waiting for a mediator');
    if (item.status === 'claimed') return item.mediator_name ? t('claimed by %(name)s', { name: item.mediator_name }) : t('claimed by a mediator');
    if (item.status === 'closed') return t('closed');
    return String(item.status || '');
  }

  function handoffItem(item) {
    const li = el('li', { className: 'my-handoff status-' + item.status, attrs: { 'data-id': item.id } });
    li.appendChild(el('p', { className: 'handoff-head' }, [
      el('strong', { text: t('Request %(id)s', { id: item.id }) }),
      el('span', { className: 'lang-code', text: String(item.language || '?').toUpperCase() }),
      el('span', { className: 'status status-' + item.status, text: statusText(item) }),
      item.created_at ? el('time', { text: clock(item.created_at), attrs: { datetime: item.created_at } }) : null,
    ]));
    const replies = item.replies || [];
    if (!replies.length) {
      li.appendChild(el('p', { className: 'empty', text: t('No reply yet.') }));
      return li;
    }
    const list = el('ul', { className: 'replies', attrs: { 'aria-label': t('Replies of the mediator') } });
    for (const reply of replies) {
      const entry = el('li', { className: 'reply' }, [
        el('span', { className: 'author', text: t('Mediator') + (reply.created_at ? ' · ' + clock(reply.created_at) : '') }),
        mixedText(el('p', { className: 'original', attrs: { dir: 'auto', lang: reply.language } }), reply.text),
      ]);
      if (reply.translated_text) {
        entry.appendChild(el('div', { className: 'translation' }, [
          el('span', { className: 'translation-label', text: t('Machine translation (%(language)s)', { language: reply.translated_language || '?' }) }),
          mixedText(el('p', { className: 'translation-text', attrs: { dir: 'auto', lang: reply.translated_language } }), reply.translated_text),
        ]));
      }
      list.appendChild(entry);
    }
    li.appendChild(list);
    return li;
  }

  async function loadHandoffs() {
    if (!myHandoffs || loading) return;
    loading = true;
    try {
      const result = await api('GET', '/assist/handoffs');
      if (!result.ok) return;
      const items = (result.data && result.data.handoffs) || [];
      const fingerprint = JSON.stringify(items);
      if (fingerprint === lastHandoffs) return;  // unchanged: keep focus and reading position
      lastHandoffs = fingerprint;
      clear(myHandoffs);
      for (const item of items) myHandoffs.appendChild(handoffItem(item));
      if (myHandoffsEmpty) myHandoffsEmpty.hidden = items.length > 0;
    } finally {
      loading = false;
    }
  }

  function connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket;
    try {
      socket = new WebSocket(scheme + '//' + window.location.host + '/assist/ws');
    } catch (err) {
      window.setTimeout(connect, 2000);
      return;
    }
    socket.addEventListener('message', () => loadHandoffs());
    socket.addEventListener('close', () => window.setTimeout(connect, 2000));
  }

  if (myHandoffs) {
    loadHandoffs();
    window.setInterval(() => { if (!document.hidden) loadHandoffs(); }, 5000);
    connect();
  }

  // -- the topics page: one entry in both languages -----------------------------------------

  const entryView = $('entry-view');

  async function showEntry(link) {
    clear(entryView);
    entryView.appendChild(el('p', { className: 'empty', text: t('Loading…') }));
    const result = await api('GET', link.getAttribute('href'));
    clear(entryView);
    if (!result.ok || !result.data) {
      entryView.appendChild(el('p', { className: 'notice notice-error', text: result.error || t('Not found.'), attrs: { role: 'alert' } }));
      return;
    }
    const print = el('button', { className: 'button-secondary print-entry', text: t('Print'), attrs: { type: 'button' } });
    print.addEventListener('click', () => window.print());
    entryView.appendChild(renderAnswer(result.data, {
      language: link.dataset.language || result.data.language,
      operatorLanguage: MY_LANGUAGE,
      feedback: false,
    }));
    entryView.appendChild(print);
    if (typeof entryView.scrollIntoView === 'function') entryView.scrollIntoView({ block: 'nearest' });
    const title = entryView.querySelector('.answer-title');
    if (title) {
      title.setAttribute('tabindex', '-1');
      title.focus({ preventScroll: true });
    }
  }

  if (entryView) {
    document.addEventListener('click', (event) => {
      const link = event.target instanceof Element ? event.target.closest('a.entry-link') : null;
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      for (const other of document.querySelectorAll('a.entry-link[aria-current]')) other.removeAttribute('aria-current');
      link.setAttribute('aria-current', 'true');
      showEntry(link);
    });
  }
})();
