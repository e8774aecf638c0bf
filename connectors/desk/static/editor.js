/* The authoring page: a live preview as the assistant shows the answer, and the
 * content checks in plain words while typing (POST /editor/check), before saving.
 * Text is only ever inserted as text. */
(() => {
  'use strict';
  const { el, clear, api, rich, t } = window.HelpDesk;
  const SEVERITY = { error: t('error'), warning: t('warning') };
  const form = document.getElementById('editor-form');
  if (!form) return;
  const findings = document.getElementById('editor-findings');
  const heading = document.getElementById('preview-heading');
  const preview = document.getElementById('preview-text');
  const FIELDS = ['title', 'topic', 'jurisdiction', 'also_asked', 'sources', 'body'];

  function show(list) {
    clear(findings);
    if (!list.length) findings.appendChild(el('li', { className: 'finding-ok', text: t('No problem found.') }));
    for (const f of list) {
      findings.appendChild(el('li', { className: 'finding-' + f.severity, text: (SEVERITY[f.severity] || f.severity) + ': ' + f.message }));
    }
  }

  let timer = null;
  let asked = 0;
  async function check() {
    const payload = { id: form.dataset.entryId, language: form.dataset.language };
    for (const name of FIELDS) payload[name] = form.elements[name].value;
    const mine = ++asked;
    const result = await api('POST', '/editor/check', payload);
    if (mine !== asked) return; // a newer check is on its way
    if (!result.ok) { show([{ severity: 'error', message: result.error }]); return; }
    show(result.data.findings);
    if (result.data.preview) {
      heading.textContent = result.data.preview.title;
      rich(preview, result.data.preview.text);
    }
  }

  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  check();
})();
