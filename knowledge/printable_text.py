"""Fixed wording of the printable welcome kit, per language (English when one is missing).

    text("ar", "sources")            # "المصادر"
    domain_name("uk", "health")      # "Здоров'я"
    jurisdiction_name("fr", "national")

Only the page's frame lives here; answers come from the content files. The
"not checked by a person" line and "last reviewed" match the bot's own wording
(``utter_unreviewed_translation`` and ``utter_answer_sources`` in domain.yml).
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Welcome kit: public services in Italy",
        "municipality": "Municipality",
        "printed": "Printed on",
        "contents": "Contents",
        "example": "The addresses, opening hours and phone numbers in this kit are samples. "
        "Check them with the offices before giving the kit to anyone.",
        "sources": "Sources",
        "last_reviewed": "Last reviewed",
        "jurisdiction": "Applies to",
        "unreviewed": "This translation has not been checked by a person yet.",
        "chat": "Questions? Scan to chat with the help desk",
        "source_qr": "Scan to open the first source",
    },
    "it": {
        "title": "Guida di benvenuto: i servizi pubblici in Italia",
        "municipality": "Comune",
        "printed": "Stampato il",
        "contents": "Indice",
        "example": "Indirizzi, orari e telefoni di questa guida sono esempi. "
        "Controllali con gli uffici prima di distribuire la guida.",
        "sources": "Fonti",
        "last_reviewed": "Ultimo controllo",
        "jurisdiction": "Vale per",
        "unreviewed": "Questa traduzione non è ancora stata controllata da una persona.",
        "chat": "Domande? Inquadra il codice per scrivere allo sportello",
        "source_qr": "Inquadra il codice per aprire la prima fonte",
    },
    "ar": {
        "title": "دليل الترحيب: الخدمات العامة في إيطاليا",
        "municipality": "البلدية",
        "printed": "تاريخ الطباعة",
        "contents": "المحتويات",
        "example": "العناوين ومواعيد العمل وأرقام الهواتف في هذا الدليل أمثلة فقط. "
        "تحقّق منها مع المكاتب قبل توزيع الدليل.",
        "sources": "المصادر",
        "last_reviewed": "آخر مراجعة",
        "jurisdiction": "ينطبق على",
        "unreviewed": "لم يراجع أي شخص هذه الترجمة بعد.",
        "chat": "هل لديك أسئلة؟ امسح الرمز للدردشة مع مكتب المساعدة",
        "source_qr": "امسح الرمز لفتح المصدر الأول",
    },
    "fr": {
        "title": "Guide d'accueil : les services publics en Italie",
        "municipality": "Commune",
        "printed": "Imprimé le",
        "contents": "Sommaire",
        "example": "Les adresses, horaires et numéros de téléphone de ce guide sont des exemples. "
        "Vérifiez-les auprès des bureaux avant de distribuer le guide.",
        "sources": "Sources",
        "last_reviewed": "Dernière vérification",
        "jurisdiction": "S'applique à",
        "unreviewed": "Cette traduction n'a pas encore été vérifiée par une personne.",
        "chat": "Des questions ? Scannez pour écrire au guichet d'aide",
        "source_qr": "Scannez pour ouvrir la première source",
    },
    "uk": {
        "title": "Довідник для новоприбулих: державні послуги в Італії",
        "municipality": "Муніципалітет",
        "printed": "Дата друку",
        "contents": "Зміст",
        "example": "Адреси, години роботи й телефони в цьому довіднику — лише приклади. "
        "Перевірте їх в установах, перш ніж роздавати довідник.",
        "sources": "Джерела",
        "last_reviewed": "Остання перевірка",
        "jurisdiction": "Діє",
        "unreviewed": "Цей переклад ще не перевірила людина.",
        "chat": "Є питання? Відскануйте, щоб написати до служби допомоги",
        "source_qr": "Відскануйте, щоб відкрити перше джерело",
    },
}

DOMAINS: dict[str, dict[str, str]] = {
    "en": {
        "documents": "Documents",
        "health": "Health",
        "housing": "Housing",
        "work": "Work and money",
        "education": "School and language",
        "legal": "Legal help and rights",
        "safety": "Safety",
        "services": "Reaching services",
        "other": "Other",
    },
    "it": {
        "documents": "Documenti",
        "health": "Salute",
        "housing": "Casa",
        "work": "Lavoro e soldi",
        "education": "Scuola e lingua",
        "legal": "Aiuto legale e diritti",
        "safety": "Sicurezza",
        "services": "Uffici e servizi",
        "other": "Altro",
    },
    "ar": {
        "documents": "الوثائق",
        "health": "الصحة",
        "housing": "السكن",
        "work": "العمل والمال",
        "education": "المدرسة واللغة",
        "legal": "المساعدة القانونية والحقوق",
        "safety": "الأمان",
        "services": "الوصول إلى الخدمات",
        "other": "موضوعات أخرى",
    },
    "fr": {
        "documents": "Documents",
        "health": "Santé",
        "housing": "Logement",
        "work": "Travail et argent",
        "education": "École et langue",
        "legal": "Aide juridique et droits",
        "safety": "Sécurité",
        "services": "Accès aux services",
        "other": "Autres",
    },
    "uk": {
        "documents": "Документи",
        "health": "Здоров'я",
        "housing": "Житло",
        "work": "Робота й гроші",
        "education": "Школа та мова",
        "legal": "Правова допомога й права",
        "safety": "Безпека",
        "services": "Доступ до послуг",
        "other": "Інше",
    },
}

JURISDICTIONS: dict[str, dict[str, str]] = {
    "en": {"national": "all of Italy", "regional": "this region", "municipal": "this town"},
    "it": {"national": "tutta Italia", "regional": "questa regione", "municipal": "questo comune"},
    "ar": {"national": "كل إيطاليا", "regional": "هذه المنطقة", "municipal": "هذه البلدية"},
    "fr": {"national": "toute l'Italie", "regional": "cette région", "municipal": "cette commune"},
    "uk": {"national": "уся Італія", "regional": "цей регіон", "municipal": "цей муніципалітет"},
}


def text(language: str, key: str) -> str:
    return TEXT.get(language, TEXT["en"]).get(key) or TEXT["en"][key]


def domain_name(language: str, domain: str) -> str:
    names = DOMAINS.get(language, DOMAINS["en"])
    return names.get(domain) or DOMAINS["en"].get(domain) or domain.replace("-", " ").title()


def jurisdiction_name(language: str, jurisdiction: str) -> str:
    names = JURISDICTIONS.get(language, JURISDICTIONS["en"])
    return names.get(jurisdiction) or jurisdiction
