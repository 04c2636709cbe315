import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffSnapshots, diffWords } from './diff';
import { centsToInput, parseDollars, parseServiceForm, formValues } from './form';
import { emptySnapshot, type Snapshot } from './model';
// the translation table is filled from the list of capabilities (this test builds no app)
import '../../capabilities';

const base = (): Snapshot => ({
  ...emptySnapshot(),
  title_en: 'Driver licence',
  title_fr: 'Permis de conduire',
  description_en: 'Renew your driver licence, or replace a lost one.',
  description_fr: 'Renouvelez votre permis de conduire.',
  keywords_en: ['car', 'permit'],
  audiences: ['PERSON'],
  thematic_areas: ['transport'],
  channels: [{ channel: 'online', url_en: 'https://example.org/en', url_fr: 'https://example.org/fr', phone: null, email: null, notes_en: 'keep me', notes_fr: null }],
  costs: [{ amount_cents: 9000, description_en: 'Five-year renewal', description_fr: 'Renouvellement de cinq ans' }],
});

describe('word-level diff', () => {
  it('marks only the words that changed and rebuilds both texts', () => {
    const a = 'Renew your driver licence, or replace a lost one.';
    const b = 'Renew your licence online, or replace a stolen one.';
    const parts = diffWords(a, b);
    assert.equal(parts.filter((p) => p.type !== 'added').map((p) => p.text).join(''), a);
    assert.equal(parts.filter((p) => p.type !== 'removed').map((p) => p.text).join(''), b);
    assert.deepEqual(parts.filter((p) => p.type === 'removed').map((p) => p.text.trim()), ['driver', 'lost']);
    assert.deepEqual(parts.filter((p) => p.type === 'added').map((p) => p.text.trim()), ['online', 'stolen']);
    assert.ok(parts.some((p) => p.type === 'same' && p.text.startsWith('Renew your ')));
  });

  it('handles empty texts on either side', () => {
    assert.deepEqual(diffWords('', 'new text'), [{ type: 'added', text: 'new text' }]);
    assert.deepEqual(diffWords('old', ''), [{ type: 'removed', text: 'old' }]);
    assert.deepEqual(diffWords('same', 'same'), [{ type: 'same', text: 'same' }]);
  });

  it('diffs snapshots field by field, labelled in the page language', () => {
    const a = base();
    const b = { ...base(), description_en: 'Renew your licence online.', keywords_en: ['car', 'driving'], costs: [{ amount_cents: 9550, description_en: 'Five-year renewal', description_fr: 'Renouvellement de cinq ans' }], guarantee_days: 10 };
    const en = diffSnapshots(a, b, 'en');
    assert.deepEqual(en.map((f) => f.field), ['description_en', 'keywords_en', 'costs', 'guarantee_days']);
    assert.equal(en[0].label, 'Description (English)');
    assert.deepEqual(en[1].items, [{ type: 'same', text: 'car' }, { type: 'added', text: 'driving' }, { type: 'removed', text: 'permit' }]);
    assert.match(en[2].items!.find((i) => i.type === 'added')!.text, /\$95\.50/);
    assert.match(en[2].items!.find((i) => i.type === 'removed')!.text, /\$90\.00/);
    const fr = diffSnapshots(a, b, 'fr');
    assert.equal(fr[0].label, 'Description (anglais)');
    assert.match(fr[2].items!.find((i) => i.type === 'added')!.text, /95,50\s\$/);
    assert.equal(fr[3].parts!.find((p) => p.type === 'added')!.text, '10 jours');
    assert.deepEqual(diffSnapshots(a, base(), 'en'), []);
  });
});

describe('edit form', () => {
  it('parses dollars into integer cents in English and French notation', () => {
    assert.equal(parseDollars('90'), 9000);
    assert.equal(parseDollars('90.5'), 9050);
    assert.equal(parseDollars('$95.50'), 9550);
    assert.equal(parseDollars('1,234.56'), 123456);
    assert.equal(parseDollars('1 234,56 $'), 123456);
    assert.equal(parseDollars('0,99'), 99);
    assert.equal(parseDollars('0.1'), 10);
    assert.equal(parseDollars('19.99'), 1999); // no floating-point drift
    for (const bad of ['', 'abc', '-5', '1.234', '12.345', '1e3', '--']) assert.equal(parseDollars(bad), null, bad);
    assert.equal(centsToInput(123456, 'en'), '1234.56');
    assert.equal(centsToInput(5, 'fr'), '0,05');
  });

  it('round-trips a snapshot through the form and keeps what the form does not show', () => {
    const snap = base();
    const { snapshot, errors } = parseServiceForm(formValues(snap, 'fr'), snap, 'fr');
    assert.deepEqual(errors, []);
    assert.deepEqual(snapshot, snap);
  });

  it('reports per-field errors in the page language', () => {
    const snap = base();
    const body = { ...formValues(snap, 'en'), title_fr: '', cost_0_amount: 'ninety', ch_online_url_en: 'javascript:alert(1)', req_0_name_en: 'Only English', guarantee_days: '0', audiences: ['PERSON', 'ALIENS'] };
    const { errors } = parseServiceForm(body, snap, 'en');
    const byField = Object.fromEntries(errors.map((e) => [e.field, e]));
    assert.equal(byField.title_fr.code, 'required');
    assert.equal(byField.cost_0_amount.code, 'money');
    assert.equal(byField.ch_online_url_en.code, 'url');
    assert.equal(byField.req_0_name_fr.code, 'bothLanguages');
    assert.equal(byField.guarantee_days.code, 'days');
    assert.equal(byField.audiences.code, 'notAllowed');
    assert.equal(byField.title_fr.message, 'Enter this information');
    const fr = parseServiceForm(body, snap, 'fr').errors.find((e) => e.field === 'cost_0_amount')!;
    assert.equal(fr.message, 'Entrez un montant en dollars, comme 90 ou 90,50');
    const none = parseServiceForm({ ...formValues(snap, 'en'), ch_online: '' }, snap, 'en').errors;
    assert.equal(none[0].code, 'channelRequired');
  });
});
