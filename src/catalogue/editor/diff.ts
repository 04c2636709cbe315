/**
 * Readable diffs between two snapshots: field by field, with word-level changes for text and added/removed items for
 * lists, labelled in the page language.
 */
import { formatMoney, t, type Lang } from '../../i18n/index';
import type { Snapshot } from './model';

export type PartType = 'same' | 'added' | 'removed';
export interface DiffPart {
  type: PartType;
  text: string;
}

/** Split text into words, punctuation and whitespace (all kept, so joining the tokens gives the text back). */
export function tokenize(text: string): string[] {
  return text.match(/\s+|[\p{L}\p{N}\p{M}’'_-]+|[^\s\p{L}\p{N}\p{M}’'_-]/gu) ?? [];
}

const MAX_CELLS = 2_000_000;

/** Longest-common-subsequence diff of two token sequences, merged into runs. */
export function diffTokens(a: string[], b: string[]): DiffPart[] {
  const parts: DiffPart[] = [];
  const push = (type: PartType, text: string) => {
    if (!text) return;
    const last = parts[parts.length - 1];
    if (last && last.type === type) last.text += text;
    else parts.push({ type, text });
  };
  // Common prefix and suffix first (cheap and keeps the table small).
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  push('same', a.slice(0, start).join(''));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  if (x.length * y.length > MAX_CELLS) {
    push('removed', x.join(''));
    push('added', y.join(''));
  } else {
    const n = x.length;
    const m = y.length;
    const w = m + 1;
    const L = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i * w + j] = x[i] === y[j] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (x[i] === y[j]) {
        push('same', x[i]);
        i++;
        j++;
      } else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) push('removed', x[i++]);
      else push('added', y[j++]);
    }
    while (i < n) push('removed', x[i++]);
    while (j < m) push('added', y[j++]);
  }
  push('same', a.slice(endA).join(''));
  return parts;
}

/** Word-level diff of two texts. */
export function diffWords(before: string, after: string): DiffPart[] {
  return diffTokens(tokenize(before), tokenize(after));
}

export interface FieldDiff {
  field: string;
  label: string;
  kind: 'text' | 'list';
  /** text: word-level parts */
  parts?: DiffPart[];
  /** list: items, each marked same/added/removed */
  items?: DiffPart[];
}

/** Diff two lists of displayable items (kept in the order of `after`, removed ones after). */
function diffItems(before: string[], after: string[]): DiffPart[] | null {
  const remaining = [...before];
  const items: DiffPart[] = [];
  for (const a of after) {
    const k = remaining.indexOf(a);
    if (k >= 0) {
      remaining.splice(k, 1);
      items.push({ type: 'same', text: a });
    } else items.push({ type: 'added', text: a });
  }
  for (const r of remaining) items.push({ type: 'removed', text: r });
  const changed = items.some((i) => i.type !== 'same') || before.join('\u0000') !== after.join('\u0000');
  return changed ? items : null;
}

const textFields = ['title_en', 'title_fr', 'description_en', 'description_fr', 'agent_notes_en', 'agent_notes_fr'] as const;

export function describeChannel(c: Snapshot['channels'][number], lang: Lang): string {
  const bits = [t(lang, `editor.channel.${c.channel}`)];
  for (const v of [c.url_en, c.url_fr, c.phone, c.email, c.notes_en, c.notes_fr]) if (v) bits.push(v);
  return bits.join(' · ');
}

/** Field-by-field differences between two snapshots (only the changed fields), labelled in `lang`. */
export function diffSnapshots(before: Snapshot, after: Snapshot, lang: Lang): FieldDiff[] {
  const out: FieldDiff[] = [];
  const label = (f: string) => t(lang, `editor.field.${f}`);
  for (const f of ['title_en', 'title_fr', 'description_en', 'description_fr'] as const) {
    if ((before[f] ?? '') !== (after[f] ?? '')) out.push({ field: f, label: label(f), kind: 'text', parts: diffWords(before[f] ?? '', after[f] ?? '') });
  }
  const lists: Array<[string, string[], string[]]> = [
    ['keywords_en', before.keywords_en, after.keywords_en],
    ['keywords_fr', before.keywords_fr, after.keywords_fr],
    ['audiences', before.audiences.map((a) => t(lang, `editor.audience.${a}`)), after.audiences.map((a) => t(lang, `editor.audience.${a}`))],
    ['thematic_areas', before.thematic_areas.map((a) => t(lang, `editor.theme.${a}`)), after.thematic_areas.map((a) => t(lang, `editor.theme.${a}`))],
    ['channels', before.channels.map((c) => describeChannel(c, lang)), after.channels.map((c) => describeChannel(c, lang))],
    [
      'requirements',
      before.requirements.map((r) => [r.name_en, r.name_fr].join(' / ')),
      after.requirements.map((r) => [r.name_en, r.name_fr].join(' / ')),
    ],
    [
      'costs',
      before.costs.map((c) => `${formatMoney(c.amount_cents, lang)} — ${c.description_en} / ${c.description_fr}`),
      after.costs.map((c) => `${formatMoney(c.amount_cents, lang)} — ${c.description_en} / ${c.description_fr}`),
    ],
    ['outputs', before.outputs.map((o) => `${o.name_en} / ${o.name_fr}`), after.outputs.map((o) => `${o.name_en} / ${o.name_fr}`)],
  ];
  for (const [f, b, a] of lists) {
    const items = diffItems(b, a);
    if (items) out.push({ field: f, label: label(f), kind: 'list', items });
  }
  for (const f of textFields.slice(4)) {
    if ((before[f] ?? '') !== (after[f] ?? '')) out.push({ field: f, label: label(f), kind: 'text', parts: diffWords(before[f] ?? '', after[f] ?? '') });
  }
  if (before.guarantee_days !== after.guarantee_days) {
    const show = (v: number | null) => (v === null ? t(lang, 'editor.none') : t(lang, 'editor.days', { n: v }));
    out.push({
      field: 'guarantee_days',
      label: label('guarantee_days'),
      kind: 'text',
      parts: [
        { type: 'removed', text: show(before.guarantee_days) },
        { type: 'added', text: show(after.guarantee_days) },
      ],
    });
  }
  return out;
}
