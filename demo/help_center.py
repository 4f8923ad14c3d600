"""The demo shop's help center: six categories, their sections and about forty published articles
in English and German.

Plain data and one function. Safe to run again: a category, section or article whose slug
already exists is left as it is (an agent may have edited it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from helpdesk.models import User
from knowledge_base import services
from knowledge_base.models import Article, Category, Section

Words = tuple[str, str, str]  # title, summary, Markdown body


@dataclass(frozen=True)
class CategoryData:
    slug: str
    icon: str
    en: tuple[str, str]
    de: tuple[str, str]
    sections: tuple[tuple[str, str, str], ...]  # slug, English name, German name


@dataclass(frozen=True)
class ArticleData:
    category: str
    section: str
    slug: str
    en: Words
    de: Words


CATEGORIES = (
    CategoryData(
        "shipping",
        "truck",
        ("Shipping", "Delivery times, costs, tracking and customs."),
        ("Versand", "Lieferzeiten, Kosten, Sendungsverfolgung und Zoll."),
        (
            ("delivery", "Delivery", "Lieferung"),
            ("international", "International", "International"),
        ),
    ),
    CategoryData(
        "returns-and-refunds",
        "undo",
        ("Returns and refunds", "Send something back and get your money back."),
        ("Rücksendungen und Erstattungen", "Etwas zurückschicken und Geld zurückbekommen."),
        (("returns", "Returns", "Rücksendungen"), ("refunds", "Refunds", "Erstattungen")),
    ),
    CategoryData(
        "payments",
        "card",
        ("Payments", "Ways to pay, vouchers and invoices."),
        ("Zahlung", "Zahlungsarten, Gutscheine und Rechnungen."),
        (("methods", "Ways to pay", "Zahlungsarten"), ("billing", "Billing", "Rechnungen")),
    ),
    CategoryData(
        "orders",
        "box",
        ("Orders", "Change, cancel and follow your order."),
        ("Bestellungen", "Bestellungen ändern, stornieren und verfolgen."),
        (("changes", "Changes", "Änderungen"), ("problems", "Problems", "Probleme")),
    ),
    CategoryData(
        "account",
        "user",
        ("Your account", "Sign-in, passwords, addresses and newsletters."),
        ("Ihr Konto", "Anmeldung, Passwörter, Adressen und Newsletter."),
        (("sign-in", "Signing in", "Anmeldung"), ("settings", "Settings", "Einstellungen")),
    ),
    CategoryData(
        "products",
        "tag",
        ("Products", "Sizes, materials, care and availability."),
        ("Produkte", "Größen, Materialien, Pflege und Verfügbarkeit."),
        (("sizing", "Sizing", "Größen"), ("care", "Materials and care", "Material und Pflege")),
    ),
)

ARTICLES = (
    # --- Shipping ---------------------------------------------------------------------------
    ArticleData(
        "shipping",
        "delivery",
        "delivery-times",
        (
            "How long does delivery take?",
            "Most orders arrive in 2–4 working days in the US and 3–7 in Europe.",
            "Orders placed before 2 pm ship the same working day.\n\n"
            "## Typical delivery times\n\n"
            "- **United States:** 2–4 working days\n"
            "- **Canada:** 4–6 working days\n"
            "- **Europe:** 3–7 working days\n\n"
            "Public holidays and sale weeks can add a day or two.",
        ),
        (
            "Wie lange dauert die Lieferung?",
            "Die meisten Bestellungen kommen in den USA in 2–4, in Europa in 3–7 Werktagen an.",
            "Bestellungen bis 14 Uhr verlassen unser Lager am selben Werktag.\n\n"
            "## Übliche Lieferzeiten\n\n"
            "- **USA:** 2–4 Werktage\n"
            "- **Kanada:** 4–6 Werktage\n"
            "- **Europa:** 3–7 Werktage\n\n"
            "Feiertage und Sale-Wochen können ein, zwei Tage dazugeben.",
        ),
    ),
    ArticleData(
        "shipping",
        "delivery",
        "shipping-costs",
        (
            "What does shipping cost?",
            "Standard shipping is free from $75; below that it costs $6.",
            "| Method | Cost | Time |\n|---|---|---|\n"
            "| Standard | $6, free from $75 | 2–4 days |\n"
            "| Express | $15 | 1–2 days |\n\n"
            "Costs for other countries are shown at checkout before you pay.",
        ),
        (
            "Was kostet der Versand?",
            "Standardversand ist ab 75 $ kostenlos, darunter kostet er 6 $.",
            "| Versandart | Kosten | Dauer |\n|---|---|---|\n"
            "| Standard | 6 $, ab 75 $ gratis | 2–4 Tage |\n"
            "| Express | 15 $ | 1–2 Tage |\n\n"
            "Die Kosten für andere Länder sehen Sie an der Kasse, bevor Sie bezahlen.",
        ),
    ),
    ArticleData(
        "shipping",
        "delivery",
        "track-your-parcel",
        (
            "Track your parcel",
            "Follow your parcel with the tracking link from your shipping email.",
            "As soon as your order ships we email you a tracking link.\n\n"
            "1. Open the email *Your order is on its way*.\n"
            "2. Click **Track parcel**.\n"
            "3. The carrier's page shows where your parcel is.\n\n"
            "Tracking can take up to 24 hours to show the first scan.",
        ),
        (
            "Sendung verfolgen",
            "Verfolgen Sie Ihr Paket mit dem Link aus der Versandbestätigung.",
            "Sobald Ihre Bestellung versendet ist, schicken wir Ihnen einen Tracking-Link.\n\n"
            "1. Öffnen Sie die E-Mail *Ihre Bestellung ist unterwegs*.\n"
            "2. Klicken Sie auf **Paket verfolgen**.\n"
            "3. Die Seite des Paketdienstes zeigt, wo Ihr Paket ist.\n\n"
            "Bis der erste Scan erscheint, können bis zu 24 Stunden vergehen.",
        ),
    ),
    ArticleData(
        "shipping",
        "delivery",
        "parcel-not-arrived",
        (
            "My parcel has not arrived",
            "What to check when tracking says delivered but you have no parcel.",
            "First check:\n\n"
            "- your neighbours, porch and mailroom,\n"
            "- the delivery photo on the carrier's page,\n"
            "- the address in your order confirmation.\n\n"
            "Still nothing after two working days? Contact us with your order number and we "
            "open a claim with the carrier and send a replacement.",
        ),
        (
            "Mein Paket ist nicht angekommen",
            "Was Sie prüfen können, wenn das Paket als zugestellt gilt, aber fehlt.",
            "Prüfen Sie zuerst:\n\n"
            "- Nachbarn, Hauseingang und Poststelle,\n"
            "- das Zustellfoto auf der Seite des Paketdienstes,\n"
            "- die Adresse in Ihrer Bestellbestätigung.\n\n"
            "Nach zwei Werktagen immer noch nichts? Schreiben Sie uns mit Ihrer Bestellnummer; "
            "wir reklamieren beim Paketdienst und schicken Ersatz.",
        ),
    ),
    ArticleData(
        "shipping",
        "delivery",
        "change-delivery-address",
        (
            "Change the delivery address",
            "You can change the address until your order is packed.",
            "Write to us as soon as possible with your order number and the new address. "
            "Until the order is packed we change it for you.\n\n"
            "Once it has shipped, use the carrier's link in your tracking email to redirect "
            "the parcel or to pick it up at a parcel shop.",
        ),
        (
            "Lieferadresse ändern",
            "Sie können die Adresse ändern, bis Ihre Bestellung gepackt ist.",
            "Schreiben Sie uns so bald wie möglich mit Bestellnummer und neuer Adresse. "
            "Bis die Bestellung gepackt ist, ändern wir sie für Sie.\n\n"
            "Ist das Paket schon unterwegs, können Sie es über den Link des Paketdienstes "
            "umleiten oder in einem Paketshop abholen.",
        ),
    ),
    ArticleData(
        "shipping",
        "international",
        "countries-we-ship-to",
        (
            "Which countries do you ship to?",
            "We ship to the US, Canada, the UK and all EU countries.",
            "We ship to:\n\n- the United States and Canada\n- the United Kingdom\n"
            "- every country of the European Union\n- Switzerland and Norway\n\n"
            "If your country is missing at checkout, we cannot ship there yet.",
        ),
        (
            "In welche Länder liefern Sie?",
            "Wir liefern in die USA, nach Kanada, Großbritannien und in alle EU-Länder.",
            "Wir liefern:\n\n- in die USA und nach Kanada\n- nach Großbritannien\n"
            "- in alle Länder der Europäischen Union\n- in die Schweiz und nach Norwegen\n\n"
            "Fehlt Ihr Land an der Kasse, können wir dorthin noch nicht liefern.",
        ),
    ),
    ArticleData(
        "shipping",
        "international",
        "customs-and-duties",
        (
            "Customs and import duties",
            "EU and UK prices include duties; elsewhere the carrier may charge them.",
            "For the EU and the UK we pay customs and import VAT for you: the price at "
            "checkout is what you pay.\n\n"
            "For Switzerland and Norway, the carrier collects duties and VAT on delivery. "
            "We cannot refund these charges if you refuse the parcel.",
        ),
        (
            "Zoll und Einfuhrabgaben",
            "In der EU und in Großbritannien sind Abgaben im Preis enthalten.",
            "Für die EU und Großbritannien übernehmen wir Zoll und Einfuhrumsatzsteuer: Sie "
            "zahlen den Preis, den Sie an der Kasse sehen.\n\n"
            "In der Schweiz und in Norwegen erhebt der Paketdienst Zoll und Steuer bei der "
            "Zustellung. Verweigern Sie die Annahme, können wir diese Kosten nicht erstatten.",
        ),
    ),
    # --- Returns and refunds --------------------------------------------------------------
    ArticleData(
        "returns-and-refunds",
        "returns",
        "return-policy",
        (
            "Our return policy",
            "Return unworn items within 30 days of delivery, free of charge.",
            "You have **30 days** from delivery to return anything you bought.\n\n"
            "## What we take back\n\n"
            "- unworn and unwashed items with their tags\n"
            "- shoes tried on indoors only, in their box\n\n"
            "Underwear and pierced jewellery cannot be returned for hygiene reasons.",
        ),
        (
            "Unsere Rückgaberichtlinie",
            "Ungetragene Artikel können Sie 30 Tage nach Lieferung kostenlos zurückgeben.",
            "Sie haben **30 Tage** ab Lieferung Zeit, jeden Artikel zurückzuschicken.\n\n"
            "## Was wir zurücknehmen\n\n"
            "- ungetragene, ungewaschene Artikel mit Etikett\n"
            "- Schuhe, nur drinnen anprobiert, im Karton\n\n"
            "Unterwäsche und Ohrschmuck sind aus hygienischen Gründen vom Umtausch "
            "ausgeschlossen.",
        ),
    ),
    ArticleData(
        "returns-and-refunds",
        "returns",
        "start-a-return",
        (
            "Start a return",
            "Create a free return label in a few clicks.",
            "1. Open **Orders** in your account (or the link in your confirmation email).\n"
            "2. Choose **Return items** and pick what you send back and why.\n"
            "3. Print the label, or show the QR code at a drop-off point.\n\n"
            "Pack the items in the original parcel if you can.",
        ),
        (
            "Rücksendung starten",
            "Erstellen Sie in wenigen Klicks ein kostenloses Rücksendeetikett.",
            "1. Öffnen Sie **Bestellungen** in Ihrem Konto (oder den Link aus der "
            "Bestellbestätigung).\n"
            "2. Wählen Sie **Artikel zurücksenden**, dann Artikel und Grund.\n"
            "3. Drucken Sie das Etikett oder zeigen Sie den QR-Code in der Annahmestelle.\n\n"
            "Verpacken Sie die Artikel wenn möglich im Originalkarton.",
        ),
    ),
    ArticleData(
        "returns-and-refunds",
        "returns",
        "exchange-an-item",
        (
            "Exchange for another size or colour",
            "Exchanges are free; we ship the new item as soon as yours is scanned.",
            "Start a return and choose **Exchange** instead of refund. Pick the new size or "
            "colour; we reserve it for you.\n\n"
            "The new item ships as soon as the carrier scans your return, so you do not wait "
            "for it to reach our warehouse.",
        ),
        (
            "Umtausch in andere Größe oder Farbe",
            "Der Umtausch ist kostenlos; der neue Artikel geht beim ersten Scan raus.",
            "Starten Sie eine Rücksendung und wählen Sie **Umtausch** statt Erstattung. "
            "Wählen Sie Größe oder Farbe; wir reservieren den Artikel für Sie.\n\n"
            "Der neue Artikel wird verschickt, sobald der Paketdienst Ihre Rücksendung scannt.",
        ),
    ),
    ArticleData(
        "returns-and-refunds",
        "returns",
        "damaged-or-wrong-item",
        (
            "I received a damaged or wrong item",
            "Send us a photo and we send the right item at once, free.",
            "We are sorry! Reply to your order email or contact us with:\n\n"
            "- your order number,\n- a photo of the item and the label on the parcel.\n\n"
            "We send a replacement straight away; you do not need to return the wrong item "
            "first.",
        ),
        (
            "Ich habe einen beschädigten oder falschen Artikel erhalten",
            "Schicken Sie uns ein Foto; wir senden sofort kostenlos Ersatz.",
            "Das tut uns leid! Antworten Sie auf die Bestellmail oder schreiben Sie uns mit:\n\n"
            "- Ihrer Bestellnummer,\n- einem Foto des Artikels und des Paketetiketts.\n\n"
            "Wir schicken sofort Ersatz; den falschen Artikel müssen Sie nicht zuerst "
            "zurücksenden.",
        ),
    ),
    ArticleData(
        "returns-and-refunds",
        "returns",
        "return-from-abroad",
        (
            "Returns from outside the US",
            "Returns from the EU and UK go to our Rotterdam warehouse, also free.",
            "Customers in the EU, the UK, Switzerland and Norway send returns to our "
            "warehouse in Rotterdam. The label from your account already has the right "
            "address.\n\nFrom Switzerland and Norway, fill in the customs form the label page "
            "shows, so you are not charged duties twice.",
        ),
        (
            "Rücksendungen von außerhalb der USA",
            "Rücksendungen aus EU und UK gehen kostenlos an unser Lager in Rotterdam.",
            "Kundinnen und Kunden in der EU, in Großbritannien, der Schweiz und Norwegen "
            "senden an unser Lager in Rotterdam. Das Etikett aus Ihrem Konto trägt schon die "
            "richtige Adresse.\n\nAus der Schweiz und Norwegen füllen Sie bitte das "
            "Zollformular aus, damit keine doppelten Abgaben entstehen.",
        ),
    ),
    ArticleData(
        "returns-and-refunds",
        "refunds",
        "refund-timing",
        (
            "When do I get my refund?",
            "Refunds are issued within 3 working days of your return reaching us.",
            "We refund within **3 working days** after your return arrives at our warehouse. "
            "You get an email when we do.\n\n"
            "Your bank then needs 3–10 days to show the money on your statement, depending on "
            "the payment method.",
        ),
        (
            "Wann bekomme ich mein Geld zurück?",
            "Wir erstatten innerhalb von 3 Werktagen nach Eingang Ihrer Rücksendung.",
            "Wir erstatten innerhalb von **3 Werktagen**, nachdem Ihre Rücksendung im Lager "
            "angekommen ist, und schicken Ihnen eine E-Mail.\n\n"
            "Ihre Bank braucht danach je nach Zahlungsart 3–10 Tage, bis der Betrag auf dem "
            "Konto erscheint.",
        ),
    ),
    ArticleData(
        "returns-and-refunds",
        "refunds",
        "refund-method",
        (
            "How is my refund paid?",
            "Refunds go back to the payment method you used.",
            "We always refund to the original payment method:\n\n"
            "- card payments to the same card,\n- PayPal to your PayPal account,\n"
            "- gift cards as a new gift card code.\n\n"
            "Shipping costs are refunded when you return the whole order.",
        ),
        (
            "Wie wird die Erstattung ausgezahlt?",
            "Die Erstattung geht an die Zahlungsart, mit der Sie bezahlt haben.",
            "Wir erstatten immer über die ursprüngliche Zahlungsart:\n\n"
            "- Kartenzahlungen auf dieselbe Karte,\n- PayPal auf Ihr PayPal-Konto,\n"
            "- Geschenkkarten als neuer Gutscheincode.\n\n"
            "Versandkosten erstatten wir, wenn Sie die ganze Bestellung zurückschicken.",
        ),
    ),
    # --- Payments -------------------------------------------------------------------------
    ArticleData(
        "payments",
        "methods",
        "payment-methods",
        (
            "Which payment methods do you accept?",
            "Cards, PayPal, Apple Pay, Google Pay and Klarna.",
            "We accept:\n\n- Visa, Mastercard and American Express\n- PayPal\n"
            "- Apple Pay and Google Pay\n- Klarna (pay in 30 days or in 3 instalments)\n\n"
            "All payments are processed securely; we never see your full card number.",
        ),
        (
            "Welche Zahlungsarten akzeptieren Sie?",
            "Karten, PayPal, Apple Pay, Google Pay und Klarna.",
            "Wir akzeptieren:\n\n- Visa, Mastercard und American Express\n- PayPal\n"
            "- Apple Pay und Google Pay\n- Klarna (in 30 Tagen oder in 3 Raten zahlen)\n\n"
            "Alle Zahlungen laufen verschlüsselt; Ihre volle Kartennummer sehen wir nie.",
        ),
    ),
    ArticleData(
        "payments",
        "methods",
        "payment-declined",
        (
            "My payment was declined",
            "Common reasons a payment fails and what to try.",
            "A payment usually fails because of:\n\n"
            "- a typo in the card number, expiry date or security code,\n"
            "- a billing address that does not match your bank's,\n"
            "- a 3-D Secure check that timed out.\n\n"
            "Try again, or choose another method. Your bank can tell you the exact reason.",
        ),
        (
            "Meine Zahlung wurde abgelehnt",
            "Häufige Gründe für eine fehlgeschlagene Zahlung und was hilft.",
            "Eine Zahlung scheitert meist an:\n\n"
            "- einem Tippfehler bei Kartennummer, Ablaufdatum oder Prüfziffer,\n"
            "- einer Rechnungsadresse, die nicht zu der Ihrer Bank passt,\n"
            "- einer abgelaufenen 3-D-Secure-Bestätigung.\n\n"
            "Versuchen Sie es erneut oder wählen Sie eine andere Zahlungsart.",
        ),
    ),
    ArticleData(
        "payments",
        "methods",
        "gift-cards",
        (
            "Gift cards and vouchers",
            "Gift cards never expire and can be combined with any payment method.",
            "Enter the code in the **Gift card or voucher** field at checkout. The remaining "
            "balance stays on the card for your next order.\n\n"
            "Gift cards never expire. Only one discount code can be used per order.",
        ),
        (
            "Geschenkkarten und Gutscheine",
            "Geschenkkarten verfallen nie und lassen sich mit jeder Zahlungsart kombinieren.",
            "Geben Sie den Code an der Kasse im Feld **Geschenkkarte oder Gutschein** ein. Das "
            "Restguthaben bleibt für Ihre nächste Bestellung erhalten.\n\n"
            "Geschenkkarten verfallen nie. Pro Bestellung gilt ein Rabattcode.",
        ),
    ),
    ArticleData(
        "payments",
        "billing",
        "download-invoice",
        (
            "Download your invoice",
            "Every order has a PDF invoice in your account.",
            "1. Sign in and open **Orders**.\n2. Choose the order.\n"
            "3. Click **Download invoice**.\n\n"
            "Need a company name or VAT number on it? Add them to your billing address before "
            "you order, or contact us within 30 days.",
        ),
        (
            "Rechnung herunterladen",
            "Zu jeder Bestellung finden Sie eine PDF-Rechnung in Ihrem Konto.",
            "1. Melden Sie sich an und öffnen Sie **Bestellungen**.\n"
            "2. Wählen Sie die Bestellung.\n3. Klicken Sie auf **Rechnung herunterladen**.\n\n"
            "Firmenname oder USt-IdNr. nötig? Tragen Sie sie vor der Bestellung in die "
            "Rechnungsadresse ein oder schreiben Sie uns innerhalb von 30 Tagen.",
        ),
    ),
    ArticleData(
        "payments",
        "billing",
        "charged-twice",
        (
            "I was charged twice",
            "A second charge is usually a reservation that disappears within days.",
            "When a payment is retried, your bank may show a **pending reservation** next to "
            "the real charge. It is released automatically within 5–7 days.\n\n"
            "If both charges are still there after a week, send us a screenshot of your "
            "statement and we sort it out.",
        ),
        (
            "Mir wurde doppelt abgebucht",
            "Eine zweite Buchung ist meist eine Reservierung, die nach Tagen verschwindet.",
            "Wird eine Zahlung wiederholt, zeigt Ihre Bank eventuell eine **vorgemerkte "
            "Reservierung** neben der echten Buchung. Sie wird nach 5–7 Tagen automatisch "
            "freigegeben.\n\nSind nach einer Woche beide Buchungen noch da, schicken Sie uns "
            "einen Screenshot Ihres Kontoauszugs.",
        ),
    ),
    ArticleData(
        "payments",
        "billing",
        "prices-and-tax",
        (
            "Prices, currency and tax",
            "Prices include VAT for the EU and UK and are charged in your local currency.",
            "Prices are shown in your country's currency and include VAT for the EU and the "
            "UK. In the US, sales tax is added at checkout depending on your state.\n\n"
            "Your bank may add a fee for payments in a foreign currency.",
        ),
        (
            "Preise, Währung und Steuern",
            "Preise enthalten für EU und UK die Mehrwertsteuer und gelten in Ihrer Währung.",
            "Preise werden in der Währung Ihres Landes angezeigt und enthalten für EU und "
            "Großbritannien die Mehrwertsteuer. In den USA kommt je nach Bundesstaat Sales "
            "Tax an der Kasse hinzu.\n\nIhre Bank kann für Fremdwährungen Gebühren berechnen.",
        ),
    ),
    # --- Orders ---------------------------------------------------------------------------
    ArticleData(
        "orders",
        "changes",
        "cancel-an-order",
        (
            "Cancel an order",
            "You can cancel within one hour of ordering, or until it is packed.",
            "Within **one hour** of ordering you can cancel yourself: open the order in your "
            "account and choose **Cancel order**.\n\n"
            "After that, contact us: until the order is packed we can still stop it. Once "
            "shipped, simply return it for free.",
        ),
        (
            "Bestellung stornieren",
            "Sie können innerhalb einer Stunde stornieren, oder bis die Bestellung gepackt ist.",
            "In der **ersten Stunde** können Sie selbst stornieren: Öffnen Sie die Bestellung "
            "in Ihrem Konto und wählen Sie **Bestellung stornieren**.\n\n"
            "Danach schreiben Sie uns: Bis zum Packen können wir sie noch anhalten. Ist sie "
            "versendet, schicken Sie sie einfach kostenlos zurück.",
        ),
    ),
    ArticleData(
        "orders",
        "changes",
        "change-an-order",
        (
            "Change size or colour in an order",
            "We can swap sizes and colours until the order is packed.",
            "Contact us with your order number and the change you need. Until the order is "
            "packed we change it without a new payment, or refund the difference.\n\n"
            "You cannot add new items to a placed order; place a second order instead.",
        ),
        (
            "Größe oder Farbe in einer Bestellung ändern",
            "Bis die Bestellung gepackt ist, tauschen wir Größen und Farben.",
            "Schreiben Sie uns mit Bestellnummer und gewünschter Änderung. Bis die Bestellung "
            "gepackt ist, ändern wir sie ohne neue Zahlung oder erstatten die Differenz.\n\n"
            "Neue Artikel können wir einer Bestellung nicht hinzufügen; bestellen Sie sie "
            "bitte separat.",
        ),
    ),
    ArticleData(
        "orders",
        "changes",
        "order-status",
        (
            "What does my order status mean?",
            "Placed, packed, shipped, delivered: what each step means.",
            "- **Placed:** we have your order and payment.\n"
            "- **Packed:** it is boxed and waiting for the carrier; changes are no longer "
            "possible.\n"
            "- **Shipped:** the carrier has it; the tracking link works.\n"
            "- **Delivered:** the carrier reports it delivered.",
        ),
        (
            "Was bedeutet mein Bestellstatus?",
            "Aufgegeben, gepackt, versendet, zugestellt: was jeder Schritt bedeutet.",
            "- **Aufgegeben:** Bestellung und Zahlung sind bei uns.\n"
            "- **Gepackt:** Das Paket wartet auf den Paketdienst; Änderungen sind nicht mehr "
            "möglich.\n"
            "- **Versendet:** Der Paketdienst hat es; der Tracking-Link funktioniert.\n"
            "- **Zugestellt:** Der Paketdienst meldet die Zustellung.",
        ),
    ),
    ArticleData(
        "orders",
        "problems",
        "no-confirmation-email",
        (
            "I did not get an order confirmation",
            "Check your spam folder and the email address in your account.",
            "The confirmation usually arrives within minutes. If it does not:\n\n"
            "1. Look in your spam or promotions folder.\n"
            "2. Check the email address in your account for typos.\n"
            "3. Sign in: if the order is under **Orders**, it went through.\n\n"
            "We can resend the confirmation at any time.",
        ),
        (
            "Ich habe keine Bestellbestätigung erhalten",
            "Prüfen Sie den Spam-Ordner und die E-Mail-Adresse in Ihrem Konto.",
            "Die Bestätigung kommt meist innerhalb weniger Minuten. Falls nicht:\n\n"
            "1. Schauen Sie im Spam- oder Werbeordner nach.\n"
            "2. Prüfen Sie die E-Mail-Adresse in Ihrem Konto auf Tippfehler.\n"
            "3. Melden Sie sich an: Steht die Bestellung unter **Bestellungen**, hat alles "
            "geklappt.\n\nWir schicken die Bestätigung gern erneut.",
        ),
    ),
    ArticleData(
        "orders",
        "problems",
        "missing-item",
        (
            "An item is missing from my parcel",
            "Orders sometimes ship in more than one parcel.",
            "Large orders can ship in **several parcels**: your shipping email lists a "
            "tracking link for each.\n\n"
            "If every parcel has arrived and something is still missing, contact us with "
            "your order number and we send it right away.",
        ),
        (
            "Ein Artikel fehlt in meinem Paket",
            "Bestellungen kommen manchmal in mehreren Paketen.",
            "Große Bestellungen versenden wir manchmal in **mehreren Paketen**: Die "
            "Versandmail enthält für jedes einen Tracking-Link.\n\n"
            "Sind alle Pakete da und fehlt trotzdem etwas, schreiben Sie uns mit Ihrer "
            "Bestellnummer; wir schicken den Artikel sofort nach.",
        ),
    ),
    ArticleData(
        "orders",
        "problems",
        "discount-code-not-working",
        (
            "My discount code does not work",
            "Why a code may be refused at checkout.",
            "A code can be refused when:\n\n"
            "- it has expired or was already used,\n"
            "- your basket is below the code's minimum,\n"
            "- the items are already reduced (sale items are excluded),\n"
            "- another code is already applied.\n\n"
            "Forgot to enter a code? Contact us within 14 days and we refund the difference.",
        ),
        (
            "Mein Rabattcode funktioniert nicht",
            "Warum ein Code an der Kasse abgelehnt werden kann.",
            "Ein Code wird abgelehnt, wenn:\n\n"
            "- er abgelaufen ist oder schon benutzt wurde,\n"
            "- der Warenkorb unter dem Mindestbestellwert liegt,\n"
            "- die Artikel schon reduziert sind (Sale ist ausgenommen),\n"
            "- bereits ein anderer Code eingelöst ist.\n\n"
            "Code vergessen? Schreiben Sie uns innerhalb von 14 Tagen; wir erstatten die "
            "Differenz.",
        ),
    ),
    ArticleData(
        "orders",
        "problems",
        "order-as-guest",
        (
            "Can I order without an account?",
            "Yes: guest checkout works; an account only makes returns quicker.",
            "You can check out as a guest. We email your confirmation and tracking links as "
            "usual.\n\nWith an account you see all your orders in one place and start returns "
            "without looking for your order number.",
        ),
        (
            "Kann ich ohne Konto bestellen?",
            "Ja, als Gast; mit Konto gehen Rücksendungen nur schneller.",
            "Sie können als Gast bestellen. Bestätigung und Tracking-Links bekommen Sie wie "
            "gewohnt per E-Mail.\n\nMit Konto sehen Sie alle Bestellungen an einem Ort und "
            "starten Rücksendungen ohne Bestellnummer.",
        ),
    ),
    # --- Account --------------------------------------------------------------------------
    ArticleData(
        "account",
        "sign-in",
        "reset-password",
        (
            "Reset your password",
            "Request a reset link from the sign-in page.",
            "1. On the sign-in page choose **Forgot password?**\n"
            "2. Enter the email address of your account.\n"
            "3. Open the link we email you within the hour and choose a new password.\n\n"
            "No email? Check your spam folder, or the address may belong to a guest order.",
        ),
        (
            "Passwort zurücksetzen",
            "Fordern Sie auf der Anmeldeseite einen Link zum Zurücksetzen an.",
            "1. Wählen Sie auf der Anmeldeseite **Passwort vergessen?**\n"
            "2. Geben Sie die E-Mail-Adresse Ihres Kontos ein.\n"
            "3. Öffnen Sie den Link innerhalb einer Stunde und wählen Sie ein neues Passwort.\n\n"
            "Keine E-Mail? Prüfen Sie den Spam-Ordner; vielleicht war es eine Gastbestellung.",
        ),
    ),
    ArticleData(
        "account",
        "sign-in",
        "cannot-sign-in",
        (
            "I cannot sign in",
            "What to do when your password is not accepted or your account is locked.",
            "After five wrong passwords your account is locked for 15 minutes. Then:\n\n"
            "- reset your password instead of guessing,\n"
            "- check that Caps Lock is off,\n"
            "- try the email address you used for your first order.",
        ),
        (
            "Ich kann mich nicht anmelden",
            "Was tun, wenn Ihr Passwort nicht akzeptiert wird oder das Konto gesperrt ist.",
            "Nach fünf falschen Passwörtern ist Ihr Konto 15 Minuten gesperrt. Dann:\n\n"
            "- setzen Sie das Passwort zurück, statt zu raten,\n"
            "- prüfen Sie die Feststelltaste,\n"
            "- versuchen Sie die E-Mail-Adresse Ihrer ersten Bestellung.",
        ),
    ),
    ArticleData(
        "account",
        "settings",
        "update-addresses",
        (
            "Update your addresses",
            "Save several delivery addresses and choose one at checkout.",
            "Open **Account → Addresses** to add, edit or remove addresses. Mark one as "
            "default and it is filled in at checkout.\n\n"
            "Changing an address does not change orders already placed.",
        ),
        (
            "Adressen bearbeiten",
            "Speichern Sie mehrere Lieferadressen und wählen Sie an der Kasse eine aus.",
            "Unter **Konto → Adressen** fügen Sie Adressen hinzu, bearbeiten oder löschen "
            "sie. Eine Standardadresse wird an der Kasse vorausgefüllt.\n\n"
            "Eine geänderte Adresse gilt nicht für bereits aufgegebene Bestellungen.",
        ),
    ),
    ArticleData(
        "account",
        "settings",
        "newsletter",
        (
            "Subscribe to or leave the newsletter",
            "Manage emails in your account or with the link in any newsletter.",
            "You can unsubscribe with the link at the bottom of every newsletter, or in "
            "**Account → Email preferences**.\n\n"
            "Order and shipping emails are always sent; they are not marketing.",
        ),
        (
            "Newsletter an- oder abmelden",
            "Verwalten Sie E-Mails im Konto oder über den Link in jedem Newsletter.",
            "Abmelden können Sie sich über den Link unten in jedem Newsletter oder unter "
            "**Konto → E-Mail-Einstellungen**.\n\n"
            "Bestell- und Versandmails bekommen Sie immer; sie sind keine Werbung.",
        ),
    ),
    ArticleData(
        "account",
        "settings",
        "delete-account",
        (
            "Delete your account",
            "We delete your account and personal data within 30 days of your request.",
            "Write to us from the email address of your account and ask us to delete it. We "
            "confirm within 30 days.\n\n"
            "We keep invoices for as long as tax law requires, without using them for "
            "anything else.",
        ),
        (
            "Konto löschen",
            "Wir löschen Konto und persönliche Daten innerhalb von 30 Tagen nach Anfrage.",
            "Schreiben Sie uns von der E-Mail-Adresse Ihres Kontos und bitten Sie um "
            "Löschung. Wir bestätigen innerhalb von 30 Tagen.\n\n"
            "Rechnungen bewahren wir so lange auf, wie das Steuerrecht es verlangt, und "
            "nutzen sie für nichts anderes.",
        ),
    ),
    ArticleData(
        "account",
        "settings",
        "privacy",
        (
            "How we use your data",
            "We use your data to deliver your orders and never sell it.",
            "We use your name, address and email to process and deliver orders, and your "
            "order history to help you with returns.\n\n"
            "- We never sell your data.\n- Payment details stay with our payment providers.\n"
            "- You can ask for a copy of your data at any time.",
        ),
        (
            "Wie wir Ihre Daten verwenden",
            "Wir nutzen Ihre Daten, um Bestellungen zu liefern, und verkaufen sie nie.",
            "Name, Adresse und E-Mail nutzen wir, um Bestellungen abzuwickeln und zu liefern, "
            "Ihre Bestellhistorie, um Ihnen bei Rücksendungen zu helfen.\n\n"
            "- Wir verkaufen Ihre Daten nie.\n- Zahlungsdaten bleiben bei unseren "
            "Zahlungsdienstleistern.\n- Sie können jederzeit eine Kopie Ihrer Daten anfordern.",
        ),
    ),
    # --- Products -------------------------------------------------------------------------
    ArticleData(
        "products",
        "sizing",
        "size-guide",
        (
            "Find your size",
            "Our size guide, and how to measure yourself.",
            "Each product page has a **Size guide** link with measurements in cm and inches.\n\n"
            "## How to measure\n\n"
            "- **Chest:** around the fullest part, under the arms.\n"
            "- **Waist:** at your natural waistline.\n"
            "- **Inside leg:** from the crotch to the floor, without shoes.\n\n"
            "Between two sizes? Take the larger one for a relaxed fit.",
        ),
        (
            "Die richtige Größe finden",
            "Unsere Größentabelle und wie Sie richtig messen.",
            "Auf jeder Produktseite finden Sie eine **Größentabelle** in cm und Zoll.\n\n"
            "## So messen Sie\n\n"
            "- **Brust:** an der breitesten Stelle, unter den Armen.\n"
            "- **Taille:** an der natürlichen Taille.\n"
            "- **Innenbeinlänge:** vom Schritt bis zum Boden, ohne Schuhe.\n\n"
            "Zwischen zwei Größen? Für eine lockere Passform die größere wählen.",
        ),
    ),
    ArticleData(
        "products",
        "sizing",
        "shoe-sizes",
        (
            "Shoe sizes and fit",
            "Our shoes use EU sizes and fit true to size.",
            "Our shoes are made in EU sizes 37–45 and fit **true to size**. Each product page "
            "lists the US and UK equivalents.\n\n"
            "If you have wide feet, we recommend half a size up in the leather boots.",
        ),
        (
            "Schuhgrößen und Passform",
            "Unsere Schuhe haben EU-Größen und fallen normal aus.",
            "Unsere Schuhe gibt es in den EU-Größen 37–45; sie fallen **normal** aus. Auf "
            "jeder Produktseite stehen die US- und UK-Größen.\n\n"
            "Bei breiten Füßen empfehlen wir für die Lederstiefel eine halbe Größe mehr.",
        ),
    ),
    ArticleData(
        "products",
        "sizing",
        "jeans-fit",
        (
            "How do your jeans fit?",
            "Slim Selvedge Jeans are cut slim and stretch a little with wear.",
            "Our **Slim Selvedge Jeans** are raw denim: they are firm at first and relax about "
            "half a size with wear.\n\n"
            "Choose your usual waist size; if you are between sizes, take the smaller one.",
        ),
        (
            "Wie fallen Ihre Jeans aus?",
            "Die Slim Selvedge Jeans sind schmal geschnitten und geben beim Tragen etwas nach.",
            "Unsere **Slim Selvedge Jeans** sind aus Rohdenim: anfangs fest, nach einigen "
            "Wochen etwa eine halbe Größe weiter.\n\n"
            "Wählen Sie Ihre übliche Bundweite; zwischen zwei Größen die kleinere.",
        ),
    ),
    ArticleData(
        "products",
        "care",
        "wash-merino",
        (
            "Caring for merino wool",
            "Wash merino cold on a wool cycle and dry it flat.",
            "Merino needs little washing: airing it often is enough.\n\n"
            "1. Turn it inside out.\n2. Wash at 30 °C on a wool cycle with wool detergent.\n"
            "3. Dry flat, away from heat. Never tumble dry.\n\n"
            "Small pills in the first weeks are normal; remove them with a wool comb.",
        ),
        (
            "Pflege von Merinowolle",
            "Merino kalt im Wollprogramm waschen und liegend trocknen.",
            "Merino muss selten gewaschen werden: Auslüften reicht oft.\n\n"
            "1. Auf links drehen.\n2. Bei 30 °C im Wollprogramm mit Wollwaschmittel waschen.\n"
            "3. Liegend trocknen, fern von Heizung. Nie in den Trockner.\n\n"
            "Kleine Knötchen in den ersten Wochen sind normal; ein Wollkamm entfernt sie.",
        ),
    ),
    ArticleData(
        "products",
        "care",
        "materials",
        (
            "What are your clothes made of?",
            "Organic cotton, merino wool, linen and selvedge denim.",
            "- **Tees:** 100% organic cotton, GOTS certified.\n"
            "- **Sweaters:** 100% mulesing-free merino wool.\n"
            "- **Shirts:** European linen.\n- **Jeans:** Japanese selvedge denim.\n\n"
            "The exact composition is on every product page and on the care label.",
        ),
        (
            "Woraus ist Ihre Kleidung gemacht?",
            "Bio-Baumwolle, Merinowolle, Leinen und Selvedge-Denim.",
            "- **T-Shirts:** 100 % Bio-Baumwolle, GOTS-zertifiziert.\n"
            "- **Pullover:** 100 % Merinowolle ohne Mulesing.\n"
            "- **Hemden:** europäisches Leinen.\n- **Jeans:** japanischer Selvedge-Denim.\n\n"
            "Die genaue Zusammensetzung steht auf jeder Produktseite und im Pflegeetikett.",
        ),
    ),
    ArticleData(
        "products",
        "care",
        "leather-care",
        (
            "Caring for leather shoes and bags",
            "Brush, condition twice a year and keep leather away from heat.",
            "- Brush off dirt after wearing.\n- Condition the leather twice a year.\n"
            "- Let wet leather dry slowly at room temperature, stuffed with paper.\n\n"
            "Never put leather on a radiator: it cracks.",
        ),
        (
            "Pflege von Lederschuhen und -taschen",
            "Bürsten, zweimal im Jahr pflegen und Leder von Hitze fernhalten.",
            "- Schmutz nach dem Tragen abbürsten.\n- Leder zweimal im Jahr pflegen.\n"
            "- Nasses Leder mit Papier ausstopfen und bei Zimmertemperatur trocknen.\n\n"
            "Nie auf die Heizung stellen: Das Leder reißt.",
        ),
    ),
    ArticleData(
        "products",
        "sizing",
        "back-in-stock",
        (
            "When is an item back in stock?",
            "Sign up for a back-in-stock email on the product page.",
            "Choose your size and click **Notify me**. We email you once as soon as it is "
            "back, usually within 2–6 weeks.\n\n"
            "Some colours are limited editions and do not come back.",
        ),
        (
            "Wann ist ein Artikel wieder da?",
            "Melden Sie sich auf der Produktseite für eine Benachrichtigung an.",
            "Wählen Sie Ihre Größe und klicken Sie auf **Benachrichtigen**. Wir schreiben Ihnen "
            "einmal, sobald er wieder da ist, meist nach 2–6 Wochen.\n\n"
            "Manche Farben sind limitiert und kommen nicht wieder.",
        ),
    ),
    ArticleData(
        "products",
        "care",
        "warranty",
        (
            "Warranty and repairs",
            "Two years' warranty on everything, and free repairs on jeans for life.",
            "Everything we sell has a **two-year warranty** against defects in materials and "
            "workmanship.\n\n"
            "Our jeans come with free repairs for life: start a return, choose **Repair**, "
            "and we send them back mended within three weeks.",
        ),
        (
            "Garantie und Reparaturen",
            "Zwei Jahre Garantie auf alles und lebenslang kostenlose Jeans-Reparaturen.",
            "Auf alles, was wir verkaufen, gibt es **zwei Jahre Garantie** auf Material- und "
            "Verarbeitungsfehler.\n\n"
            "Jeans reparieren wir lebenslang kostenlos: Rücksendung starten, **Reparatur** "
            "wählen, und Sie bekommen sie in drei Wochen repariert zurück.",
        ),
    ),
)


def seed_help_center(author: User) -> int:
    """Create what is missing of the demo help center; returns how many articles it made."""
    created = 0
    with transaction.atomic():
        categories: dict[str, Category] = {}
        sections: dict[tuple[str, str], Section] = {}
        for position, category_data in enumerate(CATEGORIES):
            category = Category.objects.filter(slug=category_data.slug).first()
            if category is None:
                category = services.save_category(
                    category_data.slug,
                    names={"en": category_data.en, "de": category_data.de},
                    position=position,
                    icon=category_data.icon,
                )
            categories[category_data.slug] = category
            for section_position, (slug, english, german) in enumerate(category_data.sections):
                section = Section.objects.filter(category=category, slug=slug).first()
                if section is None:
                    section = services.save_section(
                        category,
                        slug,
                        names={"en": english, "de": german},
                        position=section_position,
                    )
                sections[category_data.slug, slug] = section
        existing = set(Article.objects.values_list("slug", flat=True))
        for position, data in enumerate(ARTICLES):
            if data.slug in existing:
                continue
            title, summary, body = data.en
            article = services.create_article(
                category=categories[data.category],
                section=sections[data.category, data.section],
                slug=data.slug,
                author=author,
                locale="en",
                title=title,
                summary=summary,
                body_markdown=body,
                position=position,
            )
            title, summary, body = data.de
            services.save_translation(
                article,
                locale="de",
                title=title,
                summary=summary,
                body_markdown=body,
                author=author,
            )
            services.publish_article(article, actor=author)
            created += 1
    return created
