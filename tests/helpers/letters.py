"""The consultation the letters' tests print (guide's case: chocolates for receptions)."""

from messagerie.models.consultations.identity import ConsultationIdentity

CONSULTATION = ConsultationIdentity(
    reference="202601",
    title="Achat de chocolats",
    object="Achat de chocolats pour les réceptions",
    organisation="Collectivité européenne d'Alsace",
    entity="Direction de la commande publique",
)
