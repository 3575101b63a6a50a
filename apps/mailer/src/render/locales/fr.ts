import type { Wording } from "../wording.ts";

export const fr: Wording = {
  lang: "fr",
  intlLocale: "fr-FR",
  colon: "\u00a0: ",
  labels: {
    room: "Salle",
    participant: "Participant",
    recordedAt: "Enregistré le",
    streamedAt: "Diffusé le",
    requestedAt: "Demandé le",
    duration: "Durée",
    size: "Taille",
    reference: "Référence",
  },
  footer:
    "Ce message a été envoyé automatiquement, car un enregistrement a été demandé avec votre adresse. Les réponses à ce message ne sont pas lues.",
  saved: {
    subject: (room) => `Votre enregistrement de « ${room} » est prêt`,
    heading: "Votre enregistrement est prêt",
    intro: (room) => `L’enregistrement de « ${room} » est sauvegardé et prêt à être téléchargé.`,
    download: "Télécharger l’enregistrement",
    copyLink: "Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :",
    expires: (when) => `Ce lien est valable jusqu’au ${when}. Téléchargez le fichier avant cette date.`,
    deletedOn: (when) => `L’enregistrement sera supprimé le ${when}.`,
    alsoSaved: "Également enregistré avec cet enregistrement",
    artifact: {
      playlist: (segments) => `Liste de lecture HLS (${segments} segment${segments > 1 ? "s" : ""})`,
      "live-playlist": "Liste de lecture HLS en direct (les derniers segments)",
      images: (images) => `Vignettes (${images} image${images > 1 ? "s" : ""}), leur index`,
      file: "Le fichier",
    },
  },
  ended: {
    subject: (room) => `Votre diffusion en direct de « ${room} » est terminée`,
    heading: "Votre diffusion en direct est terminée",
    intro: (room) =>
      `La diffusion en direct de « ${room} » est terminée. Elle a seulement été diffusée\u00a0: il n’y a pas de fichier à télécharger.`,
    streamedTo: "Diffusée vers",
    streamStatus: {
      finished: "terminée normalement",
      failed: (error) => `arrêtée par une erreur\u00a0: ${error}`,
      active: "encore en direct à la fin de l’enregistrement",
    },
    reconnected: (times) => `reconnectée ${times} fois`,
    noStreams: "La diffusion s’est terminée avant d’atteindre une destination.",
  },
  failed: {
    subject: (room) => `Votre enregistrement de « ${room} » a échoué`,
    heading: "Votre enregistrement a échoué",
    intro: (room) =>
      `L’enregistrement de « ${room} » a rencontré un problème, et aucun fichier n’a été sauvegardé.`,
    whatHappened: "Ce qui s’est passé",
    whatToDo: "Ce que vous pouvez faire",
    reasons: {
      room_not_found: {
        happened:
          "L’enregistrement n’a jamais démarré : la salle de réunion ne s’est pas ouverte à temps. Personne ne l’avait rejointe et elle n’avait pas été créée au moment prévu.",
        todo: "Relancez l’enregistrement une fois la réunion commencée.",
      },
      no_start_signal: {
        happened:
          "L’enregistrement n’a jamais démarré : personne n’a partagé de caméra, de micro ni d’écran dans la salle, il n’y avait donc rien à enregistrer.",
        todo: "Relancez l’enregistrement lorsque quelqu’un parle ou présente.",
      },
      start_failed: {
        happened:
          "L’enregistrement n’a pas pu démarrer. En général, cela signifie qu’aucune capacité d’enregistrement n’était disponible à ce moment-là.",
        todo: "Relancez l’enregistrement. Si l’échec se répète, demandez aux responsables de votre service de réunion de vérifier les serveurs d’enregistrement.",
      },
      egress_failed: {
        happened:
          "Le serveur d’enregistrement a rencontré une erreur pendant l’enregistrement, et le fichier n’a pas pu être terminé.",
        todo: "Si la réunion est toujours en cours, lancez un nouvel enregistrement. Si cela se reproduit, contactez votre administrateur en lui donnant la référence ci-dessous.",
      },
      egress_aborted: {
        happened:
          "L’enregistrement a été arrêté avant que quoi que ce soit ne soit enregistré, par exemple parce que la réunion s’est terminée pendant son démarrage.",
        todo: "Si vous avez toujours besoin d’un enregistrement, lancez-en un nouveau une fois la réunion commencée.",
      },
      lost: {
        happened:
          "L’enregistrement a été perdu : le serveur d’enregistrement s’est arrêté pendant son travail, ou le fichier n’est jamais arrivé dans le stockage.",
        todo: "Rien ne peut être récupéré de cet enregistrement. Si la réunion est toujours en cours, lancez-en un nouveau, et prévenez votre administrateur en lui donnant la référence ci-dessous.",
      },
      stored_in_backup: {
        happened:
          "L’enregistrement a été réalisé, mais le serveur d’enregistrement n’a pas pu déposer le fichier dans le stockage habituel et l’a gardé dans un stockage de secours, vers lequel ce service ne peut pas créer de lien.",
        todo: "Demandez le fichier à votre administrateur en lui donnant la référence ci-dessous : il n’est pas perdu.",
      },
      stop_failed: {
        happened:
          "L’enregistrement n’a pas pu être arrêté correctement, et son fichier n’a donc pas pu être terminé ni sauvegardé.",
        todo: "Contactez votre administrateur en lui donnant la référence ci-dessous. Si vous avez besoin d’un enregistrement, lancez-en un nouveau.",
      },
    },
  },
};
