import type { Messages } from '../../i18n/index';

/** Messages of catalogue/cpsv (same keys in both languages). */
export const messages: Messages = {
  en: {
    'errors.CPSV_INVALID_JSONLD': 'The file is not valid JSON-LD (remote contexts are not fetched: put the context inline).',
    'errors.CPSV_EMPTY': 'The file describes no public service (cpsv:PublicService).',
    'errors.CPSV_SHAPES_VIOLATION': 'The file does not conform to CPSV-AP 3.2.0: {count} violation(s) of the SHACL shapes. Nothing was imported.',
    'errors.CPSV_INVALID': 'The file cannot be imported: {count} problem(s). Nothing was imported.',
    'errors.CPSV_UNREADABLE': 'The file cannot be read.',
    'field.cpsvTooMany': 'There are more values than CPSV-AP allows.',
    'field.cpsvDatatype': 'This value does not have the datatype CPSV-AP requires.',
    'field.cpsvClass': 'This value is not of the class CPSV-AP requires.',
    'field.cpsvConflict': 'This identifier is already used by another record.',
    'field.cpsvUnknownRef': 'This refers to something that is neither in the file nor in the catalogue.',
  },
  fr: {
    'errors.CPSV_INVALID_JSONLD': 'Le fichier n’est pas du JSON-LD valide (les contextes distants ne sont pas téléchargés : incluez le contexte dans le fichier).',
    'errors.CPSV_EMPTY': 'Le fichier ne décrit aucun service public (cpsv:PublicService).',
    'errors.CPSV_SHAPES_VIOLATION': 'Le fichier n’est pas conforme à CPSV-AP 3.2.0 : {count} violation(s) des formes SHACL. Rien n’a été importé.',
    'errors.CPSV_INVALID': 'Le fichier ne peut pas être importé : {count} problème(s). Rien n’a été importé.',
    'errors.CPSV_UNREADABLE': 'Le fichier ne peut pas être lu.',
    'field.cpsvTooMany': 'Il y a plus de valeurs que CPSV-AP ne le permet.',
    'field.cpsvDatatype': 'Cette valeur n’a pas le type de données exigé par CPSV-AP.',
    'field.cpsvClass': 'Cette valeur n’est pas de la classe exigée par CPSV-AP.',
    'field.cpsvConflict': 'Cet identifiant est déjà utilisé par un autre enregistrement.',
    'field.cpsvUnknownRef': 'Ceci renvoie à un élément qui ne figure ni dans le fichier ni dans le catalogue.',
  },
};
