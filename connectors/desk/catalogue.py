"""The staff pages' texts in Italian, by their English text (the message id).

One catalogue for the templates (``_()`` through Jinja's i18n extension) and
the scripts (``t()`` in ``common.js``); ``connectors.desk.i18n`` reads it.
``%(name)s`` marks what the page fills in; a translation keeps the same names.
Texts with markup (``<strong>``, ``<code>``) are written by us, never by users.
"""

from __future__ import annotations

from typing import Final

ITALIAN: Final[dict[str, str]] = {
    # -- every page -------------------------------------------------------------
    "Help desk": "Sportello",
    "Skip to content": "Vai al contenuto",
    "Main": "Principale",
    "Desk": "Sportello mediatori",
    "Assist": "Assistenza",
    "Topics": "Argomenti",
    "Welcome kit": "Guida di benvenuto",
    "Dashboard": "Cruscotto",
    "Language of the pages": "Lingua delle pagine",
    "Logged in as %(username)s (%(role)s)": "Accesso come %(username)s (%(role)s)",
    "Log out": "Esci",
    "mediator": "mediatore",
    "operator": "operatore",
    "editor": "redattore",
    "admin": "amministratore",
    "Loading…": "Caricamento…",
    "Language": "Lingua",
    "Show": "Mostra",
    "Print": "Stampa",
    "Topic": "Argomento",
    "Entry": "Scheda",
    "Question": "Domanda",
    "Times": "Volte",
    "source": "fonte",
    "Sources": "Fonti",
    "Log in again.": "Accedi di nuovo.",
    "The desk cannot be reached. Check the connection.": (
        "Lo sportello non risponde. Controlla la connessione."
    ),
    "Something went wrong (%(status)s).": "Qualcosa è andato storto (%(status)s).",
    "UTC": "UTC",
    # -- log-in ------------------------------------------------------------------
    "Log in": "Accedi",
    "Username": "Nome utente",
    "Password": "Password",
    "Wrong username or password.": "Nome utente o password errati.",
    "Too many wrong log-ins for this user name or from this network address. "
    "For your safety, log-in is paused for 15 minutes: wait, then try again. "
    "If you forgot your password, ask an administrator to reset it.": (
        "Troppi accessi errati per questo nome utente o da questo indirizzo di rete. "
        "Per sicurezza l'accesso è sospeso per 15 minuti: attendi, poi riprova. "
        "Se hai dimenticato la password, chiedi a un amministratore di reimpostarla."
    ),
    # -- mediator desk: the queue -------------------------------------------------
    "Urgent requests": "Richieste urgenti",
    "Dismiss": "Nascondi",
    "Queue": "Coda",
    "Live updates: connecting…": "Aggiornamenti in diretta: connessione…",
    "Live updates: on": "Aggiornamenti in diretta: attivi",
    "Live updates: offline, retrying…": "Aggiornamenti in diretta: non in linea, nuovo tentativo…",
    "Turn on notifications": "Attiva le notifiche",
    "Turn off notifications": "Disattiva le notifiche",
    "Filter the queue": "Filtra la coda",
    "Search": "Cerca",
    "Search: words, language, #": "Cerca: parole, lingua, n.",
    "My languages": "Le mie lingue",
    "All I can see": "Tutte quelle che vedo",
    "All I can see (%(count)s)": "Tutte quelle che vedo (%(count)s)",
    "Mine": "Le mie",
    "Mine: %(count)s": "Le mie: %(count)s",
    "Urgent only": "Solo urgenti",
    "Show them": "Mostrale",
    "Your conversations": "Le tue conversazioni",
    "Your conversations (%(count)s)": "Le tue conversazioni (%(count)s)",
    "Waiting": "In attesa",
    "No one is waiting.": "Nessuno è in attesa.",
    "No waiting request matches the filters.": "Nessuna richiesta in attesa corrisponde ai filtri.",
    "%(waiting)s waiting, %(urgent)s urgent": "%(waiting)s in attesa, %(urgent)s urgenti",
    "%(count)s shown": "%(count)s mostrate",
    "%(count)s more in languages no mediator speaks (%(languages)s).": (
        "Altre %(count)s in lingue che nessun mediatore parla (%(languages)s)."
    ),
    "%(count)s more in other languages.": "Altre %(count)s in altre lingue.",
    "%(num)s conversation is with other mediators.": "%(num)s conversazione è con altri mediatori.",
    "%(num)s conversations are with other mediators.": (
        "%(num)s conversazioni sono con altri mediatori."
    ),
    "URGENT": "URGENTE",
    "yours": "tua",
    "Claim": "Prendi in carico",
    "Claim request %(id)s, %(language)s": "Prendi in carico la richiesta %(id)s, %(language)s",
    "Claim request %(id)s, %(language)s, urgent": (
        "Prendi in carico la richiesta %(id)s, %(language)s, urgente"
    ),
    "Open": "Apri",
    "Open now": "Aperta ora",
    "Open request %(id)s": "Apri la richiesta %(id)s",
    "Asked at %(time)s": "Chiesto alle %(time)s",
    "asked %(time)s ago": "chiesto %(time)s fa",
    "less than 1 min": "meno di 1 min",
    "%(minutes)s min": "%(minutes)s min",
    "%(hours)s h": "%(hours)s h",
    "%(hours)s h %(minutes)s min": "%(hours)s h %(minutes)s min",
    "web chat": "chat web",
    "app": "app",
    "at the counter": "allo sportello",
    "Unknown language": "Lingua sconosciuta",
    "Urgent request waiting": "Richiesta urgente in attesa",
    "New request waiting": "Nuova richiesta in attesa",
    "Urgent request waiting: %(language)s, #%(id)s (longest %(time)s).": (
        "Richiesta urgente in attesa: %(language)s, n. %(id)s (da %(time)s)."
    ),
    "%(count)s urgent requests waiting (longest %(time)s).": (
        "%(count)s richieste urgenti in attesa (la più vecchia da %(time)s)."
    ),
    "%(count)s new requests (%(urgent)s urgent)": "%(count)s nuove richieste (%(urgent)s urgenti)",
    "%(count)s new requests, %(urgent)s urgent.": "%(count)s nuove richieste, %(urgent)s urgenti.",
    "New request: %(language)s.": "Nuova richiesta: %(language)s.",
    "New urgent request: %(language)s.": "Nuova richiesta urgente: %(language)s.",
    "The queue could not be loaded: %(error)s": "Impossibile caricare la coda: %(error)s",
    # -- mediator desk: keyboard shortcuts --------------------------------------------
    "Keyboard shortcuts": "Scorciatoie da tastiera",
    "or": "o",
    "Next request in the queue": "Richiesta successiva della coda",
    "Previous request in the queue": "Richiesta precedente della coda",
    "Enter": "Invio",
    "Claim or open the selected request": "Prendi in carico o apri la richiesta scelta",
    "Write in the reply box": "Scrivi nella casella della risposta",
    "Leave the reply box; on a phone, back to the queue": (
        "Esci dalla casella della risposta; sul telefono, torna alla coda"
    ),
    "Show or hide this help": "Mostra o nascondi questo aiuto",
    "The shortcuts do nothing while you type in a field, except Esc. "
    "The arrow keys work in the queue.": (
        "Le scorciatoie non fanno nulla mentre scrivi in un campo, tranne Esc. "
        "Le frecce funzionano nella coda."
    ),
    "Close": "Chiudi",
    # -- mediator desk: closed conversations -----------------------------------------
    "Closed conversations you handled": "Conversazioni chiuse che hai seguito",
    "Find closed conversations": "Trova conversazioni chiuse",
    "Any language": "Qualsiasi lingua",
    "Closed from": "Chiuse dal",
    "to": "al",
    "Closed conversations": "Conversazioni chiuse",
    "Read only. Conversations are deleted after the retention period, or when the person asks.": (
        "Solo lettura. Le conversazioni sono cancellate dopo il periodo di conservazione, "
        "o quando la persona lo chiede."
    ),
    "closed %(day)s %(time)s": "chiusa il %(day)s alle %(time)s",
    "Read": "Leggi",
    "Read closed request %(id)s": "Leggi la richiesta chiusa %(id)s",
    "%(num)s closed conversation": "%(num)s conversazione chiusa",
    "%(num)s closed conversations": "%(num)s conversazioni chiuse",
    "(the newest 100)": "(le 100 più recenti)",
    "No closed conversation matches.": "Nessuna conversazione chiusa corrisponde.",
    "Closed conversations could not be loaded: %(error)s": (
        "Impossibile caricare le conversazioni chiuse: %(error)s"
    ),
    # -- mediator desk: the conversation ---------------------------------------------
    "Conversation": "Conversazione",
    "Claim a request in the queue to answer it. Your claimed requests open here.": (
        "Prendi in carico una richiesta della coda per rispondere. "
        "Le richieste che hai preso si aprono qui."
    ),
    "← Back to queue": "← Torna alla coda",
    "Status": "Stato",
    "Reason": "Motivo",
    "Messages": "Messaggi",
    "Request %(id)s": "Richiesta %(id)s",
    "waiting": "in attesa",
    "claimed": "presa in carico",
    "closed": "chiusa",
    "by you": "da te",
    "by %(name)s": "da %(name)s",
    "Person": "Persona",
    "Assistant": "Assistente",
    "Mediator": "Mediatore",
    "Machine translation": "Traduzione automatica",
    "Machine translation (%(language)s)": "Traduzione automatica (%(language)s)",
    "not delivered yet": "non ancora consegnato",
    "Waiting to be delivered": "In attesa di consegna",
    "seen": "letto",
    "not seen yet": "non ancora letto",
    "No messages yet.": "Ancora nessun messaggio.",
    "Your reply": "La tua risposta",
    "Written in": "Scritta in",
    "Send reply": "Invia la risposta",
    "If you write in another language than the person’s, "
    "the reply is machine-translated for them.": (
        "Se scrivi in una lingua diversa da quella della persona, "
        "la risposta le arriva con una traduzione automatica."
    ),
    "Write a reply first.": "Scrivi prima una risposta.",
    "The reply was not sent: %(error)s": "La risposta non è stata inviata: %(error)s",
    "Private notes": "Note private",
    "Only mediators who hold this conversation, and admins, see these notes. "
    "The person never gets them.": (
        "Vedono queste note solo i mediatori che seguono questa conversazione e gli "
        "amministratori. La persona non le riceve mai."
    ),
    "Add a private note": "Aggiungi una nota privata",
    "Save note": "Salva la nota",
    "Someone": "Qualcuno",
    "No notes yet.": "Ancora nessuna nota.",
    "Write the note first.": "Scrivi prima la nota.",
    "The note was not saved: %(error)s": "La nota non è stata salvata: %(error)s",
    "Suggested answers": "Risposte suggerite",
    "In your language:": "Nella tua lingua:",
    "No translation: shown in %(language)s": "Nessuna traduzione: mostrata in %(language)s",
    "Topic: %(topic)s": "Argomento: %(topic)s",
    "Reviewed: %(day)s": "Verificata il: %(day)s",
    "Use this text": "Usa questo testo",
    "No suggestion for the last question.": "Nessun suggerimento per l'ultima domanda.",
    "Note for the record": "Nota per l'archivio",
    "Close conversation": "Chiudi la conversazione",
    "Close this conversation and hand it back to the assistant?": (
        "Chiudere questa conversazione e restituirla all'assistente?"
    ),
    "The conversation was not closed: %(error)s": "La conversazione non è stata chiusa: %(error)s",
    "The conversation could not be loaded: %(error)s": (
        "Impossibile caricare la conversazione: %(error)s"
    ),
    "Give this conversation to someone else": "Affida questa conversazione a un collega",
    "The person is not told; they hear from whoever answers next. The transcript records it.": (
        "La persona non viene avvisata: sentirà chi risponde dopo. La trascrizione lo registra."
    ),
    "Colleague who works in this language": "Collega che lavora in questa lingua",
    "No colleague works in this language": "Nessun collega lavora in questa lingua",
    "Transfer": "Trasferisci",
    "Put back in the queue": "Rimetti in coda",
    "Give this conversation to %(name)s?": "Affidare questa conversazione a %(name)s?",
    "Put this conversation back in the queue for any mediator?": (
        "Rimettere questa conversazione in coda per qualsiasi mediatore?"
    ),
    "The conversation was not handed on: %(error)s": (
        "La conversazione non è stata affidata: %(error)s"
    ),
    "Request %(id)s is back in the queue.": "La richiesta %(id)s è di nuovo in coda.",
    "Request %(id)s was transferred to %(name)s.": (
        "La richiesta %(id)s è stata trasferita a %(name)s."
    ),
    # Refusals the desk's scripts show as they come (connectors.desk.mediator, assist).
    "No such hand-off.": "Questa richiesta non esiste.",
    "This conversation is in a language you do not work in.": (
        "Questa conversazione è in una lingua in cui non lavori."
    ),
    "Only the mediator who took this conversation can read it.": (
        "Solo il mediatore che ha preso in carico questa conversazione può leggerla."
    ),
    "Another mediator has already taken this conversation.": (
        "Un altro mediatore ha già preso in carico questa conversazione."
    ),
    "Claim this conversation first; only its mediator can answer.": (
        "Prendi prima in carico questa conversazione: solo il suo mediatore può rispondere."
    ),
    "Only the mediator who holds this conversation can do this.": (
        "Solo il mediatore che segue questa conversazione può farlo."
    ),
    "This conversation changed meanwhile; reload the queue.": (
        "Questa conversazione è cambiata nel frattempo: ricarica la coda."
    ),
    "Choose a mediator who works in this conversation's language.": (
        "Scegli un mediatore che lavora nella lingua di questa conversazione."
    ),
    "This conversation is not yours to close.": "Non spetta a te chiudere questa conversazione.",
    "The knowledge service is not ready; try again shortly.": (
        "Il servizio delle risposte non è pronto: riprova tra poco."
    ),
    # -- operator assist and topics ----------------------------------------------------
    "Find an answer": "Trova una risposta",
    "What did the person say?": "Che cosa ha detto la persona?",
    "detect": "riconosci",
    "Find answers": "Trova risposte",
    "Call a mediator": "Chiama un mediatore",
    "Mediators you called": "Mediatori che hai chiamato",
    "No request yet.": "Ancora nessuna richiesta.",
    "Answers": "Risposte",
    "Possible answers": "Risposte possibili",
    "Possible answer (not sure)": "Risposta possibile (non sicura)",
    "Translation not reviewed": "Traduzione non verificata",
    "There is no %(wanted)s translation of this answer. The text for the person is in "
    "%(language)s: show it only if they understand it, or call a mediator.": (
        "Questa risposta non è tradotta in %(wanted)s. Il testo per la persona è in "
        "%(language)s: mostralo solo se lo capisce, oppure chiama un mediatore."
    ),
    "For you (%(language)s)": "Per te (%(language)s)",
    "Not available in your language.": "Non disponibile nella tua lingua.",
    "For you and the person (%(language)s)": "Per te e per la persona (%(language)s)",
    "For the person (%(language)s)": "Per la persona (%(language)s)",
    "Useful": "Utile",
    "Not useful": "Non utile",
    "Thanks, noted": "Grazie, annotato",
    "Not saved: %(error)s": "Non salvato: %(error)s",
    "No mediator could be called: %(error)s": "Impossibile chiamare un mediatore: %(error)s",
    "A mediator has been called (request %(id)s)": (
        "Un mediatore è stato chiamato (richiesta %(id)s)"
    ),
    "Language: %(language)s": "Lingua: %(language)s",
    "Not sure — call a mediator": "Non è sicuro: chiama un mediatore",
    "No answer found.": "Nessuna risposta trovata.",
    "Write what the person said first.": "Scrivi prima che cosa ha detto la persona.",
    "waiting for a mediator": "in attesa di un mediatore",
    "claimed by %(name)s": "presa in carico da %(name)s",
    "claimed by a mediator": "presa in carico da un mediatore",
    "No reply yet.": "Ancora nessuna risposta.",
    "Replies of the mediator": "Risposte del mediatore",
    "Not found.": "Non trovato.",
    "Language of the answers": "Lingua delle risposte",
    "No topic yet.": "Ancora nessun argomento.",
    "no entry yet": "ancora nessuna scheda",
    "Open a topic and choose an entry to see it here, in both languages.": (
        "Apri un argomento e scegli una scheda per vederla qui, nelle due lingue."
    ),
    # -- dashboard ---------------------------------------------------------------------
    "From": "Dal",
    "To": "Al",
    "Download CSV": "Scarica CSV",
    "Period:": "Periodo:",
    "(both included, %(timezone)s time)": "(inclusi, ora di %(timezone)s)",
    "Key figures": "Cifre principali",
    "questions": "domande",
    "answered with confidence": "con risposta sicura",
    "(%(confident)s of %(questions)s)": "(%(confident)s su %(questions)s)",
    "hand-offs to mediators": "passaggi ai mediatori",
    "no data yet": "ancora nessun dato",
    "under 1": "meno di 1",
    "median minutes until claimed": "minuti mediani prima della presa in carico",
    "(%(count)s claimed)": "(%(count)s prese in carico)",
    "mediator hours": "ore dei mediatori",
    "(under 0.1 h)": "(meno di 0,1 h)",
    "%(num)s rating": "%(num)s voto",
    "%(num)s ratings": "%(num)s voti",
    "(target %(target)s)": "(obiettivo %(target)s)",
    "average satisfaction": "soddisfazione media",
    ": too few ratings to rely on": ": troppo pochi voti per fidarsene",
    "Questions per day": "Domande al giorno",
    "Questions by topic": "Domande per argomento",
    "Questions by language": "Domande per lingua",
    "Answered with confidence": "Risposte sicure",
    "Hand-offs by reason": "Passaggi ai mediatori per motivo",
    "Mediator hours": "Ore dei mediatori",
    "Satisfaction (target %(target)s of 10)": "Soddisfazione (obiettivo %(target)s su 10)",
    "Ratings from 1 to 10": "Voti da 1 a 10",
    "Questions without a confident answer": "Domande senza una risposta sicura",
    "The most frequent, with personal data removed. They show which entries to write next.": (
        "Le più frequenti, senza dati personali. Indicano quali schede scrivere."
    ),
    "None in this period.": "Nessuna in questo periodo.",
    "Answers marked “not useful”": "Risposte segnate come «non utili»",
    "This period cannot be shown": "Questo periodo non si può mostrare",
    "Dates are written like 2026-11-30.": "Le date si scrivono così: 2026-11-30.",
    "The period starts (%(start)s) after it ends (%(end)s).": (
        "Il periodo comincia (%(start)s) dopo la fine (%(end)s)."
    ),
    "No data in this period.": "Nessun dato in questo periodo.",
    "No data yet in this period.": "Ancora nessun dato in questo periodo.",
    "max %(top)s": "massimo %(top)s",
    "with confidence": "sicure",
    "not sure": "non sicure",
    "average satisfaction, target %(target)s of 10": (
        "soddisfazione media, obiettivo %(target)s su 10"
    ),
    "target %(target)s": "obiettivo %(target)s",
    # Why a conversation went to a mediator (the bot's and the assist page's reasons).
    "request": "richiesta",
    "emergency": "emergenza",
    "unsure": "incerta",
    "Show the last 30 days": "Mostra gli ultimi 30 giorni",
    # -- welcome kit editor ---------------------------------------------------------------
    "Every answer of the assistant, by topic. Open a language to edit it or to record a review.": (
        "Tutte le risposte dell'assistente, per argomento. Apri una lingua per modificarla "
        "o per registrare una verifica."
    ),
    "A review is due after %(days)s days.": "Una verifica va fatta dopo %(days)s giorni.",
    "A translation is <strong>out of date</strong> when the text it was translated from "
    "has changed since.": (
        "Una traduzione è <strong>da aggiornare</strong> quando il testo da cui è stata "
        "tradotta è cambiato nel frattempo."
    ),
    "Languages: last review (days ago)": "Lingue: ultima verifica (giorni fa)",
    "never reviewed": "mai verificata",
    "out of date": "da aggiornare",
    "not checked by a speaker": "non controllata da chi parla la lingua",
    "← Welcome kit": "← Guida di benvenuto",
    "Other languages:": "Altre lingue:",
    "Title": "Titolo",
    "%(topic)s (not in the topic list)": "%(topic)s (non è nell'elenco degli argomenti)",
    "Who decides": "Chi decide",
    "Answer (Markdown: **bold**, numbered steps; about 150 words)": (
        "Risposta (Markdown: **grassetto**, passi numerati; circa 150 parole)"
    ),
    "Ways people ask it (one per line)": "Come lo chiedono le persone (una per riga)",
    "Official sources (one per line: title | https://address)": (
        "Fonti ufficiali (una per riga: titolo | https://indirizzo)"
    ),
    "Checks": "Controlli",
    "error": "errore",
    "warning": "avviso",
    "No problem found.": "Nessun problema trovato.",
    "Save": "Salva",
    "Preview (as the assistant shows it)": "Anteprima (come la mostra l'assistente)",
    "Local offices": "Uffici locali",
    "Write <code>%(key)s</code> in the answer; the assistant puts in the office's details.": (
        "Scrivi <code>%(key)s</code> nella risposta: l'assistente inserisce i dati dell'ufficio."
    ),
    "Record a review": "Registra una verifica",
    "Only when you have really checked this text today.": (
        "Solo se oggi hai davvero controllato questo testo."
    ),
    "Check it against the %(language)s text; it then counts as up to date with it.": (
        "Confrontalo con il testo in %(language)s: poi risulta aggiornato rispetto a quello."
    ),
    "Who checked it (your role or name)": "Chi l'ha controllato (il tuo ruolo o nome)",
    "Checked against": "Confrontato con",
    "the %(language)s text": "il testo in %(language)s",
    "I read both languages well": "Leggo bene entrambe le lingue",
    'What changed (or "nothing")': "Che cosa è cambiato (o «niente»)",
    "What you looked at (optional)": "Che cosa hai guardato (facoltativo)",
    "Record the review": "Registra la verifica",
    "Reviews on record": "Verifiche registrate",
    "changed: %(what)s": "cambiato: %(what)s",
    "Changes made here": "Modifiche fatte qui",
    "Undo the last change": "Annulla l'ultima modifica",
    "No change made from this page yet.": "Ancora nessuna modifica da questa pagina.",
    # -- mediator desk: saved replies and the person's files ------------------------------
    "Saved replies": "Risposte salvate",
    "“Put in reply” copies the text into your reply, to change before you send it. Nothing is "
    "sent by itself.": (
        "«Metti nella risposta» copia il testo nella tua risposta, da cambiare prima di inviarla. "
        "Niente viene inviato da solo."
    ),
    "New saved reply": "Nuova risposta salvata",
    "Save for later": "Salva per dopo",
    "No saved reply in this language yet.": "Ancora nessuna risposta salvata in questa lingua.",
    "Put in reply": "Metti nella risposta",
    "Edit": "Modifica",
    "Delete": "Elimina",
    "Cancel": "Annulla",
    "Change this saved reply": "Modifica questa risposta salvata",
    "A saved reply cannot be empty; delete it instead.": (
        "Una risposta salvata non può essere vuota: eliminala invece."
    ),
    "Delete this saved reply for every mediator?": (
        "Eliminare questa risposta salvata per tutti i mediatori?"
    ),
    "Write the saved reply first.": "Prima scrivi la risposta da salvare.",
    "The saved replies could not be loaded: %(error)s": (
        "Non è stato possibile caricare le risposte salvate: %(error)s"
    ),
    "The saved reply was not changed: %(error)s": (
        "La risposta salvata non è stata modificata: %(error)s"
    ),
    "The saved reply was not deleted: %(error)s": (
        "La risposta salvata non è stata eliminata: %(error)s"
    ),
    "The saved reply was not kept: %(error)s": "La risposta non è stata salvata: %(error)s",
    "Download the PDF (%(size)s)": "Scarica il PDF (%(size)s)",
    "Photo sent by the person (%(size)s)": "Foto inviata dalla persona (%(size)s)",
    # -- mediator desk: typing and requests left outside opening hours -------------------
    "typing…": "sta scrivendo…",
    "left after hours": "lasciata fuori orario",
    "Left outside opening hours": "Lasciata fuori dall'orario di apertura",
    "Left outside opening hours. The person was told their message waits here and that the "
    "answer comes in this conversation.": (
        "Lasciata fuori dall'orario di apertura. Alla persona è stato detto che il suo messaggio "
        "aspetta qui e che la risposta arriverà in questa conversazione."
    ),
    # -- welcome kit editor: local offices and what people found missing ----------------
    "Name": "Nome",
    "Address": "Indirizzo",
    "Opening hours": "Orari di apertura",
    "Phone": "Telefono",
    "Web address (https://…, optional)": "Indirizzo web (https://…, facoltativo)",
    "Answers name these offices as <code>%(key)s</code>; the assistant puts in the details "
    "below when it answers, so a change here reaches every answer that names the office.": (
        "Le risposte nominano questi uffici come <code>%(key)s</code>; l'assistente inserisce i "
        "dati qui sotto quando risponde, quindi una modifica qui arriva a ogni risposta che "
        "nomina l'ufficio."
    ),
    "This municipality file is sample data: check every address, opening hour and phone number "
    "with the offices. The mark stays until it is removed from the file in git.": (
        "Questo file del comune contiene dati di esempio: verifica con gli uffici ogni indirizzo, "
        "orario e numero di telefono. Il segno resta finché non viene tolto dal file in git."
    ),
    "Preview of an answer that names this office:": (
        "Anteprima di una risposta che nomina questo ufficio:"
    ),
    "Change the local offices' details (name, address, opening hours, phone)": (
        "Modifica i dati degli uffici locali (nome, indirizzo, orari, telefono)"
    ),
    "What people found missing": "Che cosa è mancato alle persone",
    '"Not useful" on this answer:': "«Non utile» su questa risposta:",
    'Nobody marked this answer "not useful" yet.': (
        "Nessuno ha ancora segnato questa risposta come «non utile»."
    ),
    "Not answered confidently, this answer was the best guess:": (
        "Domande senza una risposta sicura, in cui questa era la più probabile:"
    ),
    "No such question yet.": "Ancora nessuna domanda di questo tipo.",
    "Newest first, at most %(limit)s of each, with personal details removed as they were stored.": (
        "Le più recenti prima, al massimo %(limit)s per tipo, senza i dati personali, come sono "
        "state salvate."
    ),
    # -- language names (connectors.desk.labels) ------------------------------------------
    "Italian": "Italiano",
    "English": "Inglese",
    "Arabic": "Arabo",
    "French": "Francese",
    "Ukrainian": "Ucraino",
    "Spanish": "Spagnolo",
    "Persian": "Persiano",
    "Urdu": "Urdu",
    "Bengali": "Bengalese",
    "Russian": "Russo",
    "Romanian": "Rumeno",
    "Albanian": "Albanese",
    "Turkish": "Turco",
    "Chinese": "Cinese",
    "Punjabi": "Punjabi",
    "Tigrinya": "Tigrino",
    "Somali": "Somalo",
    "Wolof": "Wolof",
    "Pashto": "Pashto",
    "unknown language": "lingua sconosciuta",
    "unknown topic": "argomento sconosciuto",
}
