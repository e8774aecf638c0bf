/* Help-desk chat widget. One file, no dependencies: it speaks Rasa's socket.io
 * channel (Engine.IO v4 / Socket.IO v5) over a plain WebSocket.
 * Embed: <script src="/widget/widget.js" data-server="http://localhost:5005"
 *          data-language="it" data-open="false" defer></script>
 * Message text is only ever inserted as text nodes, never as HTML. */
(() => {
  'use strict';
  if (window.HelpdeskWidget) return;
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const attr = (n) => ((script && script.getAttribute('data-' + n)) || '').trim();
  // The session's tag proves it was issued to this browser; the server refuses a session without it.
  const K = { s: 'helpdesk.session', g: 'helpdesk.session_tag', l: 'helpdesk.language', c: 'helpdesk.conversation_language', t: 'helpdesk.transcript', q: 'helpdesk.queue', m: 'helpdesk.replies', b: 'helpdesk.bots_at', i: 'helpdesk.bot_ids' };
  const getS = (k) => { try { return localStorage.getItem(k); } catch (e) { return null; } };
  const setS = (k, v) => { try { localStorage.setItem(k, v); } catch (e) { /* private mode or full */ } };
  const getJ = (k) => { try { const v = JSON.parse(getS(k)); return Array.isArray(v) ? v : []; } catch (e) { return []; } };
  const setJ = (k, v) => setS(k, JSON.stringify(v));

  const NAMES = { it: 'italiano', en: 'English', ar: 'العربية', fr: 'français', uk: 'українська', es: 'español', fa: 'فارسی', ur: 'اردو', bn: 'বাংলা', ru: 'русский', ro: 'română', sq: 'shqip', tr: 'Türkçe' };
  const RTL = ['ar', 'fa', 'ur', 'ps'];
  const KEYS = 'launch title input send close lang read stop med mt orig reconn you bot'.split(' ');
  const STR = {
    it: 'Chatta con lo sportello|Sportello di aiuto|Scrivi il tuo messaggio|Invia|Chiudi|Lingua|Leggi ad alta voce|Ferma la lettura|Mediatore|Traduzione automatica|Mostra originale|Riconnessione…|Tu|Assistente',
    en: 'Chat with the help desk|Help desk|Write your message|Send|Close|Language|Read aloud|Stop reading|Mediator|Machine translation|Show original|Reconnecting…|You|Assistant',
    ar: 'تحدث مع مكتب المساعدة|مكتب المساعدة|اكتب رسالتك|إرسال|إغلاق|اللغة|اقرأ بصوت عالٍ|أوقف القراءة|وسيط|ترجمة آلية|اعرض النص الأصلي|جارٍ إعادة الاتصال…|أنت|المساعد',
    fr: 'Discuter avec le service d’aide|Service d’aide|Écrivez votre message|Envoyer|Fermer|Langue|Lire à voix haute|Arrêter la lecture|Médiateur|Traduction automatique|Voir l’original|Reconnexion…|Vous|Assistant',
    uk: 'Чат зі службою допомоги|Служба допомоги|Напишіть повідомлення|Надіслати|Закрити|Мова|Читати вголос|Зупинити читання|Медіатор|Машинний переклад|Показати оригінал|Повторне з’єднання…|Ви|Помічник',
    es: 'Chatea con el servicio de ayuda|Servicio de ayuda|Escribe tu mensaje|Enviar|Cerrar|Idioma|Leer en voz alta|Dejar de leer|Mediador|Traducción automática|Ver original|Reconectando…|Tú|Asistente',
    fa: 'گفتگو با میز راهنما|میز راهنما|پیام خود را بنویسید|ارسال|بستن|زبان|خواندن با صدای بلند|توقف خواندن|میانجی|ترجمه ماشینی|نمایش متن اصلی|در حال اتصال دوباره…|شما|دستیار',
    ur: 'مدد مرکز سے بات کریں|مدد مرکز|اپنا پیغام لکھیں|بھیجیں|بند کریں|زبان|بلند آواز سے پڑھیں|پڑھنا بند کریں|ثالث|مشینی ترجمہ|اصل متن دکھائیں|دوبارہ جڑ رہا ہے…|آپ|معاون',
    bn: 'সহায়তা কেন্দ্রের সাথে চ্যাট করুন|সহায়তা কেন্দ্র|আপনার বার্তা লিখুন|পাঠান|বন্ধ করুন|ভাষা|জোরে পড়ুন|পড়া থামান|মধ্যস্থতাকারী|যন্ত্রের অনুবাদ|মূল লেখা দেখুন|আবার সংযোগ হচ্ছে…|আপনি|সহকারী',
    ru: 'Чат со службой помощи|Служба помощи|Напишите сообщение|Отправить|Закрыть|Язык|Читать вслух|Остановить чтение|Медиатор|Машинный перевод|Показать оригинал|Переподключение…|Вы|Помощник',
    ro: 'Scrie biroului de ajutor|Birou de ajutor|Scrieți mesajul|Trimite|Închide|Limba|Citește cu voce tare|Oprește citirea|Mediator|Traducere automată|Arată originalul|Se reconectează…|Tu|Asistent',
    sq: 'Bisedo me sportelin e ndihmës|Sporteli i ndihmës|Shkruani mesazhin tuaj|Dërgo|Mbyll|Gjuha|Lexo me zë|Ndalo leximin|Ndërmjetës|Përkthim automatik|Shfaq origjinalin|Po rilidhet…|Ju|Asistenti',
    tr: 'Yardım masasıyla sohbet edin|Yardım masası|Mesajınızı yazın|Gönder|Kapat|Dil|Sesli oku|Okumayı durdur|Arabulucu|Makine çevirisi|Orijinali göster|Yeniden bağlanıyor…|Siz|Asistan',
  };
  for (const c in STR) STR[c] = STR[c].split('|');
  // The mark on the person's own messages: on its way, sent (the server took it), not sent.
  KEYS.push('sending', 'sent', 'unsent', 'retry');
  const MARK = {
    it: 'Invio in corso|Inviato|Non inviato|Riprova', en: 'Sending|Sent|Not sent|Try again',
    ar: 'جارٍ الإرسال|أُرسلت|لم تُرسل|أعد المحاولة', fr: 'Envoi en cours|Envoyé|Non envoyé|Réessayer',
    uk: 'Надсилається|Надіслано|Не надіслано|Спробувати ще', es: 'Enviando|Enviado|No enviado|Reintentar',
    fa: 'در حال ارسال|ارسال شد|ارسال نشد|دوباره امتحان کنید', ur: 'بھیجا جا رہا ہے|بھیج دیا گیا|نہیں بھیجا گیا|دوبارہ کوشش کریں',
    bn: 'পাঠানো হচ্ছে|পাঠানো হয়েছে|পাঠানো যায়নি|আবার চেষ্টা করুন', ru: 'Отправляется|Отправлено|Не отправлено|Повторить',
    ro: 'Se trimite|Trimis|Netrimis|Reîncearcă', sq: 'Po dërgohet|U dërgua|Nuk u dërgua|Provo përsëri',
    tr: 'Gönderiliyor|Gönderildi|Gönderilemedi|Yeniden dene',
  };
  for (const c in STR) STR[c].push(...(MARK[c] || MARK.en).split('|'));
  // A photo or PDF for the mediator, during a hand-off: the button, then what came of it.
  KEYS.push('attach', 'fsent', 'fempty', 'fbig', 'ftype', 'fnone', 'ffail');
  const FILE = {
    it: 'Invia una foto o un PDF|File inviato al mediatore.|Il file è vuoto.|Il file è troppo grande: al massimo {mb} MB.|Solo foto (JPEG, PNG) o file PDF.|Puoi inviare un file solo mentre parli con un mediatore.|Il file non è stato inviato. Riprova.',
    en: 'Send a photo or PDF|File sent to the mediator.|The file is empty.|The file is too large: at most {mb} MB.|Only photos (JPEG, PNG) or PDF files.|You can send a file only while you talk with a mediator.|The file was not sent. Try again.',
    ar: 'أرسل صورة أو ملف PDF|تم إرسال الملف إلى الوسيط.|الملف فارغ.|الملف كبير جدًا: {mb} ميغابايت على الأكثر.|الصور فقط (JPEG وPNG) أو ملفات PDF.|يمكنك إرسال ملف فقط أثناء حديثك مع وسيط.|لم يُرسل الملف. أعد المحاولة.',
    fr: 'Envoyer une photo ou un PDF|Fichier envoyé au médiateur.|Le fichier est vide.|Le fichier est trop lourd : {mb} Mo au plus.|Seulement des photos (JPEG, PNG) ou des PDF.|Vous pouvez envoyer un fichier seulement pendant une conversation avec un médiateur.|Le fichier n’a pas été envoyé. Réessayez.',
    uk: 'Надіслати фото або PDF|Файл надіслано медіатору.|Файл порожній.|Файл завеликий: щонайбільше {mb} МБ.|Лише фото (JPEG, PNG) або файли PDF.|Файл можна надіслати лише під час розмови з медіатором.|Файл не надіслано. Спробуйте ще.',
    es: 'Enviar una foto o un PDF|Archivo enviado al mediador.|El archivo está vacío.|El archivo es demasiado grande: como máximo {mb} MB.|Solo fotos (JPEG, PNG) o archivos PDF.|Solo puedes enviar un archivo mientras hablas con un mediador.|El archivo no se envió. Inténtalo de nuevo.',
    fa: 'ارسال عکس یا PDF|فایل برای میانجی فرستاده شد.|فایل خالی است.|فایل خیلی بزرگ است: حداکثر {mb} مگابایت.|فقط عکس (JPEG، PNG) یا فایل PDF.|فقط هنگام گفتگو با میانجی می‌توانید فایل بفرستید.|فایل فرستاده نشد. دوباره امتحان کنید.',
    ur: 'تصویر یا PDF بھیجیں|فائل ثالث کو بھیج دی گئی۔|فائل خالی ہے۔|فائل بہت بڑی ہے: زیادہ سے زیادہ {mb} MB۔|صرف تصاویر (JPEG، PNG) یا PDF فائلیں۔|آپ فائل صرف ثالث سے بات کرتے وقت بھیج سکتے ہیں۔|فائل نہیں بھیجی گئی۔ دوبارہ کوشش کریں۔',
    bn: 'ছবি বা PDF পাঠান|ফাইলটি মধ্যস্থতাকারীকে পাঠানো হয়েছে।|ফাইলটি খালি।|ফাইলটি খুব বড়: সর্বোচ্চ {mb} MB।|শুধু ছবি (JPEG, PNG) বা PDF ফাইল।|শুধু মধ্যস্থতাকারীর সাথে কথা বলার সময় ফাইল পাঠাতে পারবেন।|ফাইলটি পাঠানো যায়নি। আবার চেষ্টা করুন।',
    ru: 'Отправить фото или PDF|Файл отправлен медиатору.|Файл пустой.|Файл слишком большой: не более {mb} МБ.|Только фото (JPEG, PNG) или файлы PDF.|Файл можно отправить только во время разговора с медиатором.|Файл не отправлен. Попробуйте ещё раз.',
    ro: 'Trimite o fotografie sau un PDF|Fișier trimis mediatorului.|Fișierul este gol.|Fișierul este prea mare: cel mult {mb} MB.|Doar fotografii (JPEG, PNG) sau fișiere PDF.|Poți trimite un fișier doar cât vorbești cu un mediator.|Fișierul nu a fost trimis. Reîncearcă.',
    sq: 'Dërgo një foto ose PDF|Skedari iu dërgua ndërmjetësit.|Skedari është bosh.|Skedari është shumë i madh: të shumtën {mb} MB.|Vetëm foto (JPEG, PNG) ose skedarë PDF.|Mund të dërgoni skedar vetëm kur flisni me një ndërmjetës.|Skedari nuk u dërgua. Provo përsëri.',
    tr: 'Fotoğraf veya PDF gönder|Dosya arabulucuya gönderildi.|Dosya boş.|Dosya çok büyük: en fazla {mb} MB.|Yalnızca fotoğraf (JPEG, PNG) veya PDF dosyaları.|Dosyayı yalnızca bir arabulucuyla konuşurken gönderebilirsiniz.|Dosya gönderilmedi. Yeniden deneyin.',
  };
  for (const c in STR) STR[c].push(...(FILE[c] || FILE.en).split('|'));
  // The desk's notices while a person waits: their place in the queue ({n}), and who joined ({name}).
  const NOTE = {
    it: 'Il tuo messaggio è arrivato allo sportello. Sei il numero {n} in coda: un mediatore ti risponderà qui.|{name}, mediatore, è entrato nella conversazione.',
    en: 'Your message reached the help desk. You are number {n} in the queue; a mediator will answer here.|{name}, a mediator, joined the conversation.',
    ar: 'وصلت رسالتك إلى مكتب المساعدة. رقمك في الدور {n}، وسيرد عليك وسيط هنا.|انضم الوسيط {name} إلى المحادثة.',
    fr: 'Votre message est bien arrivé au service d’aide. Vous êtes numéro {n} dans la file ; un médiateur vous répondra ici.|{name}, médiateur, a rejoint la conversation.',
    uk: 'Ваше повідомлення надійшло до служби допомоги. Ваш номер у черзі: {n}; медіатор відповість тут.|Медіатор {name} приєднався до розмови.',
    es: 'Tu mensaje ha llegado al servicio de ayuda. Eres el número {n} en la cola; un mediador te responderá aquí.|{name}, mediador, se ha unido a la conversación.',
    fa: 'پیام شما به میز راهنما رسید. شما نفر {n} در صف هستید؛ یک میانجی همین‌جا پاسخ می‌دهد.|میانجی {name} به گفتگو پیوست.',
    ur: 'آپ کا پیغام مدد مرکز تک پہنچ گیا۔ قطار میں آپ کا نمبر {n} ہے؛ ثالث یہیں جواب دے گا۔|ثالث {name} گفتگو میں شامل ہو گئے۔',
    bn: 'আপনার বার্তা সহায়তা কেন্দ্রে পৌঁছেছে। সারিতে আপনার নম্বর {n}; একজন মধ্যস্থতাকারী এখানে উত্তর দেবেন।|মধ্যস্থতাকারী {name} কথোপকথনে যোগ দিয়েছেন।',
    ru: 'Ваше сообщение получено службой помощи. Ваш номер в очереди: {n}; медиатор ответит здесь.|Медиатор {name} присоединился к разговору.',
    ro: 'Mesajul tău a ajuns la biroul de ajutor. Ești numărul {n} la rând; un mediator îți va răspunde aici.|Mediatorul {name} s-a alăturat conversației.',
    sq: 'Mesazhi juaj arriti te sporteli i ndihmës. Jeni numri {n} në radhë; një ndërmjetës do t’ju përgjigjet këtu.|Ndërmjetësi {name} u bashkua me bisedën.',
    tr: 'Mesajınız yardım masasına ulaştı. Sıradaki numaranız {n}; bir arabulucu size burada yanıt verecek.|Arabulucu {name} sohbete katıldı.',
  };
  for (const c in NOTE) NOTE[c] = NOTE[c].split('|');
  // Said before sending when a message is over the server's limit (data-max-chars); the text stays.
  const LONG = {
    it: 'Messaggio troppo lungo: al massimo {max} caratteri.', en: 'Message too long: at most {max} characters.',
    ar: 'الرسالة طويلة جدًا: {max} حرف على الأكثر.', fr: 'Message trop long : {max} caractères au plus.',
    uk: 'Повідомлення задовге: щонайбільше {max} символів.', es: 'Mensaje demasiado largo: como máximo {max} caracteres.',
    fa: 'پیام خیلی طولانی است: حداکثر {max} نویسه.', ur: 'پیغام بہت لمبا ہے: زیادہ سے زیادہ {max} حروف۔',
    bn: 'বার্তাটি খুব দীর্ঘ: সর্বোচ্চ {max} অক্ষর।', ru: 'Сообщение слишком длинное: не более {max} символов.',
    ro: 'Mesaj prea lung: cel mult {max} caractere.', sq: 'Mesazh shumë i gjatë: të shumtën {max} shkronja.',
    tr: 'Mesaj çok uzun: en fazla {max} karakter.',
  };
  // The unread count, said by screen readers (a live region) and on the launcher's label.
  const UNREAD = {
    it: 'Messaggi nuovi: {n}', en: 'New messages: {n}', ar: 'رسائل جديدة: {n}', fr: 'Nouveaux messages : {n}',
    uk: 'Нові повідомлення: {n}', es: 'Mensajes nuevos: {n}', fa: 'پیام‌های تازه: {n}', ur: 'نئے پیغامات: {n}',
    bn: 'নতুন বার্তা: {n}', ru: 'Новые сообщения: {n}', ro: 'Mesaje noi: {n}', sq: 'Mesazhe të reja: {n}',
    tr: 'Yeni mesajlar: {n}',
  };
  // Shown while the mediator writes a reply (the desk sends the fact, never the text).
  const TYPING = {
    it: 'Il mediatore sta scrivendo…', en: 'The mediator is writing…', ar: 'الوسيط يكتب…',
    fr: 'Le médiateur est en train d’écrire…', uk: 'Медіатор пише…', es: 'El mediador está escribiendo…',
    fa: 'میانجی در حال نوشتن است…', ur: 'ثالث لکھ رہے ہیں…', bn: 'মধ্যস্থতাকারী লিখছেন…',
    ru: 'Медиатор пишет…', ro: 'Mediatorul scrie…', sq: 'Ndërmjetësi po shkruan…', tr: 'Arabulucu yazıyor…',
  };
  // At most one "typing" signal every TYPING_EVERY ms; shown at most TYPING_SHOWN ms after one.
  const TYPING_EVERY = 3000;
  const TYPING_SHOWN = 6000;
  const MAX_CHARS = Number(attr('max-chars')) > 0 ? Number(attr('max-chars')) : 4000;
  // A message the server has not acknowledged within this time is shown as not sent.
  const ACK_MS = (Number(attr('ack-seconds')) > 0 ? Number(attr('ack-seconds')) : 30) * 1000;
  const note = (i, fill) => (NOTE[lang] || NOTE.en)[i].replace(/\{(\w+)\}/g, (_, k) => fill[k]);
  // The widget's own labels, in the conversation's language; English where a language has none.
  const t = (k) => (STR[lang] || STR.en)[KEYS.indexOf(k)];

  const browserLang = () => {
    for (const l of navigator.languages || [navigator.language || '']) {
      const c = String(l).split('-')[0].toLowerCase();
      if (NAMES[c]) return c;
    }
    return null;
  };
  let chosen = getS(K.l);
  if (!NAMES[chosen]) chosen = null;
  // The language the bot last answered in (each of its messages names it) wins over the page's.
  const followed = NAMES[getS(K.c)] ? getS(K.c) : null;
  let lang = chosen || followed || (NAMES[attr('language').toLowerCase()] ? attr('language').toLowerCase() : browserLang() || 'it');
  let sid = getS(K.s) || null;
  let tag = sid ? getS(K.g) || null : null;
  let log = getJ(K.t);
  const newId = () => 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  // What the person wrote and the server has not acknowledged yet, each with its
  // message's id (c): sent again after a reconnect, so nothing typed is lost.
  const queue = getJ(K.q).filter((q) => q && typeof q.message === 'string');
  queue.forEach((q) => { if (typeof q.c !== 'string') q.c = newId(); });
  // Ids of the mediator replies already on screen: each is shown once, live or fetched again.
  let shown = getJ(K.m).filter((i) => Number.isInteger(i));
  // The same for the bot's messages (ids "b<time>.<n>"), and the time of the newest one
  // shown (null: a transcript from before ids, so nothing older is fetched again).
  let botIds = getJ(K.i).filter((i) => typeof i === 'string');
  let botsAt = getS(K.b) && Number.isFinite(Number(getS(K.b))) ? Number(getS(K.b)) : null;
  let seenSent = 0;
  let greeted = false;
  let unread = 0;

  // ---------- DOM ----------
  const el = (tag, props, ...kids) => {
    const e = document.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'icon') e.innerHTML = ICON[v]; // constant markup only
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v != null && v !== false) e.setAttribute(k, v === true ? '' : v);
    }
    kids.forEach((c) => c && e.appendChild(c));
    return e;
  };
  const svg = (d) => '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="' + d + '"/></svg>';
  const ICON = {
    chat: svg('M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2zM6 9h12v2H6zm0-4h12v2H6zm0 8h8v2H6z'),
    close: svg('M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z'),
    send: svg('M2 21l21-9L2 3v7l15 2-15 2z'),
    read: svg('M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z'),
    stop: svg('M6 6h12v12H6z'),
    clock: svg('M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm1 3h-2v6h5v-2h-3z'),
    sent: svg('M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z'),
    forget: svg('M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z'),
    attach: svg('M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z'),
  };

  const root = el('div', { id: 'hd-widget' });
  const launcher = el('button', { id: 'hd-launcher', class: 'hd-launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'hd-panel', 'data-a': 'launch', icon: 'chat', onclick: () => (panel.hidden ? open() : close()) });
  const select = el('select', { id: 'hd-language', class: 'hd-select', onchange: (e) => setLanguage(e.target.value) });
  for (const c in NAMES) select.appendChild(el('option', { value: c, lang: c, dir: RTL.includes(c) ? 'rtl' : 'ltr', text: NAMES[c] }));
  const status = el('div', { class: 'hd-status', role: 'status' });
  const box = el('div', { id: 'hd-messages', class: 'hd-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'hd-title', tabindex: '0' });
  const input = el('textarea', { id: 'hd-input', class: 'hd-input', rows: '1', dir: 'auto', 'data-a': 'input', oninput: () => { grow(); count(false); typed(); }, onkeydown: (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  } });
  const typingNote = el('div', { id: 'hd-typing', class: 'hd-typing', role: 'status', hidden: true });
  // Only while a hand-off is open (the web app says so): a photo or PDF for the mediator.
  const picker = el('input', { id: 'hd-file', class: 'hd-sr', type: 'file', accept: 'image/jpeg,image/png,application/pdf', tabindex: '-1', 'aria-hidden': 'true', onchange: (e) => {
    const f = e.target.files && e.target.files[0];
    e.target.value = '';
    if (f) sendFile(f);
  } });
  const attachButton = el('button', { id: 'hd-attach', class: 'hd-attach', type: 'button', 'data-a': 'attach', icon: 'attach', hidden: true, onclick: () => picker.click() });
  const counter = el('div', { id: 'hd-count', class: 'hd-count', 'aria-live': 'polite', hidden: true });
  const panel = el('section', { id: 'hd-panel', class: 'hd-panel', role: 'dialog', 'aria-labelledby': 'hd-title', hidden: true },
    el('div', { class: 'hd-head' },
      el('h2', { id: 'hd-title', class: 'hd-title', 'data-t': 'title' }),
      el('label', { class: 'hd-sr', for: 'hd-language', 'data-t': 'lang' }),
      select,
      forgetButton(),
      el('button', { id: 'hd-close', class: 'hd-close', type: 'button', 'data-a': 'close', icon: 'close', onclick: () => { close(); launcher.focus(); } })),
    status,
    box,
    typingNote,
    counter,
    el('form', { class: 'hd-form', onsubmit: (e) => { e.preventDefault(); submit(); } },
      picker,
      attachButton,
      input,
      el('button', { id: 'hd-send', class: 'hd-send', type: 'submit', 'data-a': 'send', icon: 'send' })));
  const unreadLive = el('div', { id: 'hd-unread', class: 'hd-sr', role: 'status', 'aria-live': 'polite' });
  root.append(launcher, unreadLive, panel);
  // Full screen on a phone: a modal dialog, and Tab stays inside it.
  const phone = window.matchMedia ? window.matchMedia('(max-width:479.98px)') : { matches: false };
  const modal = () => !panel.hidden && phone.matches;
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden) { e.preventDefault(); close(); launcher.focus(); }
    if (e.key !== 'Tab' || !modal()) return;
    const inside = [...panel.querySelectorAll('button,select,textarea,a[href],[tabindex="0"]')].filter((x) => !x.disabled && !x.hidden && x.offsetParent !== null);
    if (!inside.length) return;
    const first = inside[0];
    const last = inside[inside.length - 1];
    const at = document.activeElement;
    if (e.shiftKey && (at === first || !panel.contains(at))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (at === last || !panel.contains(at))) { e.preventDefault(); first.focus(); }
  });

  // The on-screen keyboard shrinks the visual viewport, not the layout one: the
  // full-screen panel follows the visible part and the newest message stays in view.
  const vv = window.visualViewport;
  function fitViewport() {
    if (!vv || panel.hidden) return;
    const bottom = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    if (phone.matches) { panel.style.height = vv.height + 'px'; panel.style.top = vv.offsetTop + 'px'; }
    else { panel.style.height = ''; panel.style.top = ''; }
    if (bottom || panel.contains(document.activeElement)) box.scrollTop = box.scrollHeight;
  }
  if (vv) { vv.addEventListener('resize', fitViewport); vv.addEventListener('scroll', fitViewport); }

  function grow() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 4, 140) + 'px';
  }

  // Left-to-right runs inside right-to-left text (numbers, phone numbers, URLs,
  // Italian names in «», dates, times) each go in a <bdi dir="ltr">: without
  // it "+39 0121 000007" reads "000007 0121 39+" in Arabic. The desk's
  // common.js does the same for staff pages (this file has no dependencies).
  // Text shown right to left: its first letter is (what dir="auto" follows).
  const RTL_FIRST = /^[^\p{L}]*[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/u;
  const LTR_RUN = /[«(+]?[0-9A-Za-z\u00C0-\u024F](?:[^\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\n]*[0-9A-Za-z\u00C0-\u024F»)/])?/g;
  // URLs, and Italian phone numbers: international, landline (0…), mobile (3…), free (80x).
  const LINK = /(https?:\/\/[^\s<>"«»]+|\+\d[\d ]{6,16}\d|\b0\d(?: ?\d){4,11}|\b3\d\d ?\d{6,7}\b|\b80[03] ?\d{3,6}\b)/;
  function links(into, text) {
    text.split(LINK).forEach((s, k) => {
      if (!s) return;
      if (!(k % 2)) return into.appendChild(document.createTextNode(s));
      if (!/^https?:/.test(s)) return into.appendChild(el('a', { href: 'tel:' + s.replace(/[^\d+]/g, ''), class: 'hd-tel', text: s }));
      const tail = (s.match(/[.,;:!?)\]}']+$/) || [''])[0];
      const url = s.slice(0, s.length - tail.length);
      into.appendChild(el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: url }));
      if (tail) into.appendChild(document.createTextNode(tail));
    });
  }
  function isolated(into, text, rtl) {
    if (!rtl) return links(into, text);
    let at = 0;
    for (const m of text.matchAll(LTR_RUN)) {
      if (m.index > at) into.appendChild(document.createTextNode(text.slice(at, m.index)));
      links(into.appendChild(el('bdi', { dir: 'ltr' })), m[0]);
      at = m.index + m[0].length;
    }
    if (at < text.length) into.appendChild(document.createTextNode(text.slice(at)));
  }
  // **bold**, line breaks, links and isolated runs; everything else stays text.
  function rich(parent, text) {
    const rtl = RTL_FIRST.test(String(text));
    String(text).split('\n').forEach((line, i) => {
      if (i) parent.appendChild(el('br'));
      line.split(/\*\*(.+?)\*\*/).forEach((part, j) => {
        isolated(j % 2 ? parent.appendChild(el('strong')) : parent, part, rtl);
      });
    });
    return parent;
  }

  const ROLE = { u: 'user', b: 'bot', m: 'mediator', s: 'note' };
  const PRIVACY = ['/privacy_ok', '/privacy_decline'];
  // Times in the conversation's language, local time: "14:05" today (hours and
  // minutes, in that language's clock), with the day before that.
  function when(at) {
    const d = new Date(at);
    const today = new Date().toDateString() === d.toDateString();
    const hm = { hour: '2-digit', minute: '2-digit' };
    const o = today ? hm : { day: 'numeric', month: 'short', ...hm };
    try { return new Intl.DateTimeFormat(lang, o).format(d); } catch (e) { return d.toLocaleTimeString(); }
  }
  let seq = 0;
  function render(m) {
    // Typing makes earlier buttons stale, but not the privacy choice: it stays open until made.
    if (m.r === 'u') box.querySelectorAll(m.pv ? '.hd-quick-reply' : '.hd-quick-reply:not([data-keep])').forEach((b) => { b.disabled = true; });
    const body = el('div', { class: 'hd-body' });
    if (m.r === 'm') {
      body.appendChild(el('div', { class: 'hd-who' }, el('span', { 'data-t': 'med' }), m.n ? document.createTextNode(' · ') : null, m.n ? el('bdi', { text: m.n }) : null));
    } else {
      body.appendChild(el('span', { class: 'hd-sr', 'data-t': m.r === 'u' ? 'you' : 'bot' }));
      body.appendChild(el('span', { class: 'hd-sr', text: ': ' }));
    }
    body.appendChild(rich(el('div', { class: 'hd-text' }), m.t));
    // The time (isolated, so "14:05" keeps its order in right-to-left text), and on
    // the person's own messages whether the server has taken them.
    const meta = el('div', { class: 'hd-meta' });
    if (Number.isFinite(m.at)) meta.appendChild(el('bdi', {}, el('time', { class: 'hd-time', datetime: new Date(m.at).toISOString(), 'data-at': String(m.at), text: when(m.at) })));
    if (m.r === 'u' && m.c && m.st) meta.appendChild(drawMark(el('span', { class: 'hd-st', 'data-c': m.c }), m.st));
    if (meta.firstChild) body.appendChild(meta);
    if (m.r === 'm' && m.mt) {
      const id = 'hd-orig-' + ++seq;
      const orig = el('div', { id, class: 'hd-orig', dir: 'auto', lang: m.ol || null, hidden: true });
      rich(orig, m.o || '');
      const toggle = el('button', { type: 'button', class: 'hd-toggle', 'aria-expanded': 'false', 'aria-controls': id, 'data-t': 'orig', onclick: () => {
        orig.hidden = !orig.hidden;
        toggle.setAttribute('aria-expanded', String(!orig.hidden));
      } });
      body.append(el('div', { class: 'hd-mt' }, el('span', { class: 'hd-mt-label', 'data-t': 'mt' }), m.o ? toggle : null), orig);
    }
    const b = el('div', { class: 'hd-msg hd-' + ROLE[m.r], dir: 'auto', 'data-k': m.k || null }, body);
    if (m.r === 'b' || m.r === 'm') {
      const btn = el('button', { type: 'button', class: 'hd-read-aloud', 'data-a': 'read', icon: 'read', hidden: !voice(), onclick: () => speak(m.t, btn) });
      b.appendChild(btn);
    }
    box.appendChild(b);
    if (m.q && m.q.length) {
      const g = el('div', { class: 'hd-qrs' });
      m.q.forEach(([title, payload]) => g.appendChild(el('button', { type: 'button', class: 'hd-quick-reply', dir: 'auto', text: title, 'data-keep': PRIVACY.includes(payload) ? 'privacy' : null, onclick: (e) => {
        if (e.currentTarget.disabled) return;
        say(payload, title, PRIVACY.includes(payload) ? { pv: 1 } : null);
        input.focus();
      } })));
      box.appendChild(g);
    }
    localize(b);
    box.scrollTop = box.scrollHeight;
  }

  function add(m) {
    if (!Number.isFinite(m.at)) m.at = Date.now();
    // A new place in the queue replaces the earlier one, not one note per message.
    if (m.r === 's' && m.k === 'waiting') {
      log = log.filter((x) => !(x.r === 's' && x.k === 'waiting'));
      box.querySelectorAll('.hd-note[data-k="waiting"]').forEach((n) => n.remove());
    }
    if (m.r !== 'u') showTyping(false); // the message it announced has come
    log.push(m);
    if (log.length > 100) log = log.slice(-100);
    setJ(K.t, log);
    render(m);
    if (panel.hidden && m.r !== 'u') setUnread(unread + 1);
  }

  // Sending (a clock), sent (a tick) or not sent, with a button that sends it again.
  function drawMark(span, st) {
    span.textContent = '';
    span.dataset.st = st;
    if (st === 'f') {
      span.append(el('span', { class: 'hd-unsent', 'data-t': 'unsent' }),
        el('button', { type: 'button', class: 'hd-retry', 'data-t': 'retry', onclick: () => sendAgain(span.dataset.c) }));
    } else {
      span.append(el('span', { class: 'hd-ico', icon: st === 's' ? 'sent' : 'clock' }), el('span', { class: 'hd-sr', 'data-t': st === 's' ? 'sent' : 'sending' }));
    }
    localize(span);
    return span;
  }
  function setMark(c, st) {
    const m = log.find((x) => x.c === c);
    if (m) { m.st = st; setJ(K.t, log); }
    box.querySelectorAll('.hd-st').forEach((span) => { if (span.dataset.c === c) drawMark(span, st); });
  }
  function sendAgain(c) {
    const m = log.find((x) => x.c === c);
    if (!m || queue.some((q) => q.c === c)) return;
    setMark(c, 'p');
    queue.push({ c, message: typeof m.s === 'string' ? m.s : m.t, metadata: { language: chosen, language_hint: lang } });
    setJ(K.q, queue);
    if (!ws) connect();
    flush();
  }

  // The launcher's badge shows how many messages came while the panel was closed;
  // the count is announced, and named in the launcher's label.
  function setUnread(n) {
    unread = n;
    const said = n ? (UNREAD[lang] || UNREAD.en).replace('{n}', new Intl.NumberFormat(lang).format(n)) : '';
    launcher.classList.toggle('hd-unread', n > 0);
    launcher.dataset.unread = n ? new Intl.NumberFormat(lang).format(n) : '';
    launcher.setAttribute('aria-label', t('launch') + (said ? ' · ' + said : ''));
    if (unreadLive.textContent !== said) unreadLive.textContent = said;
  }

  // ---------- language ----------
  const dir = () => (RTL.includes(lang) ? 'rtl' : 'ltr');
  function localize(scope) {
    scope.querySelectorAll('[data-t]').forEach((e) => { e.textContent = t(e.dataset.t); e.dir = dir(); });
    scope.querySelectorAll('[data-a]').forEach((e) => { e.setAttribute('aria-label', t(e.dataset.a)); e.title = t(e.dataset.a); });
    scope.querySelectorAll('.hd-time').forEach((e) => { e.textContent = when(Number(e.dataset.at)); });
  }
  function apply() {
    const d = dir();
    panel.dir = d;
    panel.lang = root.lang = lang;
    select.value = lang;
    const page = document.documentElement;
    root.classList.toggle('hd-rtl', d === 'rtl' || page.dir === 'rtl' || getComputedStyle(page).direction === 'rtl');
    localize(root);
    input.placeholder = t('input');
    if (!typingNote.hidden) typingNote.textContent = TYPING[lang] || TYPING.en;
    labelForget();
    setUnread(unread);
    showStatus();
    refreshVoices();
  }
  function setLanguage(code) {
    code = String(code || '').toLowerCase();
    if (!NAMES[code]) return false;
    const changed = code !== lang || chosen !== code;
    lang = chosen = code;
    setS(K.l, code);
    setS(K.c, code);
    stopSpeech();
    apply();
    if (changed) say('/lang ' + code);
    return true;
  }

  // ---------- read aloud ----------
  const synth = window.speechSynthesis;
  let speaking = null;
  function voice() {
    if (!synth || !window.SpeechSynthesisUtterance) return null;
    try {
      return synth.getVoices().find((v) => String(v.lang).toLowerCase().replace('_', '-').startsWith(lang)) || null;
    } catch (e) { return null; }
  }
  function refreshVoices() {
    const has = !!voice();
    box.querySelectorAll('.hd-read-aloud').forEach((b) => { b.hidden = !has; });
  }
  function mark(btn, on) {
    btn.dataset.a = on ? 'stop' : 'read';
    btn.innerHTML = ICON[btn.dataset.a];
    btn.classList.toggle('hd-on', on);
    localize(btn.parentNode);
  }
  function stopSpeech() {
    const b = speaking;
    speaking = null;
    if (b) mark(b, false);
    if (synth) synth.cancel();
  }
  function speak(text, btn) {
    const was = speaking;
    stopSpeech();
    const v = voice();
    if (was === btn || !v) return;
    const u = new SpeechSynthesisUtterance(String(text).replace(/\*\*/g, ''));
    u.lang = lang;
    u.voice = v;
    u.onend = u.onerror = () => { if (speaking === btn) { speaking = null; mark(btn, false); } };
    speaking = btn;
    mark(btn, true);
    synth.speak(u);
  }
  if (synth && synth.addEventListener) synth.addEventListener('voiceschanged', refreshVoices);

  // ---------- connection: Engine.IO v4 / Socket.IO v5 over WebSocket ----------
  const server = new URL(attr('server') || (script && script.src) || location.href, location.href);
  const wsUrl = (server.protocol === 'https:' ? 'wss://' : 'ws://') + server.host +
    (attr('server') ? server.pathname.replace(/\/+$/, '') : '') + '/socket.io/?EIO=4&transport=websocket';
  let ws = null;
  let ready = false;
  let offline = false;
  let retry = 0;
  let timer = 0;
  let heartbeat = 0;
  let beat = 45000;

  function showStatus() { status.textContent = offline ? t('reconn') : ''; }
  function setOffline(on) {
    if (on === offline) return;
    offline = on;
    root.classList.toggle('hd-offline', on);
    showStatus();
  }
  function connect() {
    clearTimeout(timer);
    if (ws) return;
    let s;
    try { s = ws = new WebSocket(wsUrl); } catch (e) { ws = null; return schedule(); }
    s.onmessage = (e) => { if (s === ws) frame(s, String(e.data)); };
    s.onclose = () => drop(s);
    s.onerror = () => drop(s);
  }
  function drop(s) {
    if (s !== ws) return;
    ws = null;
    ready = false;
    unackAll();
    clearTimeout(heartbeat);
    s.onclose = s.onerror = s.onmessage = null;
    try { s.close(); } catch (e) { /* already closed */ }
    schedule();
  }
  function schedule() {
    setOffline(true);
    clearTimeout(timer);
    timer = setTimeout(connect, Math.min(1000 * 2 ** retry, 15000));
    retry++;
  }
  function alive(s) {
    clearTimeout(heartbeat);
    heartbeat = setTimeout(() => drop(s), beat);
  }
  const emit = (s, name, data) => s.send('42' + JSON.stringify([name, data]));
  // user_uttered goes with a Socket.IO ack id; the server answers {ok} once it took the message.
  let acks = 0;
  const inflight = new Map();
  function unackAll() {
    // Still in the queue: sent again on the next connection.
    inflight.forEach((f) => clearTimeout(f.timer));
    inflight.clear();
  }
  function dequeue(c) {
    const i = queue.findIndex((q) => q.c === c);
    if (i >= 0) { queue.splice(i, 1); setJ(K.q, queue); }
  }
  function acked(n, data) {
    const f = inflight.get(n);
    if (!f) return;
    clearTimeout(f.timer);
    inflight.delete(n);
    const ok = !(data && typeof data === 'object' && data.ok === false);
    // Late, after it was shown as not sent: sent after all, unless it was sent again.
    if (f.late && queue.some((q) => q.c === f.c)) return;
    dequeue(f.c);
    setMark(f.c, ok ? 's' : 'f');
  }
  function unacked(n) {
    const f = inflight.get(n);
    if (!f || f.late) return;
    f.late = true;
    dequeue(f.c);
    setMark(f.c, 'f');
  }
  function frame(s, d) {
    const type = d[0];
    if (type === '0') {
      try { const o = JSON.parse(d.slice(1)); beat = (o.pingInterval || 25000) + (o.pingTimeout || 20000); } catch (e) { /* defaults */ }
      alive(s);
      s.send('40');
    } else if (type === '2') {
      s.send('3');
      alive(s);
    } else if (type === '1') {
      drop(s);
    } else if (type === '4') {
      const p = d[1];
      if (p === '0') emit(s, 'session_request', { session_id: tag ? sid : null, session_tag: tag });
      else if (p === '1' || p === '4') drop(s);
      else if (p === '3') {
        const a = /^43(\d+)(\[[\s\S]*)$/.exec(d);
        let data = null;
        try { data = a ? JSON.parse(a[2])[0] : null; } catch (e) { /* an ack without data */ }
        if (a) acked(Number(a[1]), data);
      }
      else if (p === '2') {
        let ev;
        try { ev = JSON.parse(d.slice(d.indexOf('['))); } catch (e) { return; }
        if (Array.isArray(ev)) event(ev[0], ev[1]);
      }
    }
  }
  function event(name, data) {
    if (name === 'session_confirm') {
      const id = data && typeof data === 'object' ? data.session_id : data;
      if (id) { sid = String(id); setS(K.s, sid); }
      if (data && typeof data === 'object' && data.session_tag) { tag = String(data.session_tag); setS(K.g, tag); }
      ready = true;
      retry = 0;
      setOffline(false);
      flush();
      askHistory();
      checkAttach();
    } else if (name === 'session_refused') {
      // A stored session the server no longer knows (its key changed): start a new one.
      ready = false;
      if (sid && !(data && data.reason === 'busy')) {
        sid = null; tag = null; setS(K.s, ''); setS(K.g, '');
        if (ws && ws.readyState === 1) emit(ws, 'session_request', { session_id: null, session_tag: null });
      }
    } else if (name === 'bot_uttered') {
      bot(data);
      reportSeen();
      // A hand-off may have opened, been claimed or closed.
      checkAttach();
    } else if (name === 'history') {
      history(data);
    }
  }
  // What a mediator or the bot said while this page was closed or offline, from the server.
  function askHistory() {
    if (!ready || !ws || ws.readyState !== 1) return;
    emit(ws, 'history_request', { after: shown.length ? Math.max(...shown) : 0, bots_after: botsAt !== null ? botsAt : log.length ? null : 0 });
  }
  function history(d) {
    const list = d && Array.isArray(d.messages) ? d.messages : [];
    // In the order they were sent; each shown once (ids), at the time it was sent.
    list.forEach((m) => { if (m && typeof m === 'object' && (m.from === 'mediator' || typeof m.id === 'string')) bot(m, true); });
    if (d && Number.isFinite(d.bots_up_to)) botSeen(d.bots_up_to);
    reportSeen();
  }
  function botSeen(ts) {
    if (botsAt !== null && ts <= botsAt) return;
    botsAt = ts;
    setS(K.b, String(ts));
  }
  // The desk shows the mediator which replies the person had on screen.
  function reportSeen() {
    if (panel.hidden || document.hidden || !ready || !ws || ws.readyState !== 1 || !shown.length) return;
    const top = Math.max(...shown);
    if (top > seenSent) { emit(ws, 'replies_seen', { up_to: top }); seenSent = top; }
  }
  // "The mediator is writing…" until a message comes or TYPING_SHOWN passes without a signal.
  let typingTimer = 0;
  function showTyping(on) {
    clearTimeout(typingTimer);
    typingNote.hidden = !on;
    typingNote.textContent = on ? TYPING[lang] || TYPING.en : '';
    if (on) typingTimer = setTimeout(() => showTyping(false), TYPING_SHOWN);
  }
  // While a mediator holds the conversation (they joined, or wrote last), the desk
  // is told the person is typing: the fact only, at most once every TYPING_EVERY ms.
  let typingSent = 0;
  function withMediator() {
    for (let i = log.length - 1; i >= 0; i--) {
      const m = log[i];
      if (m.r === 'm' || (m.r === 's' && m.k === 'joined')) return true;
      if (m.r === 'b') return false;
    }
    return false;
  }
  function typed() {
    if (!input.value.trim() || !ready || !ws || ws.readyState !== 1 || !withMediator()) return;
    if (Date.now() - typingSent < TYPING_EVERY) return;
    typingSent = Date.now();
    emit(ws, 'typing', {});
  }
  // `at`: the time it was sent, for a notice fetched again after the page was closed.
  function deskNotice(d, at) {
    if (d.event === 'typing') return showTyping(true);
    if (d.event === 'waiting' && Number.isInteger(d.position) && d.position > 0) {
      add({ r: 's', k: 'waiting', t: note(0, { n: new Intl.NumberFormat(lang).format(d.position) }) });
    } else if (d.event === 'joined' && typeof d.name === 'string') {
      add({ r: 's', k: 'joined', t: note(1, { name: d.name }), ...(at || {}) });
    }
  }
  // The bot names the conversation's language on each message: the frame follows it,
  // so an Italian-locale phone writing Arabic gets Arabic labels, right to left.
  function follow(d) {
    const code = d && typeof d === 'object' && typeof d.language === 'string' ? d.language.toLowerCase() : '';
    if (!NAMES[code] || code === lang) return;
    lang = code;
    setS(K.c, code);
    stopSpeech();
    apply();
  }
  function bot(d, fetched) {
    if (d && typeof d === 'object' && typeof d.id === 'string') {
      if (botIds.includes(d.id)) return;
      botIds.push(d.id);
      if (botIds.length > 300) botIds = botIds.slice(-300);
      setJ(K.i, botIds);
      if (Number.isFinite(d.ts)) botSeen(d.ts);
    }
    if (isForgotten(d)) return forgetHere(true);
    follow(d);
    if (!d || typeof d !== 'object') return;
    // Fetched again: shown at the time it was sent, not now.
    const sent = fetched ? Number(d.from === 'mediator' || d.from === 'desk' ? d.at : d.ts) * 1000 : NaN;
    const at = Number.isFinite(sent) ? { at: sent } : {};
    if (d.from === 'desk') return deskNotice(d, at);
    if (typeof d.text !== 'string' || !d.text.trim()) return;
    if (d.from === 'mediator') {
      const id = Number.isInteger(d.id) ? d.id : null;
      if (id !== null) {
        if (shown.includes(id)) return;
        shown.push(id);
        if (shown.length > 200) shown = shown.slice(-200);
        setJ(K.m, shown);
      }
      add({ r: 'm', t: d.text, n: String(d.name || ''), mt: !!d.machine_translated, o: d.original ? String(d.original) : '', ol: d.original_language ? String(d.original_language) : '', ...at });
    } else {
      const q = Array.isArray(d.quick_replies) ? d.quick_replies.filter((x) => x && x.title != null)
        .map((x) => [String(x.title), String(x.payload != null ? x.payload : x.title)]) : [];
      add(q.length ? { r: 'b', t: d.text, q, ...at } : { r: 'b', t: d.text, ...at });
    }
  }
  // Everything queued and not on its way yet; each stays queued until the server acknowledges it.
  function flush() {
    if (!ready || !ws || ws.readyState !== 1) return;
    const going = new Set([...inflight.values()].filter((f) => !f.late).map((f) => f.c));
    for (const q of queue) {
      if (going.has(q.c)) continue;
      const n = ++acks;
      inflight.set(n, { c: q.c, timer: setTimeout(() => unacked(n), ACK_MS) });
      // Sent before and not acknowledged: the server handles it only if it never got it.
      const again = !!q.out;
      if (!again) { q.out = true; setJ(K.q, queue); }
      ws.send('42' + n + JSON.stringify(['user_uttered', { message: q.message, session_id: sid, metadata: q.metadata, message_id: q.c, ...(again ? { resent: true } : {}) }]));
    }
  }
  // Shown (when `shown` is given) at once; sent now or as soon as the connection is back.
  function say(message, shown, extra) {
    const c = newId();
    if (shown != null) add({ r: 'u', t: shown, c, st: 'p', ...(message !== shown ? { s: message } : {}), ...(extra || {}) });
    queue.push({ c, message, metadata: { language: chosen, language_hint: lang } });
    setJ(K.q, queue);
    if (!ws) connect(); // after forgetHere(), the next message opens a new session
    flush();
  }
  // Shown from 80 % of the limit; over it the message is refused before sending and kept.
  function count(refuse) {
    const n = input.value.trim().length;
    const over = n > MAX_CHARS;
    counter.hidden = n < MAX_CHARS * 0.8 && !over;
    const fmt = (x) => new Intl.NumberFormat(lang).format(x);
    counter.textContent = fmt(n) + ' / ' + fmt(MAX_CHARS) + (over && refuse ? ' · ' + (LONG[lang] || LONG.en).replace('{max}', fmt(MAX_CHARS)) : '');
    counter.classList.toggle('hd-over', over);
    input.setAttribute('aria-invalid', String(over));
    return over;
  }
  // ---------- a photo or PDF for the mediator ----------
  // Sent over HTTP to the web app that serves this script, with the session's id
  // and tag in headers (never in the URL); the server takes it only into this
  // session's open hand-off, and only JPEG, PNG or PDF.
  const FILES_URL = (() => { try { return new URL('/widget/api/attachments', (script && script.src) || location.href).href; } catch (e) { return '/widget/api/attachments'; } })();
  let maxBytes = 0;
  let attachTimer = null;
  const sessionHeaders = () => ({ 'X-Session-Id': sid || '', 'X-Session-Tag': tag || '' });
  function checkAttach() {
    clearTimeout(attachTimer);
    attachTimer = setTimeout(async () => {
      if (!sid || !tag) { attachButton.hidden = true; return; }
      try {
        const r = await fetch(FILES_URL, { headers: sessionHeaders(), credentials: 'omit' });
        const d = r.ok ? await r.json() : null;
        attachButton.hidden = !(d && d.open === true);
        if (d && Number(d.max_bytes) > 0) maxBytes = Number(d.max_bytes);
      } catch (e) { /* offline: keep the button as it was */ }
    }, 300);
  }
  const fileNote = (k) => add({ r: 's', k: 'file', t: t(k).replace('{mb}', new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format((maxBytes || 5242880) / 1048576)) });
  async function sendFile(f) {
    if (!f.size) return fileNote('fempty');
    if (maxBytes && f.size > maxBytes) return fileNote('fbig');
    if (!/^(image\/(jpeg|png)|application\/pdf)$/.test(f.type || '') && !/\.(jpe?g|png|pdf)$/i.test(f.name || '')) return fileNote('ftype');
    attachButton.disabled = true;
    let status = 0;
    try {
      const r = await fetch(FILES_URL, { method: 'POST', headers: sessionHeaders(), body: f, credentials: 'omit' });
      status = r.status;
    } catch (e) { status = 0; }
    attachButton.disabled = false;
    if (status === 201) {
      add({ r: 'u', t: '\u{1F4CE} ' + (f.name || '') });
      return fileNote('fsent');
    }
    if (status === 409) attachButton.hidden = true;
    fileNote({ 409: 'fnone', 413: 'fbig', 415: 'ftype' }[status] || 'ffail');
  }
  if (sid && tag) checkAttach();

  function submit() {
    const v = input.value.trim();
    if (!v || count(true)) return;
    input.value = '';
    grow();
    count(false);
    say(v, v);
  }
  document.addEventListener('visibilitychange', reportSeen);
  window.addEventListener('online', () => { if (!ws) { retry = 0; connect(); } });
  // The browser knows at once when the network goes: say so now, not after the heartbeat.
  window.addEventListener('offline', () => { setOffline(true); if (ws) drop(ws); });

  // ---------- forgetting on this device ----------
  // After "delete my data" the bot's reply carries {custom: {helpdesk: 'forgotten'}};
  // then, or with the header's "forget on this device" button, nothing of the
  // conversation stays in this browser: transcript, queue and session id are
  // removed (every helpdesk.* key but the chosen language), and the next
  // message starts a new session. Someone with the phone finds nothing.
  const FORGET = { it: 'Dimentica su questo dispositivo', en: 'Forget on this device', ar: 'احذف من هذا الجهاز', fr: 'Oublier sur cet appareil', uk: 'Забути на цьому пристрої', es: 'Olvidar en este dispositivo', fa: 'پاک کردن از این دستگاه', ur: 'اس آلے سے مٹا دیں', bn: 'এই ডিভাইস থেকে মুছুন', ru: 'Забыть на этом устройстве', ro: 'Uită pe acest dispozitiv', sq: 'Harroje në këtë pajisje', tr: 'Bu cihazda unut' };
  function forgetButton() {
    return el('button', { id: 'hd-forget', class: 'hd-forget', type: 'button', icon: 'forget', onclick: () => forgetHere(false) });
  }
  function labelForget() {
    const b = root.querySelector('#hd-forget');
    if (b) { b.setAttribute('aria-label', FORGET[lang] || FORGET.en); b.title = FORGET[lang] || FORGET.en; }
  }
  function isForgotten(d) {
    return !!(d && typeof d === 'object' && d.custom && typeof d.custom === 'object' && d.custom.helpdesk === 'forgotten');
  }
  function forgetHere(keepNote) {
    // The bot's "I deleted this conversation" stays on screen, but not in storage.
    const last = log[log.length - 1];
    const note = keepNote && last && last.r === 'b' ? last.t : '';
    try {
      const keys = [];
      for (let i = 0; i < localStorage.length; i++) keys.push(localStorage.key(i));
      keys.filter((k) => k && k.startsWith('helpdesk.') && k !== K.l).forEach((k) => localStorage.removeItem(k));
    } catch (e) { /* storage unavailable: nothing was kept */ }
    log = [];
    shown = [];
    botIds = [];
    botsAt = null;
    seenSent = 0;
    queue.length = 0;
    unackAll();
    sid = null;
    tag = null;
    greeted = false;
    stopSpeech();
    box.textContent = '';
    const s = ws;
    ws = null;
    ready = false;
    clearTimeout(timer);
    clearTimeout(heartbeat);
    if (s) { s.onclose = s.onerror = s.onmessage = null; try { s.close(); } catch (e) { /* closed */ } }
    retry = 0;
    setOffline(false);
    if (note) render({ r: 'b', t: note });
  }

  // ---------- open / close ----------
  function open() {
    if (!panel.hidden) return;
    panel.hidden = false;
    if (phone.matches) panel.setAttribute('aria-modal', 'true');
    else panel.removeAttribute('aria-modal');
    launcher.setAttribute('aria-expanded', 'true');
    setUnread(0);
    box.scrollTop = box.scrollHeight;
    input.focus();
    fitViewport();
    if (!log.length && !greeted) { greeted = true; say('/greet'); }
    reportSeen();
  }
  function close() {
    if (panel.hidden) return;
    stopSpeech();
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
  }

  const CSS = `
#hd-widget{all:initial;display:block;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic","Noto Naskh Arabic","Noto Sans Bengali",sans-serif;color:#1a1a1a}
#hd-widget *,#hd-widget *::before,#hd-widget *::after{box-sizing:border-box;font-family:inherit;letter-spacing:normal;text-transform:none;float:none}
#hd-widget [hidden]{display:none!important}
#hd-widget button,#hd-widget select,#hd-widget textarea{font:inherit;font-size:16px;margin:0;text-shadow:none}
#hd-widget button{cursor:pointer}
#hd-widget :focus-visible{outline:3px solid #0b0c0c;outline-offset:2px;box-shadow:0 0 0 5px #ffdd00}
#hd-widget svg{width:24px;height:24px;fill:currentColor;display:block}
#hd-widget .hd-launcher{position:fixed;z-index:2147483000;bottom:20px;right:20px;width:64px;height:64px;padding:0;border:2px solid #fff;border-radius:50%;background:#0b4f6c;color:#fff;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.35)}
#hd-widget .hd-launcher svg{width:32px;height:32px}
#hd-widget .hd-launcher:hover{background:#083a50}
#hd-widget .hd-unread::after{content:attr(data-unread);position:absolute;top:-4px;right:-4px;min-width:24px;height:24px;padding:0 4px;border-radius:12px;background:#d4351c;border:2px solid #fff;color:#fff;font-size:14px;font-weight:700;line-height:20px;text-align:center}
#hd-widget.hd-rtl .hd-launcher{right:auto;left:20px}
#hd-widget .hd-panel{position:fixed;z-index:2147483001;bottom:96px;right:20px;width:400px;max-width:calc(100vw - 40px);height:640px;max-height:calc(100vh - 116px);display:flex;flex-direction:column;background:#fff;color:#1a1a1a;border:1px solid #6b6b6b;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;text-align:start}
#hd-widget.hd-rtl .hd-panel{right:auto;left:20px}
@media (max-width:479.98px){#hd-widget .hd-panel,#hd-widget.hd-rtl .hd-panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border:0;border-radius:0}}
#hd-widget .hd-head{display:flex;align-items:center;gap:8px;padding:8px;padding-inline-start:16px;background:#0b4f6c;color:#fff}
#hd-widget .hd-title{flex:1;margin:0;padding:0;font-size:18px;font-weight:700;line-height:1.3;color:#fff}
#hd-widget .hd-select{min-height:48px;max-width:150px;padding:0 8px;border:2px solid #fff;border-radius:8px;background:#fff;color:#1a1a1a}
#hd-widget .hd-close,#hd-widget .hd-send,#hd-widget .hd-attach,#hd-widget .hd-read-aloud{flex:none;width:48px;height:48px;padding:0;border:0;display:flex;align-items:center;justify-content:center}
#hd-widget .hd-close{border-radius:8px;background:transparent;color:#fff}
#hd-widget .hd-close:hover{background:rgba(255,255,255,.18)}
#hd-widget .hd-forget{flex:none;width:48px;height:48px;padding:0;border:0;display:flex;align-items:center;justify-content:center;border-radius:8px;background:transparent;color:#fff}
#hd-widget .hd-forget:hover{background:rgba(255,255,255,.18)}
#hd-widget .hd-typing{padding:4px 16px;background:#f6f7f8;color:#4a4a4a;font-size:15px;font-style:italic}
#hd-widget .hd-count{padding:2px 16px;font-size:14px;color:#4a4a4a;text-align:end}
#hd-widget .hd-count.hd-over{color:#a4000f;font-weight:700}
#hd-widget .hd-status{padding:6px 16px;background:#fff3cd;color:#4d3300;font-weight:600}
#hd-widget .hd-status:empty{display:none}
#hd-widget .hd-log{flex:1;overflow-y:auto;padding:16px;display:flex;flex-direction:column;gap:10px;background:#f6f7f8}
#hd-widget .hd-msg{position:relative;display:flex;align-items:flex-start;gap:4px;max-width:88%;padding:10px 14px;border-radius:14px;font-size:17px;line-height:1.5;overflow-wrap:anywhere;white-space:normal}
#hd-widget .hd-body{flex:1;min-width:0}
#hd-widget .hd-bot{align-self:flex-start;background:#fff;border:1px solid #b8bcc0}
#hd-widget .hd-user{align-self:flex-end;background:#0b4f6c;color:#fff}
#hd-widget .hd-mediator{align-self:flex-start;background:#fff6e5;border:2px solid #a35200}
#hd-widget .hd-tel{white-space:nowrap}
#hd-widget .hd-note{align-self:center;max-width:92%;background:#eef4f7;border:1px solid #9ab;color:#1a1a1a;font-size:15px;text-align:center}
#hd-widget .hd-meta{display:flex;flex-wrap:wrap;align-items:center;gap:4px 8px;margin-top:2px;font-size:13px;color:#4a4a4a}
#hd-widget .hd-user .hd-meta{color:#e6eef2;justify-content:flex-end}
#hd-widget .hd-st{display:inline-flex;align-items:center;gap:6px}
#hd-widget .hd-st svg{width:16px;height:16px}
#hd-widget .hd-unsent{font-weight:700}
#hd-widget .hd-retry{min-height:48px;padding:0 12px;border:2px solid #fff;border-radius:24px;background:transparent;color:#fff;font-size:15px;font-weight:600}
#hd-widget .hd-retry:hover{background:rgba(255,255,255,.18)}
#hd-widget .hd-who{font-size:16px;font-weight:700;color:#7a3d00}
#hd-widget .hd-msg a{color:#0a4a94;text-decoration:underline}
#hd-widget .hd-user a{color:#fff}
#hd-widget .hd-msg strong{font-weight:700}
#hd-widget .hd-read-aloud{margin-block:-8px;margin-inline-end:-10px;border-radius:50%;background:transparent;color:#0b4f6c}
#hd-widget .hd-read-aloud:hover,#hd-widget .hd-read-aloud.hd-on{background:#e3eef3}
#hd-widget .hd-mt{display:flex;flex-wrap:wrap;align-items:center;gap:0 12px;margin-top:4px;font-size:16px;color:#474747}
#hd-widget .hd-mt-label{font-style:italic}
#hd-widget .hd-toggle{min-height:48px;padding:0 4px;border:0;background:transparent;color:#0a4a94;text-decoration:underline}
#hd-widget .hd-orig{margin-top:4px;padding:8px;border-inline-start:3px solid #a35200;background:#fff;color:#1a1a1a}
#hd-widget .hd-qrs{display:flex;flex-wrap:wrap;gap:8px;align-self:flex-start;max-width:100%}
#hd-widget .hd-quick-reply{min-width:48px;min-height:48px;padding:8px 16px;border:2px solid #0b4f6c;border-radius:24px;background:#fff;color:#0b4f6c;font-weight:600;text-align:center}
#hd-widget .hd-quick-reply:hover:not(:disabled){background:#e3eef3}
#hd-widget .hd-quick-reply:disabled{border-color:#b0b0b0;background:#eee;color:#5e5e5e;cursor:default}
#hd-widget .hd-form{display:flex;align-items:flex-end;gap:8px;margin:0;padding:10px;border-top:1px solid #b8bcc0;background:#fff}
#hd-widget .hd-input{flex:1;min-width:0;min-height:48px;max-height:140px;resize:none;padding:10px 12px;border:2px solid #6b6b6b;border-radius:10px;background:#fff;color:#1a1a1a;line-height:1.4;overflow-y:auto}
#hd-widget .hd-input::placeholder{color:#666;opacity:1}
#hd-widget .hd-send{border-radius:10px;background:#0b4f6c;color:#fff}
#hd-widget .hd-attach{border-radius:10px;background:#fff;color:#0b4f6c;border:2px solid #0b4f6c}
#hd-widget .hd-send:hover{background:#083a50}
#hd-widget [dir=rtl] .hd-send svg{transform:scaleX(-1)}
#hd-widget .hd-sr{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}`;

  function init() {
    if (document.getElementById('hd-widget')) return;
    (document.head || document.documentElement).appendChild(el('style', { id: 'hd-style', text: CSS }));
    document.body.appendChild(root);
    log = log.filter((m) => m && ROLE[m.r] && typeof m.t === 'string');
    // On its way when the page closed, and no longer queued: not sent, with a retry button.
    log.forEach((m) => { if (m.r === 'u' && m.st === 'p' && !queue.some((q) => q.c === m.c)) m.st = 'f'; });
    log.forEach(render);
    apply();
    connect();
    if (attr('open') === 'true') open();
  }

  window.HelpdeskWidget = {
    open,
    close,
    send(text) {
      const v = String(text == null ? '' : text).trim();
      if (v) say(v, v);
    },
    setLanguage,
    forgetHere: () => forgetHere(false),
    sessionId: () => sid,
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
