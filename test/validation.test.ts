// Validators derived from the model: each writable field's rule picks its check, and a model the validators cannot serve is refused at start-up.

import { describe, expect, it } from 'vitest';
import { MODEL, type CanonicalModel, type FieldSpec } from '../schema/model.js';
import { checkValidators, validateUpdate, validatorProblems } from '../gateway/writes/validation.js';

/** The real model with one field of one object type patched (or added when absent). */
function modelWith(typeName: string, fieldName: string, patch: Partial<FieldSpec> & Record<string, unknown>): CanonicalModel {
  return {
    types: MODEL.types.map((t) => {
      if (t.kind !== 'object' || t.name !== typeName) return t;
      const has = t.fields.some((f) => f.name === fieldName);
      const fields = has
        ? t.fields.map((f) => (f.name === fieldName ? ({ ...f, ...patch } as FieldSpec) : f))
        : [...t.fields, { name: fieldName, type: 'String', description: 'A test field.', sourceField: 'test', ...patch } as FieldSpec];
      return { ...t, fields };
    }),
  };
}

describe('checkValidators', () => {
  it('accepts the canonical model', () => {
    expect(validatorProblems()).toEqual([]);
    expect(() => checkValidators()).not.toThrow();
  });

  it('refuses a model with a writable field that names no rule, naming the field', () => {
    const model = modelWith('Customer', 'nickname', { owner: 'crm', writable: true });
    expect(validatorProblems(model)).toEqual([expect.stringMatching(/^Customer\.nickname is writable but names no validation rule; give it rule: one of text, /)]);
    expect(() => checkValidators(model)).toThrow(/Customer\.nickname is writable but names no validation rule/);
  });

  it('refuses a writable part of a nested input type that names no rule', () => {
    const model = modelWith('Address', 'line2', { rule: undefined });
    expect(() => checkValidators(model)).toThrow(/Address\.line2 is writable but names no validation rule/);
  });

  it('refuses a rule no validator serves, naming the field and the rule', () => {
    const model = modelWith('Customer', 'email', { rule: 'emailAddress' as never });
    expect(validatorProblems(model)).toEqual([expect.stringContaining('Customer.email names the rule "emailAddress", which gateway/writes/validation.ts has no validator for')]);
  });
});

describe('validateUpdate', () => {
  it("checks a field by the rule the model names for it, not by the field's name", () => {
    const asEmail = modelWith('Customer', 'legalName', { rule: 'email' });
    expect(validateUpdate({ legalName: 'Analytical Engines Ltd' }, asEmail)).toEqual({
      ok: false,
      problems: [{ field: 'legalName', message: 'legalName "Analytical Engines Ltd" is not a valid email address.' }],
    });
    expect(validateUpdate({ legalName: ' Ada@Example.COM ' }, asEmail)).toEqual({ ok: true, value: { legalName: 'ada@example.com' } });
  });

  it('checks every writable part of an address by its own rule, naming each part', () => {
    const res = validateUpdate({ billingAddress: { line1: 'Hauptstr. 1', city: ' ', country: 'de' } });
    expect(res).toEqual({
      ok: false,
      problems: [
        { field: 'billingAddress.city', message: 'billingAddress.city must not be empty.' },
        { field: 'billingAddress.postalCode', message: 'billingAddress.postalCode cannot be cleared (null).' },
      ],
    });
    expect(validateUpdate({ billingAddress: { line1: ' Hauptstr.  1 ', city: 'Berlin', postalCode: '10115', country: 'de' } })).toEqual({
      ok: true,
      value: { billingAddress: { line1: 'Hauptstr. 1', line2: null, city: 'Berlin', postalCode: '10115', country: 'DE' } },
    });
  });

  it("reads a national phone number in the address's country, and refuses it without one", () => {
    expect(validateUpdate({ phone: '030 901820', billingAddress: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' } })).toMatchObject({ ok: true, value: { phone: '+4930901820' } });
    expect(validateUpdate({ phone: '030 901820' })).toEqual({
      ok: false,
      problems: [{ field: 'phone', message: 'phone "030 901820" is not a valid international number; write it with its country code (+49 30 1234567), or send billingAddress.country with it.' }],
    });
  });

  it('accepts an international number written with 00, as reads do (one phone parser for both)', () => {
    expect(validateUpdate({ phone: '0049 30 901820' })).toEqual({ ok: true, value: { phone: '+4930901820' } });
  });

  it('refuses a field the model does not let apps write', () => {
    expect(validateUpdate({ creditLimit: { amount: '1', currency: 'EUR' } })).toEqual({
      ok: false,
      problems: [{ field: 'creditLimit', message: 'creditLimit is not a field canon knows how to write.' }],
    });
  });
});
