/* Mediator desk: queue, claim, transcript with translations, suggestions, reply, close.
 * Live updates come over the /desk/ws WebSocket.
 * People's words (messages, notes, suggestions) are only ever inserted with
 * textContent / text nodes, never as HTML. */
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const { el, clear, sourceLink, parseTime, clock, api, mixedText, t, tn, LANG, formatDay } = window.HelpDesk;
  const USERNAME = document.body.dataset.username || '';
  const AUTHORS = { migrant: t('Person'), bot: t('Assistant'), mediator: t('Mediator'), desk: t('Desk') };
  const STATUS = { waiting: t('waiting'), claimed: t('claimed'), closed: t('closed') };
  const REASONS = { request: t('request'), emergency: t('emergency'), unsure: t('unsure'), operator: t('operator') };

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
  const personTyping = $('person-typing');
  const replyLanguage = $('reply-language');
  const replySend = $('reply-send');
  const closeForm = $('close-form');
  const closeNote = $('close-note');
  const closeButton = $('close-handoff');
  const handOn = $('hand-on');
  const notesPanel = $('notes-panel');
  const notesList = $('notes');
  const noteForm = $('note-form');
  const noteText = $('note-text');
  const noteAdd = $('note-add');
  const transferTo = $('transfer-to');
  const transferSend = $('transfer-send');
  const releaseButton = $('release-handoff');
  const savedPanel = $('saved-panel');
  const savedLanguage = $('saved-language');
  const savedList = $('saved-list');
  const savedForm = $('saved-form');
  const savedText = $('saved-text');
  const savedAdd = $('saved-add');

  let openId = null;          // the hand-off shown in the conversation pane
  let openHandoff = null;
  let queueSeq = 0;           // ignore answers to older requests
  let conversationSeq = 0;
  // "typing…": the person's signal (the fact only) comes at most every TYPING_EVERY ms;
  // shown until a message comes or TYPING_SHOWN ms pass without one.
  const TYPING_EVERY = 3000;
  const TYPING_SHOWN = 6000;
  let typingTimer = 0;
  let typingSent = 0;

  // -- small helpers -----------------------------------------------------------

  function minutesSince(iso) {
    const time = parseTime(iso);
    return time === null ? null : Math.max(0, Math.floor((Date.now() - time) / 60000));
  }

  function duration(minutes) {
    if (minutes === null) return '';
    if (minutes < 1) return t('less than 1 min');
    if (minutes < 60) return t('%(minutes)s min', { minutes });
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return rest ? t('%(hours)s h %(minutes)s min', { hours, minutes: rest }) : t('%(hours)s h', { hours });
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
  // The server sends every open hand-off this user may see (their languages, and
  // those no mediator speaks; admins: all). Filtering, search, counts and alerts
  // happen here, over that list.

  const queuePanel = $('queue-panel');
  const columns = $('desk-columns');
  const myList = $('my-queue');
  const mineTitle = $('mine-title');
  const queueCount = $('queue-count');
  const queueMore = $('queue-more');
  const queueMoreText = $('queue-more-text');
  const queueOthers = $('queue-others');
  const searchBox = $('queue-search');
  const languageFilter = $('queue-language');
  const urgentOnly = $('queue-urgent-only');
  const announcer = $('queue-announce');
  const alerter = $('queue-alert');
  const banner = $('urgent-banner');
  const bannerText = $('urgent-banner-text');
  const notifyToggle = $('notify-toggle');
  const conversationPane = $('conversation');
  const conversationTitle = $('conversation-title');

  const MY_LANGUAGES = (queuePanel.dataset.languages || '').split(/\s+/).filter(Boolean);
  const IS_ADMIN = document.body.dataset.role === 'admin';
  const BASE_TITLE = document.title;
  const CHANNELS = {
    socketio: t('web chat'), telegram: 'Telegram', twilio: 'WhatsApp', whatsapp: 'WhatsApp',
    sms: 'SMS', rest: t('app'), counter: t('at the counter'),
  };
  const NOTIFY_KEY = 'helpdesk.desk.notifications';
  // Narrow screens show the queue or the conversation, not both (see desk.css).
  const narrow = window.matchMedia('(max-width: 899px)');

  let items = [];             // the last queue the server sent
  let known = null;           // ids of waiting hand-offs already seen (null: not loaded yet)
  let bannerFor = null;       // the urgent hand-off the banner points at
  let queueScroll = 0;        // where the list was when a conversation replaced it
  let choicesKey = '';        // the language choices now in the list

  const displayNames = (() => {
    try { return new Intl.DisplayNames([LANG], { type: 'language' }); } catch (err) { return null; }
  })();

  function languageName(code) {
    if (!code) return t('Unknown language');
    try {
      const name = displayNames && displayNames.of(code);
      if (name && name.toLowerCase() !== String(code).toLowerCase()) return name;
    } catch (err) { /* not a language code */ }
    return String(code).toUpperCase();
  }

  const channelName = (channel) => CHANNELS[channel] || String(channel || '');

  /** Lower case without accents, for searching. */
  function folded(text) {
    return String(text || '').normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
  }

  function waitedText(item) {
    const minutes = minutesSince(item.created_at);
    if (minutes === null) return '';
    return item.status === 'waiting' ? duration(minutes) : t('asked %(time)s ago', { time: duration(minutes) });
  }

  function refreshWaited() {
    for (const node of document.querySelectorAll('.queue .waited')) {
      const minutes = minutesSince(node.dataset.created);
      if (minutes === null) continue;
      node.textContent = node.dataset.status === 'waiting'
        ? duration(minutes) : t('asked %(time)s ago', { time: duration(minutes) });
    }
    if (!banner.hidden && bannerFor !== null) showBanner();
  }

  /** Whether a hand-off is in the language choice `scope`: "mine", "all" or a code.
   * "all" adds what the server sends everyone: languages no mediator speaks. */
  function inScope(item, scope) {
    if (scope === 'all') return true;
    if (scope === 'mine') return MY_LANGUAGES.includes(item.language);
    return item.language === scope;
  }

  // What the page title counts: the user's own languages (admins: all).
  const alertScope = () => (IS_ADMIN || !MY_LANGUAGES.length ? 'all' : 'mine');
  // What is announced: new requests in those, and every urgent one this user may take.
  const alerts = (item) => item.status === 'waiting' && (item.urgent || inScope(item, alertScope()));

  function matches(item, words) {
    if (!words.length) return true;
    const text = folded([
      (item.preview || []).join(' '), item.language, languageName(item.language),
      channelName(item.channel), item.channel, item.topic, item.reason, '#' + item.id,
      item.urgent ? 'urgent' : '',
    ].join(' '));
    return words.every((word) => text.includes(word));
  }

  function queueItem(item) {
    const mine = isMine(item);
    const li = el('li', {
      className: 'queue-item' + (item.urgent ? ' is-urgent' : '') + (mine ? ' is-mine' : '') +
        (item.id === openId ? ' is-open' : ''),
      attrs: { 'data-id': item.id, 'data-status': item.status, 'data-language': item.language },
    });
    const created = parseTime(item.created_at);
    const line = el('div', { className: 'queue-line' }, [
      item.urgent ? el('span', { className: 'urgent', text: t('URGENT') }) : null,
      el('span', { className: 'lang-name', text: languageName(item.language) }),
      el('span', { className: 'lang-code', text: String(item.language || '?').toUpperCase(), attrs: { 'aria-hidden': 'true' } }),
      el('span', {
        className: 'waited',
        text: waitedText(item),
        attrs: {
          'data-created': item.created_at,
          'data-status': item.status,
          title: created === null ? null : t('Asked at %(time)s', { time: clock(item.created_at) }),
        },
      }),
      el('span', { className: 'channel', text: channelName(item.channel) }),
      el('span', { className: 'number', text: '#' + item.id }),
      item.after_hours ? el('span', { className: 'after-hours', text: t('left after hours'), attrs: { title: t('Left outside opening hours') } }) : null,
      mine ? el('span', { className: 'mediator', text: t('yours') }) : null,
    ]);
    const text = el('div', { className: 'queue-text' }, [line]);
    // A burst of urgent requests is flagged; a waiting one shows its first lines only.
    if (item.flood) text.appendChild(el('p', { className: 'flood', text: item.flood.text }));
    // The topic, then the first lines (each in its own direction), on one line.
    const preview = (item.preview || []).join(' · ');
    const topic = item.topic ? String(item.topic).replace(/[_-]+/g, ' ') : '';
    if (preview || topic) {
      text.appendChild(el('p', { className: 'preview', attrs: { title: preview || null } }, [
        topic ? el('span', { className: 'topic-name', text: topic }) : null,
        topic && preview ? ' ' : null,
        preview ? el('bdi', { text: preview, attrs: { dir: 'auto' } }) : null,
      ]));
    }
    li.appendChild(text);
    if (item.status === 'waiting') {
      const claimButton = el('button', {
        className: 'claim button-primary',
        text: t('Claim'),
        attrs: {
          type: 'button',
          'aria-label': item.urgent
            ? t('Claim request %(id)s, %(language)s, urgent', { id: item.id, language: languageName(item.language) })
            : t('Claim request %(id)s, %(language)s', { id: item.id, language: languageName(item.language) }),
        },
      });
      claimButton.addEventListener('click', (event) => {
        event.stopPropagation();
        claim(item.id, claimButton);
      });
      li.appendChild(claimButton);
    } else if (mine) {
      const openButton = el('button', {
        className: 'open button-secondary',
        text: item.id === openId ? t('Open now') : t('Open'),
        attrs: { type: 'button', 'aria-label': t('Open request %(id)s', { id: item.id }) },
      });
      openButton.addEventListener('click', (event) => {
        event.stopPropagation();
        openConversation(item.id, { reveal: true });
      });
      li.appendChild(openButton);
      li.addEventListener('click', () => openConversation(item.id, { reveal: true }));
    }
    return li;
  }

  function countText(waiting) {
    const urgent = waiting.filter((item) => item.urgent).length;
    return t('%(waiting)s waiting, %(urgent)s urgent', { waiting: waiting.length, urgent });
  }

  /** The language choices: mine, all, and each language now in the queue. */
  function fillLanguageChoices(waiting) {
    const chosen = languageFilter.value;
    const counts = new Map();
    for (const item of waiting) counts.set(item.language, (counts.get(item.language) || 0) + 1);
    const codes = [...counts.keys()].sort((a, b) => languageName(a).localeCompare(languageName(b)));
    if (!['mine', 'all'].includes(chosen) && !codes.includes(chosen)) codes.push(chosen);
    // Rebuilt only when something changed: a live update must not close an open list.
    const key = waiting.length + '|' + codes.map((code) => code + ':' + (counts.get(code) || 0)).join(',');
    if (key === choicesKey) return;
    choicesKey = key;
    const mine = MY_LANGUAGES.join(', ');
    const options = [
      el('option', { text: mine ? t('Mine: %(count)s', { count: mine }) : t('Mine'), attrs: { value: 'mine' } }),
      el('option', { text: t('All I can see (%(count)s)', { count: waiting.length }), attrs: { value: 'all' } }),
    ];
    for (const code of codes) {
      options.push(el('option', {
        text: languageName(code) + ' (' + (counts.get(code) || 0) + ')',
        attrs: { value: code },
      }));
    }
    languageFilter.replaceChildren(...options);
    languageFilter.value = chosen;
  }

  function renderQueue() {
    const waiting = items.filter((item) => item.status === 'waiting');
    const mine = items.filter(isMine);
    const takenByOthers = items.filter((item) => item.status !== 'waiting' && !isMine(item)).length;
    fillLanguageChoices(waiting);
    const scope = languageFilter.value;
    const scoped = waiting.filter((item) => inScope(item, scope));
    const words = folded(searchBox.value).split(/\s+/).filter(Boolean);
    const shown = scoped.filter((item) => (!urgentOnly.checked || item.urgent) && matches(item, words));

    // Keep the place and the focus in the list across live updates.
    const focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest('.queue-item') : null;
    const focusId = focused ? focused.dataset.id : null;
    const focusClass = focused && document.activeElement.classList.contains('claim') ? '.claim' : 'button';
    const pageY = window.scrollY;

    myList.replaceChildren(...mine.map(queueItem));
    myList.hidden = mineTitle.hidden = mine.length === 0;
    mineTitle.textContent = t('Your conversations (%(count)s)', { count: mine.length });
    queueList.replaceChildren(...shown.map(queueItem));

    let count = countText(scoped);
    if (shown.length !== scoped.length) count += ' · ' + t('%(count)s shown', { count: shown.length });
    queueCount.textContent = count;
    queueEmpty.hidden = shown.length > 0;
    queueEmpty.textContent = scoped.length ? t('No waiting request matches the filters.') : t('No one is waiting.');
    const elsewhere = waiting.filter((item) => !inScope(item, scope));
    queueMore.hidden = elsewhere.length === 0 || scope === 'all';
    const unspoken = [...new Set(elsewhere.filter((item) => item.unspoken).map((item) => languageName(item.language)))];
    queueMoreText.textContent = elsewhere.every((item) => item.unspoken)
      ? t('%(count)s more in languages no mediator speaks (%(languages)s).', { count: elsewhere.length, languages: unspoken.sort().join(', ') })
      : t('%(count)s more in other languages.', { count: elsewhere.length });
    queueOthers.hidden = takenByOthers === 0;
    queueOthers.textContent = tn('%(num)s conversation is with other mediators.', '%(num)s conversations are with other mediators.', takenByOthers);

    if (focusId !== null) {
      const again = document.querySelector('.queue-item[data-id="' + CSS.escape(focusId) + '"] ' + focusClass);
      if (again) again.focus({ preventScroll: true });
    }
    if (window.scrollY !== pageY) window.scrollTo(window.scrollX, pageY);
    updateTitle();
  }

  function updateTitle() {
    const count = items.filter((item) => item.status === 'waiting' && inScope(item, alertScope())).length;
    document.title = (count ? '(' + count + ') ' : '') + BASE_TITLE;
  }

  // -- alerts: new and urgent requests -------------------------------------------------

  function urgentWaiting() {
    return items.filter((item) => item.status === 'waiting' && item.urgent);
  }

  function showBanner() {
    const urgent = urgentWaiting();
    if (!urgent.length) {
      banner.hidden = true;
      bannerFor = null;
      return;
    }
    const first = urgent.find((item) => item.id === bannerFor) || urgent[0];
    bannerFor = first.id;
    const longest = Math.max(...urgent.map((item) => minutesSince(item.created_at) || 0));
    bannerText.textContent = urgent.length === 1
      ? t('Urgent request waiting: %(language)s, #%(id)s (longest %(time)s).', { language: languageName(first.language), id: first.id, time: duration(longest) })
      : t('%(count)s urgent requests waiting (longest %(time)s).', { count: urgent.length, time: duration(longest) });
    banner.hidden = false;
  }

  /** Tell screen readers, politely, or at once for urgent news. The banner is not
   * itself an alert: its waiting time changes every half minute. */
  function announce(message, urgent) {
    const region = urgent ? alerter : announcer;
    // A change of text is what screen readers announce; clear first so a repeat is heard.
    region.textContent = '';
    window.setTimeout(() => { region.textContent = message; }, 50);
  }

  function notificationsOn() {
    try {
      return 'Notification' in window && Notification.permission === 'granted' &&
        window.localStorage.getItem(NOTIFY_KEY) === 'on';
    } catch (err) { return false; }
  }

  function updateNotifyToggle() {
    if (!('Notification' in window) || Notification.permission === 'denied') {
      notifyToggle.hidden = true;
      return;
    }
    notifyToggle.hidden = false;
    notifyToggle.textContent = notificationsOn() ? t('Turn off notifications') : t('Turn on notifications');
    notifyToggle.setAttribute('aria-pressed', notificationsOn() ? 'true' : 'false');
  }

  notifyToggle.addEventListener('click', async () => {
    try {
      if (notificationsOn()) {
        window.localStorage.removeItem(NOTIFY_KEY);
      } else {
        // Asked only here, when the mediator asks for it; never on load.
        const permission = Notification.permission === 'granted'
          ? 'granted' : await Notification.requestPermission();
        if (permission === 'granted') window.localStorage.setItem(NOTIFY_KEY, 'on');
      }
    } catch (err) { /* storage or notifications unavailable */ }
    updateNotifyToggle();
  });

  function notify(fresh) {
    if (!notificationsOn() || document.visibilityState === 'visible') return;
    const urgent = fresh.filter((item) => item.urgent);
    const first = urgent[0] || fresh[0];
    try {
      // Language and number only: a notification can show on a locked screen.
      const note = new Notification(urgent.length ? t('Urgent request waiting') : t('New request waiting'), {
        body: fresh.length === 1
          ? languageName(first.language) + ', #' + first.id
          : t('%(count)s new requests (%(urgent)s urgent)', { count: fresh.length, urgent: urgent.length }),
        tag: 'helpdesk-desk-queue',
      });
      note.addEventListener('click', () => { window.focus(); note.close(); });
    } catch (err) { /* some browsers only allow notifications from a service worker */ }
  }

  /** Compare with what was already seen: announce, banner, notification. */
  function alertNew() {
    const waiting = items.filter((item) => item.status === 'waiting');
    const ids = new Set(waiting.map((item) => item.id));
    if (known === null) {
      known = ids;
      if (urgentWaiting().length) showBanner();
      return;
    }
    const fresh = waiting.filter((item) => !known.has(item.id) && alerts(item));
    known = ids;
    if (!fresh.length) {
      if (!banner.hidden) showBanner();
      return;
    }
    const urgent = fresh.filter((item) => item.urgent);
    announce(fresh.length === 1
      ? (urgent.length ? t('New urgent request: %(language)s.', { language: languageName(fresh[0].language) })
        : t('New request: %(language)s.', { language: languageName(fresh[0].language) }))
      : t('%(count)s new requests, %(urgent)s urgent.', { count: fresh.length, urgent: urgent.length }), urgent.length > 0);
    if (urgent.length) {
      bannerFor = urgent[0].id;
      showBanner();
    } else if (!banner.hidden) {
      showBanner();
    }
    notify(fresh);
  }

  $('urgent-dismiss').addEventListener('click', () => {
    banner.hidden = true;
  });

  $('urgent-show').addEventListener('click', () => {
    const target = items.find((item) => item.id === bannerFor);
    if (!target) return;
    showQueue();
    if (!queueList.querySelector('.queue-item[data-id="' + target.id + '"]')) {
      searchBox.value = '';
      urgentOnly.checked = false;
      if (!inScope(target, languageFilter.value)) languageFilter.value = 'all';
      renderQueue();
    }
    const row = queueList.querySelector('.queue-item[data-id="' + target.id + '"]');
    if (row) {
      row.scrollIntoView({ block: 'center' });
      const button = row.querySelector('button');
      if (button) button.focus({ preventScroll: true });
    }
  });

  // -- filters ---------------------------------------------------------------------------

  $('queue-filters').addEventListener('submit', (event) => event.preventDefault());
  searchBox.addEventListener('input', renderQueue);
  languageFilter.addEventListener('change', renderQueue);
  urgentOnly.addEventListener('change', renderQueue);
  $('queue-show-all').addEventListener('click', () => {
    languageFilter.value = 'all';
    renderQueue();
    languageFilter.focus();
  });
  if (IS_ADMIN || !MY_LANGUAGES.length) languageFilter.value = 'all';

  async function loadQueue() {
    const seq = ++queueSeq;
    const result = await api('GET', '/desk/api/queue');
    if (seq !== queueSeq) return;
    if (!result.ok) {
      showNotice(t('The queue could not be loaded: %(error)s', { error: result.error }));
      return;
    }
    items = (result.data && result.data.handoffs) || [];
    renderQueue();
    alertNew();
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
    await openConversation(id, { reveal: true });
    loadQueue();
  }

  // -- the queue or the conversation on narrow screens --------------------------------------

  /** Bring the open conversation into view and move the focus to its title. */
  function revealConversation() {
    if (narrow.matches && !columns.classList.contains('is-reading')) queueScroll = window.scrollY;
    columns.classList.add('is-reading');
    if (narrow.matches) {
      window.scrollTo(0, 0);
    } else {
      conversationPane.scrollIntoView({ block: 'nearest' });
    }
    conversationTitle.focus({ preventScroll: true });
  }

  function showQueue() {
    if (!columns.classList.contains('is-reading')) return;
    columns.classList.remove('is-reading');
    if (narrow.matches) window.scrollTo(0, queueScroll);
  }

  $('back-to-queue').addEventListener('click', () => {
    const id = openId;
    showQueue();
    const row = id === null ? null : document.querySelector('.queue-item[data-id="' + id + '"] button');
    if (row) row.focus({ preventScroll: true }); else searchBox.focus({ preventScroll: true });
  });

  // -- conversation ----------------------------------------------------------------

  function messageItem(message, handoff) {
    const author = AUTHORS[message.author] ? message.author : 'bot';
    const language = message.language || (author === 'mediator' || author === 'desk' ? null : handoff.language);
    const li = el('li', { className: 'msg msg-' + author });
    const head = el('div', { className: 'msg-head' }, [
      el('span', { className: 'author', text: AUTHORS[author] }),
      language ? el('span', { className: 'msg-lang', text: String(language).toUpperCase() }) : null,
      message.created_at ? el('time', { className: 'msg-time', text: clock(message.created_at), attrs: { datetime: message.created_at } }) : null,
    ]);
    li.appendChild(head);
    li.appendChild(mixedText(el('p', { className: 'original', attrs: { dir: 'auto', lang: language } }), message.text));
    if (message.attachment) li.appendChild(attachmentView(message.attachment, handoff));
    if (message.translated_text) {
      const target = message.translated_language || '';
      li.appendChild(el('div', { className: 'translation' }, [
        el('span', { className: 'translation-label', text: target ? t('Machine translation (%(language)s)', { language: target }) : t('Machine translation') }),
        mixedText(el('p', { className: 'translation-text', attrs: { dir: 'auto', lang: target || null } }), message.translated_text),
      ]));
    }
    if (author === 'mediator' && message.delivery === 'pending') {
      li.appendChild(el('span', {
        className: 'not-delivered',
        text: t('not delivered yet'),
        attrs: { title: message.delivery_error || t('Waiting to be delivered') },
      }));
    } else if (author === 'mediator' && message.seen !== null && message.seen !== undefined && handoff.channel === 'socketio') {
      // The widget says which replies the person had on screen; other channels cannot.
      li.appendChild(el('span', {
        className: message.seen ? 'seen-mark seen' : 'seen-mark not-seen',
        text: message.seen ? t('seen') : t('not seen yet'),
      }));
    }
    return li;
  }

  /** A photo the person sent, shown; a PDF, a download (never opened in the desk). */
  function attachmentView(file, handoff) {
    const url = '/desk/api/attachments/' + encodeURIComponent(file.id);
    const kb = Math.max(1, Math.round((file.size || 0) / 1024)) + ' KB';
    if (file.content_type === 'application/pdf') {
      return el('a', {
        className: 'attachment attachment-pdf button-secondary',
        text: t('Download the PDF (%(size)s)', { size: kb }),
        attrs: { href: url, download: 'request-' + handoff.id + '-' + file.id + '.pdf' },
      });
    }
    return el('a', { className: 'attachment attachment-photo', attrs: { href: url, target: '_blank', rel: 'noopener' } }, [
      el('img', { attrs: { src: url, alt: t('Photo sent by the person (%(size)s)', { size: kb }), loading: 'lazy' } }),
    ]);
  }

  function suggestionItem(answer) {
    const text = String(answer.text || '');
    const short = text.length > 400 ? text.slice(0, 400).replace(/\s+\S*$/, '') + ' …' : text;
    const card = el('article', { className: 'suggestion' });
    card.appendChild(el('h4', { className: 'suggestion-title', text: answer.title || '', attrs: { dir: 'auto', lang: answer.language } }));
    if (answer.side && answer.side.title) {
      card.appendChild(el('p', { className: 'side-title' }, [
        el('span', { className: 'label', text: t('In your language:') + ' ' }),
        el('span', { text: answer.side.title, attrs: { dir: 'auto', lang: answer.side.language } }),
      ]));
    }
    if (answer.machine_translated) card.appendChild(el('span', { className: 'mt-label', text: t('Machine translation') }));
    if (answer.fallback) card.appendChild(el('span', { className: 'fallback-label', text: t('No translation: shown in %(language)s', { language: answer.language || '?' }) }));
    card.appendChild(el('p', { className: 'suggestion-text', text: short, attrs: { dir: 'auto', lang: answer.language } }));
    const facts = el('p', { className: 'suggestion-facts' }, [
      el('span', { text: t('Topic: %(topic)s', { topic: answer.topic || '—' }) }),
      answer.last_reviewed ? el('span', { text: t('Reviewed: %(day)s', { day: formatDay(answer.last_reviewed) }) }) : null,
    ]);
    card.appendChild(facts);
    const sources = (answer.sources || []).filter((s) => s && (s.url || s.title));
    if (sources.length) {
      const list = el('ul', { className: 'sources', attrs: { 'aria-label': t('Sources') } });
      for (const source of sources) list.appendChild(el('li', {}, [sourceLink(source)]));
      card.appendChild(list);
    }
    const use = el('button', {
      className: 'use-suggestion button-secondary',
      text: t('Use this text'),
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
    conversationTitle.textContent = t('Request %(id)s', { id: handoff.id }) + (handoff.urgent ? ' · ' + t('URGENT') : '');
    $('conv-language').textContent = handoff.language || '—';
    $('conv-topic').textContent = handoff.topic || '—';
    $('conv-status').textContent = (STATUS[handoff.status] || handoff.status) +
      (handoff.mediator_name ? ' ' + (handoff.mediator_name === USERNAME ? t('by you') : t('by %(name)s', { name: handoff.mediator_name })) : '');
    $('conv-reason').textContent = REASONS[handoff.reason] || handoff.reason || '—';
    $('conv-after-hours').hidden = !handoff.after_hours;

    const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    clear(transcript);
    const messages = data.transcript || [];
    if (!messages.length) transcript.appendChild(el('li', { className: 'empty', text: t('No messages yet.') }));
    for (const message of messages) transcript.appendChild(messageItem(message, handoff));
    if (firstTime || atBottom) transcript.scrollTop = transcript.scrollHeight;

    clear(suggestions);
    const answers = data.suggestions || [];
    if (!answers.length) suggestions.appendChild(el('p', { className: 'empty', text: t('No suggestion for the last question.') }));
    for (const answer of answers) suggestions.appendChild(suggestionItem(answer));

    if (firstTime && replyLanguage.querySelector('option[value="' + CSS.escape(handoff.language || '') + '"]')) {
      replyLanguage.value = handoff.language;
    }
    const mine = isMine(handoff);
    for (const control of [replyText, replyLanguage, replySend, closeNote, closeButton]) control.disabled = !mine;
    replyForm.hidden = !mine && handoff.status === 'closed';
    closeForm.hidden = !mine;
    // Its mediator (or an admin) may add private notes, give it to a colleague or
    // back to the queue.
    const mayHandOn = handoff.status === 'claimed' && (mine || IS_ADMIN);
    renderNotes(data.notes, data.transcript !== null && data.transcript !== undefined, mayHandOn);
    handOn.hidden = !mayHandOn;
    if (mayHandOn && firstTime) loadColleagues(handoff.id);
    // Saved replies, in the person's language, while this mediator answers.
    savedPanel.hidden = !mine;
    if (mine && firstTime) {
      if (savedLanguage.querySelector('option[value="' + CSS.escape(handoff.language || '') + '"]')) {
        savedLanguage.value = handoff.language;
      }
      loadSaved();
    }
  }

  // -- saved replies: ready answers per language, put into the reply, never sent alone --

  let savedSeq = 0;

  async function loadSaved() {
    const seq = ++savedSeq;
    const language = savedLanguage.value;
    const result = await api('GET', '/desk/api/saved-replies?language=' + encodeURIComponent(language));
    if (seq !== savedSeq) return;
    if (!result.ok) {
      showNotice(t('The saved replies could not be loaded: %(error)s', { error: result.error }));
      return;
    }
    renderSaved(result.data);
  }

  function renderSaved(data) {
    const writable = !!data.may_change;
    savedForm.hidden = !writable;
    clear(savedList);
    for (const reply of data.replies || []) savedList.appendChild(savedItem(reply, data.language, writable));
    if (!savedList.children.length) {
      savedList.appendChild(el('li', { className: 'empty', text: t('No saved reply in this language yet.') }));
    }
  }

  function savedItem(reply, language, writable) {
    const li = el('li', { className: 'saved-reply', attrs: { 'data-id': reply.id } });
    const text = mixedText(el('p', { className: 'saved-text', attrs: { dir: 'auto', lang: language } }), reply.text);
    const use = el('button', {
      className: 'use-saved button-secondary',
      text: t('Put in reply'),
      attrs: { type: 'button' },
    });
    use.addEventListener('click', () => {
      // Into the reply box only: the mediator reads, changes and sends it.
      replyText.value = reply.text;
      if (replyLanguage.querySelector('option[value="' + CSS.escape(language) + '"]')) replyLanguage.value = language;
      replyText.focus();
    });
    const actions = el('div', { className: 'saved-actions' }, [use]);
    if (writable) {
      const edit = el('button', { className: 'edit-saved button-quiet', text: t('Edit'), attrs: { type: 'button' } });
      edit.addEventListener('click', () => editSaved(li, reply, language));
      const remove = el('button', { className: 'delete-saved button-quiet', text: t('Delete'), attrs: { type: 'button' } });
      remove.addEventListener('click', () => deleteSaved(reply));
      actions.appendChild(edit);
      actions.appendChild(remove);
    }
    li.appendChild(text);
    li.appendChild(actions);
    return li;
  }

  function editSaved(li, reply, language) {
    const box = el('textarea', {
      className: 'saved-edit',
      attrs: { rows: 3, maxlength: 2000, dir: 'auto', lang: language, 'aria-label': t('Change this saved reply') },
    });
    box.value = reply.text;
    const save = el('button', { className: 'save-saved button-secondary', text: t('Save'), attrs: { type: 'button' } });
    const cancel = el('button', { className: 'button-quiet', text: t('Cancel'), attrs: { type: 'button' } });
    save.addEventListener('click', async () => {
      const text = box.value.trim();
      if (!text) {
        showNotice(t('A saved reply cannot be empty; delete it instead.'));
        box.focus();
        return;
      }
      hideNotice();
      save.disabled = true;
      const result = await api('POST', '/desk/api/saved-replies/' + encodeURIComponent(reply.id), { text });
      save.disabled = false;
      if (!result.ok) {
        showNotice(t('The saved reply was not changed: %(error)s', { error: result.error }));
        return;
      }
      loadSaved();
    });
    cancel.addEventListener('click', loadSaved);
    li.replaceChildren(box, el('div', { className: 'saved-actions' }, [save, cancel]));
    box.focus();
  }

  async function deleteSaved(reply) {
    if (!window.confirm(t('Delete this saved reply for every mediator?'))) return;
    hideNotice();
    const result = await api('POST', '/desk/api/saved-replies/' + encodeURIComponent(reply.id) + '/delete', {});
    if (!result.ok) {
      showNotice(t('The saved reply was not deleted: %(error)s', { error: result.error }));
      return;
    }
    loadSaved();
  }

  savedLanguage.addEventListener('change', loadSaved);

  savedForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = savedText.value.trim();
    if (!text) {
      showNotice(t('Write the saved reply first.'));
      savedText.focus();
      return;
    }
    hideNotice();
    savedAdd.disabled = true;
    const result = await api('POST', '/desk/api/saved-replies', { language: savedLanguage.value, text });
    savedAdd.disabled = false;
    if (!result.ok) {
      showNotice(t('The saved reply was not kept: %(error)s', { error: result.error }));
      return;
    }
    savedText.value = '';
    loadSaved();
  });

  /** The private notes, for whoever may read the transcript; never sent to the person. */
  function renderNotes(notes, shown, writable) {
    notesPanel.hidden = !shown;
    noteForm.hidden = !writable;
    clear(notesList);
    for (const note of notes || []) {
      notesList.appendChild(el('li', { className: 'note' }, [
        el('div', { className: 'note-head' }, [
          el('span', { className: 'note-author', text: note.author_name || t('Someone') }),
          note.created_at ? ' · ' : null,
          note.created_at ? el('time', { text: clock(note.created_at), attrs: { datetime: note.created_at } }) : null,
        ]),
        mixedText(el('p', { className: 'note-text', attrs: { dir: 'auto' } }), note.text),
      ]));
    }
    if (!notesList.children.length) notesList.appendChild(el('li', { className: 'empty', text: t('No notes yet.') }));
  }

  noteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (openId === null) return;
    const text = noteText.value.trim();
    if (!text) {
      showNotice(t('Write the note first.'));
      noteText.focus();
      return;
    }
    hideNotice();
    const id = openId;
    noteAdd.disabled = true;
    const result = await api('POST', '/desk/api/handoffs/' + encodeURIComponent(id) + '/notes', { text });
    noteAdd.disabled = false;
    if (!result.ok) {
      showNotice(t('The note was not saved: %(error)s', { error: result.error }));
      return;
    }
    if (openId === id) {
      noteText.value = '';
      await loadConversation(id);
    }
  });

  async function loadColleagues(id) {
    const result = await api('GET', '/desk/api/handoffs/' + encodeURIComponent(id) + '/colleagues');
    if (openId !== id || !result.ok) return;
    const names = (result.data && result.data.colleagues) || [];
    transferTo.replaceChildren(...(names.length
      ? names.map((name) => el('option', { text: name, attrs: { value: name } }))
      : [el('option', { text: t('No colleague works in this language'), attrs: { value: '' } })]));
    transferTo.disabled = transferSend.disabled = names.length === 0;
  }

  /** Transfer or release: the conversation leaves this mediator's pane. */
  async function handOnTo(path, payload, question) {
    if (openId === null || !window.confirm(question)) return;
    hideNotice();
    const id = openId;
    transferSend.disabled = releaseButton.disabled = true;
    const result = await api('POST', '/desk/api/handoffs/' + encodeURIComponent(id) + '/' + path, payload);
    transferSend.disabled = releaseButton.disabled = false;
    if (!result.ok) {
      showNotice(t('The conversation was not handed on: %(error)s', { error: result.error }));
      return;
    }
    if (openId === id) clearConversation();
    announce(path === 'release' ? t('Request %(id)s is back in the queue.', { id })
      : t('Request %(id)s was transferred to %(name)s.', { id, name: payload.to }), false);
    loadQueue();
  }

  transferSend.addEventListener('click', () => {
    const name = transferTo.value;
    if (name) handOnTo('transfer', { to: name }, t('Give this conversation to %(name)s?', { name }));
  });
  releaseButton.addEventListener('click', () => {
    handOnTo('release', {}, t('Put this conversation back in the queue for any mediator?'));
  });

  function showTyping(on) {
    window.clearTimeout(typingTimer);
    personTyping.hidden = !on;
    personTyping.textContent = on ? t('typing…') : '';
    if (on) typingTimer = window.setTimeout(() => showTyping(false), TYPING_SHOWN);
  }

  // The person's widget says "The mediator is writing…"; nothing of the text is sent.
  replyText.addEventListener('input', () => {
    if (openId === null || !openHandoff || !isMine(openHandoff) || !replyText.value.trim()) return;
    if (Date.now() - typingSent < TYPING_EVERY) return;
    typingSent = Date.now();
    api('POST', '/desk/api/handoffs/' + encodeURIComponent(openId) + '/typing', {});
  });

  async function loadConversation(id) {
    const seq = ++conversationSeq;
    const result = await api('GET', '/desk/api/handoffs/' + encodeURIComponent(id));
    if (seq !== conversationSeq || openId !== id) return;
    if (!result.ok) {
      showNotice(t('The conversation could not be loaded: %(error)s', { error: result.error }));
      return;
    }
    renderConversation(result.data);
  }

  /** Show a hand-off; `reveal`: the mediator chose it, so bring it into view. */
  async function openConversation(id, options) {
    hideNotice();
    if (openId !== id) {
      openId = id;
      openHandoff = null;
      showTyping(false);
      replyText.value = '';
      closeNote.value = '';
      noteText.value = '';
      for (const node of document.querySelectorAll('.queue .queue-item')) {
        node.classList.toggle('is-open', Number(node.dataset.id) === id);
      }
    }
    await loadConversation(id);
    if (options && options.reveal && openId === id) revealConversation();
  }

  function clearConversation() {
    showTyping(false);
    openId = null;
    openHandoff = null;
    conversationSeq++;
    clear(transcript);
    clear(suggestions);
    clear(notesList);
    clear(savedList);
    savedPanel.hidden = true;
    savedText.value = '';
    replyText.value = '';
    closeNote.value = '';
    noteText.value = '';
    body.hidden = true;
    emptyPane.hidden = false;
    showQueue();
  }

  replyForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (openId === null) return;
    const text = replyText.value.trim();
    if (!text) {
      showNotice(t('Write a reply first.'));
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
      showNotice(t('The reply was not sent: %(error)s', { error: result.error }));
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
    if (!window.confirm(t('Close this conversation and hand it back to the assistant?'))) return;
    hideNotice();
    const id = openId;
    closeButton.disabled = true;
    const result = await api('POST', '/desk/api/handoffs/' + encodeURIComponent(id) + '/close', {
      note: closeNote.value.trim(),
    });
    closeButton.disabled = false;
    if (!result.ok) {
      showNotice(t('The conversation was not closed: %(error)s', { error: result.error }));
      return;
    }
    if (openId === id) clearConversation();
    loadQueue();
  });

  // -- closed conversations: read again, read only ---------------------------------------

  const historyForm = $('history-form');
  const historyList = $('history-list');
  const historyCount = $('history-count');

  function historyItem(item) {
    const li = el('li', {
      className: 'queue-item is-closed' + (item.id === openId ? ' is-open' : ''),
      attrs: { 'data-id': item.id, 'data-status': item.status, 'data-language': item.language },
    });
    const closedAt = parseTime(item.closed_at);
    const day = closedAt === null ? '' : formatDay(item.closed_at);
    li.appendChild(el('div', { className: 'queue-text' }, [
      el('div', { className: 'queue-line' }, [
        el('span', { className: 'lang-name', text: languageName(item.language) }),
        el('span', { className: 'waited', text: t('closed %(day)s %(time)s', { day, time: clock(item.closed_at) }) }),
        el('span', { className: 'channel', text: channelName(item.channel) }),
        el('span', { className: 'number', text: '#' + item.id }),
        !isMineName(item) ? el('span', { className: 'mediator', text: item.mediator_name || '' }) : null,
      ]),
      item.topic ? el('p', { className: 'preview' }, [
        el('span', { className: 'topic-name', text: String(item.topic).replace(/[_-]+/g, ' ') }),
      ]) : null,
    ]));
    const read = el('button', {
      className: 'open button-secondary',
      text: t('Read'),
      attrs: { type: 'button', 'aria-label': t('Read closed request %(id)s', { id: item.id }) },
    });
    read.addEventListener('click', () => openConversation(item.id, { reveal: true }));
    li.appendChild(read);
    return li;
  }

  const isMineName = (item) => !!USERNAME && item.mediator_name === USERNAME;

  async function loadHistory() {
    const query = new URLSearchParams();
    for (const [name, id] of [['language', 'history-language'], ['from', 'history-from'], ['to', 'history-to']]) {
      if ($(id).value) query.set(name, $(id).value);
    }
    historyCount.textContent = t('Loading…');
    const result = await api('GET', '/desk/api/closed?' + query.toString());
    if (!result.ok) {
      historyCount.textContent = t('Closed conversations could not be loaded: %(error)s', { error: result.error });
      return;
    }
    const found = (result.data && result.data.handoffs) || [];
    historyList.replaceChildren(...found.map(historyItem));
    historyCount.textContent = found.length
      ? tn('%(num)s closed conversation', '%(num)s closed conversations', found.length) + (found.length >= 100 ? ' ' + t('(the newest 100)') : '')
      : t('No closed conversation matches.');
  }

  historyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    loadHistory();
  });
  $('history').addEventListener('toggle', () => {
    if ($('history').open && !historyList.children.length) loadHistory();
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
      setLive(t('Live updates: offline, retrying…'), false);
      window.setTimeout(connect, 2000);
      return;
    }
    socket.addEventListener('open', () => {
      setLive(t('Live updates: on'), true);
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
      } else if (notice_.type === 'typing' && openId !== null && Number(notice_.handoff_id) === openId) {
        showTyping(true);
      } else if (notice_.type === 'message' && openId !== null && Number(notice_.handoff_id) === openId) {
        if (notice_.message_id) showTyping(false); // the person's message: what they typed has come
        loadConversation(openId);
      }
    });
    socket.addEventListener('close', () => {
      setLive(t('Live updates: offline, retrying…'), false);
      socket = null;
      window.setTimeout(connect, 2000);
    });
  }

  // -- keyboard shortcuts ------------------------------------------------------------------
  // j/k (or the arrow keys in the queue) move between requests, Enter claims or opens
  // the selected one (the focused button), r goes to the reply box, Esc leaves it (on a
  // phone, a second Esc goes back to the queue), ? shows the help. Never while typing
  // in a field, except Esc.

  const help = $('shortcuts-help');
  const helpToggle = $('shortcuts-toggle');

  function showHelp(show) {
    help.hidden = !show;
    helpToggle.setAttribute('aria-expanded', show ? 'true' : 'false');
    if (show) {
      help.scrollIntoView({ block: 'nearest' });
      help.focus({ preventScroll: true });
    }
  }

  helpToggle.addEventListener('click', () => showHelp(help.hidden));
  $('shortcuts-close').addEventListener('click', () => {
    showHelp(false);
    helpToggle.focus();
  });

  const isField = (node) => !!node && (node.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(node.tagName));
  const ROWS = '#my-queue .queue-item, #queue .queue-item';

  /** The requests j and k move through, in the order shown: yours, then the waiting ones. */
  const queueRows = () => [...document.querySelectorAll(ROWS)].filter((row) => row.querySelector('button'));

  const selectedRow = () => {
    const active = document.activeElement;
    return active && active.closest ? active.closest(ROWS) : null;
  };

  function selectRow(step) {
    const rows = queueRows();
    if (!rows.length) return;
    if (narrow.matches) showQueue();
    const selected = selectedRow();
    const open = openId === null ? -1 : rows.findIndex((row) => Number(row.dataset.id) === openId);
    let index;
    if (selected) index = rows.indexOf(selected) + step;
    else if (open >= 0) index = open;
    else index = step > 0 ? 0 : rows.length - 1;
    const row = rows[Math.max(0, Math.min(rows.length - 1, index))];
    row.querySelector('button').focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }

  function goToReply() {
    if (openId === null || replyForm.hidden || body.hidden) return;
    if (narrow.matches) revealConversation();
    replyText.focus({ preventScroll: true });
    replyText.scrollIntoView({ block: 'center' });
  }

  function leaveField(field) {
    field.blur();
    const row = openId === null ? null : document.querySelector('.queue-item[data-id="' + openId + '"] button');
    if (narrow.matches || !row) conversationTitle.focus({ preventScroll: true });
    else row.focus({ preventScroll: true });
  }

  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (event.key === 'Escape') {
      if (!help.hidden) {
        showHelp(false);
        helpToggle.focus();
      } else if (isField(target) && target.closest('#conversation')) {
        leaveField(target);
      } else if (isField(target)) {
        target.blur();
      } else if (narrow.matches && columns.classList.contains('is-reading')) {
        $('back-to-queue').click();
      } else {
        return;
      }
      event.preventDefault();
      return;
    }
    if (isField(target)) return;
    const inQueue = selectedRow() !== null;
    if (event.key === 'j' || (event.key === 'ArrowDown' && inQueue)) selectRow(1);
    else if (event.key === 'k' || (event.key === 'ArrowUp' && inQueue)) selectRow(-1);
    else if (event.key === 'r') goToReply();
    else if (event.key === '?') showHelp(help.hidden);
    else return;
    event.preventDefault();
  });

  // -- start ---------------------------------------------------------------------------

  clearConversation();
  updateNotifyToggle();
  loadQueue();
  connect();
  window.setInterval(refreshWaited, 30000);
})();
