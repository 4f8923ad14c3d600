"""The conversations of the demo shop: what customers write and what agents answer.

A scenario has one script per language it is written in; a customer whose language has no
script writes in English. Placeholders are filled by ``demo.plans``: {order}, {product},
{size}, {new_size}, {carrier}, {tracking}, {tracking_url}, {city}, {country}, {amount},
{code}, {new_code}, {new_address}, {company}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FULFILLED = frozenset({"fulfilled"})
UNFULFILLED = frozenset({"unfulfilled"})
REFUNDED = frozenset({"returned"})


@dataclass(frozen=True)
class Script:
    subject: str
    openings: tuple[str, ...]
    first_reply: str
    follow_up: str
    resolution: str
    thanks: str


@dataclass(frozen=True)
class Scenario:
    key: str
    weight: int
    team: str
    tags: tuple[str, ...]
    priority: str
    # Fulfillment statuses the linked order must have; None when the scenario has no order.
    order_states: frozenset[str] | None
    notes: tuple[str, ...]
    scripts: dict[str, Script] = field(default_factory=dict)
    needs_size: bool = False


@dataclass(frozen=True)
class Frame:
    """How messages look in one language: greetings, sign-offs and the generic lines."""

    customer_email: str  # {body}, {name}
    agent_email: str  # {first_name}, {body}, {agent}
    agent_chat: str  # the first reply on a messaging channel: {first_name}, {body}
    nudge: str
    duplicate: str  # {subject}
    follow_up_order: str
    follow_up_plain: str
    follow_up_reply_order: str
    follow_up_reply_plain: str


FRAMES = {
    "en": Frame(
        customer_email="Hello,\n\n{body}\n\nThanks,\n{name}",
        agent_email=(
            "Hi {first_name},\n\n{body}\n\nBest regards,\n{agent}\nHarbor & Pine Customer Care"
        ),
        agent_chat="Hi {first_name}! {body}",
        nudge="Any update on this? I haven't heard back yet.",
        duplicate=(
            "I already wrote to you about this a few hours ago ({subject}). "
            "Could someone please get back to me?"
        ),
        follow_up_order=(
            "Hello again, one more thing about order {order}: could you send me an invoice for "
            "it? I need it for my records."
        ),
        follow_up_plain="Hi again! One more question: do you offer gift wrapping?",
        follow_up_reply_order="Of course, I've just emailed you the invoice for order {order}.",
        follow_up_reply_plain=(
            "We do! Just tick “Gift wrap” at checkout; it's free on orders over 50."
        ),
    ),
    "de": Frame(
        customer_email="Hallo,\n\n{body}\n\nViele Grüße\n{name}",
        agent_email=(
            "Hallo {first_name},\n\n{body}\n\nViele Grüße\n{agent}\nHarbor & Pine Kundenservice"
        ),
        agent_chat="Hallo {first_name}! {body}",
        nudge="Gibt es schon Neuigkeiten? Ich habe noch keine Antwort bekommen.",
        duplicate=(
            "Ich hatte Ihnen deswegen schon vor ein paar Stunden geschrieben ({subject}). "
            "Kann sich bitte jemand bei mir melden?"
        ),
        follow_up_order=(
            "Noch eine Frage zur Bestellung {order}: Könnten Sie mir eine Rechnung schicken? "
            "Ich brauche sie für meine Unterlagen."
        ),
        follow_up_plain="Noch eine Frage: Bieten Sie auch Geschenkverpackung an?",
        follow_up_reply_order=(
            "Natürlich, ich habe Ihnen die Rechnung zur Bestellung {order} gerade per E-Mail "
            "geschickt."
        ),
        follow_up_reply_plain=(
            "Ja! Wählen Sie an der Kasse einfach „Geschenkverpackung“, ab 50 Bestellwert ist "
            "sie kostenlos."
        ),
    ),
    "fr": Frame(
        customer_email="Bonjour,\n\n{body}\n\nCordialement,\n{name}",
        agent_email=(
            "Bonjour {first_name},\n\n{body}\n\nBien cordialement,\n{agent}\n"
            "Service client Harbor & Pine"
        ),
        agent_chat="Bonjour {first_name} ! {body}",
        nudge="Avez-vous du nouveau ? Je n'ai pas encore eu de réponse.",
        duplicate=(
            "Je vous ai déjà écrit à ce sujet il y a quelques heures ({subject}). "
            "Quelqu'un peut-il me répondre ?"
        ),
        follow_up_order=(
            "Encore une question sur la commande {order} : pourriez-vous m'envoyer une facture ? "
            "J'en ai besoin pour mes dossiers."
        ),
        follow_up_plain="Une autre question : proposez-vous un emballage cadeau ?",
        follow_up_reply_order=(
            "Bien sûr, je viens de vous envoyer la facture de la commande {order} par e-mail."
        ),
        follow_up_reply_plain=(
            "Oui ! Cochez simplement « Emballage cadeau » lors du paiement ; il est offert dès "
            "50 d'achat."
        ),
    ),
    "es": Frame(
        customer_email="Hola:\n\n{body}\n\nGracias,\n{name}",
        agent_email=(
            "Hola, {first_name}:\n\n{body}\n\nUn saludo,\n{agent}\n"
            "Atención al cliente de Harbor & Pine"
        ),
        agent_chat="¡Hola, {first_name}! {body}",
        nudge="¿Alguna novedad? Todavía no he recibido respuesta.",
        duplicate=(
            "Ya os escribí sobre esto hace unas horas ({subject}). ¿Alguien me puede responder?"
        ),
        follow_up_order=(
            "Una cosa más sobre el pedido {order}: ¿me podéis enviar la factura? "
            "La necesito para mis cuentas."
        ),
        follow_up_plain="Otra pregunta: ¿ofrecéis envoltorio de regalo?",
        follow_up_reply_order=(
            "¡Claro! Te acabo de enviar por correo la factura del pedido {order}."
        ),
        follow_up_reply_plain=(
            "¡Sí! Marca «Envolver para regalo» al pagar; es gratis en pedidos de más de 50."
        ),
    ),
    "pt": Frame(
        customer_email="Olá,\n\n{body}\n\nObrigado,\n{name}",
        agent_email="Olá, {first_name}!\n\n{body}\n\nAbraços,\n{agent}\nAtendimento Harbor & Pine",
        agent_chat="Olá, {first_name}! {body}",
        nudge="Alguma novidade? Ainda não tive resposta.",
        duplicate=("Já escrevi sobre isso há algumas horas ({subject}). Alguém pode me responder?"),
        follow_up_order=(
            "Mais uma coisa sobre o pedido {order}: podem me enviar a nota fiscal? "
            "Preciso para os meus registros."
        ),
        follow_up_plain="Mais uma pergunta: vocês têm embalagem para presente?",
        follow_up_reply_order="Claro! Acabei de enviar por e-mail a nota fiscal do pedido {order}.",
        follow_up_reply_plain=(
            "Sim! É só marcar “Embalagem para presente” no checkout; é grátis em pedidos "
            "acima de 50."
        ),
    ),
}

SCENARIOS = (
    Scenario(
        key="where_is_my_order",
        weight=22,
        team="support",
        tags=("shipping",),
        priority="normal",
        order_states=FULFILLED,
        notes=(
            "Tracking shows no scan since the {carrier} hub. Opened a trace request with "
            "{carrier}.",
            "Warehouse confirms the parcel left on time; this one is on {carrier}'s side.",
        ),
        scripts={
            "en": Script(
                subject="Where is my order {order}?",
                openings=(
                    "I ordered the {product} ({order}) and it still hasn't arrived. The "
                    "tracking page hasn't changed in three days. Can you check what's going on?",
                    "My order {order} was supposed to arrive on Monday and there's still no sign "
                    "of it. Where is it?",
                    "hey, just wondering where my order {order} is? tracking says in transit "
                    "for days",
                ),
                first_reply=(
                    "Thanks for reaching out! I checked order {order}: it left our warehouse and "
                    "is with {carrier} under tracking number {tracking}. You can follow it here: "
                    "{tracking_url}. Parcels to {city} usually arrive within 2–3 business days "
                    "of the last scan."
                ),
                follow_up=(
                    "Thanks. It still says 'in transit' though. What happens if it doesn't show "
                    "up by Friday?"
                ),
                resolution=(
                    "I've opened a trace with {carrier} so they look for it at the depot. If it "
                    "hasn't arrived by Friday, let me know here and I'll send a replacement right "
                    "away at no cost."
                ),
                thanks="It just arrived! Thank you for the quick help.",
            ),
            "de": Script(
                subject="Wo ist meine Bestellung {order}?",
                openings=(
                    "Ich habe {product} bestellt (Bestellung {order}), aber das Paket ist immer "
                    "noch nicht da. Die Sendungsverfolgung hat sich seit drei Tagen nicht "
                    "geändert. Können Sie bitte nachsehen?",
                ),
                first_reply=(
                    "Vielen Dank für Ihre Nachricht! Bestellung {order} hat unser Lager verlassen "
                    "und ist bei {carrier} unter der Sendungsnummer {tracking} unterwegs. Den "
                    "aktuellen Stand sehen Sie hier: {tracking_url}. Nach dem letzten Scan dauert "
                    "die Zustellung nach {city} meist 2–3 Werktage."
                ),
                follow_up=(
                    "Danke. Dort steht aber immer noch „in Zustellung“. Was passiert, wenn es "
                    "bis Freitag nicht ankommt?"
                ),
                resolution=(
                    "Ich habe bei {carrier} einen Nachforschungsauftrag gestellt. Falls das Paket "
                    "bis Freitag nicht ankommt, melden Sie sich einfach hier, dann schicken wir "
                    "Ihnen sofort kostenlos Ersatz."
                ),
                thanks="Das Paket ist gerade angekommen! Vielen Dank für die schnelle Hilfe.",
            ),
            "fr": Script(
                subject="Où est ma commande {order} ?",
                openings=(
                    "J'ai commandé {product} (commande {order}) et je ne l'ai toujours pas reçu. "
                    "Le suivi n'a pas bougé depuis trois jours. Pouvez-vous vérifier ?",
                ),
                first_reply=(
                    "Merci pour votre message ! La commande {order} a quitté notre entrepôt et "
                    "elle est prise en charge par {carrier} sous le numéro {tracking}. Vous "
                    "pouvez suivre le colis ici : {tracking_url}. La livraison à {city} prend "
                    "généralement 2 à 3 jours ouvrés après le dernier scan."
                ),
                follow_up=(
                    "Merci. Mais le suivi indique toujours « en transit ». Que se passe-t-il si "
                    "le colis n'arrive pas d'ici vendredi ?"
                ),
                resolution=(
                    "J'ai ouvert une enquête auprès de {carrier}. Si le colis n'est pas arrivé "
                    "vendredi, écrivez-nous ici et nous vous enverrons un remplacement "
                    "gratuitement."
                ),
                thanks="Le colis vient d'arriver ! Merci beaucoup pour votre aide.",
            ),
            "es": Script(
                subject="¿Dónde está mi pedido {order}?",
                openings=(
                    "Pedí {product} (pedido {order}) y todavía no ha llegado. El seguimiento no "
                    "se ha actualizado en tres días. ¿Podéis revisarlo?",
                ),
                first_reply=(
                    "¡Gracias por escribirnos! El pedido {order} salió de nuestro almacén y lo "
                    "lleva {carrier} con el número de seguimiento {tracking}. Puedes seguirlo "
                    "aquí: {tracking_url}. Los envíos a {city} suelen llegar en 2–3 días "
                    "laborables desde el último escaneo."
                ),
                follow_up=(
                    "Gracias. Pero sigue poniendo «en tránsito». ¿Qué pasa si no llega antes del "
                    "viernes?"
                ),
                resolution=(
                    "He abierto una reclamación con {carrier} para que lo busquen. Si no ha "
                    "llegado el viernes, escríbenos aquí y te enviamos uno nuevo sin coste."
                ),
                thanks="¡Acaba de llegar! Muchas gracias por la ayuda.",
            ),
            "pt": Script(
                subject="Onde está meu pedido {order}?",
                openings=(
                    "Comprei {product} (pedido {order}) e ainda não chegou. O rastreamento não "
                    "atualiza há três dias. Vocês podem verificar?",
                ),
                first_reply=(
                    "Obrigado pela mensagem! O pedido {order} saiu do nosso armazém e está com a "
                    "{carrier}, código de rastreamento {tracking}. Você pode acompanhar aqui: "
                    "{tracking_url}. Entregas para {city} costumam levar de 2 a 3 dias úteis "
                    "após o último registro."
                ),
                follow_up=("Obrigado. Mas continua “em trânsito”. E se não chegar até sexta?"),
                resolution=(
                    "Abri uma solicitação de investigação com a {carrier}. Se não chegar até "
                    "sexta, é só responder aqui que enviamos outro sem custo."
                ),
                thanks="Acabou de chegar! Muito obrigado pela ajuda.",
            ),
        },
    ),
    Scenario(
        key="not_shipped_yet",
        weight=8,
        team="support",
        tags=("shipping", "delay"),
        priority="normal",
        order_states=UNFULFILLED,
        notes=(
            "The {product} was back-ordered; the warehouse says it ships tomorrow.",
            "Upgraded to express shipping as a goodwill gesture, approved by Alex.",
        ),
        scripts={
            "en": Script(
                subject="Order {order} not shipped yet",
                openings=(
                    "I placed order {order} last week and it still says unfulfilled. When will "
                    "it ship?",
                    "My order {order} hasn't shipped yet and I need the {product} for a trip "
                    "next week. Is there any way to speed it up?",
                ),
                first_reply=(
                    "Sorry for the wait! The {product} in your order was restocked later than "
                    "planned. Your order is packed and goes to the carrier tomorrow; you'll get "
                    "an email with the tracking link as soon as it ships."
                ),
                follow_up=(
                    "OK, thanks. Could you upgrade the shipping so it arrives before the weekend?"
                ),
                resolution=(
                    "Done: I've upgraded order {order} to express shipping at no charge. It "
                    "should reach you within 1–2 business days after dispatch."
                ),
                thanks="Perfect, thank you!",
            ),
        },
    ),
    Scenario(
        key="return_request",
        weight=14,
        team="returns-exchanges",
        tags=("return",),
        priority="normal",
        order_states=FULFILLED,
        notes=(
            "Prepaid return label created in the {carrier} portal.",
            "Customer's first return this year, well within the 30-day window.",
        ),
        scripts={
            "en": Script(
                subject="Return for order {order}",
                openings=(
                    "I'd like to return the {product} from order {order}. It doesn't suit me. "
                    "How does the return work?",
                    "I want to send back the {product} I received last week (order {order}). "
                    "Can you send me a return label?",
                ),
                first_reply=(
                    "Of course! You can return unworn items within 30 days. I've created a "
                    "prepaid return label for the {product}; you'll find it in your inbox in a "
                    "few minutes. Drop the parcel off at any {carrier} location and we'll refund "
                    "you as soon as it reaches our warehouse."
                ),
                follow_up=(
                    "Got the label, thanks. I dropped it off today. How long does the refund take?"
                ),
                resolution=(
                    "Thanks! Returns are checked within 3 business days of arrival. The refund "
                    "goes back to your original payment method, and your bank may take another "
                    "3–5 days to show it."
                ),
                thanks="Great, thanks for the help.",
            ),
            "de": Script(
                subject="Rücksendung für Bestellung {order}",
                openings=(
                    "Ich möchte {product} aus der Bestellung {order} zurückschicken, es passt "
                    "leider nicht zu mir. Wie funktioniert die Rücksendung?",
                ),
                first_reply=(
                    "Sehr gern! Ungetragene Artikel können Sie innerhalb von 30 Tagen "
                    "zurückgeben. Ich habe Ihnen ein kostenloses Retourenetikett erstellt, es ist "
                    "in wenigen Minuten in Ihrem Postfach. Geben Sie das Paket einfach bei "
                    "{carrier} ab; sobald es bei uns ankommt, erstatten wir den Betrag."
                ),
                follow_up=(
                    "Etikett ist angekommen, danke. Ich habe das Paket heute abgegeben. Wie lange "
                    "dauert die Erstattung?"
                ),
                resolution=(
                    "Danke! Rücksendungen prüfen wir innerhalb von 3 Werktagen nach Eingang. Die "
                    "Erstattung geht an die ursprüngliche Zahlungsart; Ihre Bank braucht "
                    "eventuell noch 3–5 Tage."
                ),
                thanks="Super, danke für die Hilfe.",
            ),
            "fr": Script(
                subject="Retour de la commande {order}",
                openings=(
                    "Je souhaite retourner {product} de la commande {order}, il ne me va pas. "
                    "Comment faire ?",
                ),
                first_reply=(
                    "Bien sûr ! Les articles non portés peuvent être retournés sous 30 jours. Je "
                    "vous ai créé une étiquette de retour prépayée, vous la recevrez par e-mail "
                    "dans quelques minutes. Déposez le colis dans un point {carrier} et nous vous "
                    "rembourserons dès sa réception à l'entrepôt."
                ),
                follow_up=(
                    "J'ai bien reçu l'étiquette, merci. J'ai déposé le colis aujourd'hui. Combien "
                    "de temps prend le remboursement ?"
                ),
                resolution=(
                    "Merci ! Les retours sont contrôlés sous 3 jours ouvrés après réception. Le "
                    "remboursement est fait sur votre moyen de paiement d'origine ; votre banque "
                    "peut mettre 3 à 5 jours supplémentaires."
                ),
                thanks="Parfait, merci pour votre aide.",
            ),
            "es": Script(
                subject="Devolución del pedido {order}",
                openings=(
                    "Quiero devolver {product} del pedido {order}, no me queda bien. ¿Cómo "
                    "funciona la devolución?",
                ),
                first_reply=(
                    "¡Claro! Puedes devolver los artículos sin usar en un plazo de 30 días. Te he "
                    "creado una etiqueta de devolución prepagada; te llegará por correo en unos "
                    "minutos. Entrega el paquete en cualquier oficina de {carrier} y te haremos "
                    "el reembolso en cuanto llegue a nuestro almacén."
                ),
                follow_up=(
                    "Ya tengo la etiqueta, gracias. Hoy he entregado el paquete. ¿Cuánto tarda "
                    "el reembolso?"
                ),
                resolution=(
                    "¡Gracias! Revisamos las devoluciones en 3 días laborables desde que llegan. "
                    "El reembolso se hace al método de pago original; tu banco puede tardar 3–5 "
                    "días más en mostrarlo."
                ),
                thanks="Genial, gracias por la ayuda.",
            ),
            "pt": Script(
                subject="Devolução do pedido {order}",
                openings=(
                    "Quero devolver {product} do pedido {order}, não ficou bom em mim. Como "
                    "funciona a devolução?",
                ),
                first_reply=(
                    "Claro! Itens sem uso podem ser devolvidos em até 30 dias. Criei uma etiqueta "
                    "de devolução pré-paga; ela chega no seu e-mail em alguns minutos. É só levar "
                    "o pacote a uma agência {carrier} e faremos o reembolso assim que ele chegar "
                    "ao nosso armazém."
                ),
                follow_up=(
                    "Recebi a etiqueta, obrigado. Postei o pacote hoje. Quanto tempo leva o "
                    "reembolso?"
                ),
                resolution=(
                    "Obrigado! Conferimos as devoluções em até 3 dias úteis após a chegada. O "
                    "reembolso vai para a forma de pagamento original; o banco pode levar mais 3 "
                    "a 5 dias."
                ),
                thanks="Ótimo, obrigado pela ajuda.",
            ),
        },
    ),
    Scenario(
        key="exchange_size",
        weight=14,
        team="returns-exchanges",
        tags=("exchange", "sizing"),
        priority="normal",
        order_states=FULFILLED,
        needs_size=True,
        notes=(
            "Reserved size {new_size} of the {product} in the warehouse system.",
            "Size {size} of the {product} runs small: third complaint this month, flagged to "
            "merchandising.",
        ),
        scripts={
            "en": Script(
                subject="Exchange {product} for size {new_size}",
                openings=(
                    "The {product} I ordered in size {size} is too small. Can I exchange it for "
                    "a {new_size}? Order {order}.",
                    "Love the {product} but size {size} runs small. Could you swap it for "
                    "{new_size}? Order {order}.",
                ),
                first_reply=(
                    "Happy to help! Size {new_size} is in stock, so I've reserved one for you. "
                    "Please send the {size} back with the return label I just emailed you; we'll "
                    "ship the {new_size} as soon as {carrier} scans your parcel, no need to wait "
                    "until it reaches us."
                ),
                follow_up="Sent it back this morning. Thanks!",
                resolution=(
                    "Your return was scanned by {carrier}, so the {product} in size {new_size} is "
                    "on its way. You'll get the tracking link by email shortly."
                ),
                thanks="It fits perfectly. Thank you!",
            ),
            "de": Script(
                subject="Umtausch {product} in Größe {new_size}",
                openings=(
                    "{product} in Größe {size} ist mir zu klein (Bestellung {order}). Kann ich es "
                    "gegen {new_size} umtauschen?",
                ),
                first_reply=(
                    "Sehr gern! Größe {new_size} ist vorrätig und ich habe sie für Sie "
                    "reserviert. Schicken Sie die {size} bitte mit dem Retourenetikett zurück, "
                    "das ich Ihnen gerade gemailt habe; wir versenden die {new_size}, sobald "
                    "{carrier} Ihr Paket scannt."
                ),
                follow_up="Habe es heute Morgen zurückgeschickt. Danke!",
                resolution=(
                    "Ihre Rücksendung wurde von {carrier} gescannt, {product} in Größe "
                    "{new_size} ist unterwegs. Den Sendungslink bekommen Sie gleich per E-Mail."
                ),
                thanks="Passt perfekt. Vielen Dank!",
            ),
            "fr": Script(
                subject="Échange {product} en taille {new_size}",
                openings=(
                    "{product} en taille {size} est trop petit (commande {order}). Puis-je "
                    "l'échanger contre une taille {new_size} ?",
                ),
                first_reply=(
                    "Avec plaisir ! La taille {new_size} est en stock et je vous l'ai réservée. "
                    "Renvoyez la taille {size} avec l'étiquette que je viens de vous envoyer par "
                    "e-mail : nous expédierons la taille {new_size} dès que {carrier} aura scanné "
                    "votre colis."
                ),
                follow_up="Je l'ai renvoyé ce matin. Merci !",
                resolution=(
                    "Votre retour a été scanné par {carrier} : {product} en taille {new_size} est "
                    "en route. Vous recevrez le lien de suivi par e-mail dans un instant."
                ),
                thanks="La taille est parfaite. Merci !",
            ),
            "es": Script(
                subject="Cambio de {product} a la talla {new_size}",
                openings=(
                    "{product} en talla {size} me queda pequeño (pedido {order}). ¿Puedo "
                    "cambiarlo por una {new_size}?",
                ),
                first_reply=(
                    "¡Con gusto! La talla {new_size} está disponible y te la he reservado. "
                    "Devuelve la {size} con la etiqueta que te acabo de enviar por correo; "
                    "enviaremos la {new_size} en cuanto {carrier} escanee tu paquete."
                ),
                follow_up="Lo he enviado esta mañana. ¡Gracias!",
                resolution=(
                    "{carrier} ya ha escaneado tu devolución, así que {product} en talla "
                    "{new_size} está en camino. En breve recibirás el enlace de seguimiento."
                ),
                thanks="Me queda perfecto. ¡Gracias!",
            ),
            "pt": Script(
                subject="Troca de {product} para o tamanho {new_size}",
                openings=(
                    "{product} no tamanho {size} ficou pequeno (pedido {order}). Posso trocar "
                    "pelo {new_size}?",
                ),
                first_reply=(
                    "Claro! O tamanho {new_size} está em estoque e já reservei um para você. "
                    "Envie o {size} de volta com a etiqueta que acabei de mandar por e-mail; "
                    "despachamos o {new_size} assim que a {carrier} registrar o seu pacote."
                ),
                follow_up="Enviei hoje de manhã. Obrigada!",
                resolution=(
                    "A {carrier} já registrou sua devolução, então {product} no tamanho "
                    "{new_size} está a caminho. Você recebe o link de rastreamento em instantes."
                ),
                thanks="Serviu perfeitamente. Obrigada!",
            ),
        },
    ),
    Scenario(
        key="damaged_item",
        weight=8,
        team="returns-exchanges",
        tags=("damaged",),
        priority="high",
        order_states=FULFILLED,
        notes=(
            "Photos received: seam tear, clearly a manufacturing defect. Replacement approved.",
            "Filed a damage claim with {carrier}; no need for the customer to send it back.",
        ),
        scripts={
            "en": Script(
                subject="Damaged item in order {order}",
                openings=(
                    "My order {order} arrived today but the {product} is damaged: there's a tear "
                    "along the seam. What can you do?",
                    "The box was crushed and the {product} inside is scuffed (order {order}). Not "
                    "happy, it was meant to be a gift.",
                ),
                first_reply=(
                    "I'm so sorry about that, it should never arrive like this. Could you send a "
                    "photo of the damage and of the shipping label? As soon as we have it I'll "
                    "send a replacement or a refund, whichever you prefer."
                ),
                follow_up="Here are the photos. I'd prefer a replacement please.",
                resolution=(
                    "Thank you for the photos. A replacement {product} is on its way with express "
                    "shipping, and there's no need to send the damaged one back. You'll get the "
                    "tracking link within 24 hours."
                ),
                thanks="Thank you, that's very kind.",
            ),
            "de": Script(
                subject="Beschädigter Artikel in Bestellung {order}",
                openings=(
                    "Meine Bestellung {order} kam heute an, aber {product} ist beschädigt: Die "
                    "Naht ist aufgerissen. Was können Sie tun?",
                ),
                first_reply=(
                    "Das tut mir sehr leid, so sollte Ihre Bestellung nicht ankommen. Könnten Sie "
                    "mir ein Foto vom Schaden und vom Versandetikett schicken? Dann sende ich "
                    "Ihnen Ersatz oder erstatte den Betrag, ganz wie Sie möchten."
                ),
                follow_up="Hier sind die Fotos. Ich hätte gern Ersatz.",
                resolution=(
                    "Danke für die Fotos! Ersatz für {product} ist per Express unterwegs, den "
                    "beschädigten Artikel müssen Sie nicht zurückschicken. Den Sendungslink "
                    "erhalten Sie innerhalb von 24 Stunden."
                ),
                thanks="Vielen Dank, das ist sehr nett.",
            ),
            "fr": Script(
                subject="Article endommagé dans la commande {order}",
                openings=(
                    "Ma commande {order} est arrivée aujourd'hui mais {product} est abîmé : la "
                    "couture est déchirée. Que pouvez-vous faire ?",
                ),
                first_reply=(
                    "Toutes nos excuses, votre commande n'aurait jamais dû arriver dans cet état. "
                    "Pouvez-vous m'envoyer une photo du défaut et de l'étiquette d'expédition ? "
                    "Je vous enverrai ensuite un remplacement ou un remboursement, comme vous "
                    "préférez."
                ),
                follow_up="Voici les photos. Je préfère un remplacement, s'il vous plaît.",
                resolution=(
                    "Merci pour les photos ! Le remplacement de {product} part en express et vous "
                    "n'avez pas besoin de renvoyer l'article abîmé. Vous recevrez le lien de "
                    "suivi sous 24 heures."
                ),
                thanks="Merci, c'est très gentil.",
            ),
            "es": Script(
                subject="Artículo dañado en el pedido {order}",
                openings=(
                    "Mi pedido {order} llegó hoy pero {product} está dañado: tiene la costura "
                    "rota. ¿Qué podéis hacer?",
                ),
                first_reply=(
                    "Lo siento mucho, no debería haber llegado así. ¿Puedes enviarnos una foto "
                    "del daño y de la etiqueta de envío? Con eso te mandamos un repuesto o te "
                    "hacemos el reembolso, como prefieras."
                ),
                follow_up="Aquí están las fotos. Prefiero un repuesto, por favor.",
                resolution=(
                    "¡Gracias por las fotos! El repuesto de {product} sale por envío urgente y no "
                    "hace falta que devuelvas el dañado. Recibirás el enlace de seguimiento en 24 "
                    "horas."
                ),
                thanks="Muchas gracias, sois muy amables.",
            ),
        },
    ),
    Scenario(
        key="change_address",
        weight=7,
        team="support",
        tags=("address change",),
        priority="high",
        order_states=UNFULFILLED,
        notes=(
            "Updated the address in the shop admin before the pick list was printed.",
            "Warehouse confirmed the label wasn't printed yet.",
        ),
        scripts={
            "en": Script(
                subject="Change shipping address for {order}",
                openings=(
                    "I just realised I used my old address for order {order}. Can you change it "
                    "to my new one before it ships?",
                    "Can I still update the delivery address on {order}? I'll be staying "
                    "somewhere else that week.",
                ),
                first_reply=(
                    "Good timing: order {order} hasn't shipped yet, so we can still change it. "
                    "Could you send me the full new address, including the postal code?"
                ),
                follow_up="Sure: {new_address}",
                resolution=(
                    "Thanks! I've updated the shipping address on order {order}. You'll receive "
                    "the tracking link once it ships."
                ),
                thanks="Thank you!",
            ),
            "de": Script(
                subject="Lieferadresse für {order} ändern",
                openings=(
                    "Ich habe bei Bestellung {order} versehentlich meine alte Adresse angegeben. "
                    "Können Sie sie noch ändern, bevor das Paket verschickt wird?",
                ),
                first_reply=(
                    "Gutes Timing: Bestellung {order} ist noch nicht versendet, wir können die "
                    "Adresse also noch ändern. Schicken Sie mir bitte die vollständige neue "
                    "Adresse mit Postleitzahl."
                ),
                follow_up="Gern: {new_address}",
                resolution=(
                    "Danke! Ich habe die Lieferadresse der Bestellung {order} geändert. Sobald "
                    "das Paket unterwegs ist, bekommen Sie den Sendungslink."
                ),
                thanks="Vielen Dank!",
            ),
            "fr": Script(
                subject="Modifier l'adresse de livraison de {order}",
                openings=(
                    "J'ai indiqué mon ancienne adresse pour la commande {order}. Pouvez-vous la "
                    "modifier avant l'expédition ?",
                ),
                first_reply=(
                    "Bonne nouvelle : la commande {order} n'est pas encore partie, nous pouvons "
                    "donc encore modifier l'adresse. Pouvez-vous m'envoyer la nouvelle adresse "
                    "complète avec le code postal ?"
                ),
                follow_up="Bien sûr : {new_address}",
                resolution=(
                    "Merci ! J'ai mis à jour l'adresse de livraison de la commande {order}. Vous "
                    "recevrez le lien de suivi dès l'expédition."
                ),
                thanks="Merci beaucoup !",
            ),
            "es": Script(
                subject="Cambiar la dirección de envío de {order}",
                openings=(
                    "Puse mi dirección antigua en el pedido {order}. ¿Podéis cambiarla antes de "
                    "que se envíe?",
                ),
                first_reply=(
                    "¡Justo a tiempo! El pedido {order} aún no ha salido, así que podemos cambiar "
                    "la dirección. ¿Me envías la dirección nueva completa con el código postal?"
                ),
                follow_up="Claro: {new_address}",
                resolution=(
                    "¡Gracias! He actualizado la dirección de envío del pedido {order}. Recibirás "
                    "el enlace de seguimiento cuando se envíe."
                ),
                thanks="¡Muchas gracias!",
            ),
        },
    ),
    Scenario(
        key="refund_status",
        weight=8,
        team="returns-exchanges",
        tags=("refund",),
        priority="normal",
        order_states=REFUNDED,
        notes=(
            "Refund of {amount} issued on the original payment method; the customer's bank is "
            "slow.",
            "Checked the payment provider: refund settled.",
        ),
        scripts={
            "en": Script(
                subject="Refund for order {order}",
                openings=(
                    "I sent my return back two weeks ago and haven't seen the refund for order "
                    "{order} yet. Can you check?",
                    "Where is my refund? The return for {order} was delivered to you last week.",
                ),
                first_reply=(
                    "Thanks for your patience. Your return for order {order} arrived and was "
                    "approved. The refund of {amount} was issued to your original payment "
                    "method; depending on your bank it takes 3–5 business days to appear."
                ),
                follow_up=("Still nothing on my card statement. Can you send me a confirmation?"),
                resolution=(
                    "Of course, I've emailed you the refund confirmation with the transaction "
                    "reference. Your bank can use it to trace the payment."
                ),
                thanks="Found it on my statement today. Thanks!",
            ),
            "de": Script(
                subject="Erstattung für Bestellung {order}",
                openings=(
                    "Ich habe meine Rücksendung vor zwei Wochen abgeschickt, aber die Erstattung "
                    "für Bestellung {order} ist noch nicht da. Können Sie das prüfen?",
                ),
                first_reply=(
                    "Danke für Ihre Geduld! Ihre Rücksendung zur Bestellung {order} ist bei uns "
                    "angekommen und wurde geprüft. Die Erstattung über {amount} ging an Ihre "
                    "ursprüngliche Zahlungsart; je nach Bank dauert es 3–5 Werktage, bis sie "
                    "sichtbar ist."
                ),
                follow_up=(
                    "Auf meinem Konto ist noch nichts. Können Sie mir eine Bestätigung schicken?"
                ),
                resolution=(
                    "Natürlich, ich habe Ihnen die Erstattungsbestätigung mit der "
                    "Transaktionsreferenz per E-Mail geschickt. Damit kann Ihre Bank die Zahlung "
                    "nachverfolgen."
                ),
                thanks="Heute ist das Geld angekommen. Danke!",
            ),
            "fr": Script(
                subject="Remboursement de la commande {order}",
                openings=(
                    "J'ai renvoyé mon colis il y a deux semaines et je n'ai toujours pas reçu le "
                    "remboursement de la commande {order}. Pouvez-vous vérifier ?",
                ),
                first_reply=(
                    "Merci pour votre patience. Votre retour pour la commande {order} est bien "
                    "arrivé et a été validé. Le remboursement de {amount} a été effectué sur "
                    "votre moyen de paiement d'origine ; selon votre banque, il apparaît sous 3 à "
                    "5 jours ouvrés."
                ),
                follow_up=(
                    "Toujours rien sur mon relevé. Pouvez-vous m'envoyer une confirmation ?"
                ),
                resolution=(
                    "Bien sûr, je vous ai envoyé par e-mail la confirmation du remboursement avec "
                    "la référence de transaction. Votre banque pourra l'utiliser pour retrouver "
                    "le paiement."
                ),
                thanks="Je le vois sur mon relevé aujourd'hui. Merci !",
            ),
            "es": Script(
                subject="Reembolso del pedido {order}",
                openings=(
                    "Devolví el paquete hace dos semanas y todavía no he recibido el reembolso "
                    "del pedido {order}. ¿Podéis comprobarlo?",
                ),
                first_reply=(
                    "Gracias por tu paciencia. Tu devolución del pedido {order} llegó y está "
                    "aprobada. El reembolso de {amount} se hizo a tu método de pago original; "
                    "según tu banco, puede tardar 3–5 días laborables en aparecer."
                ),
                follow_up="Sigo sin verlo en mi cuenta. ¿Me podéis mandar una confirmación?",
                resolution=(
                    "Claro, te he enviado por correo la confirmación del reembolso con la "
                    "referencia de la transacción. Tu banco puede usarla para localizar el pago."
                ),
                thanks="Hoy ya aparece en mi cuenta. ¡Gracias!",
            ),
            "pt": Script(
                subject="Reembolso do pedido {order}",
                openings=(
                    "Devolvi o produto há duas semanas e ainda não recebi o reembolso do pedido "
                    "{order}. Podem verificar?",
                ),
                first_reply=(
                    "Obrigado pela paciência. Sua devolução do pedido {order} chegou e foi "
                    "aprovada. O reembolso de {amount} foi feito na forma de pagamento original; "
                    "dependendo do banco, leva de 3 a 5 dias úteis para aparecer."
                ),
                follow_up="Ainda não apareceu na fatura. Podem me mandar um comprovante?",
                resolution=(
                    "Claro, enviei por e-mail o comprovante do reembolso com o código da "
                    "transação. Seu banco pode usá-lo para localizar o pagamento."
                ),
                thanks="Apareceu hoje na fatura. Obrigado!",
            ),
        },
    ),
    Scenario(
        key="discount_code",
        weight=7,
        team="support",
        tags=("discount",),
        priority="low",
        order_states=None,
        notes=(
            "{code} excludes sale items. We get this question a lot; maybe update the "
            "newsletter copy?",
            "Created the single-use code {new_code}.",
        ),
        scripts={
            "en": Script(
                subject="Discount code {code} not working",
                openings=(
                    "The code {code} from your newsletter isn't working at checkout. It says the "
                    "code is invalid.",
                    "I tried to use {code} but the discount doesn't apply to the {product}. Is it "
                    "excluded?",
                ),
                first_reply=(
                    "Sorry about that! {code} only applies to full-price items, and the "
                    "{product} is currently on sale, so it was excluded. I've made you a "
                    "personal code that works on sale items too: {new_code}"
                ),
                follow_up="The new one worked, thank you!",
                resolution="Great to hear! Enjoy your order.",
                thanks="Thanks again.",
            ),
            "de": Script(
                subject="Rabattcode {code} funktioniert nicht",
                openings=(
                    "Der Code {code} aus Ihrem Newsletter funktioniert an der Kasse nicht, es "
                    "heißt, er sei ungültig.",
                ),
                first_reply=(
                    "Das tut mir leid! {code} gilt nur für Artikel zum vollen Preis, reduzierte "
                    "Artikel sind ausgenommen. Ich habe Ihnen einen persönlichen Code erstellt, "
                    "der auch im Sale gilt: {new_code}"
                ),
                follow_up="Der neue Code hat funktioniert, danke!",
                resolution="Schön zu hören! Viel Freude mit Ihrer Bestellung.",
                thanks="Danke nochmal!",
            ),
            "fr": Script(
                subject="Le code promo {code} ne fonctionne pas",
                openings=(
                    "Le code {code} de votre newsletter ne fonctionne pas au paiement : il est "
                    "indiqué comme invalide.",
                ),
                first_reply=(
                    "Désolés pour ce souci ! {code} s'applique uniquement aux articles à prix "
                    "plein, les articles soldés sont exclus. Je vous ai créé un code personnel "
                    "valable aussi sur les soldes : {new_code}"
                ),
                follow_up="Le nouveau code a fonctionné, merci !",
                resolution="Super ! Bonne commande et à bientôt.",
                thanks="Merci encore !",
            ),
            "es": Script(
                subject="El código {code} no funciona",
                openings=(
                    "El código {code} de vuestra newsletter no funciona al pagar: dice que no es "
                    "válido.",
                ),
                first_reply=(
                    "¡Perdona las molestias! {code} solo se aplica a artículos a precio completo "
                    "y excluye las rebajas. Te he creado un código personal que también funciona "
                    "en rebajas: {new_code}"
                ),
                follow_up="¡El nuevo código ha funcionado, gracias!",
                resolution="¡Genial! Que disfrutes tu pedido.",
                thanks="¡Gracias de nuevo!",
            ),
        },
    ),
    Scenario(
        key="cancel_order",
        weight=6,
        team="support",
        tags=("cancellation",),
        priority="high",
        order_states=UNFULFILLED,
        notes=(
            "Cancelled in the shop admin before fulfilment; payment authorisation voided.",
            "Customer is placing a new order in another colour.",
        ),
        scripts={
            "en": Script(
                subject="Cancel order {order}",
                openings=(
                    "Please cancel my order {order}, I ordered the wrong colour by mistake.",
                    "Can I still cancel {order}? Turns out I won't need it.",
                ),
                first_reply=(
                    "No problem: order {order} hadn't shipped yet, so I've cancelled it. The "
                    "payment authorisation will be released within a few days; you won't be "
                    "charged."
                ),
                follow_up="Thanks. Can I place a new one with the right colour?",
                resolution=(
                    "Absolutely, the {product} is in stock in all colours. Just place a new order "
                    "and it will ship within one business day."
                ),
                thanks="Done, thanks!",
            ),
            "de": Script(
                subject="Bestellung {order} stornieren",
                openings=(
                    "Bitte stornieren Sie meine Bestellung {order}, ich habe aus Versehen die "
                    "falsche Farbe bestellt.",
                ),
                first_reply=(
                    "Kein Problem: Bestellung {order} war noch nicht versendet, ich habe sie "
                    "storniert. Die Zahlungsreservierung wird in wenigen Tagen freigegeben; "
                    "Ihnen wird nichts berechnet."
                ),
                follow_up=(
                    "Danke. Kann ich dann eine neue Bestellung in der richtigen Farbe aufgeben?"
                ),
                resolution=(
                    "Natürlich, {product} ist in allen Farben vorrätig. Geben Sie einfach eine "
                    "neue Bestellung auf, sie wird innerhalb eines Werktags versendet."
                ),
                thanks="Erledigt, danke!",
            ),
            "fr": Script(
                subject="Annuler la commande {order}",
                openings=(
                    "Pouvez-vous annuler ma commande {order} ? J'ai commandé la mauvaise couleur "
                    "par erreur.",
                ),
                first_reply=(
                    "Pas de souci : la commande {order} n'était pas encore expédiée, je l'ai "
                    "annulée. L'autorisation de paiement sera levée d'ici quelques jours, rien "
                    "ne vous sera débité."
                ),
                follow_up="Merci. Je peux repasser commande dans la bonne couleur ?",
                resolution=(
                    "Bien sûr, {product} est en stock dans toutes les couleurs. Passez simplement "
                    "une nouvelle commande, elle partira sous un jour ouvré."
                ),
                thanks="C'est fait, merci !",
            ),
            "es": Script(
                subject="Cancelar el pedido {order}",
                openings=("¿Podéis cancelar mi pedido {order}? Me equivoqué de color.",),
                first_reply=(
                    "Sin problema: el pedido {order} aún no se había enviado, así que lo he "
                    "cancelado. La autorización del pago se liberará en unos días; no se te "
                    "cobrará nada."
                ),
                follow_up="Gracias. ¿Puedo hacer un pedido nuevo con el color correcto?",
                resolution=(
                    "¡Claro! {product} está disponible en todos los colores. Haz un pedido nuevo "
                    "y saldrá en un día laborable."
                ),
                thanks="Hecho, ¡gracias!",
            ),
        },
    ),
    Scenario(
        key="wrong_item",
        weight=5,
        team="returns-exchanges",
        tags=("wrong item",),
        priority="high",
        order_states=FULFILLED,
        notes=(
            "Pick error in the warehouse, reported to the shift lead.",
            "Replacement shipped express at our cost.",
        ),
        scripts={
            "en": Script(
                subject="Wrong item received in order {order}",
                openings=(
                    "I ordered the {product} but there was something completely different in my "
                    "parcel (order {order}).",
                ),
                first_reply=(
                    "I'm really sorry, it looks like two parcels got mixed up in our warehouse. "
                    "I've sent you a prepaid return label for the wrong item and the {product} "
                    "is being packed for you right now."
                ),
                follow_up="Thanks. Do I have to wait until you get the wrong item back?",
                resolution=(
                    "Not at all: your {product} ships today with express delivery. Just return "
                    "the other item whenever it suits you within 30 days."
                ),
                thanks="Received the right one, thank you!",
            ),
        },
    ),
    Scenario(
        key="product_question",
        weight=6,
        team="support",
        tags=("product question",),
        priority="low",
        order_states=None,
        needs_size=True,
        notes=("Forwarded the fit question to the product team for the size guide.",),
        scripts={
            "en": Script(
                subject="Question about the {product}",
                openings=(
                    "How does the {product} fit? I'm usually a size {size}. Should I size up?",
                    "Quick question about the {product}: does it run true to size? I'm between "
                    "{size} and {new_size}.",
                ),
                first_reply=(
                    "Great question! The {product} has a regular fit and most customers take "
                    "their usual size. If you're between sizes or like a relaxed fit, go one "
                    "size up."
                ),
                follow_up="Thanks! Do you ship to {country}?",
                resolution=(
                    "We do: shipping to {country} takes 3–5 business days and is free on orders "
                    "over 100."
                ),
                thanks="Ordering now, thanks!",
            ),
        },
    ),
    Scenario(
        key="wholesale_inquiry",
        weight=3,
        team="vip-wholesale",
        tags=("wholesale",),
        priority="high",
        order_states=None,
        notes=(
            "Promising lead: {company} in {city}. Sent the line sheet.",
            "Alex approved 50% off retail for the first order; net-30 from the second.",
        ),
        scripts={
            "en": Script(
                subject="Wholesale inquiry from {company}",
                openings=(
                    "I run a small boutique in {city} ({company}) and I'm interested in stocking "
                    "your knitwear and accessories. Do you offer wholesale pricing, and what are "
                    "your minimum order quantities?",
                ),
                first_reply=(
                    "Thank you for your interest in Harbor & Pine! We work with independent "
                    "boutiques: wholesale prices are 50% off retail, with a minimum first order "
                    "of 30 units across any styles. I've emailed you our current line sheet. "
                    "Which styles are you most interested in?"
                ),
                follow_up=(
                    "Thanks! We'd like to start with the Merino Crew Sweater and the Cashmere "
                    "Scarf, about 40 units in total. Can you do net-30 payment terms?"
                ),
                resolution=(
                    "For a first order we ask for payment up front; from the second order on "
                    "we're happy to offer net-30. I've sent you a draft order for 40 units, let "
                    "me know if you'd like any changes to sizes or colours."
                ),
                thanks="Perfect, we'll review the draft and confirm this week.",
            ),
        },
    ),
)

SCENARIOS_BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}
