/* Mediator desk: queue, claim, transcript with translations, suggestions, reply, close.
 * Live updates come over the /desk/ws WebSocket.
 * People's words (messages, notes, suggestions) are only ever inserted with
 * textContent / text nodes, never as HTML. */
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const { el, clear, sourceLink, parseTime, clock, api, mixedText } = window.HelpDesk;
  const USERNAME = document.body.dataset.username || '';
  const AUTHORS = { migrant: 'Person', bot: 'Assistant', mediator: 'Mediator' };
  const STATUS = { waiting: 'waiting', claimed: 'claimed', closed: 'closed' };

  const queueList = $('queue');
  const queueEmpty = $('queue-empty');
  const notice = $('notice');
  const liveStatus = $('live-status');
  const emptyPane = $('conversation-empty');
  const body = $('conversation-body');
  const transcript = $('transcript');
  const suggestions = $('suggestions');
  const replyForm = $('reply-form');
  const replyText = $('reply-text');
  const replyLanguage = $('reply-language');
  const replySend = $('reply-send');
  const closeForm = $('close-form');
  const closeNote = $('close-note');
  const closeButton = $('close-handoff');

  let openId = null;          // the hand-off shown in the conversation pane
  let openHandoff = null;
  let queueSeq = 0;           // ignore answers to older requests
  let conversationSeq = 0;

  // -- small helpers -----------------------------------------------------------

  function minutesSince(iso) {
    const time = parseTime(iso);
    return time === null ? null : Math.max(0, Math.floor((Date.now() - time) / 60000));
  }

  function duration(minutes) {
    if (minutes === null) return '';
    if (minutes < 1) return 'less than 1 min';
    if (minutes < 60) return minutes + ' min';
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return hours + ' h' + (rest ? ' ' + rest + ' min' : '');
  }

  function showNotice(message) {
    notice.textContent = message;
    notice.hidden = false;
  }

  function hideNotice() {
    notice.hidden = true;
    notice.textContent = '';
  }

  const isMine = (handoff) => handoff.status === 'claimed' && !!USERNAME && handoff.mediator_name === USERNAME;

  // -- queue ---------------------------------------------------------------------

  function waitedText(item) {
    const minutes = minutesSince(item.created_at);
    if (minutes === null) return '';
    return item.status === 'waiting' ? 'waiting ' + duration(minutes) : 'asked ' + duration(minutes) + ' ago';
  }

  function refreshWaited() {
    for (const node of queueList.querySelectorAll('.waited')) {
      const minutes = minutesSince(node.dataset.created);
      if (minutes === null) continue;
      node.textContent = node.dataset.status === 'waiting'
        ? 'waiting ' + duration(minutes) : 'asked ' + duration(minutes) + ' ago';
    }
  }

  function queueItem(item) {
    const mine = isMine(item);
    const li = el('li', {
      className: 'queue-item' + (item.urgent ? ' is-urgent' : '') + (mine ? ' is-mine' : '') +
        (item.id === openId ? ' is-open' : ''),
      attrs: { 'data-id': item.id, 'data-status': item.status },
    });
    const top = el('div', { className: 'queue-line' }, [
      el('span', { className: 'lang-code', text: String(item.language || '?').toUpperCase(), attrs: { title: 'Language' } }),
      item.urgent ? el('span', { className: 'urgent', text: 'URGENT' }) : null,
      el('span', { className: 'topic', text: item.topic || 'no topic' }),
    ]);
    const meta = el('div', { className: 'queue-meta' }, [
      el('span', { className: 'reason', text: 'reason: ' + (item.reason || '—') }),
      el('span', {
        className: 'waited',
        text: waitedText(item),
        attrs: { 'data-created': item.created_at, 'data-status': item.status },
      }),
      el('span', { className: 'status status-' + item.status, text: STATUS[item.status] || item.status }),
      item.mediator_name ? el('span', { className: 'mediator', text: mine ? 'by you' : 'by ' + item.mediator_name }) : null,
    ]);
    li.appendChild(top);
    li.appendChild(meta);
    // A burst of urgent requests is flagged; a waiting one shows its first lines only.
    if (item.flood) li.appendChild(el('p', { className: 'flood', text: item.flood.text }));
    for (const line of item.preview || []) li.appendChild(el('p', { className: 'preview', text: line }));
    if (item.status === 'waiting') {
      const claimButton = el('button', {
        className: 'claim button-primary',
        text: 'Claim',
        attrs: { type: 'button', 'aria-label': 'Claim request ' + item.id + ' (' + (item.language || '') + ')' },
      });
      claimButton.addEventListener('click', (event) => {
        event.stopPropagation();
        claim(item.id, claimButton);
      });
      li.appendChild(claimButton);
    } else if (mine) {
      const openButton = el('button', {
        className: 'open button-secondary',
        text: item.id === openId ? 'Open now' : 'Open',
        attrs: { type: 'button', 'aria-label': 'Open request ' + item.id },
      });
      openButton.addEventListener('click', (event) => {
        event.stopPropagation();
        openConversation(item.id);
      });
      li.appendChild(openButton);
      li.addEventListener('click', () => openConversation(item.id));
    }
    return li;
  }

  async function loadQueue() {
    const seq = ++queueSeq;
    const result = await api('GET', '/desk/api/queue');
    if (seq !== queueSeq) return;
    if (!result.ok) {
      showNotice('The queue could not be loaded: ' + result.error);
      return;
    }
    const items = (result.data && result.data.handoffs) || [];
    clear(queueList);
    for (const item of items) queueList.appendChild(queueItem(item));
    queueEmpty.hidden = items.length > 0;
  }

  async function claim(id, button) {
    hideNotice();
    if (button) button.disabled = true;
    const result = await api('POST', '/desk/api/handoffs/' + encodeURIComponent(id) + '/claim', {});
    if (!result.ok) {
      if (button) button.disabled = false;
      showNotice(result.error);
      loadQueue();
      return;
    }
    await openConversation(id);
    loadQueue();
  }

  // -- conversation ----------------------------------------------------------------

  function messageItem(message, handoff) {
    const author = AUTHORS[message.author] ? message.author : 'bot';
    const language = message.language || (author === 'mediator' ? null : handoff.language);
    const li = el('li', { className: 'msg msg-' + author });
    const head = el('div', { className: 'msg-head' }, [
      el('span', { className: 'author', text: AUTHORS[author] }),
      language ? el('span', { className: 'msg-lang', text: String(language).toUpperCase() }) : null,
      message.created_at ? el('time', { className: 'msg-time', text: clock(message.created_at), attrs: { datetime: message.created_at } }) : null,
    ]);
    li.appendChild(head);
    li.appendChild(mixedText(el('p', { className: 'original', attrs: { dir: 'auto', lang: language } }), message.text));
    if (message.translated_text) {
      const target = message.translated_language || '';
      li.appendChild(el('div', { className: 'translation' }, [
        el('span', { className: 'translation-label', text: 'Machine translation' + (target ? ' (' + target + ')' : '') }),
        mixedText(el('p', { className: 'translation-text', attrs: { dir: 'auto', lang: target || null } }), message.translated_text),
      ]));
    }
    if (author === 'mediator' && message.delivery === 'pending') {
      li.appendChild(el('span', {
        className: 'not-delivered',
        text: 'not delivered yet',
        attrs: { title: message.delivery_error || 'Waiting to be delivered' },
      }));
    } else if (author === 'mediator' && message.seen !== null && message.seen !== undefined && handoff.channel === 'socketio') {
      // The widget says which replies the person had on screen; other channels cannot.
      li.appendChild(el('span', {
        className: message.seen ? 'seen-mark seen' : 'seen-mark not-seen',
        text: message.seen ? 'seen' : 'not seen yet',
      }));
    }
    return li;
  }

  function suggestionItem(answer) {
    const text = String(answer.text || '');
    const short = text.length > 400 ? text.slice(0, 400).replace(/\s+\S*$/, '') + ' …' : text;
    const card = el('article', { className: 'suggestion' });
    card.appendChild(el('h4', { className: 'suggestion-title', text: answer.title || '', attrs: { dir: 'auto', lang: answer.language } }));
    if (answer.side && answer.side.title) {
      card.appendChild(el('p', { className: 'side-title' }, [
        el('span', { className: 'label', text: 'In your language: ' }),
        el('span', { text: answer.side.title, attrs: { dir: 'auto', lang: answer.side.language } }),
      ]));
    }
    if (answer.machine_translated) card.appendChild(el('span', { className: 'mt-label', text: 'Machine translation' }));
    if (answer.fallback) card.appendChild(el('span', { className: 'fallback-label', text: 'No translation: shown in ' + (answer.language || '?') }));
    card.appendChild(el('p', { className: 'suggestion-text', text: short, attrs: { dir: 'auto', lang: answer.language } }));
    const facts = el('p', { className: 'suggestion-facts' }, [
      el('span', { text: 'Topic: ' + (answer.topic || '—') }),
      answer.last_reviewed ? el('span', { text: 'Reviewed: ' + answer.last_reviewed }) : null,
    ]);
    card.appendChild(facts);
    const sources = (answer.sources || []).filter((s) => s && (s.url || s.title));
    if (sources.length) {
      const list = el('ul', { className: 'sources', attrs: { 'aria-label': 'Sources' } });
      for (const source of sources) list.appendChild(el('li', {}, [sourceLink(source)]));
      card.appendChild(list);
    }
    const use = el('button', {
      className: 'use-suggestion button-secondary',
      text: 'Use this text',
      attrs: { type: 'button' },
    });
    use.addEventListener('click', () => {
      replyText.value = text;
      if (answer.language && replyLanguage.querySelector('option[value="' + CSS.escape(answer.language) + '"]')) {
        replyLanguage.value = answer.language;
      }
      replyText.focus();
    });
    card.appendChild(use);
    return card;
  }

  function renderConversation(data) {
    const handoff = data.handoff;
    const firstTime = openHandoff === null || openHandoff.id !== handoff.id;
    openHandoff = handoff;
    emptyPane.hidden = true;
    body.hidden = false;
    $('conversation-title').textContent = 'Request ' + handoff.id + (handoff.urgent ? ' · URGENT' : '');
    $('conv-language').textContent = handoff.language || '—';
    $('conv-topic').textContent = handoff.topic || '—';
    $('conv-status').textContent = (STATUS[handoff.status] || handoff.status) +
      (handoff.mediator_name ? ' by ' + (isMine(handoff) ? 'you' : handoff.mediator_name) : '');
    $('conv-reason').textContent = handoff.reason || '—';

    const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    clear(transcript);
    const messages = data.transcript || [];
    if (!messages.length) transcript.appendChild(el('li', { className: 'empty', text: 'No messages yet.' }));
    for (const message of messages) transcript.appendChild(messageItem(message, handoff));
    if (firstTime || atBottom) transcript.scrollTop = transcript.scrollHeight;

    clear(suggestions);
    const answers = data.suggestions || [];
    if (!answers.length) suggestions.appendChild(el('p', { className: 'empty', text: 'No suggestion for the last question.' }));
    for (const answer of answers) suggestions.appendChild(suggestionItem(answer));

    if (firstTime && replyLanguage.querySelector('option[value="' + CSS.escape(handoff.language || '') + '"]')) {
      replyLanguage.value = handoff.language;
    }
    const mine = isMine(handoff);
    for (const control of [replyText, replyLanguage, replySend, closeNote, closeButton]) control.disabled = !mine;
    replyForm.hidden = !mine && handoff.status === 'closed';
    closeForm.hidden = !mine;
  }

  async function loadConversation(id) {
    const seq = ++conversationSeq;
    const result = await api('GET', '/desk/api/handoffs/' + encodeURIComponent(id));
    if (seq !== conversationSeq || openId !== id) return;
    if (!result.ok) {
      showNotice('The conversation could not be loaded: ' + result.error);
      return;
    }
    renderConversation(result.data);
  }

  async function openConversation(id) {
    hideNotice();
    if (openId !== id) {
      openId = id;
      openHandoff = null;
      replyText.value = '';
      closeNote.value = '';
      for (const node of queueList.querySelectorAll('.queue-item')) {
        node.classList.toggle('is-open', Number(node.dataset.id) === id);
      }
    }
    await loadConversation(id);
  }

  function clearConversation() {
    openId = null;
    openHandoff = null;
    conversationSeq++;
    clear(transcript);
    clear(suggestions);
    replyText.value = '';
    closeNote.value = '';
    body.hidden = true;
    emptyPane.hidden = false;
  }

  replyForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (openId === null) return;
    const text = replyText.value.trim();
    if (!text) {
      showNotice('Write a reply first.');
      replyText.focus();
      return;
    }
    hideNotice();
    const id = openId;
    replySend.disabled = true;
    const result = await api('POST', '/desk/api/handoffs/' + encodeURIComponent(id) + '/reply', {
      text,
      language: replyLanguage.value,
    });
    replySend.disabled = false;
    if (!result.ok) {
      showNotice('The reply was not sent: ' + result.error);
      return;
    }
    if (openId === id) {
      replyText.value = '';
      await loadConversation(id);
      // Back to the reply box, unless the mediator has moved on (to the closing
      // note, say): their typing would land in the wrong box.
      const focused = document.activeElement;
      if (!focused || focused === document.body || focused === replySend) replyText.focus();
    }
  });

  closeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (openId === null) return;
    if (!window.confirm('Close this conversation and hand it back to the assistant?')) return;
    hideNotice();
    const id = openId;
    closeButton.disabled = true;
    const result = await api('POST', '/desk/api/handoffs/' + encodeURIComponent(id) + '/close', {
      note: closeNote.value.trim(),
    });
    closeButton.disabled = false;
    if (!result.ok) {
      showNotice('The conversation was not closed: ' + result.error);
      return;
    }
    if (openId === id) clearConversation();
    loadQueue();
  });

  // -- live updates ------------------------------------------------------------------

  let socket = null;
  let everConnected = false;

  function setLive(text, ok) {
    if (liveStatus.textContent !== text) liveStatus.textContent = text;
    liveStatus.classList.toggle('is-offline', !ok);
  }

  function connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    try {
      socket = new WebSocket(scheme + '//' + window.location.host + '/desk/ws');
    } catch (err) {
      setLive('Live updates: offline, retrying…', false);
      window.setTimeout(connect, 2000);
      return;
    }
    socket.addEventListener('open', () => {
      setLive('Live updates: on', true);
      // Notices may have been missed while disconnected.
      if (everConnected) {
        loadQueue();
        if (openId !== null) loadConversation(openId);
      }
      everConnected = true;
    });
    socket.addEventListener('message', (event) => {
      let notice_;
      try { notice_ = JSON.parse(event.data); } catch (err) { return; }
      if (!notice_ || typeof notice_ !== 'object') return;
      if (notice_.type === 'queue') {
        loadQueue();
      } else if (notice_.type === 'message' && openId !== null && Number(notice_.handoff_id) === openId) {
        loadConversation(openId);
      }
    });
    socket.addEventListener('close', () => {
      setLive('Live updates: offline, retrying…', false);
      socket = null;
      window.setTimeout(connect, 2000);
    });
  }

  // -- start ---------------------------------------------------------------------------

  clearConversation();
  loadQueue();
  connect();
  window.setInterval(refreshWaited, 30000);
})();
