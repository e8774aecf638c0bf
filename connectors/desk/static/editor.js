/* The authoring page: a live preview as the assistant shows the answer, and the
 * content checks in plain words while typing (POST /editor/check), before saving.
 * Text is only ever inserted as text. */
(() => {
  'use strict';
  const { api, rich, showFindings } = window.HelpDesk;
  const form = document.getElementById('editor-form');
  if (!form) return;
  const findings = document.getElementById('editor-findings');
  const heading = document.getElementById('preview-heading');
  const preview = document.getElementById('preview-text');
  const FIELDS = ['title', 'topic', 'jurisdiction', 'also_asked', 'sources', 'body'];

  const show = (list) => showFindings(list, findings);

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
