"""French word lists and fixed examples of the demo database (constants only).

`models.demo` draws from these lists with a seeded generator. Everything a buyer reads is in
French; the e-mail domains of companies end in `.example` (RFC 2606), so that no demo address
can ever reach a real mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from messagerie.models.store.enums import Procedure

PARIS = ZoneInfo("Europe/Paris")


# --- Public bodies -----------------------------------------------------------------------


@dataclass(frozen=True)
class EntitySpec:
    """A purchasing entity: its name, the local part of its sender address, its address."""

    name: str
    mailbox: str
    address: str
    # What this service buys, when narrower than its organisation's kind (CATEGORIES keys).
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrganisationSpec:
    """A public body; `kind` selects what it buys, `reference` how it numbers consultations.

    `reference` is a format with {year}, {yy}, {proc} (procedure code) and {seq}.
    """

    name: str
    kind: str
    domain: str
    town: str
    reference: str
    entities: tuple[EntitySpec, ...]


CEA = "Collectivité européenne d'Alsace"
CEA_PROCUREMENT = "Direction de la commande publique"

ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(
        CEA,
        "departement",
        "alsace.eu",
        "Strasbourg",
        "CEA-{year}-{seq:04d}",
        (
            EntitySpec(CEA_PROCUREMENT, "marches", "Place du Quartier Blanc, 67964 Strasbourg"),
            EntitySpec(
                "Direction des routes et des mobilités",
                "routes.marches",
                "100 avenue d'Alsace, 68000 Colmar",
                ("voirie",),
            ),
            EntitySpec(
                "Direction de l'éducation et des collèges",
                "colleges.achats",
                "Place du Quartier Blanc, 67964 Strasbourg",
                ("batiment", "restauration", "informatique", "fournitures", "nettoyage"),
            ),
        ),
    ),
    OrganisationSpec(
        "Eurométropole de Strasbourg",
        "interco",
        "strasbourg.eu",
        "Strasbourg",
        "{year}-{seq:04d}",
        (
            EntitySpec(
                "Service de la commande publique",
                "commande.publique",
                "1 parc de l'Étoile, 67076 Strasbourg",
            ),
            EntitySpec(
                "Direction de l'espace public et naturel",
                "marches.espace-public",
                "1 parc de l'Étoile, 67076 Strasbourg",
                ("voirie", "espaces_verts", "eau"),
            ),
        ),
    ),
    OrganisationSpec(
        "Ville de Strasbourg",
        "commune",
        "strasbourg.eu",
        "Strasbourg",
        "{year}-{seq:04d}",
        (
            EntitySpec(
                "Direction des constructions et du patrimoine bâti",
                "marches.patrimoine",
                "1 parc de l'Étoile, 67076 Strasbourg",
                ("batiment", "etudes", "energie"),
            ),
        ),
    ),
    OrganisationSpec(
        "Ville de Colmar",
        "commune",
        "colmar.fr",
        "Colmar",
        "{proc}-{year}-{seq:03d}",
        (
            EntitySpec(
                "Service des marchés publics",
                "marches.publics",
                "1 place de la Mairie, 68000 Colmar",
            ),
            EntitySpec(
                "Centre technique municipal",
                "ctm.marches",
                "49 rue Ampère, 68000 Colmar",
                ("voirie", "espaces_verts", "vehicules", "batiment"),
            ),
        ),
    ),
    OrganisationSpec(
        "Ville de Mulhouse",
        "commune",
        "mulhouse.fr",
        "Mulhouse",
        "{proc}{yy}-{seq:03d}",
        (
            EntitySpec(
                "Direction de la commande publique",
                "commande.publique",
                "2 rue Pierre et Marie Curie, 68100 Mulhouse",
            ),
        ),
    ),
    OrganisationSpec(
        "Mulhouse Alsace Agglomération",
        "interco",
        "mulhouse-alsace.fr",
        "Mulhouse",
        "M2A-{yy}-{seq:03d}",
        (
            EntitySpec(
                "Service achats et marchés publics",
                "marches",
                "2 rue Pierre et Marie Curie, 68100 Mulhouse",
            ),
            EntitySpec(
                "Direction de la collecte et de la valorisation des déchets",
                "dechets.marches",
                "33 avenue de Colmar, 68100 Mulhouse",
                ("dechets", "vehicules"),
            ),
        ),
    ),
    OrganisationSpec(
        "Région Grand Est",
        "region",
        "grandest.fr",
        "Strasbourg",
        "RGE{yy}-{seq:04d}",
        (
            EntitySpec(
                "Direction des achats et de la commande publique",
                "commande.publique",
                "1 place Adrien Zeller, 67070 Strasbourg",
            ),
            EntitySpec(
                "Direction des lycées",
                "lycees.marches",
                "5 rue de Jéricho, 51037 Châlons-en-Champagne",
                ("batiment", "informatique", "restauration"),
            ),
        ),
    ),
    OrganisationSpec(
        "Hôpitaux Universitaires de Strasbourg",
        "hopital",
        "chru-strasbourg.fr",
        "Strasbourg",
        "HUS-{year}-{seq:03d}",
        (
            EntitySpec("Direction des achats", "achats", "1 place de l'Hôpital, 67091 Strasbourg"),
            EntitySpec(
                "Direction des travaux et du patrimoine",
                "travaux.marches",
                "1 place de l'Hôpital, 67091 Strasbourg",
                ("batiment", "energie", "etudes"),
            ),
        ),
    ),
    OrganisationSpec(
        "Groupe hospitalier de la région de Mulhouse et Sud Alsace",
        "hopital",
        "ghrmsa.fr",
        "Mulhouse",
        "GHR{yy}-{seq:03d}",
        (
            EntitySpec(
                "Direction des achats et de la logistique",
                "achats",
                "87 avenue d'Altkirch, 68100 Mulhouse",
            ),
        ),
    ),
    OrganisationSpec(
        "Université de Strasbourg",
        "universite",
        "unistra.fr",
        "Strasbourg",
        "UNISTRA-{year}-{seq:03d}",
        (
            EntitySpec(
                "Service des marchés publics", "marches", "4 rue Blaise Pascal, 67081 Strasbourg"
            ),
            EntitySpec(
                "Direction du patrimoine immobilier",
                "patrimoine.marches",
                "4 rue Blaise Pascal, 67081 Strasbourg",
                ("batiment", "etudes", "energie", "securite"),
            ),
        ),
    ),
    OrganisationSpec(
        "Université de Haute-Alsace",
        "universite",
        "uha.fr",
        "Mulhouse",
        "UHA{yy}-{seq:03d}",
        (
            EntitySpec(
                "Service achats et marchés",
                "achats-marches",
                "2 rue des Frères Lumière, 68093 Mulhouse",
            ),
        ),
    ),
    OrganisationSpec(
        "Service départemental d'incendie et de secours du Haut-Rhin",
        "sdis",
        "sdis68.fr",
        "Colmar",
        "SDIS68-{year}-{seq:03d}",
        (
            EntitySpec(
                "Groupement des finances et de la commande publique",
                "marches",
                "2 avenue Joseph Rey, 68000 Colmar",
            ),
        ),
    ),
    OrganisationSpec(
        "Service départemental d'incendie et de secours du Bas-Rhin",
        "sdis",
        "sdis67.com",
        "Illkirch-Graffenstaden",
        "SDIS67-{yy}-{seq:03d}",
        (
            EntitySpec(
                "Service de la commande publique",
                "commande.publique",
                "2 route de Lyon, 67400 Illkirch-Graffenstaden",
            ),
            EntitySpec(
                "Groupement logistique et matériels",
                "logistique.marches",
                "2 route de Lyon, 67400 Illkirch-Graffenstaden",
                ("vehicules", "fournitures", "medical"),
            ),
        ),
    ),
    OrganisationSpec(
        "Syndicat des eaux et de l'assainissement Alsace-Moselle",
        "syndicat",
        "sdea.fr",
        "Schiltigheim",
        "SDEA-{year}-{seq:04d}",
        (EntitySpec("Service des marchés", "marches", "1 rue de Rome, 67300 Schiltigheim"),),
    ),
    OrganisationSpec(
        "Ville de Haguenau",
        "commune",
        "haguenau.fr",
        "Haguenau",
        "{proc}{yy}-{seq:03d}",
        (
            EntitySpec(
                "Service de la commande publique",
                "commande.publique",
                "1 place Charles de Gaulle, 67500 Haguenau",
            ),
        ),
    ),
    OrganisationSpec(
        "Ville de Sélestat",
        "commune",
        "selestat.fr",
        "Sélestat",
        "{proc}-{year}-{seq:03d}",
        (EntitySpec("Service des marchés publics", "marches", "9 place d'Armes, 67600 Sélestat"),),
    ),
    OrganisationSpec(
        "Ville d'Obernai",
        "commune",
        "obernai.fr",
        "Obernai",
        "{proc}-{year}-{seq:03d}",
        (EntitySpec("Service des marchés publics", "marches", "Place du Marché, 67210 Obernai"),),
    ),
    OrganisationSpec(
        "Ville de Saverne",
        "commune",
        "saverne.fr",
        "Saverne",
        "{proc}{yy}-{seq:03d}",
        (EntitySpec("Service juridique et marchés", "marches", "78 Grand'Rue, 67700 Saverne"),),
    ),
    OrganisationSpec(
        "Saint-Louis Agglomération",
        "interco",
        "agglo-saint-louis.fr",
        "Saint-Louis",
        "SLA-{year}-{seq:03d}",
        (
            EntitySpec(
                "Direction de la commande publique",
                "commande.publique",
                "Place de l'Hôtel de Ville, 68300 Saint-Louis",
            ),
        ),
    ),
    OrganisationSpec(
        "Communauté de communes de la Vallée de Kaysersberg",
        "interco",
        "cc-kaysersberg.fr",
        "Kaysersberg Vignoble",
        "CCVK-{yy}-{seq:03d}",
        (
            EntitySpec(
                "Secrétariat général - marchés publics",
                "marches",
                "31 rue du Geisbourg, 68240 Kaysersberg Vignoble",
            ),
        ),
    ),
    OrganisationSpec(
        "Ville de Metz",
        "commune",
        "metz.fr",
        "Metz",
        "{year}-{seq:04d}",
        (EntitySpec("Pôle commande publique", "commande.publique", "1 place d'Armes, 57000 Metz"),),
    ),
    OrganisationSpec(
        "Département de la Moselle",
        "departement",
        "moselle.fr",
        "Metz",
        "CD57-{yy}-{seq:04d}",
        (
            EntitySpec(
                "Direction des finances et de la commande publique",
                "marches",
                "1 rue du Pont Moreau, 57000 Metz",
            ),
        ),
    ),
    OrganisationSpec(
        "Ville de Nancy",
        "commune",
        "nancy.fr",
        "Nancy",
        "{proc}{yy}-{seq:03d}",
        (
            EntitySpec(
                "Direction de la commande publique", "marches", "1 place Stanislas, 54000 Nancy"
            ),
        ),
    ),
    OrganisationSpec(
        "Habitats de Haute-Alsace",
        "bailleur",
        "hha.fr",
        "Colmar",
        "HHA{yy}-{seq:03d}",
        (EntitySpec("Service des marchés", "marches", "73 rue de Morat, 68000 Colmar"),),
    ),
)

# Short codes of the procedures in references such as "MAPA-2026-118" or "AO26-037".
PROCEDURE_CODES: dict[Procedure, str] = {
    Procedure.ADAPTED: "MAPA",
    Procedure.OPEN_TENDER: "AO",
    Procedure.RESTRICTED_TENDER: "AOR",
    Procedure.NEGOTIATED: "PN",
    Procedure.COMPETITIVE_DIALOGUE: "DC",
}


# --- What they buy -------------------------------------------------------------------------

QA = tuple[str, str]


@dataclass(frozen=True)
class Category:
    """A family of purchases: titles ({town}, {building}, {year}, {next_year}), lot titles,
    trades of the companies, questions with their answers."""

    titles: tuple[str, ...]
    details: tuple[str, ...]
    lots: tuple[str, ...]
    trades: tuple[str, ...]
    questions: tuple[QA, ...]
    # Share of the companies working in this trade (relative weight).
    companies: int


CATEGORIES: dict[str, Category] = {
    "batiment": Category(
        titles=(
            "Réhabilitation {building}",
            "Rénovation énergétique {building}",
            "Extension {building}",
            "Restructuration {building}",
            "Mise en accessibilité {building}",
            "Réfection des toitures {building}",
        ),
        details=(
            "Travaux répartis en lots séparés, marché ordinaire",
            "Travaux en site occupé, phasage imposé pendant les vacances scolaires",
            "Opération labellisée bâtiment basse consommation",
        ),
        lots=(
            "Gros œuvre - Maçonnerie",
            "Charpente - Couverture - Zinguerie",
            "Menuiseries extérieures aluminium",
            "Plâtrerie - Isolation - Faux plafonds",
            "Électricité courants forts et courants faibles",
            "Chauffage - Ventilation - Plomberie sanitaire",
            "Peinture - Revêtements muraux",
            "Carrelage - Faïence",
            "Menuiseries intérieures bois",
            "Désamiantage",
        ),
        trades=(
            "Bâtiment",
            "Construction",
            "Menuiserie",
            "Charpente",
            "Électricité",
            "Plomberie",
            "Peinture",
            "Couverture",
            "Carrelage",
            "Plâtrerie",
        ),
        questions=(
            (
                "La visite du site est-elle obligatoire ? Si oui, à quelles dates est-elle "
                "organisée ?",
                "La visite est facultative. Elle peut être organisée sur rendez-vous auprès du "
                "service technique, du lundi au vendredi.",
            ),
            (
                "Les plans au format DWG peuvent-ils être mis à disposition des candidats ?",
                "Les plans au format DWG ont été ajoutés au dossier de consultation.",
            ),
            (
                "Le diagnostic amiante avant travaux est-il disponible ?",
                "Le repérage amiante avant travaux figure en annexe 4 du CCTP.",
            ),
            (
                "Pouvez-vous préciser l'épaisseur d'isolant attendue pour les combles ?",
                "Une résistance thermique R ≥ 7 m².K/W est attendue, soit environ 300 mm de "
                "laine minérale.",
            ),
        ),
        companies=100,
    ),
    "voirie": Category(
        titles=(
            "Travaux d'entretien des chaussées {year}",
            "Réaménagement de la traversée de {town}",
            "Création d'une piste cyclable à {town}",
            "Marquage et signalisation horizontale {year}",
            "Renouvellement de l'éclairage public en LED",
        ),
        details=(
            "Accord-cadre à bons de commande d'une durée d'un an reconductible trois fois",
            "Marché ordinaire, travaux sous circulation",
        ),
        lots=(
            "Terrassement - Voirie - Réseaux divers",
            "Enrobés",
            "Signalisation horizontale et verticale",
            "Éclairage public",
            "Espaces verts et mobilier urbain",
            "Bordures et pavés",
        ),
        trades=("Travaux Publics", "TP", "Routes", "Enrobés", "Terrassement", "Signalisation"),
        questions=(
            (
                "Les travaux peuvent-ils être réalisés de nuit pour limiter la gêne à la "
                "circulation ?",
                "Non, les travaux sont à réaliser de jour ; une circulation alternée sera mise "
                "en place.",
            ),
            (
                "Quelle est la quantité estimative d'enrobés pour la première année ?",
                "La quantité estimative est de 4 500 tonnes, sans engagement.",
            ),
            (
                "Le bordereau des prix unitaires est-il disponible au format tableur ?",
                "Le bordereau des prix unitaires est désormais disponible au format .xlsx.",
            ),
        ),
        companies=35,
    ),
    "espaces_verts": Category(
        titles=(
            "Entretien des espaces verts {year}-{next_year}",
            "Élagage et abattage des arbres d'alignement",
            "Fleurissement estival de {town}",
            "Aménagement paysager des abords {building}",
        ),
        details=(
            "Accord-cadre à bons de commande, prestations d'insertion réservées pour partie",
            "Marché ordinaire d'une durée de deux ans",
        ),
        lots=(
            "Tonte et fauchage",
            "Taille des haies et arbustes",
            "Élagage et abattage",
            "Fleurissement",
            "Entretien des cimetières",
        ),
        trades=("Paysages", "Espaces Verts", "Jardins", "Élagage"),
        questions=(
            (
                "Les déchets verts doivent-ils être évacués par le titulaire ?",
                "Oui, l'évacuation et la valorisation des déchets verts sont à la charge du "
                "titulaire et incluses dans les prix.",
            ),
            (
                "Le recours au désherbage chimique est-il autorisé ?",
                "Non, seuls les procédés mécaniques et thermiques sont autorisés.",
            ),
        ),
        companies=22,
    ),
    "nettoyage": Category(
        titles=(
            "Nettoyage des locaux administratifs",
            "Nettoyage des locaux {building}",
            "Nettoyage de la vitrerie",
            "Entretien ménager des établissements {year}",
        ),
        details=(
            "Accord-cadre d'une durée d'un an reconductible trois fois",
            "Clause de reprise du personnel en application de la convention collective",
        ),
        lots=(
            "Locaux administratifs",
            "Locaux techniques",
            "Vitrerie",
            "Remise en état après travaux",
            "Nettoyage des abords",
        ),
        trades=("Nettoyage", "Propreté", "Services"),
        questions=(
            (
                "Pouvez-vous communiquer la liste du personnel à reprendre ?",
                "La liste anonymisée du personnel affecté au site figure en annexe 2 du CCAP.",
            ),
            (
                "Les produits d'entretien doivent-ils être écolabellisés ?",
                "Oui, les produits utilisés doivent disposer de l'Écolabel européen ou équivalent.",
            ),
        ),
        companies=20,
    ),
    "restauration": Category(
        titles=(
            "Fourniture de denrées alimentaires pour la restauration collective",
            "Fourniture de repas en liaison froide",
            "Achat de produits laitiers et de fromages",
            "Fourniture de pain et viennoiseries",
        ),
        details=(
            "Accord-cadre à bons de commande, 50 % de produits durables dont 20 % biologiques",
            "Marché d'une durée d'un an reconductible une fois",
        ),
        lots=(
            "Viandes fraîches",
            "Fruits et légumes",
            "Produits laitiers",
            "Épicerie",
            "Pain et viennoiseries",
            "Produits surgelés",
        ),
        trades=("Restauration", "Traiteur", "Primeurs", "Boulangerie", "Distribution"),
        questions=(
            (
                "Les livraisons doivent-elles être effectuées dans chaque école ou sur un site "
                "unique ?",
                "Les livraisons sont effectuées sur les quatre sites de restauration listés à "
                "l'article 5 du CCTP.",
            ),
            (
                "Quels labels sont acceptés pour les produits biologiques ?",
                "Le label AB ou tout label équivalent attestant du mode de production biologique.",
            ),
        ),
        companies=20,
    ),
    "informatique": Category(
        titles=(
            "Acquisition de postes de travail et de périphériques",
            "Maintenance du parc informatique",
            "Fourniture et déploiement d'un logiciel de gestion financière",
            "Renouvellement de l'infrastructure réseau",
            "Hébergement et infogérance des serveurs",
        ),
        details=(
            "Accord-cadre à bons de commande d'une durée de quatre ans",
            "Marché comprenant une tranche ferme et deux tranches optionnelles",
        ),
        lots=(
            "Postes de travail",
            "Serveurs et stockage",
            "Logiciels et licences",
            "Maintenance",
            "Impression et numérisation",
            "Équipements réseau",
        ),
        trades=("Informatique", "Systèmes", "Numérique", "Réseaux", "Data"),
        questions=(
            (
                "Le titulaire actuel peut-il être mentionné ? Quel est le volume de tickets "
                "annuel ?",
                "Le volume annuel est d'environ 3 200 tickets ; le nom du titulaire actuel "
                "n'est pas communiqué.",
            ),
            (
                "Une solution hébergée en mode SaaS est-elle acceptée ?",
                "Oui, à condition que les données soient hébergées dans l'Union européenne.",
            ),
            (
                "Une démonstration de la solution est-elle prévue lors de l'analyse ?",
                "Oui, les trois candidats les mieux classés seront invités à une démonstration "
                "d'une demi-journée.",
            ),
        ),
        companies=25,
    ),
    "fournitures": Category(
        titles=(
            "Fournitures de bureau et papier",
            "Acquisition de mobilier",
            "Fourniture de mobilier de bureau",
            "Fourniture de vêtements de travail et d'équipements de protection",
        ),
        details=(
            "Accord-cadre à bons de commande sans minimum ni maximum",
            "Marché d'une durée d'un an reconductible trois fois",
        ),
        lots=(
            "Fournitures de bureau",
            "Papier",
            "Mobilier scolaire",
            "Mobilier de bureau",
            "Vêtements de travail",
            "Équipements de protection individuelle",
        ),
        trades=("Bureautique", "Fournitures", "Mobilier", "Papeterie", "Équipements"),
        questions=(
            (
                "Des échantillons doivent-ils être remis avec l'offre ?",
                "Oui, un échantillon de chaque article marqué d'un astérisque dans le BPU est "
                "à remettre avant la date limite.",
            ),
            (
                "Le papier recyclé est-il exigé ?",
                "Le papier doit être recyclé ou issu de forêts gérées durablement (FSC, PEFC "
                "ou équivalent).",
            ),
        ),
        companies=22,
    ),
    "vehicules": Category(
        titles=(
            "Acquisition de véhicules légers",
            "Acquisition de véhicules utilitaires électriques",
            "Acquisition de véhicules poids lourds",
            "Entretien et réparation du parc automobile",
        ),
        details=(
            "Marché ordinaire avec reprise des véhicules réformés",
            "Accord-cadre d'une durée de trois ans",
        ),
        lots=(
            "Véhicules légers",
            "Véhicules utilitaires",
            "Véhicules électriques",
            "Poids lourds",
            "Pièces détachées",
        ),
        trades=("Automobiles", "Poids Lourds", "Véhicules Industriels", "Garage"),
        questions=(
            (
                "La reprise des anciens véhicules est-elle obligatoire ?",
                "La reprise est une prestation supplémentaire éventuelle ; les candidats "
                "peuvent ne pas la chiffrer.",
            ),
            (
                "Quel est le délai de livraison maximal accepté ?",
                "Le délai maximal est de six mois à compter de la notification du bon de commande.",
            ),
        ),
        companies=16,
    ),
    "energie": Category(
        titles=(
            "Fourniture d'électricité {year}-{next_year}",
            "Fourniture de gaz naturel",
            "Maintenance des installations de chauffage, ventilation et climatisation",
            "Exploitation des chaufferies",
        ),
        details=(
            "Accord-cadre mono-attributaire d'une durée de deux ans",
            "Marché global de performance énergétique",
        ),
        lots=("Électricité", "Gaz naturel", "Maintenance CVC", "Exploitation des chaufferies"),
        trades=("Énergies", "Thermique", "Génie Climatique"),
        questions=(
            (
                "Les prix doivent-ils intégrer l'accise sur l'électricité ?",
                "Non, les prix sont remis hors taxes et hors accise ; celle-ci sera facturée "
                "au taux en vigueur.",
            ),
            (
                "Pouvez-vous communiquer les consommations des trois dernières années ?",
                "Le fichier des consommations par point de livraison a été ajouté au DCE.",
            ),
        ),
        companies=14,
    ),
    "assurances": Category(
        titles=(
            "Prestations de services d'assurances",
            "Assurance de la flotte automobile",
            "Assurance des risques statutaires",
        ),
        details=(
            "Marché d'une durée de quatre ans à compter du 1er janvier",
            "Contrats avec possibilité de résiliation annuelle",
        ),
        lots=(
            "Dommages aux biens",
            "Responsabilité civile",
            "Flotte automobile",
            "Protection juridique",
            "Risques statutaires",
        ),
        trades=("Assurances", "Courtage"),
        questions=(
            (
                "Pouvez-vous transmettre la sinistralité des cinq dernières années ?",
                "Les relevés de sinistralité de 2021 à 2025 figurent en annexe du CCTP.",
            ),
            (
                "Les variantes portant sur le niveau de franchise sont-elles autorisées ?",
                "Oui, une variante par lot est autorisée sur le niveau de franchise.",
            ),
        ),
        companies=10,
    ),
    "etudes": Category(
        titles=(
            "Mission de maîtrise d'œuvre pour la rénovation {building}",
            "Assistance à maîtrise d'ouvrage pour le schéma directeur immobilier",
            "Diagnostic énergétique {building}",
            "Mission de coordination sécurité et protection de la santé",
            "Diagnostic des ouvrages d'art",
        ),
        details=(
            "Marché de prestations intellectuelles à tranches optionnelles",
            "Marché ordinaire, remise d'une note méthodologique exigée",
        ),
        lots=(
            "Maîtrise d'œuvre",
            "Coordination SPS",
            "Contrôle technique",
            "Diagnostics",
            "Assistance à maîtrise d'ouvrage",
        ),
        trades=("Ingénierie", "Architectes", "Conseil", "Études"),
        questions=(
            (
                "Les références de moins de cinq ans sont-elles seules prises en compte ?",
                "Les références des cinq dernières années sont examinées ; des références plus "
                "anciennes peuvent être présentées.",
            ),
            (
                "Le nombre de réunions de chantier est-il plafonné ?",
                "Le forfait comprend une réunion hebdomadaire pendant la durée des travaux.",
            ),
        ),
        companies=25,
    ),
    "transport": Category(
        titles=(
            "Transport scolaire des élèves des écoles de {town}",
            "Transport des élèves vers les équipements sportifs",
            "Location d'autocars avec chauffeur",
        ),
        details=("Accord-cadre à bons de commande d'une durée d'un an reconductible trois fois",),
        lots=(
            "Circuit n°1 - Nord",
            "Circuit n°2 - Sud",
            "Circuit n°3 - Piscine",
            "Sorties scolaires",
        ),
        trades=("Transports", "Voyages", "Autocars"),
        questions=(
            (
                "Les véhicules doivent-ils être équipés de ceintures de sécurité ?",
                "Oui, tous les véhicules affectés au marché doivent être équipés de ceintures "
                "de sécurité.",
            ),
        ),
        companies=12,
    ),
    "medical": Category(
        titles=(
            "Fourniture de dispositifs médicaux stériles",
            "Acquisition d'un scanner",
            "Fourniture de consommables de laboratoire",
            "Fourniture de sacs de secours et de matériel de premiers secours",
        ),
        details=(
            "Accord-cadre à bons de commande d'une durée de quatre ans",
            "Marché comprenant la formation des utilisateurs et la maintenance",
        ),
        lots=(
            "Gants d'examen",
            "Pansements",
            "Seringues et aiguilles",
            "Consommables de laboratoire",
            "Matériel de secourisme",
            "Maintenance",
        ),
        trades=("Médical", "Santé", "Biomédical", "Distribution Médicale"),
        questions=(
            (
                "Les fiches techniques doivent-elles être fournies en français ?",
                "Oui, les fiches techniques et notices doivent être rédigées en français.",
            ),
            (
                "Un essai des produits est-il prévu pendant l'analyse des offres ?",
                "Oui, des essais en service sont prévus sur deux semaines pour les produits "
                "des lots 1 et 2.",
            ),
        ),
        companies=18,
    ),
    "communication": Category(
        titles=(
            "Impression du magazine d'information {year}",
            "Conception et impression de supports de communication",
            "Fourniture et pose de signalétique",
        ),
        details=("Accord-cadre à bons de commande d'une durée d'un an reconductible trois fois",),
        lots=("Magazine", "Affiches et flyers", "Signalétique", "Objets promotionnels"),
        trades=("Imprimerie", "Communication", "Graphique", "Signalétique"),
        questions=(
            (
                "Quel est le tirage moyen du magazine ?",
                "Le tirage moyen est de 38 000 exemplaires par numéro, dix numéros par an.",
            ),
            (
                "Le papier doit-il être certifié ?",
                "Le papier doit être certifié FSC ou PEFC, ou équivalent.",
            ),
        ),
        companies=14,
    ),
    "securite": Category(
        titles=(
            "Gardiennage et surveillance des bâtiments",
            "Maintenance des extincteurs et des systèmes de sécurité incendie",
            "Télésurveillance des sites",
        ),
        details=(
            "Accord-cadre d'une durée d'un an reconductible trois fois",
            "Marché comprenant les interventions sur alarme 24 h/24",
        ),
        lots=("Gardiennage", "Extincteurs", "Systèmes de sécurité incendie", "Télésurveillance"),
        trades=("Sécurité", "Gardiennage", "Protection Incendie", "Télésurveillance"),
        questions=(
            (
                "Le nombre d'interventions sur alarme de l'année passée est-il connu ?",
                "Il y a eu 146 interventions sur alarme en 2025, dont 12 de nuit.",
            ),
        ),
        companies=14,
    ),
    "dechets": Category(
        titles=(
            "Collecte des ordures ménagères résiduelles",
            "Gestion des déchèteries intercommunales",
            "Traitement des biodéchets",
        ),
        details=("Marché d'une durée de six ans, clause de variation des prix",),
        lots=(
            "Collecte des ordures ménagères",
            "Collecte sélective",
            "Gestion des déchèteries",
            "Transport et traitement",
        ),
        trades=("Environnement", "Recyclage", "Collecte"),
        questions=(
            (
                "Le matériel roulant actuel peut-il être repris ?",
                "Non, le titulaire fournit l'ensemble du matériel de collecte.",
            ),
        ),
        companies=10,
    ),
    "eau": Category(
        titles=(
            "Renouvellement des conduites d'eau potable à {town}",
            "Réhabilitation des réseaux d'assainissement",
            "Travaux sur les stations de pompage",
        ),
        details=(
            "Accord-cadre à bons de commande d'une durée de quatre ans",
            "Marché ordinaire avec période de préparation de deux mois",
        ),
        lots=(
            "Conduites d'eau potable",
            "Réseaux d'assainissement",
            "Branchements",
            "Génie civil des ouvrages",
            "Équipements électromécaniques",
        ),
        trades=("Canalisations", "Hydraulique", "Assainissement", "Réseaux"),
        questions=(
            (
                "Des sondages de reconnaissance ont-ils été réalisés ?",
                "Oui, le rapport géotechnique G2 AVP figure au DCE.",
            ),
        ),
        companies=16,
    ),
}

# What each kind of public body buys (drawn uniformly).
KIND_CATEGORIES: dict[str, tuple[str, ...]] = {
    "commune": (
        "batiment",
        "batiment",
        "voirie",
        "espaces_verts",
        "nettoyage",
        "restauration",
        "fournitures",
        "vehicules",
        "energie",
        "assurances",
        "etudes",
        "communication",
        "securite",
        "informatique",
        "transport",
    ),
    "interco": (
        "batiment",
        "voirie",
        "voirie",
        "espaces_verts",
        "dechets",
        "dechets",
        "eau",
        "transport",
        "vehicules",
        "informatique",
        "etudes",
        "energie",
        "assurances",
    ),
    "departement": (
        "batiment",
        "batiment",
        "voirie",
        "voirie",
        "transport",
        "informatique",
        "fournitures",
        "vehicules",
        "etudes",
        "restauration",
        "assurances",
        "communication",
    ),
    "region": (
        "batiment",
        "batiment",
        "informatique",
        "transport",
        "etudes",
        "communication",
        "fournitures",
        "restauration",
    ),
    "hopital": (
        "medical",
        "medical",
        "medical",
        "restauration",
        "nettoyage",
        "informatique",
        "batiment",
        "energie",
        "fournitures",
        "securite",
    ),
    "universite": (
        "informatique",
        "informatique",
        "batiment",
        "fournitures",
        "nettoyage",
        "etudes",
        "energie",
        "securite",
        "communication",
    ),
    "sdis": (
        "vehicules",
        "vehicules",
        "medical",
        "informatique",
        "batiment",
        "fournitures",
        "assurances",
        "energie",
    ),
    "syndicat": ("eau", "eau", "eau", "etudes", "vehicules", "informatique", "energie"),
    "bailleur": (
        "batiment",
        "batiment",
        "batiment",
        "nettoyage",
        "espaces_verts",
        "securite",
        "etudes",
        "assurances",
        "energie",
    ),
}

# Buildings of each kind of public body, for titles such as "Réhabilitation {building}".
BUILDINGS: dict[str, tuple[str, ...]] = {
    "commune": (
        "du groupe scolaire Jean Macé",
        "de l'hôtel de ville",
        "de la médiathèque",
        "du gymnase municipal",
        "de l'école maternelle des Tilleuls",
        "du centre technique municipal",
    ),
    "interco": (
        "de la piscine intercommunale",
        "du centre nautique",
        "du siège communautaire",
        "de la maison de l'enfance",
    ),
    "departement": (
        "du collège Jean Monnet",
        "du collège Lucie Berger",
        "du centre d'entretien routier",
        "de la maison des solidarités",
    ),
    "region": (
        "du lycée Louis Pasteur",
        "du lycée professionnel Charles de Foucauld",
        "de l'internat du lycée agricole",
    ),
    "hopital": (
        "du service de pédiatrie",
        "du bâtiment des consultations externes",
        "de la blanchisserie",
        "de l'unité de soins de longue durée",
    ),
    "universite": (
        "de la bibliothèque universitaire",
        "du bâtiment de chimie",
        "de l'amphithéâtre Cavaillès",
        "du restaurant universitaire",
    ),
    "sdis": (
        "du centre d'incendie et de secours de {town}",
        "de l'école départementale des sapeurs-pompiers",
        "des remises du centre de secours principal",
    ),
    "syndicat": (
        "de la station d'épuration de {town}",
        "du siège du syndicat",
        "de l'usine de traitement d'eau potable",
    ),
    "bailleur": (
        "de la résidence Les Tilleuls (48 logements)",
        "de la résidence du Parc (32 logements)",
        "des logements de la rue des Vosges",
    ),
}

# Questions any consultation may receive, with the buyer's answer.
GENERIC_QUESTIONS: tuple[QA, ...] = (
    (
        "Le DUME est-il accepté en lieu et place des formulaires DC1 et DC2 ?",
        "Oui, le DUME est accepté en lieu et place des formulaires DC1 et DC2.",
    ),
    (
        "Est-il possible de répondre en groupement conjoint avec mandataire solidaire ?",
        "Oui, le groupement conjoint avec mandataire solidaire est accepté.",
    ),
    (
        "Les variantes sont-elles autorisées ?",
        "Non, les variantes ne sont pas autorisées ; seules les prestations supplémentaires "
        "éventuelles prévues au CCTP peuvent être chiffrées.",
    ),
    (
        "Pouvez-vous préciser le montant maximum de l'accord-cadre ?",
        "Le montant maximum est indiqué à l'article 4 de l'acte d'engagement.",
    ),
    (
        "Le mémoire technique est-il limité en nombre de pages ?",
        "Le mémoire technique est limité à vingt pages, annexes comprises.",
    ),
    (
        "Faut-il signer électroniquement l'acte d'engagement dès le dépôt de l'offre ?",
        "Non, la signature électronique ne sera demandée qu'à l'attributaire.",
    ),
    (
        "Le règlement de la consultation mentionne une visite, mais aucune date n'est "
        "indiquée. Pouvez-vous préciser ?",
        "Les visites sont organisées sur rendez-vous jusqu'à dix jours avant la date limite de "
        "remise des plis.",
    ),
    (
        "Quelle est la durée de validité des offres ?",
        "La durée de validité des offres est de cent vingt jours à compter de la date limite de "
        "remise des plis.",
    ),
    (
        "Une avance est-elle prévue ?",
        "Oui, une avance de 10 % est prévue dans les conditions de l'article R2191-3 du code "
        "de la commande publique.",
    ),
    (
        "Le cadre de réponse technique est-il obligatoire ?",
        "Oui, le cadre de réponse technique doit être complété ; il peut être accompagné "
        "d'annexes.",
    ),
)


# --- Companies ----------------------------------------------------------------------------

LEGAL_FORMS = ("SARL", "SAS", "SAS", "SA", "EURL", "SASU", "SCOP")

PLACES = (
    "d'Alsace",
    "du Rhin",
    "de l'Est",
    "du Ried",
    "des Vosges",
    "du Sundgau",
    "du Kochersberg",
    "de l'Outre-Forêt",
    "du Vignoble",
    "de Lorraine",
    "Grand Est",
    "de la Plaine",
)

SURNAMES = (
    "Muller",
    "Schmitt",
    "Meyer",
    "Weber",
    "Klein",
    "Wagner",
    "Fischer",
    "Hoffmann",
    "Schneider",
    "Martin",
    "Bernard",
    "Dubois",
    "Richard",
    "Durand",
    "Moreau",
    "Laurent",
    "Lefèvre",
    "Bauer",
    "Roth",
    "Koch",
    "Schaeffer",
    "Kieffer",
    "Zimmermann",
    "Haas",
    "Walter",
    "Kuntz",
    "Ehrhart",
    "Lang",
    "Frey",
    "Heitz",
    "Jung",
    "Keller",
    "Vogel",
    "Wolff",
    "Gross",
    "Stoltz",
    "Ott",
    "Huber",
    "Girard",
    "Fontaine",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Gaspard",
    "Metzger",
    "Burger",
    "Hartmann",
    "Lévy",
    "Da Silva",
    "Nguyen",
)

FIRST_NAMES = (
    "Claire",
    "Julien",
    "Sophie",
    "Thomas",
    "Camille",
    "Nicolas",
    "Élodie",
    "Mathieu",
    "Laura",
    "Antoine",
    "Céline",
    "Pierre",
    "Aurélie",
    "Sébastien",
    "Marie",
    "Jérôme",
    "Nathalie",
    "Christophe",
    "Stéphanie",
    "Olivier",
    "Isabelle",
    "Frédéric",
    "Émilie",
    "Guillaume",
    "Lucie",
    "Maxime",
    "Pauline",
    "Romain",
    "Sandrine",
    "Vincent",
    "Hélène",
    "Cédric",
    "Delphine",
    "Yann",
    "Chloé",
    "Hugo",
    "Léa",
    "Benoît",
    "Anne-Sophie",
    "Jean-Marc",
)

STREETS = (
    "rue de l'Industrie",
    "rue des Artisans",
    "route de Colmar",
    "allée de l'Europe",
    "rue du Commerce",
    "rue de la Gare",
    "avenue de la République",
    "rue des Vignes",
    "rue du Rhin",
    "rue du Général de Gaulle",
    "rue de l'Expansion",
    "rue Thomas Edison",
    "rue Gutenberg",
    "route de Strasbourg",
    "rue des Tuileries",
    "zone artisanale du Ried",
    "parc d'activités des Forlen",
    "rue du Chemin de Fer",
)

# (postal code, town); Alsace appears more often, as on the platform.
TOWNS: tuple[tuple[str, str], ...] = (
    ("67000", "Strasbourg"),
    ("67100", "Strasbourg"),
    ("67200", "Strasbourg"),
    ("68000", "Colmar"),
    ("68100", "Mulhouse"),
    ("68200", "Mulhouse"),
    ("67500", "Haguenau"),
    ("67600", "Sélestat"),
    ("67210", "Obernai"),
    ("68300", "Saint-Louis"),
    ("67700", "Saverne"),
    ("67400", "Illkirch-Graffenstaden"),
    ("67300", "Schiltigheim"),
    ("67800", "Bischheim"),
    ("67120", "Molsheim"),
    ("68500", "Guebwiller"),
    ("68700", "Cernay"),
    ("67160", "Wissembourg"),
    ("67230", "Benfeld"),
    ("67540", "Ostwald"),
    ("68260", "Kingersheim"),
    ("68270", "Wittenheim"),
    ("67380", "Lingolsheim"),
    ("67150", "Erstein"),
    ("68400", "Riedisheim"),
    ("68800", "Thann"),
    ("57000", "Metz"),
    ("54000", "Nancy"),
    ("88000", "Épinal"),
    ("51100", "Reims"),
    ("25000", "Besançon"),
    ("90000", "Belfort"),
    ("69003", "Lyon"),
    ("75011", "Paris"),
    ("92100", "Boulogne-Billancourt"),
    ("21000", "Dijon"),
)


# --- Messages -----------------------------------------------------------------------------

GREETING = "Bonjour,\n\n"
CLOSING = "\n\nMerci de votre intérêt pour cette consultation citée en référence."


@dataclass(frozen=True)
class MessageTexts:
    """Subjects and contents of one scenario ({reference}, {deadline}... are filled in)."""

    subjects: tuple[str, ...]
    contents: tuple[str, ...]
    replies: tuple[str, ...] = ()


MESSAGE_TEXTS: dict[str, MessageTexts] = {
    "visit": MessageTexts(
        subjects=("Visite de site - {reference}", "Organisation d'une visite sur site"),
        contents=(
            "Une visite facultative du site est organisée le {visit_date} à 10h00. Le "
            "rendez-vous est fixé devant l'accueil du bâtiment. Merci de confirmer votre "
            "présence en répondant à ce message.",
        ),
        replies=(
            "Bonjour,\n\nNous confirmons notre présence à la visite du {visit_date}. Nous "
            "serons deux personnes.\n\nCordialement,\n{contact}",
            "Bonjour,\n\nNous ne pourrons pas être présents à cette date. Serait-il possible "
            "d'organiser une visite la semaine suivante ?\n\nBien cordialement,\n{contact}",
        ),
    ),
    # The showcase's site visit: companies register by returning a form.
    "visit_form": MessageTexts(
        subjects=("Visite de site - {reference}",),
        contents=(
            "Une visite du site est organisée le {visit_date} à 10h00. Pour y participer, "
            "merci de répondre à ce message avant le {reply_deadline} en joignant le "
            "formulaire d'inscription complété (nom des participants).",
        ),
        replies=(
            "Bonjour,\n\nVeuillez trouver ci-joint notre formulaire d'inscription à la visite "
            "du {visit_date}.\n\nCordialement,\n{contact}",
        ),
    ),
    "reminder": MessageTexts(
        subjects=("Rappel de la date limite de remise des plis", "Rappel - {reference}"),
        contents=(
            "Nous vous rappelons que la date limite de remise des plis est fixée au "
            "{deadline}. Aucun pli ne sera accepté après cette échéance ; nous vous "
            "conseillons de déposer votre offre sans attendre le dernier moment.",
        ),
    ),
    "negotiation": MessageTexts(
        subjects=("Négociation - {reference}", "Invitation à négocier"),
        contents=(
            "Après analyse des offres, vous êtes invité à une phase de négociation portant sur "
            "le prix et les délais d'exécution. Nous vous remercions de nous faire parvenir, le "
            "cas échéant, votre offre améliorée avant le {reply_deadline}.",
        ),
        replies=(
            "Bonjour,\n\nSuite à votre demande, nous vous proposons une remise de {discount} % "
            "sur le montant total de notre offre. Le délai d'exécution reste inchangé.\n\n"
            "Cordialement,\n{contact}",
            "Bonjour,\n\nNous vous confirmons maintenir notre offre initiale, qui constitue "
            "notre meilleure proposition.\n\nCordialement,\n{contact}",
        ),
    ),
    "clarification": MessageTexts(
        subjects=("Demande de précisions sur votre offre", "Précisions - {reference}"),
        contents=(
            "L'analyse de votre offre appelle des précisions sur le délai d'exécution annoncé "
            "dans votre mémoire technique. Pouvez-vous nous confirmer le planning prévisionnel "
            "avant le {reply_deadline} ?",
        ),
        replies=(
            "Bonjour,\n\nNous vous confirmons un délai d'exécution de six semaines à compter "
            "de l'ordre de service, période de préparation comprise.\n\nCordialement,\n"
            "{contact}",
        ),
    ),
    "modification": MessageTexts(
        subjects=(
            "Information de modification de la consultation {reference}",
            "Modification du DCE - {reference}",
        ),
        contents=(
            "Le dossier de consultation des entreprises a été modifié : un document "
            "questions/réponses a été ajouté. Nous vous invitons à le télécharger sur la "
            "plateforme. La date limite de remise des plis reste fixée au {deadline}.",
            "Une version corrigée du bordereau des prix unitaires a été mise en ligne et "
            "remplace la précédente. Merci d'utiliser exclusivement cette nouvelle version. La "
            "date limite de remise des plis reste fixée au {deadline}.",
            # The showcase's (models.demo_showcase), always chosen by their index.
            "Le dossier de consultation a été modifié : le plan des locaux a été remplacé par "
            "une version à jour et l'inventaire du parc, devenu sans objet, a été retiré. La "
            "date limite de remise des plis reste fixée au {deadline}.",
            "Le dossier de consultation a été entièrement remplacé : le CCTP et le bordereau "
            "des prix unitaires ont été mis à jour. Merci de télécharger le nouveau DCE et de "
            "n'utiliser que ses pièces. La date limite de remise des plis reste fixée au "
            "{deadline}.",
        ),
    ),
    "answer_all": MessageTexts(
        subjects=("Réponse à une question - {reference}",),
        contents=(
            "Une question a été posée sur cette consultation :\n« {question} »\n\n"
            "Réponse de l'acheteur : {answer}",
        ),
    ),
    "answer_one": MessageTexts(
        subjects=("Réponse à votre question n°{number}",),
        contents=(
            "En réponse à votre question n°{number} du {question_date} :\n« {question} »\n\n"
            "{answer}",
        ),
    ),
    "invitation": MessageTexts(
        subjects=("Invitation à concourir - {reference}",),
        contents=(
            "À l'issue de l'examen des candidatures, nous avons le plaisir de vous inviter à "
            "remettre une offre pour la consultation citée en référence.\n\nLe dossier de "
            "consultation est disponible sur la plateforme avec le code d'accès restreint "
            "suivant : {access_code}.\n\nLes offres devront être déposées sur la plateforme "
            "avant le {deadline}. Les pièces à fournir sont précisées dans le règlement de la "
            "consultation (acte d'engagement, mémoire technique, bordereau des prix).",
        ),
    ),
    "complement": MessageTexts(
        subjects=("Demande de complément - {reference}", "Pièces manquantes dans votre offre"),
        contents=(
            "Après ouverture des plis, il apparaît que votre dossier de candidature est "
            "incomplet. Conformément à l'article R2144-2 du code de la commande publique, nous "
            "vous invitons à transmettre {missing} avant le {reply_deadline}.",
        ),
        replies=(
            "Bonjour,\n\nVeuillez trouver ci-joint la pièce demandée.\n\nRestant à votre "
            "disposition,\n{contact}",
            "Bonjour,\n\nVous trouverez en pièce jointe {missing}, à jour.\n\nCordialement,\n"
            "{contact}",
        ),
    ),
    "award": MessageTexts(
        subjects=("Courrier d'attribution - {reference}", "Attribution du marché {reference}"),
        contents=(
            "Nous avons le plaisir de vous informer que votre offre pour {lots} a été retenue. "
            "Le marché vous sera notifié à l'issue du délai de suspension. Nous vous remercions "
            "de nous transmettre vos attestations d'assurance en cours de validité.",
        ),
        replies=(
            "Bonjour,\n\nNous accusons réception de votre courrier et vous remercions de votre "
            "confiance. Vous trouverez ci-joint nos attestations d'assurance.\n\nCordialement,"
            "\n{contact}",
        ),
    ),
    "notification": MessageTexts(
        subjects=("Notification du marché {reference}", "Courrier de notification"),
        contents=(
            "Nous vous notifions le marché {reference} - {title}{scope}, dont l'acte "
            "d'engagement a été signé par le pouvoir adjudicateur. La date de réception du "
            "présent courrier vaut notification et prise d'effet du marché.",
        ),
    ),
    "rejection": MessageTexts(
        subjects=("Courrier de rejet - {reference}", "Résultat de la consultation {reference}"),
        contents=(
            "Nous avons le regret de vous informer que votre offre pour {lots} n'a pas été "
            "retenue.\n\nL'offre retenue est celle de l'entreprise {winner}, classée première "
            "au regard des critères de jugement des offres (prix : 40 % ; valeur technique : "
            "60 %). Sur simple demande, nous vous communiquerons la note obtenue par votre "
            "offre et le détail des motifs de ce choix.{standstill}",
        ),
    ),
    "cancellation": MessageTexts(
        subjects=("Information d'annulation - {reference}", "Déclaration sans suite"),
        contents=(
            "Nous vous informons que la procédure a été déclarée sans suite pour motif "
            "d'intérêt général : {reason}. Conformément aux articles R2185-1 et R2185-2 du "
            "code de la commande publique, une nouvelle consultation pourra être lancée.",
        ),
    ),
}

# The rejection's {standstill}: only when the lot has one (models.rules.standstill): by law in a
# formalised procedure, in a MAPA only when the buyer chose one; otherwise no date, no article.
REJECTION_STANDSTILL = (
    "\n\nLe marché ne sera pas signé avant le {signature_date}, conformément au délai de "
    "suspension prévu à l'article R2182-1 du code de la commande publique."
)

# The reason recorded when an answer goes to the asker alone (LEGAL.md rule 1, case B).
ANSWER_ONE_REASON = "La réponse ne concerne que ce candidat (données propres à son offre)."

# When a scenario has no reply of its own.
GENERIC_REPLY = (
    "Bonjour,\n\nBien reçu, nous revenons vers vous rapidement.\n\nCordialement,\n{contact}"
)

MISSING_PIECES = (
    "l'attestation de régularité fiscale",
    "l'attestation de vigilance URSSAF de moins de six mois",
    "le pouvoir du signataire de l'acte d'engagement",
    "l'attestation d'assurance responsabilité civile professionnelle en cours de validité",
    "le formulaire DC2 dûment complété",
)

CANCELLATION_REASONS = (
    "les offres reçues dépassent très largement le budget prévisionnel",
    "le besoin a été redéfini",
    "aucune offre appropriée n'a été reçue",
)

# Answers of mail servers refusing a recipient for good ({email} is filled in).
REFUSALS = (
    "550 5.1.1 <{email}>: Recipient address rejected: User unknown in virtual mailbox table",
    "550 5.1.1 <{email}>: Recipient address rejected: User unknown",
    "552 5.2.2 <{email}>: Mailbox full",
    "550 5.2.1 <{email}>: Mailbox disabled, not accepting messages",
)
TEMPORARY_FAILURE = "451 4.7.1 <{email}>: Recipient address rejected: Greylisted, try again later"
RETRIES_EXHAUSTED = "Abandon après {attempts} tentatives : 421 4.4.2 Connection timed out"

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)

# Documentation address ranges (RFC 5737): they never belong to a real client.
CLIENT_NETWORKS = ("192.0.2.", "198.51.100.")


# --- The guide's own examples (seed/guide-messagerie-securisee.txt) -------------------------


@dataclass(frozen=True)
class GuideConsultation:
    """A consultation shown in the guide, with its exact values; lots are (number, title)."""

    reference: str
    title: str
    object: str
    procedure: Procedure
    deadline: datetime
    created: datetime
    lots: tuple[tuple[int, str], ...]
    category: str


def paris(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A Europe/Paris wall-clock time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


CHOCOLATES = GuideConsultation(
    "202601",
    "Achat de chocolats",
    "Achat de chocolats",
    Procedure.ADAPTED,
    paris(2026, 2, 14, 12, 0),
    paris(2026, 1, 6, 9, 12),
    ((1, "Chocolat au lait"), (2, "Chocolat noir")),
    "restauration",
)
WINES = GuideConsultation(
    "2025VINS",
    "Achat de vins d'Alsace",
    "Achat de vins d'Alsace. A consommer avec modération ;)",
    Procedure.ADAPTED,
    paris(2025, 12, 25, 17, 30),
    paris(2025, 7, 21, 10, 4),
    ((0, "Pinot gris"), (1, "Crémant")),
    "restauration",
)
TEST_SUPPORT = GuideConsultation(
    "C2025ADM",
    "TEST SUPPORT",
    "TEST SUPPORT",
    Procedure.OPEN_TENDER,
    paris(2027, 2, 22, 9, 55),
    paris(2025, 3, 10, 15, 20),
    (),
    "informatique",
)
JL_TEST = GuideConsultation(
    "ALT821-20260331",
    "JL TEST 8.2.1",
    "JL TEST 8.2.1",
    Procedure.ADAPTED,
    paris(2026, 4, 1, 11, 45),
    paris(2026, 3, 31, 14, 2),
    (),
    "fournitures",
)
GUIDE_CONSULTATIONS = (CHOCOLATES, WINES, TEST_SUPPORT, JL_TEST)


@dataclass(frozen=True)
class GuideCompany:
    name: str
    siret: str
    address: str
    postal_code: str
    city: str
    contact_name: str
    contact_email: str


# The guide prints "47646011 00047", which has only 13 digits; a "8" is restored at the end of
# the SIREN (476460118) so that both the SIREN and the SIRET pass the Luhn checksum.
NBC_FR = GuideCompany(
    "N.B.C. FR",
    "47646011800047",
    "3 rue de l'Industrie",
    "67400",
    "Illkirch-Graffenstaden",
    "Nadia Becker",
    "nadia.becker@nbc-fr.example",
)
NBC_WITHDRAWAL_AT = paris(2025, 8, 20, 14, 12, 37)
NBC_QUESTION_AT = paris(2025, 8, 22, 9, 31, 8)
NBC_QUESTION = (
    "Pour le lot n°1 - Crémant, les bouteilles doivent-elles être livrées en cartons de six ou "
    "de douze ? Par ailleurs, un millésime précis est-il exigé pour le lot n°0 - Pinot gris, "
    "ou un assemblage de plusieurs millésimes est-il accepté ?"
)

NBC_ANSWER = (
    "Les bouteilles sont livrées en cartons de six. Aucun millésime n'est imposé pour le Pinot "
    "gris ; le millésime proposé doit être précisé dans le bordereau des prix."
)

# The tracking table of the guide (step J): five "Courrier libre" sent on 10/02/2026 for the
# chocolates. Each row: status word, then the E, D, L, R times (None where absent).
GUIDE_TRACKING_SUBJECT = "Courrier libre"
GUIDE_TRACKING_BODY = (
    "Nous vous informons que la visite de site est reportée au 11/02/2026 à 14h00."
)
# Only the first row allowed a reply (the guide shows its reply deadline, 17:00).
GUIDE_TRACKING_CONFIRMATION = " Merci de nous confirmer votre présence avant 17h00."
GUIDE_TRACKING_REPLY = (
    "Bonjour,\n\nNous serons présents à la visite du 11/02/2026 à 14h00.\n\nCordialement,\n"
    "{contact}"
)
GUIDE_TRACKING_REPLY_DEADLINE = paris(2026, 2, 10, 17, 0)
GUIDE_TRACKING_ROWS: tuple[tuple[datetime | None, ...], ...] = (
    # E, D, L, R, reply read
    (
        paris(2026, 2, 10, 16, 41, 11),
        paris(2026, 2, 10, 16, 41, 51),
        paris(2026, 2, 10, 16, 41, 52),
        paris(2026, 2, 10, 16, 42, 22),
        paris(2026, 2, 10, 16, 50, 3),
    ),
    (
        paris(2026, 2, 10, 16, 36, 4),
        paris(2026, 2, 10, 16, 36, 30),
        paris(2026, 2, 10, 16, 42, 27),
        None,
        None,
    ),
    (
        paris(2026, 2, 10, 16, 34, 41),
        paris(2026, 2, 10, 16, 35, 0),
        paris(2026, 2, 10, 16, 42, 14),
        None,
        None,
    ),
    (
        paris(2026, 2, 10, 16, 33, 40),
        paris(2026, 2, 10, 16, 34, 2),
        paris(2026, 2, 10, 16, 35, 37),
        None,
        None,
    ),
)
# The fifth row of the guide: refused by the recipient's server ("Non délivré").
GUIDE_TRACKING_REFUSED_AT = paris(2026, 2, 10, 16, 31, 54)

# TEST SUPPORT keeps the guide's deadline while it is at least this far ahead; closer (or
# past), it moves by whole years, so that the guide's first consultation is always open.
TEST_SUPPORT_NOTICE_DAYS = 30
# Its retraits, questions (not answered yet: cases A and B start there) and dépôts.
TEST_SUPPORT_COUNTS = (11, 2, 2)


# --- 2025VINS: the guide's case B and what followed, the same whatever the day -------------

# Case B: the answer to N.B.C. FR alone, "avec AR" (rule 1 overridden with a reason).
WINES_ANSWER_AT = paris(2025, 8, 25, 10, 14, 27)
# A corrected price schedule four days before the deadline: rule 3 overridden.
WINES_MODIFICATION_AT = paris(2025, 12, 22, 10, 12, 5)
WINES_MODIFICATION_REASON = (
    "Correction d'une erreur matérielle du bordereau des prix, sans incidence sur le contenu "
    "des offres : la date limite de remise des plis est maintenue."
)
# After the opening: a missing piece asked of two bidders, one of whom answers.
WINES_COMPLEMENT_AT = paris(2026, 1, 7, 9, 40, 12)
WINES_COMPLEMENT_DEADLINE = paris(2026, 1, 14, 12, 0)
WINES_COMPLEMENT_PIECE = "l'attestation d'assurance responsabilité civile professionnelle"
# The decision (rejections and awards), then the notification (a MAPA: no standstill).
WINES_DECISION_AT = paris(2026, 1, 20, 14, 5, 40)
WINES_NOTIFICATION_AT = paris(2026, 1, 27, 10, 30, 18)


# --- The guide's other cases, on consultations dated from the demo's day ------------------


@dataclass(frozen=True)
class ShowcaseSpec:
    """A consultation written for one of the guide's cases. Days count from the demo's day
    (negative: in the past); `entity` is (organisation, purchasing entity)."""

    key: str
    title: str
    detail: str
    procedure: Procedure
    entity: tuple[str, str]
    category: str
    lots: tuple[str, ...]
    deadline_days: int
    created_days: int
    withdrawals: int
    questions: int
    deposits: int
    deadline_time: tuple[int, int] = (12, 0)


SHOWCASES: tuple[ShowcaseSpec, ...] = (
    # "Répondre à une question" 3 days before the deadline: rule 2 warns.
    ShowcaseSpec(
        "answer_soon",
        "Fourniture de mobilier scolaire pour les collèges",
        "Accord-cadre à bons de commande d'une durée d'un an reconductible trois fois",
        Procedure.OPEN_TENDER,
        (CEA, "Direction de l'éducation et des collèges"),
        "fournitures",
        ("Mobilier scolaire", "Mobilier de bureau"),
        deadline_days=3,
        created_days=40,
        withdrawals=12,
        questions=2,
        deposits=1,
    ),
    # The same 20 days before: no warning. Case A twice (Q/R document v1 then v2), and the
    # tracking table's every status on its site visit.
    ShowcaseSpec(
        "answer_later",
        "Rénovation énergétique du gymnase du collège Vauban",
        "Travaux en site occupé, phasage imposé pendant les vacances scolaires",
        Procedure.OPEN_TENDER,
        ("Ville de Strasbourg", "Direction des constructions et du patrimoine bâti"),
        "batiment",
        (
            "Menuiseries extérieures aluminium",
            "Plâtrerie - Isolation - Faux plafonds",
            "Chauffage - Ventilation - Plomberie sanitaire",
        ),
        deadline_days=20,
        created_days=30,
        withdrawals=16,
        questions=3,
        deposits=0,
    ),
    # Case C, "Remplacer le DCE": a whole new archive.
    ShowcaseSpec(
        "dce_replaced",
        "Maintenance des installations de chauffage, ventilation et climatisation",
        "Accord-cadre mono-attributaire d'une durée de deux ans",
        Procedure.OPEN_TENDER,
        ("Hôpitaux Universitaires de Strasbourg", "Direction des travaux et du patrimoine"),
        "energie",
        (),
        deadline_days=12,
        created_days=35,
        withdrawals=9,
        questions=1,
        deposits=0,
        deadline_time=(16, 0),
    ),
    # Case C, piece by piece: a plan replaced, an annex deleted.
    ShowcaseSpec(
        "dce_pieces",
        "Acquisition de postes de travail et de périphériques pour les lycées",
        "Accord-cadre à bons de commande d'une durée de quatre ans",
        Procedure.ADAPTED,
        ("Région Grand Est", "Direction des lycées"),
        "informatique",
        ("Postes de travail", "Impression et numérisation"),
        deadline_days=27,
        created_days=21,
        withdrawals=7,
        questions=1,
        deposits=0,
        deadline_time=(10, 0),
    ),
    # Case F: the candidatures of a restricted procedure, then its suite (below).
    ShowcaseSpec(
        "restricted",
        "Construction du centre technique municipal",
        "Appel d'offres restreint : sélection de quatre candidats au plus",
        Procedure.RESTRICTED_TENDER,
        ("Ville de Colmar", "Service des marchés publics"),
        "batiment",
        (),
        deadline_days=-24,
        created_days=75,
        withdrawals=10,
        questions=1,
        deposits=5,
    ),
    # Case G then I: rejections sent 3 days ago, the standstill runs.
    ShowcaseSpec(
        "standstill",
        "Fourniture de denrées alimentaires pour la restauration scolaire",
        "Accord-cadre à bons de commande, 50 % de produits durables dont 20 % biologiques",
        Procedure.OPEN_TENDER,
        ("Eurométropole de Strasbourg", "Service de la commande publique"),
        "restauration",
        ("Fruits et légumes", "Produits laitiers"),
        deadline_days=-40,
        created_days=90,
        withdrawals=12,
        questions=1,
        deposits=5,
    ),
    # Rejections sent 14 days ago: the standstill is over, the notification may go.
    ShowcaseSpec(
        "standstill_over",
        "Entretien des espaces verts et des parcs urbains",
        "Accord-cadre à bons de commande, prestations d'insertion réservées pour partie",
        Procedure.OPEN_TENDER,
        ("Eurométropole de Strasbourg", "Direction de l'espace public et naturel"),
        "espaces_verts",
        (),
        deadline_days=-55,
        created_days=100,
        withdrawals=10,
        questions=1,
        deposits=4,
    ),
    # Case H in a MAPA: the award letter sent, the awardee's attestations received.
    ShowcaseSpec(
        "mapa_award",
        "Impression des supports de communication de la Ville",
        "Marché d'une durée d'un an reconductible trois fois",
        Procedure.ADAPTED,
        ("Ville de Mulhouse", "Direction de la commande publique"),
        "fournitures",
        (),
        deadline_days=-38,
        created_days=70,
        withdrawals=8,
        questions=0,
        deposits=4,
    ),
)

# The suite of "restricted": created 10 days ago for the admitted candidates, open 22 days on.
SUITE_CREATED_DAYS = 10
SUITE_DEADLINE_DAYS = 22
SUITE_CANDIDATES = 4
INVITATION_MENTIONS = {
    "notice_reference": "Avis n°26-{number} publié au BOAMP",
    "submission": "Dépôt électronique sur la plateforme de dématérialisation, avec le code "
    "d'accès restreint",
    "documents": "Acte d'engagement, mémoire technique, bordereau des prix unitaires",
}
# What formalised rejection letters state (LEGAL.md rule 7), besides the awardee.
REJECTION_REASONS = (
    "Votre offre est classée deuxième au regard des critères de jugement des offres.",
    "Votre offre obtient une note technique inférieure à celle de l'offre retenue.",
)
AWARD_REASONS = (
    "Offre économiquement la plus avantageuse : meilleure note globale (prix 40 %, valeur "
    "technique 60 %)."
)
# The missing piece asked in the showcase's analyses (the replies join it).
SHOWCASE_COMPLEMENT_PIECE = "l'attestation de vigilance URSSAF de moins de six mois"
# Comments of the showcase's DCE versions, as the buyer types them.
BPU_CORRECTED_COMMENT = "Bordereau des prix unitaires corrigé (unité de la ligne 2)"
PIECES_COMMENT = "Plan des locaux mis à jour ; inventaire du parc retiré"


# --- The documents' wording ---------------------------------------------------------------

PRODUCER = "Messagerie sécurisée - base de démonstration"
NOT_A_REAL_DOCUMENT = "Document de démonstration, sans valeur juridique."
CORRECTED_EDITION = "Version corrigée : elle annule et remplace la version précédente."


@dataclass(frozen=True)
class PieceSpec:
    """A piece of a DCE: its folder in the archive ("" at the root), its name ({ref} is the
    reference, {suffix} a version mark), its title and its lines ({reference}, {title}…)."""

    folder: str
    name: str
    title: str
    lines: tuple[str, ...]


DCE_PIECES: dict[str, PieceSpec] = {
    "rc": PieceSpec(
        "1-Reglement_de_consultation",
        "RC_{ref}.pdf",
        "Règlement de la consultation",
        (
            "Référence : {reference}",
            "Objet : {title}",
            "Pouvoir adjudicateur : {organisation} - {entity}",
            "Procédure : {procedure}",
            "Allotissement : {lots}",
            "Date et heure limite de remise des plis : {deadline}",
            "",
            "Article 1 - Les offres sont déposées exclusivement sur la plateforme de "
            "dématérialisation, avant la date et l'heure limites.",
            "Article 2 - Les questions sont posées sur la plateforme au plus tard dix jours "
            "avant la date limite ; les réponses sont communiquées à tous les candidats.",
            "Article 3 - Critères de jugement des offres : prix 40 %, valeur technique 60 %.",
        ),
    ),
    "ae": PieceSpec(
        "2-Pieces_administratives",
        "AE_{ref}.pdf",
        "Acte d'engagement",
        (
            "Marché : {reference} - {title}",
            "Lots : {lots}",
            "Le candidat s'engage, sans réserve, à exécuter les prestations dans les conditions "
            "du CCAP et du CCTP, aux prix de son bordereau.",
            "Nom, qualité et signature du représentant habilité : ............................",
        ),
    ),
    "ccap": PieceSpec(
        "2-Pieces_administratives",
        "CCAP_{ref}.pdf",
        "Cahier des clauses administratives particulières",
        (
            "Marché : {reference} - {title}",
            "Article 1 - Pièces constitutives du marché : acte d'engagement, CCAP, CCTP, "
            "bordereau des prix unitaires.",
            "Article 2 - Prix : les prix sont fermes la première année, puis révisables.",
            "Article 3 - Délai de paiement : trente jours à compter de la réception de la facture.",
            "Article 4 - Pénalités de retard : 1/1000 du montant de la commande par jour.",
        ),
    ),
    "cctp": PieceSpec(
        "3-Pieces_techniques",
        "CCTP_{ref}.pdf",
        "Cahier des clauses techniques particulières",
        (
            "Marché : {reference} - {title}",
            "Article 1 - Description des prestations attendues.",
            "Article 2 - Normes et labels : les produits respectent les normes en vigueur ou "
            "des normes équivalentes.",
            "Article 3 - Conditions d'exécution, de livraison et de réception.",
        ),
    ),
    "bpu": PieceSpec(
        "4-Pieces_financieres",
        "BPU_{ref}.pdf",
        "Bordereau des prix unitaires",
        (
            "Marché : {reference} - {title}",
            "Lots : {lots}",
            "Les prix unitaires sont exprimés en euros hors taxes, pour l'unité indiquée à "
            "chaque ligne.",
            "Ligne 1 - Prestation de base ............ € HT / unité",
            "Ligne 2 - Option ......................... € HT / unité",
        ),
    ),
    "dqe": PieceSpec(
        "4-Pieces_financieres",
        "DQE_{ref}.csv",
        "Détail quantitatif estimatif",
        (
            "ligne;designation;unite;quantite;prix_unitaire_ht",
            "1;Prestation de base;unité;120;",
            "2;Option;unité;15;",
        ),
    ),
    "readme": PieceSpec(
        "",
        "Lisez-moi.txt",
        "Lisez-moi",
        (
            "Dossier de consultation des entreprises - {reference}",
            "{title}",
            "",
            "1-Reglement_de_consultation : le règlement de la consultation (RC).",
            "2-Pieces_administratives : l'acte d'engagement (AE) et le CCAP.",
            "3-Pieces_techniques : le CCTP.",
            "4-Pieces_financieres : le bordereau des prix (BPU) et le détail estimatif (DQE).",
            "",
            "Date et heure limite de remise des plis : {deadline}",
        ),
    ),
}

# Pieces a buyer puts beside the archive, one by one (case C).
EXTRA_PIECES: dict[str, PieceSpec] = {
    "plan": PieceSpec(
        "",
        "Plan_des_locaux_{ref}{suffix}.pdf",
        "Plan des locaux et des points de livraison",
        (
            "Consultation {reference} - {title}",
            "Bâtiment A : salles de cours, rez-de-chaussée et étages 1 et 2.",
            "Bâtiment B : centre de documentation et d'information.",
            "Accès des livraisons par la rue arrière, quai de déchargement.",
        ),
    ),
    "inventory": PieceSpec(
        "",
        "Inventaire_du_parc_{ref}{suffix}.csv",
        "Inventaire du parc existant",
        (
            "site;postes;imprimantes;annee_moyenne",
            "Lycée Kléber;412;36;2019",
            "Lycée Fustel de Coulanges;288;21;2018",
        ),
    ),
}


@dataclass(frozen=True)
class ReplyFileSpec:
    """A file a company joins to its reply ({company}, {siret}, {contact}, {day}, {year})."""

    filename: str
    title: str
    lines: tuple[str, ...]


REPLY_FILES: dict[str, ReplyFileSpec] = {
    "urssaf": ReplyFileSpec(
        "Attestation_vigilance_URSSAF.pdf",
        "Attestation de vigilance",
        (
            "L'URSSAF atteste que l'entreprise {company} (SIRET {siret}) est à jour de ses "
            "obligations de déclaration et de paiement des cotisations sociales au {day}.",
        ),
    ),
    "insurance": ReplyFileSpec(
        "Attestation_assurance_RC_pro.pdf",
        "Attestation d'assurance responsabilité civile professionnelle",
        (
            "L'assureur soussigné atteste que {company} (SIRET {siret}) est titulaire d'un "
            "contrat d'assurance responsabilité civile professionnelle en cours de validité "
            "pour l'année {year}.",
        ),
    ),
    "visit_form": ReplyFileSpec(
        "Formulaire_inscription_visite.pdf",
        "Formulaire d'inscription à la visite de site",
        (
            "Entreprise : {company}",
            "SIRET : {siret}",
            "Participant(s) : {contact} et un conducteur de travaux",
            "Formulaire complété le {day}.",
        ),
    ),
}
